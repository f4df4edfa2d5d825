"""The NAT lab: network namespaces, veth pairs and iptables NAT routers that a test creates, uses
and removes itself. Needs root. No address outside the lab is ever a target: the lab's public
segment is TEST-NET-3 (203.0.113.0/24) on a bridge inside the lab's own "pub" namespace, the LANs
are 10.77.N.0/24 and the carrier-grade NAT segments 100.64.N.0/24, each inside namespaces of the
lab; the root namespace gets no interface or address at all (the test process talks to the lab
from a thread that has entered the pub namespace).

    pub (bridge br0: 203.0.113.1 and .2 = coturn and the servers, .10+N = router N's WAN)
     |-- rN (NAT router: WAN 203.0.113.(10+N), LAN 10.77.N.1)  -- hN (host: 10.77.N.2)
     |-- cN (carrier router, CGNAT) -- rN (home router, WAN 100.64.N.2) -- hN
     `-- hN directly on the bridge (203.0.113.(10+N)) for an "open" host

NAT kinds, as in RFC 4787's terms (mapping / filtering):
    open            no NAT
    full-cone       endpoint-independent mapping and filtering (SNAT + DNAT of the WAN to the host)
    addr-restricted endpoint-independent mapping, address-dependent filtering (-m recent)
    port-restricted endpoint-independent mapping, address-and-port-dependent filtering (Linux SNAT)
    symmetric       address-and-port-dependent mapping (SNAT --random-fully)
    cgnat           two port-restricted NATs, 100.64.N.0/24 between them
    udp-blocked     port-restricted, and outbound UDP dropped (TCP only)
Every router drops unsolicited input on its WAN side, so none is more open than it claims. The
worker's API port is forwarded over TCP by its router (as an operator of a NATed worker does), so
signaling reaches it; what the NAT kind governs is the UDP path ICE must find.

Cleanup: Lab.close() kills every process the lab started (by PID) and deletes its namespaces
(which takes their veths, bridge and rules along). A lab left behind by a run that was killed
outright is removed by the next Lab() (namespaces named after a PID that no longer runs)."""
import ctypes, os, re, shutil, signal, subprocess, threading, time

PREFIX = "f0l"
PUB_NET = "203.0.113"
KINDS = ["open", "full-cone", "addr-restricted", "port-restricted", "symmetric", "cgnat", "udp-blocked"]
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


def remove_stale_labs():
    """Labs whose process is gone (a run killed before it could clean up): the processes that lab
    started inside its namespaces (coturn, workers), then the namespaces."""
    for line in sh("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"{PREFIX}(\d+)-", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            for pid in sh("ip", "netns", "pids", name, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", name, check=False)


def _terminate(signum, frame):
    raise SystemExit(f"signal {signum}")  # unwinds through Lab.__exit__, which cleans up


def in_netns(ns, fn, *args, **kwargs):
    """Runs fn in a thread that has entered namespace ns (setns affects only that thread), and
    returns its result: sockets it opens belong to ns."""
    out = {}

    def run():
        fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {ns}")
        finally:
            os.close(fd)
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


