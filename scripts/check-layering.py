#!/usr/bin/env python3
"""Checks the rules of docs/ARCHITECTURE.md that the compiler does not:
- no #include from a lower layer of src/ to a higher one;
- no file under src/mesh/ speaks HTTP (statuses live in api/errors.cpp);
- node.cpp stays a short composition root (under 250 lines);
- no class of src/mesh/ has its member functions defined in more than one .cpp.
Exits 1 with one line per breach."""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
# What each module may include (besides itself).
ALLOWED = {
    "util": set(),
    "rtc": {"util"},
    "sim": {"util", "rtc"},
    "qos": {"util"},
    "crdt": {"util"},
    "store": {"util"},
    "mesh": {"util", "rtc", "sim", "qos", "crdt", "store"},
    "api": {"util", "rtc", "sim", "qos", "crdt", "store", "mesh"},
    "cli": {"util", "rtc", "sim", "qos", "crdt", "store", "mesh", "api"},
}
HTTP_IN_MESH = re.compile(r"ApiError|http_status|\bstatus\s*=\s*\d|\b(401|403|404|405|409|413|429|502|503)\b")
DEFINITION = re.compile(r"^[A-Za-z_][\w:<>,\s\*&]*?\b([A-Z]\w*)::(~?\w+)\s*\(", re.M)

problems = []
classes = {}
for dirpath, _, files in os.walk(ROOT):
    rel = os.path.relpath(dirpath, ROOT)
    module = rel.split(os.sep)[0]
    for f in files:
        if not f.endswith((".cpp", ".hpp")):
            continue
        path = os.path.join(dirpath, f)
        shown = os.path.relpath(path, os.path.join(ROOT, ".."))
        text = open(path, encoding="utf-8").read()
        for inc in re.findall(r'#include "([a-z_]+)/', text):
            if inc != module and inc in ALLOWED and inc not in ALLOWED.get(module, set()):
                problems.append(f"{shown}: {module}/ includes {inc}/ (a higher layer)")
        if module == "mesh":
            for n, line in enumerate(text.splitlines(), 1):
                if HTTP_IN_MESH.search(line):
                    problems.append(f"{shown}:{n}: HTTP in mesh/: {line.strip()}")
            if f.endswith(".cpp"):
                for cls, _ in DEFINITION.findall(text):
                    classes.setdefault(cls, set()).add(shown)
node_cpp = os.path.join(ROOT, "mesh", "node.cpp")
lines = sum(1 for _ in open(node_cpp, encoding="utf-8"))
if lines >= 250:
    problems.append(f"src/mesh/node.cpp has {lines} lines; the composition root stays under 250")
for cls, where in sorted(classes.items()):
    if len(where) > 1:
        problems.append(f"class {cls} is defined across {', '.join(sorted(where))}")
for p in problems:
    print(p)
print(f"layering: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
