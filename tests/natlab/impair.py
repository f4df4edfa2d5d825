"""A user-space wire with delay, jitter and loss between two TAP devices in two lab namespaces
(this kernel has no netem). Each Ethernet frame waits base + U[0, jitter] ms, drawn for it alone,
so frames overtake each other as with netem's jitter and the virtual link's. IPv4 UDP frames are
dropped with probability `loss`. What it
did is the ground truth: every second it writes, per direction, the UDP frames forwarded and
dropped and each forwarded UDP frame's actual delay (from read to write, in microseconds).

python3 impair.py NS_A DEV_A NS_B DEV_B DELAY_MS JITTER_MS LOSS SEED STATS_FILE
Stops on SIGTERM (or after an hour)."""
import ctypes, fcntl, heapq, json, os, random, select, signal, struct, sys, threading, time

TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def open_tap(ns, dev):
    """The TAP device `dev` of namespace `ns`, opened from a thread that entered it."""
    out = {}

    def run():
        fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        tap = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TAP | IFF_NO_PI))
        out["fd"] = tap

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["fd"]


def is_udp(frame):
    return len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[23] == 17


def main():
    ns_a, dev_a, ns_b, dev_b = sys.argv[1:5]
    delay, jitter, loss = float(sys.argv[5]) / 1000, float(sys.argv[6]) / 1000, float(sys.argv[7])
    rng = random.Random(int(sys.argv[8]))
    stats_file = sys.argv[9]
    fa, fb = open_tap(ns_a, dev_a), open_tap(ns_b, dev_b)
    print("ready", flush=True)
    other = {fa: fb, fb: fa}
    name = {fa: "a_to_b", fb: "b_to_a"}
    stats = {d: {"forwarded": 0, "dropped": 0, "delays_us": []} for d in ("a_to_b", "b_to_a")}
    queue, seq = [], 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    end, next_dump = time.monotonic() + 3600, time.monotonic() + 1

    def dump():
        tmp = stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, stats_file)

    while not stop and time.monotonic() < end:
        now = time.monotonic()
        timeout = max(0.0, min(queue[0][0] - now if queue else 0.05, 0.05))
        try:
            ready, _, _ = select.select([fa, fb], [], [], timeout)
        except InterruptedError:
            continue
        for fd in ready:
            frame = os.read(fd, 65536)
            d = name[fd]
            udp = is_udp(frame)
            if udp and rng.random() < loss:
                stats[d]["dropped"] += 1
                continue
            seq += 1
            t = time.monotonic()
            due = t + delay + rng.uniform(0, jitter)
            heapq.heappush(queue, (due, seq, other[fd], frame, t, udp, d))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame, t_in, udp, d = heapq.heappop(queue)
            os.write(out, frame)
            if udp:
                stats[d]["forwarded"] += 1
                stats[d]["delays_us"].append(int((time.monotonic() - t_in) * 1e6))
        if now >= next_dump:
            dump()
            next_dump = now + 1
    dump()


if __name__ == "__main__":
    main()
