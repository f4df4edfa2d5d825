"""Workers in the NAT lab: one worker per lab host, coturn on the public segment, a dial between
two hosts and what came of it (state, time to open, the path ICE chose, the error).

Used by test_grid.py; `python3 grid.py KIND_A KIND_B [udp|tcp|tls|none]` runs one cell and prints
it as JSON (F0MESH names the binary)."""
import json, os, sys, time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "worker"))
os.environ.setdefault("F0MESH", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                                             "src", "cli", "f0mesh"))
from harness import Worker, free_port  # noqa: E402
from lab import PUB_NET, Lab, in_netns  # noqa: E402

STUN = f"{PUB_NET}.1:3478"


class LabWorker(Worker):
    """A worker on a lab host: it listens on the host's own address, peers (and this test) reach
    its API at the router's public address, through the port the router forwards."""

    def __init__(self, lab, host, wid, extra=()):
        port = free_port()
        self.lab_host, self.pub_ns = host, lab.pub
        host.forward_tcp(port)
        super().__init__(wid, host=host.ip, netns=host.ns, port=port,
                         extra=list(extra) + ["--advertise", f"http://{host.wan_ip}:{port}"])

    @property
    def url(self):
        return f"http://{self.lab_host.wan_ip}:{self.port}"

    def connection(self, timeout=20):
        import http.client
        return http.client.HTTPConnection(self.lab_host.wan_ip, self.port, timeout=timeout)

    def request(self, *args, **kwargs):
        return in_netns(self.pub_ns, super().request, *args, **kwargs)


REST_SECRET = "f0lab-shared-secret"


def message_arrives(a, b, text, timeout=10):
    """Whether control message `text`, sent by a, shows up among b's messages from a (bounded)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(m["message"] == text for m in b.get(f"/links/{a.id}/messages")[1]):
            return True
        time.sleep(0.05)
    return False


def turn_flags(turn, secret_file=None):
    """--turn for TURN over udp, tcp or tls (coturn's long-term credentials u/p), or "rest": UDP
    with credentials made from coturn's shared secret (TURN REST)."""
    return {None: [], "none": [], "udp": ["--turn", f"u:p@{PUB_NET}.1:3478"],
            "tcp": ["--turn", f"turn:u:p@{PUB_NET}.1:3478?transport=tcp"],
            "tls": ["--turn", f"turns:u:p@{PUB_NET}.1:5349"],
            "rest": ["--turn", f"turn:{PUB_NET}.1:3478", "--turn-secret-file", secret_file or ""]}[turn]


def self_signed(dirpath):
    """A certificate for coturn's TLS listener (libnice does not check a TURN server's
    certificate; the long-term credential is what authenticates)."""
    import subprocess
    cert, key = os.path.join(dirpath, "turn.pem"), os.path.join(dirpath, "turn.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=turn.f0lab"],
                   check=True, capture_output=True)
    return cert, key


def run_cell(kind_a, kind_b, turn=None, dial_timeout_ms=10000):
    """One cell of the grid: a dials b. Returns what the dialer's /dial and /links said."""
    with Lab() as lab:
        rest = turn == "rest"
        lab.start_coturn(secret=REST_SECRET if rest else None, tls=self_signed(lab.tmpdir()))
        secret_file = os.path.join(lab.tmpdir(), "turn.secret")
        with open(secret_file, "w") as f:
            f.write(REST_SECRET + "\n")
        ha, hb = lab.add_host(kind_a), lab.add_host(kind_b)
        extra = ["--open-registration", "--stun", STUN, "--dial-timeout-ms", str(dial_timeout_ms)] + \
            turn_flags(turn, secret_file)
        a = LabWorker(lab, ha, "fz-lab-a", extra)
        b = LabWorker(lab, hb, "fz-lab-b", extra)
        try:
            a.start()
            b.start()
            assert a.register_at(b)[0] == 200 and b.register_at(a)[0] == 200
            t0 = time.time()
            status, link = a.post("/dial", {"peerTo": b.id})
            took = time.time() - t0
            seen = a.links().get(b.id, {})
            out = {"a": kind_a, "b": kind_b, "turn": turn or "none", "status": status, "seconds": round(took, 3),
                   "state": seen.get("state"), "path": seen.get("path"), "lastError": seen.get("lastError"),
                   "pathB": b.links().get(a.id, {}).get("path")}  # the path as the dialled side sees it
            if status == 200 and seen.get("state") == "open":
                ok = a.post(f"/links/{b.id}/control", {"text": "across the lab"})[0] == 200
                out["message"] = ok and message_arrives(a, b, "across the lab")
            return out
        finally:
            a.stop()
            b.stop()


if __name__ == "__main__":
    print(json.dumps(run_cell(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
