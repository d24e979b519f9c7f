#!/usr/bin/env python3
"""Half-line memory: N clients each send a LINE-byte line with no LF to a server
and hold it. Prints the server's RSS at the start, its peak (VmHWM) once it has
read every byte (receive queues empty in /proc/net/tcp), how many half-lines it
dropped with an ERR reply, whether a new client is still answered, and its RSS
once the holders have left. Usage: halfline.py PID PORT N LINE PROBE_LINE PROBE_ANSWER"""
import select, socket, sys, time

pid, port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
probe, expect = sys.argv[5].encode(), sys.argv[6].encode()


def mem(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def queues():
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                p = line.split()
                if p[3] == "01" and int(p[1].rsplit(":", 1)[1], 16) == port:
                    out.append(int(p[4].split(":")[1], 16))
    return out


def wait(cond, timeout=120):
    end = time.time() + timeout
    while not cond():
        if time.time() > end:
            raise SystemExit("timed out")
        time.sleep(0.1)


start = mem("VmRSS")
payload = b"a" * size
clients = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(4096)  # greeting
    s.sendall(payload)
    clients.append(s)
wait(lambda: (lambda q: len(q) >= n and not any(q))(queues()))
peak = mem("VmHWM")
dropped = 0
for s in clients:
    pl = select.poll()
    pl.register(s, select.POLLIN)
    if pl.poll(0):
        dropped += s.recv(65536).count(b"\n")
p = socket.create_connection(("127.0.0.1", port))
p.settimeout(10)
buf = b""
p.sendall(probe + b"\n")
while expect not in buf:
    d = p.recv(4096)
    if not d:
        break
    buf += d
served = expect in buf
p.close()
for s in clients:
    s.close()
wait(lambda: not queues())
after = mem("VmRSS")
for _ in range(100):  # up to 10 s for the server to close them all and trim
    after = mem("VmRSS")
    if after - start < 32 << 20:
        break
    time.sleep(0.1)
mib = lambda b: f"{b / 1048576:.0f} MiB"
print(f"start {mib(start)}  peak {mib(peak)}  after {mib(after)}  dropped {dropped}/{n}  other client served: {served}")
