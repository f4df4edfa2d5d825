"""Test harness for real f0mesh workers: start them as processes on loopback, talk to their API,
stop them by PID. Every wait is bounded. Used by test_worker.py."""
import base64, http.client, json, os, signal, socket, ssl, subprocess, tempfile, time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

BINARY = os.environ.get("F0MESH", "build/src/cli/f0mesh")


def free_port(host="127.0.0.1"):
    """A port free on `host` now (on 127.0.0.1 when `host` is not ours to bind: a netns's)."""
    with socket.socket() as s:
        try:
            s.bind((host, 0))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def canonical(obj):
    """RFC 8785 for the envelope's value types (ASCII keys, strings, integers)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Key:
    """An Ed25519 identity that signs envelopes the way a worker (or a browser) does."""

    def __init__(self):
        self.sk = Ed25519PrivateKey.generate()
        raw = self.sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.pub = base64.b64encode(raw).decode()

    def record(self, pid, endpoint="http://127.0.0.1:9", region="ME", ts=None, geo=None):
        """A peer record for `pid` with this key, signed as docs/PROTOCOL.md says (what POST
        /beacon replicates)."""
        rec = {"id": pid, "pubKey": self.pub, "region": region, "endpoints": {"webrtc": endpoint},
               "ts": int(time.time() * 1000) if ts is None else ts}
        if geo:
            rec["geo"] = {"lat": geo[0], "lon": geo[1]}
        rec["sig"] = base64.b64encode(self.sk.sign(canonical(rec))).decode()
        return rec

    def envelope(self, peer_from, peer_to, sdp, type_="offer", ts=None, nonce=None):
        env = {"peerFrom": peer_from, "peerTo": peer_to, "type": type_, "sdp": sdp,
               "ts": int(time.time() * 1000) if ts is None else ts,
               "nonce": nonce or base64.b64encode(os.urandom(16)).decode()}
        env["sig"] = base64.b64encode(self.sk.sign(canonical(env))).decode()
        return env


class Worker:
    def __init__(self, wid, region="ME", data_dir=None, extra=(), port=None, tls=None, host="127.0.0.1",
                 netns=None, max_fds=None):
        self.id, self.region = wid, region
        self.host, self.netns = host, netns
        self.port = port or free_port(host)
        self.port_chosen = port is None  # ours to change if another process takes it first
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"f0-{wid}-")
        self.extra = list(extra)
        self.tls = tls  # (cert, key, ca) for HTTPS + mTLS
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "worker.log")
        self.max_fds = max_fds  # RLIMIT_NOFILE of the process (to test running out of fds)

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def pub_key(self):
        """The worker's public key (its identity is created in its data dir if not yet there),
        e.g. to name it as a --registrar of others before any of them starts."""
        out = subprocess.run([BINARY, "keygen", "--data-dir", self.data_dir], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)["pubKey"]


    def start(self, wait=True):
        # The port was free when chosen; another test's client may take it as its ephemeral port
        # before we listen (ports come from the same range). Then choose again, a few times.
        first = self.proc is None  # a restart keeps its port: peers know it
        for attempt in range(5):
            try:
                return self._start(wait)
            except RuntimeError as e:
                if not (first and self.port_chosen and "Address already in use" in str(e) and attempt < 4):
                    raise
                self.port = free_port(self.host)

    def _start(self, wait=True):
        args = [BINARY, "worker", "--id", self.id, "--region", self.region,
                "--listen", f"{self.host}:{self.port}", "--data-dir", self.data_dir,
                "--ice-address", self.host] + self.extra
        if self.netns:
            args = ["ip", "netns", "exec", self.netns] + args
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1], "--client-ca", self.tls[2]]
        self.log = open(self.log_path, "ab")
        limit = None
        if self.max_fds:
            import resource
            n = self.max_fds
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))  # noqa: E731
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limit)
        if wait:
            self.wait_healthy()
        return self

    def ensure_up(self, timeout=60):
        """wait_healthy for a worker started with wait=False: when the port it chose was taken
        before it could listen (another process's ephemeral port), it starts again on another,
        as start() does for a worker it waits for."""
        for attempt in range(5):
            try:
                return self.wait_healthy(timeout)
            except RuntimeError as e:
                if not (self.port_chosen and "Address already in use" in str(e) and attempt < 4):
                    raise
                self.port = free_port(self.host)
                self._start(wait=False)

    def wait_healthy(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.id} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if self.get("/healthz", raw=True)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.id} did not become healthy: {self.tail()}")

    def tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def connection(self, timeout=20):
        """A client connection; with TLS, one that trusts the worker's CA and shows the worker's
        own certificate (mTLS), as another worker would."""
        if not self.tls:
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        ctx = ssl.create_default_context(cafile=self.tls[2])
        ctx.check_hostname = False  # the test client, not what a test checks (see TlsNames)
        ctx.load_cert_chain(self.tls[0], self.tls[1])
        return http.client.HTTPSConnection(self.host, self.port, context=ctx, timeout=timeout)

    def token(self):
        """The worker's operator token (written to its data dir on its first start)."""
        with open(os.path.join(self.data_dir, "operator.token")) as f:
            return f.read().strip()

    def auth(self):
        """The header the operator routes need."""
        return {"Authorization": f"Bearer {self.token()}"}

    def events_request(self):
        """A raw GET /events with the operator's credential."""
        return f"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.token()}\r\n\r\n".encode()

    def request(self, method, path, body=None, raw=False, headers=None, timeout=20, operator=True):
        """One request; as the operator (with its credential) unless operator=False."""
        conn = self.connection(timeout)
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        if headers is None:
            headers = {"Content-Type": "application/json"} if data else {}
            if operator:
                headers.update(self.auth())
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        text = res.read().decode(errors="replace")
        conn.close()
        if raw:
            return res.status, text
        try:
            return res.status, json.loads(text)
        except ValueError:
            return res.status, text

    def get(self, path, raw=False):
        return self.request("GET", path, raw=raw)

    def post(self, path, body, raw=False):
        return self.request("POST", path, body, raw=raw)

    def links(self):
        return {l["peer"]: l for l in self.get("/links")[1]}

    def register_at(self, other):
        status, me = self.get("/self")
        assert status == 200, me
        return other.post("/beacon", me)


def wait_until(pred, timeout=30, step=0.05, what="condition"):
    """Polls pred until it holds; the bound is generous (a loaded machine is slow), and a test
    that holds returns as soon as it does."""
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def make_cert(dirpath, name, san="IP:127.0.0.1"):
    """A certificate (name.pem, name.key) for `san`, signed by the CA of make_tls."""
    def run(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True, cwd=dirpath)
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
        "-out", f"{name}.csr", "-subj", f"/CN={name}")
    with open(os.path.join(dirpath, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\n")
    run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return os.path.join(dirpath, f"{name}.pem"), os.path.join(dirpath, f"{name}.key")


def make_tls(dirpath):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with the openssl CLI."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=f0 test CA"],
                   check=True, capture_output=True, cwd=dirpath)
    for name in ("server", "client"):
        make_cert(dirpath, name)
    return {k: os.path.join(dirpath, k) for k in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def trust_each_other(workers):
    """Every worker admits the registry records the others countersign (--registrar), as a mesh
    whose workers are all registrars is configured. Call before starting them."""
    keys = {w.id: w.pub_key() for w in workers}
    for w in workers:
        for wid, key in keys.items():
            if wid != w.id:
                w.extra += ["--registrar", f"{wid}={key}"]


def signed_gossip(key, origin, topic, payload, seq):
    """A gossip message from `origin`, signed with its key, as POST /gossip takes it."""
    import hashlib
    ts = int(time.time() * 1000)
    signing = canonical({"origin": origin, "payload": payload, "seq": seq, "topic": topic, "ts": ts})
    return {"t": "msg", "id": hashlib.sha256(signing).digest()[:16].hex(), "origin": origin, "ts": ts,
            "seq": seq, "hops": 0, "topic": topic, "payload": payload,
            "sig": base64.b64encode(key.sk.sign(signing)).decode()}


def lww_delta(entries, replica=1):
    """A crdt/registry delta in the CRDT codec (src/crdt/codec.cpp, LWW set, version 1, not
    deflated): entries are (element text, add ms or None, remove ms or None), stamped by
    `replica`."""
    def varint(v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        return bytes(out)

    body = varint(1) + varint(replica) + varint(0) + varint(0) + varint(len(entries))
    for text, add, remove in entries:
        raw = text.encode()
        body += varint(len(raw)) + raw + bytes([(1 if add else 0) | (2 if remove else 0)])
        for ms in (add, remove):
            if ms:
                body += varint(ms << 16) + varint(0)
    return base64.b64encode(b"F0C" + bytes([1, 3, 0]) + body).decode()