class Host:
    """A lab host: its namespace, its own address, and the public address a peer sees for it."""

    def __init__(self, lab, n, kind):
        self.lab, self.n, self.kind = lab, n, kind
        self.ns = lab.ns(f"h{n}")
        self.router = None if kind == "open" else lab.ns(f"r{n}")
        self.ip = f"{PUB_NET}.{10 + n}" if kind == "open" else f"10.77.{n}.2"
        self.wan_ip = f"{PUB_NET}.{10 + n}"

    def forward_tcp(self, port):
        """The host's TCP port reachable at the router's public address (a port forward)."""
        if self.kind == "open":
            return
        outer = self.lab.ns(f"c{self.n}") if self.kind == "cgnat" else self.router
        inner_ip = f"100.64.{self.n}.2" if self.kind == "cgnat" else self.ip
        self.lab.ipt(outer, "-t", "nat", "-A", "PREROUTING", "-i", "wan", "-p", "tcp", "--dport", str(port),
                     "-j", "DNAT", "--to-destination", inner_ip)
        self.lab.ipt(outer, "-A", "FORWARD", "-i", "wan", "-p", "tcp", "--dport", str(port), "-j", "ACCEPT")
        if self.kind == "cgnat":
            self.lab.ipt(self.router, "-t", "nat", "-A", "PREROUTING", "-i", "wan", "-p", "tcp", "--dport",
                         str(port), "-j", "DNAT", "--to-destination", self.ip)
            self.lab.ipt(self.router, "-A", "FORWARD", "-i", "wan", "-p", "tcp", "--dport", str(port), "-j", "ACCEPT")


