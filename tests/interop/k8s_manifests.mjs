// The Kubernetes manifests (deploy/k8s/*.yaml) checked against the Kubernetes API schemas
// (kubernetes-models' validators), then against what a schema cannot see: the StatefulSet's
// headless Service, selectors that match pod labels, named target ports, ConfigMap references,
// namespaces, and every F0_* variable being one the worker reads (`f0mesh worker --help`).
// Before that, the validator must refuse a broken StatefulSet, or a pass would mean nothing.
//
//   node tests/interop/k8s_manifests.mjs DEPLOY_K8S_DIR F0MESH_BINARY     (ctest package.k8s)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const [dir, f0mesh] = process.argv.slice(2);
if (!dir || !f0mesh) {
  console.error("usage: k8s_manifests.mjs DEPLOY_K8S_DIR F0MESH_BINARY");
  process.exit(2);
}
const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const mod = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  return mod[obj.kind];
}

async function schemaErrors(obj) {
  const Model = await modelFor(obj);
  if (!Model) return `no schema for ${obj.apiVersion} ${obj.kind}`;
  try {
    new Model(obj).validate();
    return null;
  } catch (e) {
    return e.message;
  }
}

// 1. The validator is not a no-op: a StatefulSet with a string replica count and a container
// without a name must be refused.
const broken = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "x" },
  spec: {
    serviceName: "x",
    replicas: "three",
    selector: { matchLabels: { a: "b" } },
    template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ image: "i" }] } },
  },
};
if (!(await schemaErrors(broken))) fail("self-check", "the schema validator accepted a broken StatefulSet");

// 2. Every document of every manifest against its schema.
const objects = [];
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
if (files.length === 0) fail(dir, "no manifests");
for (const file of files) {
  for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) {
    if (doc.errors.length) {
      fail(file, `YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    const where = `${file} ${obj.kind}/${obj.metadata?.name}`;
    const err = await schemaErrors(obj);
    if (err) fail(where, err);
    objects.push({ file, where, obj });
  }
}

// 3. What the schemas cannot see.
const workerHelp = execFileSync(f0mesh, ["worker", "--help"], { encoding: "utf8" });
const known = new Set([...workerHelp.matchAll(/Env:(F0_[A-Z0-9_]+)/g)].map((m) => m[1]));
if (known.size < 20) fail("f0mesh worker --help", `only ${known.size} F0_* variables found`);
const byKind = (kind) => objects.filter((o) => o.obj.kind === kind);
const namespaces = new Set(byKind("Namespace").map((o) => o.obj.metadata.name));
const configMaps = new Set(byKind("ConfigMap").map((o) => `${o.obj.metadata.namespace}/${o.obj.metadata.name}`));
const workloads = objects.filter((o) => ["StatefulSet", "Deployment", "DaemonSet"].includes(o.obj.kind));
const labelsMatch = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

for (const { where, obj } of objects) {
  const ns = obj.metadata?.namespace;
  if (obj.kind !== "Namespace" && !namespaces.has(ns)) fail(where, `namespace '${ns}' is not among the manifests`);
}
for (const { where, obj } of workloads) {
  const ns = obj.metadata.namespace;
  const tpl = obj.spec.template;
  if (!labelsMatch(obj.spec.selector.matchLabels, tpl.metadata.labels))
    fail(where, "spec.selector does not match the pod template's labels");
  if (obj.kind === "StatefulSet") {
    const svc = byKind("Service").find((s) => s.obj.metadata.name === obj.spec.serviceName && s.obj.metadata.namespace === ns);
    if (!svc) fail(where, `serviceName '${obj.spec.serviceName}' names no Service`);
    else if (svc.obj.spec.clusterIP !== "None") fail(where, `Service '${obj.spec.serviceName}' is not headless`);
    const claims = new Set((obj.spec.volumeClaimTemplates ?? []).map((c) => c.metadata.name));
    const volumes = new Set((tpl.spec.volumes ?? []).map((v) => v.name));
    for (const c of tpl.spec.containers)
      for (const m of c.volumeMounts ?? [])
        if (!claims.has(m.name) && !volumes.has(m.name)) fail(where, `volumeMount '${m.name}' has no volume`);
  }
  for (const c of tpl.spec.containers) {
    for (const e of c.env ?? []) {
      if (e.name.startsWith("F0_") && !known.has(e.name))
        fail(where, `env ${e.name} is not a variable the worker reads (f0mesh worker --help)`);
      const ref = e.valueFrom?.configMapKeyRef;
      if (ref) {
        const cm = byKind("ConfigMap").find((o) => o.obj.metadata.name === ref.name && o.obj.metadata.namespace === ns);
        if (!cm) fail(where, `env ${e.name}: ConfigMap '${ref.name}' is not among the manifests`);
        else if (!(ref.key in (cm.obj.data ?? {}))) fail(where, `env ${e.name}: ConfigMap '${ref.name}' has no key '${ref.key}'`);
      }
    }
    for (const v of tpl.spec.volumes ?? [])
      if (v.configMap && !configMaps.has(`${ns}/${v.configMap.name}`))
        fail(where, `volume '${v.name}': ConfigMap '${v.configMap.name}' is not among the manifests`);
  }
}
for (const { where, obj } of byKind("Service")) {
  const ns = obj.metadata.namespace;
  const targets = workloads.filter((w) => w.obj.metadata.namespace === ns && labelsMatch(obj.spec.selector, w.obj.spec.template.metadata.labels));
  if (targets.length === 0) {
    fail(where, "its selector matches no workload's pods");
    continue;
  }
  for (const p of obj.spec.ports) {
    if (typeof p.targetPort !== "string") continue;
    const named = targets.some((w) =>
      w.obj.spec.template.spec.containers.some((c) =>
        (c.ports ?? []).some((cp) => cp.name === p.targetPort && (cp.protocol ?? "TCP") === (p.protocol ?? "TCP"))));
    if (!named) fail(where, `targetPort '${p.targetPort}' (${p.protocol ?? "TCP"}) is no container port of its pods`);
  }
}
for (const { where, obj } of byKind("PodDisruptionBudget"))
  if (!workloads.some((w) => w.obj.metadata.namespace === obj.metadata.namespace && labelsMatch(obj.spec.selector.matchLabels, w.obj.spec.template.metadata.labels)))
    fail(where, "its selector matches no workload's pods");

if (problems.length) {
  console.error(`deploy/k8s: ${problems.length} problem(s)\n  ` + problems.join("\n  "));
  process.exit(1);
}
console.log(`deploy/k8s: ${objects.length} objects in ${files.length} files valid (schemas and references; ${known.size} worker variables known)`);
