#!/usr/bin/env python3
"""Traffic for netlab's analyze agreement tests (Tests/NetlabTests/TsharkAgreementTests.swift).

  traffic.py serve --host 127.0.0.1 --host6 ::1 --base PORT     servers until killed (prints "ready")
  traffic.py drive --host 127.0.0.1 --host6 ::1 --base PORT     the client side; prints a JSON summary

Ports, from --base (the test picks a random base below the ephemeral range):
  +0 TCP chat: greeting "Welcome to netlab", line echo, multi-line, several concurrent clients, QUIT
  +1 TCP bulk: the server sends --bulk bytes then closes
  +2 TCP closed: connect is refused (a kernel RST)
  +3 UDP echo
  +4 UDP closed: ICMP port unreachable
  +5 TCP chat over IPv6 (when --host6)
  +6 UDP closed over IPv6: ICMPv6 port unreachable
ICMP echo requests carry the identifier --base & 0xffff. Nothing here leaves the given hosts.
"""
import argparse, json, os, socket, struct, sys, threading, time

GREETING = b"Welcome to netlab\r\n"


def chat_session(conn):
    try:
        conn.sendall(GREETING)
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip() == b"QUIT":
                    conn.sendall(b"Bye\n")
                    conn.shutdown(socket.SHUT_WR)
                    conn.recv(1)
                    return
                conn.sendall(b"echo: " + line + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(host, port, family, handler):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(64)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def bulk_session(nbytes):
    def h(conn):
        try:
            conn.recv(100)  # the request
            block = bytes(range(256)) * 64
            left = nbytes
            while left > 0:
                n = min(left, len(block))
                conn.sendall(block[:n])
                left -= n
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1)
        except OSError:
            pass
        finally:
            conn.close()
    return h


def serve_udp(host, port, family):
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.bind((host, port))

    def loop():
        while True:
            d, a = u.recvfrom(65535)
            u.sendto(b"udp echo: " + d, a)

    threading.Thread(target=loop, daemon=True).start()


def serve(args):
    serve_tcp(args.host, args.base, socket.AF_INET, chat_session)
    serve_tcp(args.host, args.base + 1, socket.AF_INET, bulk_session(args.bulk))
    serve_udp(args.host, args.base + 3, socket.AF_INET)
    if args.host6:
        serve_tcp(args.host6, args.base + 5, socket.AF_INET6, chat_session)
    print("ready", flush=True)
    time.sleep(args.timeout)


def recv_until(c, marker, limit=1 << 20):
    buf = b""
    while marker not in buf and len(buf) < limit:
        d = c.recv(4096)
        if not d:
            break
        buf += d
    return buf


def chat_client(host, port, family, name, lines, split_welcome=False):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = recv_until(c, b"\n")
    assert got == GREETING, got
    sent = 0
    if split_welcome:
        # "Welcome across segments" in two TCP segments, 50 ms apart.
        c.sendall(b"Wel")
        time.sleep(0.05)
        c.sendall(b"come across segments\n")
        recv_until(c, b"segments\n")
        sent += 1
    c.sendall(("HELLO " + name + "\n").encode())
    recv_until(c, b"\n")
    if lines:
        c.sendall(b"".join(l.encode() + b"\n" for l in lines))
        want = len(lines)
        buf = b""
        while buf.count(b"\n") < want:
            d = c.recv(4096)
            if not d:
                break
            buf += d
    c.sendall(b"QUIT\n")
    recv_until(c, b"Bye\n")
    while c.recv(4096):
        pass
    c.close()
    return sent


def drive(args):
    out = {"base": args.base}
    # Greeting and a multi-line exchange, then several clients at once.
    chat_client(args.host, args.base, socket.AF_INET, "solo", ["line one", "line two", "line three"],
                split_welcome=True)
    threads = [threading.Thread(target=chat_client,
                                args=(args.host, args.base, socket.AF_INET, "client%d" % i,
                                      ["from client%d line %d" % (i, k) for k in range(3)]))
               for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["chat_sessions"] = 1 + args.clients
    # Bulk transfer.
    b = socket.socket()
    b.settimeout(20)
    b.connect((args.host, args.base + 1))
    b.sendall(b"GET bulk\n")
    n = 0
    while True:
        d = b.recv(65536)
        if not d:
            break
        n += len(d)
    b.close()
    out["bulk_bytes"] = n
    # Refused: nothing listens on +2 (the kernel answers the SYN with RST).
    r = socket.socket()
    try:
        r.connect((args.host, args.base + 2))
        out["refused"] = False
    except ConnectionRefusedError:
        out["refused"] = True
    r.close()
    # An abortive close: SO_LINGER 0 makes close() send RST.
    a = socket.socket()
    a.connect((args.host, args.base))
    recv_until(a, b"\n")
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()
    # UDP noise: echoes, then a datagram to a closed port (ICMP port unreachable).
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    for i in range(5):
        u.sendto(("udp noise %d" % i).encode(), (args.host, args.base + 3))
        u.recvfrom(65535)
    u.sendto(b"to a closed port", (args.host, args.base + 4))
    time.sleep(0.1)
    u.close()
    out["udp_echoes"] = 5
    # ICMP echo with our identifier (raw socket: root).
    try:
        ic = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        ident = args.base & 0xffff
        for seq in range(2):
            body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"netlab ping!"
            s = sum(struct.unpack("!%dH" % (len(body) // 2), body))
            s = (s >> 16) + (s & 0xffff)
            s += s >> 16
            body = body[:2] + struct.pack("!H", ~s & 0xffff) + body[4:]
            ic.sendto(body, (args.host, 0))
            time.sleep(0.02)
        ic.close()
        out["pings"] = 2
    except PermissionError:
        out["pings"] = 0
    # IPv6: a chat session and a datagram to a closed port.
    if args.host6:
        chat_client(args.host6, args.base + 5, socket.AF_INET6, "six", ["over IPv6"])
        u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u6.sendto(b"to a closed v6 port", (args.host6, args.base + 6))
        time.sleep(0.1)
        u6.close()
        out["ipv6"] = True
    print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "drive"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--host6", default="")
    p.add_argument("--base", type=int, required=True)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--bulk", type=int, default=1 << 20)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    serve(args) if args.mode == "serve" else drive(args)


if __name__ == "__main__":
    main()
