"""RFC 4787-style behaviour probe of a lab NAT, run inside lab namespaces (stdlib only).

server IP1 IP2 PORT: answers on IP1:PORT and IP2:PORT with the address it saw ("seen A P"); on a
    packet to IP1:PORT it also sends "from-port" from IP1:PORT+1 and "from-ip" from IP2:PORT to that
    address, which tell the client whether its NAT lets in what it did not send to. Exits after 120 s.
client IP1 IP2 PORT: prints one JSON line: the mapped address seen by IP1 and by IP2 (mapping), and
    which of the unsolicited packets arrived (filtering). Every wait is bounded."""
import json, select, socket, sys, time


def server(ip1, ip2, port):
    s11, s12, s21 = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3))
    s11.bind((ip1, port))
    s12.bind((ip1, port + 1))
    s21.bind((ip2, port))
    print("ready", flush=True)
    end = time.time() + 120
    while time.time() < end:
        r, _, _ = select.select([s11, s21], [], [], 1)
        for s in r:
            data, addr = s.recvfrom(512)
            s.sendto(f"seen {addr[0]} {addr[1]}".encode(), addr)
            if s is s11 and data == b"map":
                s12.sendto(b"from-port", addr)
                s21.sendto(b"from-ip", addr)


def client(ip1, ip2, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    got = {"mapped1": None, "mapped2": None, "from_port": False, "from_ip": False}

    def collect(seconds, key):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([s], [], [], max(0, end - time.time()))
            if not r:
                return
            data = s.recv(512).decode()
            if data.startswith("seen") and got[key] is None:
                got[key] = data.split(" ", 1)[1]
            elif data == "from-port":
                got["from_port"] = True
            elif data == "from-ip":
                got["from_ip"] = True

    for _ in range(3):  # UDP: ask again if the first answer was lost
        s.sendto(b"map", (ip1, port))
        collect(0.7, "mapped1")
        if got["mapped1"]:
            break
    for _ in range(3):
        s.sendto(b"map2", (ip2, port))
        collect(0.7, "mapped2")
        if got["mapped2"]:
            break
    print(json.dumps(got), flush=True)


if __name__ == "__main__":
    mode, ip1, ip2, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    (server if mode == "server" else client)(ip1, ip2, port)