class Lab:
    def __init__(self):
        if os.geteuid() != 0:
            raise PermissionError("the NAT lab needs root (ip netns, iptables)")
        remove_stale_labs()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminate)  # a SIGTERM (a CI timeout) cleans up too
        self.tag = f"{PREFIX}{os.getpid()}"
        self.namespaces, self.procs, self.hosts = [], [], []
        self._closed = False
        pub = self.add_ns("pub")
        sh("ip", "-n", pub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", pub, "addr", "add", f"{PUB_NET}.1/24", "dev", "br0")
        sh("ip", "-n", pub, "addr", "add", f"{PUB_NET}.2/24", "dev", "br0")
        sh("ip", "-n", pub, "link", "set", "br0", "up")
        # Packets to anything outside the lab (a peer's LAN address, say) vanish, as they would on
        # the internet, instead of failing at once with ENETUNREACH (which makes coturn close the
        # allocation that tried): the default route leads into a veth whose other end, in the
        # same namespace, has no address and forwards nothing.
        sh("ip", "-n", pub, "link", "add", "void0", "type", "veth", "peer", "name", "void1")
        for dev in ("void0", "void1"):
            sh("ip", "-n", pub, "link", "set", dev, "up")
        sh("ip", "-n", pub, "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:fe", "dev", "void0",
           "nud", "permanent")
        sh("ip", "-n", pub, "route", "add", "default", "via", "192.0.2.254", "dev", "void0", "onlink")
        self.pub = pub

    # --- plumbing -------------------------------------------------------------------------------
    def ns(self, name):
        return f"{self.tag}-{name}"

    def add_ns(self, name):
        ns = self.ns(name)
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def ipt(self, ns, *rule):
        sh("ip", "netns", "exec", ns, "iptables", *rule)

    def sysctl(self, ns, key, value):
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}")

    def veth(self, ns_a, name_a, ns_b, name_b):
        tmp_a, tmp_b = f"{self.tag[-6:]}a{len(self.namespaces)}", f"{self.tag[-6:]}b{len(self.namespaces)}"
        sh("ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
        sh("ip", "link", "set", tmp_a, "netns", ns_a, "name", name_a)
        sh("ip", "link", "set", tmp_b, "netns", ns_b, "name", name_b)
        sh("ip", "-n", ns_a, "link", "set", name_a, "up")
        sh("ip", "-n", ns_b, "link", "set", name_b, "up")

    def to_bridge(self, ns, name, ip):
        """ns gets interface `name` on the public bridge with address ip."""
        port = f"p{len(self.namespaces)}"
        self.veth(ns, name, self.pub, port)
        sh("ip", "-n", self.pub, "link", "set", port, "master", "br0")
        sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", name)

    def router(self, ns, kind, wan_ip, lan_ip_of_host, udp_timeout=None):
        """NAT rules in router namespace ns (interfaces wan, lan), for the NAT kind."""
        self.sysctl(ns, "net.ipv4.ip_forward", 1)
        if udp_timeout:
            self.sysctl(ns, "net.netfilter.nf_conntrack_udp_timeout", udp_timeout)
            self.sysctl(ns, "net.netfilter.nf_conntrack_udp_timeout_stream", udp_timeout)
        # Nothing unsolicited from the WAN: to the router, or through it.
        self.ipt(ns, "-P", "FORWARD", "DROP")
        self.ipt(ns, "-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                 "-j", "ACCEPT")
        self.ipt(ns, "-A", "INPUT", "-i", "wan", "-j", "DROP")
        if kind == "udp-blocked":
            self.ipt(ns, "-A", "FORWARD", "-i", "lan", "-o", "wan", "-p", "udp", "-j", "DROP")
        if kind == "addr-restricted":  # remember whom the LAN sent to
            self.ipt(ns, "-A", "FORWARD", "-i", "lan", "-o", "wan", "-m", "recent", "--name", "f0out",
                     "--rdest", "--set")
        self.ipt(ns, "-A", "FORWARD", "-i", "lan", "-o", "wan", "-j", "ACCEPT")
        self.ipt(ns, "-A", "FORWARD", "-i", "wan", "-o", "lan", "-m", "conntrack", "--ctstate",
                 "ESTABLISHED,RELATED", "-j", "ACCEPT")
        snat = ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "SNAT", "--to-source", wan_ip]
        self.ipt(ns, *(snat + (["--random-fully"] if kind == "symmetric" else [])))
        if kind in ("full-cone", "addr-restricted"):
            # Inbound UDP to the WAN address goes to the host, same port (SNAT keeps the source port
            # when it can): endpoint-independent filtering, or address-dependent with -m recent.
            match = ["-m", "recent", "--name", "f0out", "--rsource", "--rcheck"] if kind == "addr-restricted" else []
            self.ipt(ns, "-t", "nat", "-A", "PREROUTING", "-i", "wan", "-p", "udp", *match, "-j", "DNAT",
                     "--to-destination", lan_ip_of_host)
            self.ipt(ns, "-A", "FORWARD", "-i", "wan", "-o", "lan", "-p", "udp", "-m", "conntrack", "--ctstate",
                     "DNAT", "-j", "ACCEPT")

    def impaired_to_bridge(self, ns, name, ip, impair):
        """Like to_bridge, through impair.py: (delay_ms, jitter_ms, loss) on the wire, both ways.
        Returns the file the wire writes its ground truth to."""
        n = len(self.namespaces)
        port = f"t{n}"
        sh("ip", "-n", ns, "tuntap", "add", "dev", name, "mode", "tap")
        sh("ip", "-n", self.pub, "tuntap", "add", "dev", port, "mode", "tap")
        sh("ip", "-n", self.pub, "link", "set", port, "master", "br0")
        stats = os.path.join(self.tmpdir(), f"impair-{n}.json")
        delay, jitter, loss = impair
        wire = subprocess.Popen(["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "impair.py"),
                                 ns, name, self.pub, port, str(delay), str(jitter), str(loss), str(n), stats],
                                stdout=subprocess.PIPE, text=True)
        self.procs.append(wire)
        if wire.stdout.readline().strip() != "ready":
            raise RuntimeError("the impaired wire did not start")
        for dev, where in ((name, ns), (port, self.pub)):
            sh("ip", "-n", where, "link", "set", dev, "up")
        sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", name)
        return stats

    def add_host(self, kind, udp_timeout=None, impair=None):
        """A host behind a NAT of this kind (or open on the public segment). impair: (delay_ms,
        jitter_ms, loss) on the router's WAN link (host.impair_stats then names the wire's
        ground truth)."""
        n = len(self.hosts) + 1
        h = Host(self, n, kind)
        self.add_ns(f"h{n}")
        if kind == "open":
            self.to_bridge(h.ns, "eth0", h.ip)
            sh("ip", "-n", h.ns, "route", "add", "default", "via", f"{PUB_NET}.1")
        else:
            r = self.add_ns(f"r{n}")
            self.veth(r, "lan", h.ns, "eth0")
            sh("ip", "-n", r, "addr", "add", f"10.77.{n}.1/24", "dev", "lan")
            sh("ip", "-n", h.ns, "addr", "add", f"{h.ip}/24", "dev", "eth0")
            sh("ip", "-n", h.ns, "route", "add", "default", "via", f"10.77.{n}.1")
            if kind == "cgnat":
                c = self.add_ns(f"c{n}")
                self.veth(c, "lan", r, "wan")
                sh("ip", "-n", c, "addr", "add", f"100.64.{n}.1/24", "dev", "lan")
                sh("ip", "-n", r, "addr", "add", f"100.64.{n}.2/24", "dev", "wan")
                sh("ip", "-n", r, "route", "add", "default", "via", f"100.64.{n}.1")
                self.to_bridge(c, "wan", h.wan_ip)
                self.router(r, "port-restricted", f"100.64.{n}.2", h.ip, udp_timeout)
                self.router(c, "port-restricted", h.wan_ip, f"100.64.{n}.2", udp_timeout)
            elif impair:
                h.impair_stats = self.impaired_to_bridge(r, "wan", h.wan_ip, impair)
                self.router(r, kind, h.wan_ip, h.ip, udp_timeout)
            else:
                self.to_bridge(r, "wan", h.wan_ip)
                self.router(r, kind, h.wan_ip, h.ip, udp_timeout)
        self.hosts.append(h)
        return h

    def spawn(self, ns, args, **kw):
        """A process in namespace ns, stopped by close() (by PID)."""
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(args), **kw)
        self.procs.append(p)
        return p

    def start_coturn(self, secret=None, tls=None):
        """coturn on the public segment: STUN and TURN on UDP and TCP 3478, TLS on 5349 when `tls`
        is (cert, key); long-term credentials u/p, or the TURN REST shared secret."""
        if not shutil.which("turnserver"):
            raise RuntimeError("coturn is not installed (scripts/install-deps.sh installs it)")
        args = ["turnserver", "-n", f"--listening-ip={PUB_NET}.1", f"--relay-ip={PUB_NET}.1",
                "--listening-port=3478", "--realm=f0lab", "--no-cli", "--no-dtls", "--allow-loopback-peers",
                "--min-port=40000", "--max-port=40999", "--log-file=stdout", "--simple-log",
                "--no-software-attribute", "--verbose"]
        args += [f"--static-auth-secret={secret}", "--use-auth-secret"] if secret else ["--lt-cred-mech", "--user=u:p"]
        args += [f"--cert={tls[0]}", f"--pkey={tls[1]}", "--tls-listening-port=5349"] if tls else ["--no-tls"]
        with open(os.path.join(self.tmpdir(), "coturn.log"), "ab") as log:
            p = self.spawn(self.pub, args, stdout=log, stderr=subprocess.STDOUT)
        # Ready when it answers a STUN binding on UDP (bounded: 100 tries of 100 ms).
        import socket
        req = bytes([0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42]) + os.urandom(12)

        def ask():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.1)
                for _ in range(100):
                    if p.poll() is not None:
                        return False
                    s.sendto(req, (f"{PUB_NET}.1", 3478))
                    try:
                        if s.recv(512)[:2] == b"\x01\x01":
                            return True
                    except OSError:
                        pass
            return False

        if not in_netns(self.pub, ask):
            raise RuntimeError("coturn did not answer STUN on the lab's public segment")
        return p

    def tmpdir(self):
        if not hasattr(self, "_tmp"):
            import tempfile
            self._tmp = tempfile.mkdtemp(prefix=f"{self.tag}-")
        return self._tmp

    def close(self):
        if self._closed:
            return
        self._closed = True
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        if hasattr(self, "_tmp") and not os.environ.get("F0_NATLAB_KEEP"):
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
