"""A link between two workers, each behind a port-restricted NAT whose UDP mappings expire after
10 s of silence (the routers' conntrack timeouts), stays open through 30 s without application
traffic (QoS probes once a minute): ICE's consent checks (RFC 7675) and the link's own heartbeats
refresh the mapping. Shown by the router itself: the conntrack entry of the link's flow is the
same one (same id) at every look, once a second; were it to lapse and be made again, its id would
change (as it does with a 1 s timeout: checked). A control message then still crosses. Needs
root and conntrack."""
import os, re, shutil, subprocess, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from grid import STUN, LabWorker, message_arrives  # noqa: E402
from lab import Lab  # noqa: E402

MAPPING_TIMEOUT_S = 10
IDLE_S = 30


def flow_id(router, peer_wan_ip):
    """conntrack's id of the UDP flow from the LAN host to the peer's public address (not STUN)."""
    out = subprocess.run(["ip", "netns", "exec", router, "conntrack", "-L", "-p", "udp", "-o", "id"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if f"dst={peer_wan_ip} " in line and "dport=3478" not in line:
            return re.search(r"id=(\d+)", line).group(1)
    return None


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("conntrack"), "needs root and conntrack")
class KeepAlive(unittest.TestCase):
    def test_link_outlives_nat_mapping_timeouts_without_traffic(self):
        with Lab() as lab:
            ha = lab.add_host("port-restricted", udp_timeout=MAPPING_TIMEOUT_S)
            hb = lab.add_host("port-restricted", udp_timeout=MAPPING_TIMEOUT_S)
            lab.start_coturn()
            quiet = ["--open-registration", "--stun", STUN, "--qos-interval", "60", "--qos-probe-interval", "60000"]
            a, b = LabWorker(lab, ha, "fz-lab-a", quiet), LabWorker(lab, hb, "fz-lab-b", quiet)
            try:
                a.start()
                b.start()
                self.assertEqual(a.register_at(b)[0], 200)
                self.assertEqual(b.register_at(a)[0], 200)
                status, link = a.post("/dial", {"peerTo": b.id})
                self.assertEqual(status, 200, link)
                self.assertEqual(a.links()[b.id]["path"]["localType"], "srflx", "through the NATs, not around")
                first = flow_id(ha.router, hb.wan_ip)
                self.assertIsNotNone(first, "the router has the link's flow")
                for _ in range(IDLE_S):  # three mapping lifetimes without application traffic
                    time.sleep(1)
                    self.assertEqual(flow_id(ha.router, hb.wan_ip), first, "the NAT mapping never lapsed")
                self.assertEqual(a.links()[b.id]["state"], "open", a.links()[b.id])
                self.assertEqual(b.links()[a.id]["state"], "open", b.links()[a.id])
                self.assertEqual(a.post(f"/links/{b.id}/control", {"text": "still here"})[0], 200)
                self.assertTrue(message_arrives(a, b, "still here"), "the message crossed after the idle time")
                self.assertEqual(a.links()[b.id]["attempts"], 0, "no redial happened")
            finally:
                a.stop()
                b.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
