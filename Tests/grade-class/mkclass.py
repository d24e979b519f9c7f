#!/usr/bin/python3
"""A class of echo-assignment submissions, each made of real captures of real
servers and clients, with the truth it was made to hold.

    mkclass.py OUT --bin .build/debug [--bench N] [--keep]

Runs, as root, in two network namespaces of its own (removed at the end): netlab's
echoserver and echoclient and plain Python sockets (peer.py) doing the assignment
right and wrong, once on loopback (part 1) and once across a veth pair (part 2),
captured at the same time by tcpdump and dumpcap on `lo` and on `any`, as pcap and
pcapng (on the server host `any` also sees each packet twice, through a bridge; one
client loses packets to an nftables rule and retransmits). Each submission's
captures are cut from those by its client port. Then the broken files a class also
hands in (empty, cut short, not a capture, missing, ambiguous, no TCP) and hostile
zips (../ and absolute names, a symbolic link, a zip bomb, 100,000 entries, a name
that is not UTF-8) and a folder holding a link.

Writes OUT/class/ (one folder or .zip per submission), OUT/rubric.txt,
OUT/in-proj.txt, OUT/ref/part1.pcap and part2.pcap (the reference), and
OUT/truth.jsonl: per submission its verdict and every check's result and reason,
worked out from the behaviour it was made with and, for packet numbers and
interfaces, from tshark's reading of the files. With --bench N, OUT/class holds instead N
copies (under new names) of the submissions that pass, each of two real captures
(bench/grade.sh), and the truth says so.
Shared by Tests/NetlabTests/GradeClassTests.swift and bench/grade.sh.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peer.py")
PY = "/usr/bin/python3"
GREETING = "Welcome to CS 352!"
PORT = 5000
LINES = ["Hello World", "Welcome to the Internet", "  spaces kept  ", "MiXeD CaSe 123", "h\u00e9llo w\u00f6rld",
         "The quick brown fox jumps over the lazy dog"]
V4 = ("10.77.0.1", "10.77.0.2")
V6 = ("fd77::1", "fd77::2")


def transform(line):
    return "".join(c.swapcase() if c.isascii() else c for c in reversed(line))


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


class Net:
    """Two hosts: A (client; also part 1 on its loopback) and B (server), joined by a veth pair."""

    def __init__(self):
        self.a, self.b = "gc%d-a" % os.getpid(), "gc%d-b" % os.getpid()
        for ns in (self.a, self.b):
            run(["ip", "netns", "add", ns])
            self.ip(ns, "link", "set", "lo", "up")
        run(["ip", "link", "add", "gca%d" % os.getpid(), "netns", self.a, "type", "veth", "peer", "name",
             "gcb%d" % os.getpid(), "netns", self.b])
        self.va, self.vb = "gca%d" % os.getpid(), "gcb%d" % os.getpid()
        self.ip(self.a, "addr", "add", V4[0] + "/24", "dev", self.va)
        self.ip(self.a, "addr", "add", V6[0] + "/64", "dev", self.va, "nodad")
        self.ip(self.a, "link", "set", self.va, "up")
        # On B the veth is a bridge port: a capture on `any` there sees each packet on both.
        self.ip(self.b, "link", "add", "br0", "type", "bridge")
        self.ip(self.b, "link", "set", self.vb, "master", "br0")
        self.ip(self.b, "addr", "add", V4[1] + "/24", "dev", "br0")
        self.ip(self.b, "addr", "add", V6[1] + "/64", "dev", "br0", "nodad")
        self.ip(self.b, "link", "set", self.vb, "up")
        self.ip(self.b, "link", "set", "br0", "up")
        for ns, peer in ((self.a, V4[1]), (self.b, V4[0])):
            for _ in range(50):
                if subprocess.run(["ip", "netns", "exec", ns, "ping", "-c1", "-W1", peer],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                    break
                time.sleep(0.1)

    def ip(self, ns, *args):
        return run(["ip", "-n", ns] + list(args))

    def ifindex(self, ns, dev):
        out = run(["ip", "-n", ns, "-o", "link", "show", dev]).stdout
        return int(out.split(":")[0])

    def remove(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def spawn(ns, cmd, **kw):
    return subprocess.Popen(["ip", "netns", "exec", ns] + cmd, **kw)


# A 64 MiB buffer and no immediate mode: a busy machine must not make the kernel drop packets (checked at the end).
TCPDUMP = ["tcpdump", "-n", "-B", "65536"]
DUMPCAP_BUF = ["-B", "64"]


class Captures:
    """Every capture of the run, started before the first session and stopped after the last."""

    def __init__(self, net, work):
        self.files = {
            "lo-pcap": (net.a, TCPDUMP + ["-i", "lo", "-w"], "A-lo.pcap"),
            "any-pcap": (net.a, TCPDUMP + ["-i", "any", "-w"], "A-any.pcap"),
            "any-pcapng": (net.a, ["dumpcap"] + DUMPCAP_BUF + ["-i", "any", "-w"], "A-any.pcapng"),
            "lo-pcapng": (net.a, ["dumpcap"] + DUMPCAP_BUF + ["-i", "lo", "-w"], "A-lo.pcapng"),
            "b-any-pcap": (net.b, TCPDUMP + ["-i", "any", "-w"], "B-any.pcap"),
        }
        self.procs = []
        for key, (ns, cmd, name) in self.files.items():
            path = os.path.join(work, name)
            log = open(os.path.join(work, name + ".log"), "w")
            self.procs.append(spawn(ns, cmd + [path], stdout=log, stderr=subprocess.STDOUT))
            self.files[key] = path
        deadline = time.time() + 20
        for (key, path), _ in zip(self.files.items(), self.procs):
            while time.time() < deadline:
                text = open(path + ".log").read()
                if "listening on" in text or "Capturing on" in text:
                    break
                time.sleep(0.1)
        time.sleep(1.0)

    def stop(self):
        time.sleep(1.0)
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        for path in self.files.values():
            log = open(path + ".log").read()
            m = re.search(r"(\d+) packets dropped by kernel", log) or re.search(r"dropped on interface[^:]*: \d+/(\d+)", log)
            if m and int(m.group(1)):
                raise SystemExit("mkclass: %s lost %s packets (the machine was too busy): run again" % (path, m.group(1)))

    def cut(self, source, cport, dest, proto="tcp"):
        src = self.files[source]
        if src.endswith(".pcapng"):
            run(["tshark", "-r", src, "-Y", "%s.port == %d" % (proto, cport), "-F", "pcapng", "-w", dest])
        else:
            run(["tcpdump", "-r", src, "-w", dest, "%s port %d" % (proto, cport)])


class Sessions:
    """One echo connection each: a server and a client, on one host or across the two."""

    def __init__(self, net, work, netlab_bin):
        self.net, self.work, self.bin = net, work, netlab_bin
        self.next_port = 20001
        self.inp = os.path.join(work, "in-proj.txt")

    def run(self, where="lo", family=4, server="python", client="python", sargs=(), cargs=(), port=PORT,
            loss=False):
        cport = self.next_port
        self.next_port += 1
        if where == "lo":
            sns, cns = self.net.a, self.net.a
            host = "127.0.0.1" if family == 4 else "::1"
            bind = host
        else:
            sns, cns = self.net.b, self.net.a
            host = V4[1] if family == 4 else V6[1]
            bind = host
        out = os.path.join(self.work, "out-%d.txt" % cport)
        if loss:
            self.net_rule(cport)
        if server == "netlab":
            srv = spawn(sns, [os.path.join(self.bin, "echoserver"), "--host", bind, "--port", str(port), "--greeting",
                              GREETING, "--output", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        else:
            srv = spawn(sns, [PY, PEER, "server", "--bind", bind, "--port", str(port), "--out", out,
                              "--input-hint", self.inp] + list(sargs),
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            return self.converse(srv, sns, cns, host, port, cport, out, client, cargs, server, loss)
        finally:
            if srv.poll() is None:  # a session that went wrong leaves nothing running
                srv.kill()
                srv.wait()

    def converse(self, srv, sns, cns, host, port, cport, out, client, cargs, server, loss):
        log = []
        while True:
            line = srv.stdout.readline()
            log.append(line)
            if "listening" in line or not line:
                break
        if client == "netlab":
            cl = spawn(cns, [os.path.join(self.bin, "echoclient"), "--host", host, "--port", str(port), "--input",
                             self.inp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        else:
            cl = spawn(cns, [PY, PEER, "client", "--host", host, "--port", str(port), "--input", self.inp,
                             "--bind-port", str(cport)] + list(cargs),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            cl.communicate(timeout=60)
        finally:
            if cl.poll() is None:
                cl.kill()
                cl.wait()
        if server == "netlab":
            time.sleep(0.2)
            srv.send_signal(signal.SIGTERM)
        rest = srv.communicate(timeout=60)[0]
        log.append(rest)
        if server == "netlab" or client == "netlab":
            m = re.search(r"connection from \S+ port (\d+)", "".join(log))
            cport = int(m.group(1))
        if loss:
            run(["ip", "netns", "exec", self.net.b, "nft", "delete", "table", "inet", "gcloss"])
        text = open(out, encoding="utf-8").read() if os.path.exists(out) else ""
        return cport, text

    def net_rule(self, cport):
        nft = ["ip", "netns", "exec", self.net.b, "nft"]
        run(nft + ["add", "table", "inet", "gcloss"])
        run(nft + ["add", "chain", "inet", "gcloss", "in", "{ type filter hook input priority 0 ; }"])
        run(nft + ["add", "rule", "inet", "gcloss", "in", "tcp", "sport", str(cport), "ip", "length", ">", "60",
                   "numgen", "inc", "mod", "2", "==", "0", "drop"])

    def udp(self, sport):
        code = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',%d))\n"
                "for i in range(3):\n s.sendto(b'not tcp %%d'%%i,('127.0.0.1',%d)); time.sleep(0.01)\n") % (sport, PORT)
        run(["ip", "netns", "exec", self.net.a, PY, "-c", code])


# ---- what tshark reads in a file: the oracle for packet numbers and interfaces ----

FIELDS = ["frame.number", "frame.interface_name", "sll.ifindex", "sll.hatype", "eth.src", "ip.src", "ip.dst",
          "ip.id", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.flags",
          "frame.time_epoch", "tcp.payload"]
_read = {}


def rows(path):
    """Every frame of the file as tshark reads it (once per file)."""
    if path not in _read:
        cmd = ["tshark", "-r", path, "-T", "fields", "-E", "occurrence=f"] + sum([["-e", f] for f in FIELDS], [])
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        _read[path] = [dict(zip(FIELDS, l.split("\t"))) for l in out.splitlines() if l.strip()]
    return _read[path]


def frames(path):
    return len(rows(path))


def payload(r):
    return bytes.fromhex(r["tcp.payload"].replace(":", "")) if r["tcp.payload"] else b""


def first_frame(path, sport=None, dport=None, holding=None):
    """The first frame from sport / to dport with payload (holding these bytes, when given)."""
    for r in rows(path):
        if sport and r["tcp.srcport"] != str(sport) or dport and r["tcp.dstport"] != str(dport):
            continue
        if not r["tcp.len"] or r["tcp.len"] == "0":
            continue
        if holding is None or holding.encode() in payload(r):
            return int(r["frame.number"])
    return None


def iface_words(path):
    """The interfaces of a file's frames (a second copy of a packet aside), as netlab grade words them."""
    words, last = [], {}
    for r in rows(path):
        key = (r["ip.src"], r["ip.dst"])
        sig = (r["ip.id"], r["tcp.seq_raw"], r["tcp.ack_raw"], r["tcp.len"], r["tcp.flags"])
        when = float(r["frame.time_epoch"])
        if r["ip.id"] and r["ip.id"] != "0x0000" and key in last and last[key][0] == sig and when - last[key][1] < 0.001:
            continue  # the second copy of a packet (a capture on two interfaces of its path)
        last[key] = (sig, when)
        # What the file proves (tshark's reading): the kind from the cooked header's ARPHRD type or the
        # Ethernet addresses, the name from the pcapng block (not "any"; Linux's loopback is lo), the index.
        hatype, name, idx = r["sll.hatype"], r["frame.interface_name"], r["sll.ifindex"]
        if hatype:
            kind = {"772": "loopback", "1": "Ethernet"}.get(hatype, "an interface of ARPHRD type " + hatype)
        elif r["eth.src"]:
            kind = "loopback" if r["eth.src"] == "00:00:00:00:00:00" else "Ethernet"
        else:
            kind = "raw IP (no link header)"
        if not name or name == "any":
            name = "lo" if hatype == "772" else None
        if name:
            w = "%s, the %s interface" % (name, kind)
        elif kind.startswith("an "):
            w = kind
        else:
            w = "%s %s interface" % ("an" if kind[0] in "aeiouAEIOU8" else "a", kind)
        w += ", ifindex %s" % idx if idx else ""
        if w not in words:
            words.append(w)
    return "; ".join(words[:3])


def quote(text):
    """As nl_quote shows a text: escaped for one line, cut at 60 characters."""
    out = []
    for i, c in enumerate(text):
        if i == 60:
            out.append("\u2026")
            break
        out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}.get(c, c))
    return "'" + "".join(out) + "'"


# ---- the truth of one submission ----

class Part:
    """A capture of a part as handed in: its file name, and what it is."""

    def __init__(self, name, label, path, kind="ok", port=PORT, where="lo", family=4, **truth):
        self.name, self.label, self.path, self.kind = name, label, path, kind
        self.port, self.where, self.family, self.truth = port, where, family, truth


def part_truth(p, required_where):
    """The five checks of one part: capture, port, greeting, echo, interface."""
    t = {}
    n = p.name
    if p.kind == "missing":
        why = "no capture file for %s" % n
        for c in ("capture", "port", "greeting", "echo", "interface"):
            t["%s.%s" % (n, c)] = ("FAIL", why)
        return t
    if p.kind in ("empty", "garbage", "notcp", "ambiguous"):
        why = {
            "empty": "%s holds no packets" % p.label,
            "garbage": "%s is not a pcap or pcapng capture (it starts with %s)" % (
                p.label, " ".join("%02x" % b for b in open(p.path, "rb").read(4))),
            "notcp": "%s holds no TCP conversation" % p.label,
            "ambiguous": p.truth.get("why", ""),
        }[p.kind]
        t[n + ".capture"] = ("FAIL", why)
        for c in ("port", "greeting", "echo", "interface"):
            t["%s.%s" % (n, c)] = ("FAIL", "not graded: " + why)
        return t
    count = p.truth.get("packets", frames(p.path))
    fmt = "pcapng" if p.path.endswith(".pcapng") else "pcap"
    if p.kind == "cut":
        t[n + ".capture"] = ("FAIL", "%s is damaged after packet %d: the %d packets before it are graded" % (
            p.label, count, count))
    else:
        t[n + ".capture"] = ("PASS", "%s: %d packets (%s)%s" % (p.label, count, fmt, p.truth.get("taken", "")))
    t[n + ".port"] = ("PASS", "server port %d" % p.port) if p.port == PORT else (
        "FAIL", "server port %d is not %d" % (p.port, PORT))
    greeted = first_frame(p.path, sport=p.port)  # (a plan that greets otherwise says so in its checks)
    t[n + ".greeting"] = ("PASS", "greeting %s (packet %s)" % (quote(GREETING), greeted))
    t[n + ".echo"] = ("PASS", "all %d lines echoed (reverse-swapcase), in order" % len(LINES))
    addrs = {("lo", 4): ("127.0.0.1", "127.0.0.1"), ("lo", 6): ("::1", "::1"),
             ("across", 4): V4, ("across", 6): V6}[(p.where, p.family)]
    where = "%s to %s on %s" % (addrs[0], addrs[1], iface_words(p.path))
    lo = p.where == "lo"
    if required_where == "loopback":
        t[n + ".interface"] = ("PASS", "on loopback: " + where) if lo else ("FAIL", "not on loopback: " + where)
    else:
        t[n + ".interface"] = ("FAIL", "not across hosts: " + where) if lo else ("PASS", "across hosts: " + where)
    return t


def output_truth(text, label="out-proj.txt"):
    """out-proj.txt against the transform of every input line (LF or CRLF; a last line may lack its end)."""
    if text is None:
        return ("FAIL", "no out-proj.txt")
    got = text.split("\n")
    if got and got[-1] == "":
        got.pop()
    got = [g[:-1] if g.endswith("\r") else g for g in got]
    want = [transform(l) for l in LINES]
    fails = []
    for k, (a, b) in enumerate(zip(got, want)):
        if a != b:
            fails.append("%s line %d is %s, expected %s" % (label, k + 1, quote(a), quote(b)))
    if len(got) < len(want):
        fails.append("%s has %d lines, expected %d (the first missing: %s)" % (
            label, len(got), len(want), quote(want[len(got)])))
    elif len(got) > len(want):
        fails.append("%s has %d lines, expected %d (line %d: %s)" % (
            label, len(got), len(want), len(want) + 1, quote(got[len(want)])))
    if not fails:
        return ("PASS", "%s: %d lines, each the reverse-swapcase of its input line" % (label, len(want)))
    return ("FAIL", fails[0] + (" (and %d more)" % (len(fails) - 1) if len(fails) > 1 else ""))


def with_more(sentences):
    return sentences[0] + (" (and %d more)" % (len(sentences) - 1) if len(sentences) > 1 else "")


class Builder:
    def __init__(self, out, netlab_bin):
        self.out = out
        self.work = os.path.join(out, "work")
        self.cls = os.path.join(out, "class")
        os.makedirs(self.work, exist_ok=True)
        os.makedirs(self.cls, exist_ok=True)
        with open(os.path.join(self.work, "in-proj.txt"), "w", encoding="utf-8") as f:
            f.write("".join(l + "\n" for l in LINES))
        shutil.copy(os.path.join(self.work, "in-proj.txt"), os.path.join(out, "in-proj.txt"))
        self.bin = netlab_bin
        self.plans = []   # (name, container, parts spec, files, truth extras)
        self.truth = []

    # -- the sessions every submission needs, run while the captures run --

    def plan(self, name, p1=None, p2=None, container="folder", files=("server.py", "client.py"), output="part1",
             **extra):
        self.plans.append(dict(name=name, p1=p1 or {}, p2=p2 or {}, container=container, files=files,
                               output=output, extra=extra))

    def record_sessions(self, net):
        ses = Sessions(net, self.work, self.bin)
        caps = Captures(net, self.work)
        try:
            for pl in self.plans:
                for key in ("p1", "p2"):
                    spec = pl[key]
                    if spec.get("kind", "ok") not in ("ok", "cut"):
                        continue
                    sess = {k: v for k, v in spec.items() if k in ("where", "family", "server", "client", "sargs",
                                                                    "cargs", "port", "loss")}
                    sess.setdefault("where", "lo" if key == "p1" else "across")
                    t0 = time.time()
                    spec["cport"], spec["outtext"] = ses.run(**sess)
                    if os.environ.get("MKCLASS_VERBOSE"):
                        print("%s %s: %.2fs" % (pl["name"], key, time.time() - t0), file=sys.stderr)
                    spec.setdefault("where", sess["where"])
            self.udp_port = 40000
            ses.udp(self.udp_port)
            for ref, where in (("ref1", "lo"), ("ref2", "across")):
                setattr(self, ref, ses.run(where=where)[0])
        finally:
            caps.stop()
        self.caps = caps
        self.ifindex = {"va": net.ifindex(net.a, net.va)}

    # -- the files of each submission --

    def make_part(self, sub_dir, prefix, pname, spec):
        kind = spec.get("kind", "ok")
        fname = spec.get("file", pname + (".pcapng" if spec.get("source", "").endswith("pcapng") else ".pcap"))
        label = prefix + fname
        path = os.path.join(sub_dir, fname)
        if kind == "missing":
            return Part(pname, pname, None, "missing")
        if kind == "empty":
            self.caps.cut("lo-pcap", 1, path)
        elif kind == "garbage":
            rnd = random.Random(352)
            open(path, "wb").write(b"GARBAGE!" + bytes(rnd.randrange(256) for _ in range(300)))
        elif kind == "notcp":
            self.caps.cut("lo-pcap", self.udp_port, path, proto="udp")
        else:
            source = spec.get("source", "lo-pcap" if spec["where"] == "lo" else "any-pcap")
            self.caps.cut(source, spec["cport"], path)
        part = Part(pname, label, path, kind, port=spec.get("port", PORT), where=spec.get("where", "lo"),
                    family=spec.get("family", 4))
        if "file" in spec and not spec.get("named", True):
            part.truth["taken"] = ", taken for %s: named for no part, it is the one capture %s" % (
                pname, "on loopback" if part.where == "lo" else "across hosts")
        if kind == "cut":
            whole = frames(path)
            data = open(path, "rb").read()
            # Cut the last record in half: the file ends inside it.
            offsets, at = [], 24
            while at < len(data):
                offsets.append(at)
                at += 16 + int.from_bytes(data[at + 8:at + 12], "little")
            last = offsets[-1]
            open(path, "wb").write(data[:last + (len(data) - last) // 2])
            part.truth["packets"] = whole - 1
        return part

    def truth_of(self, pl, parts):
        t = {"readable": None}
        for p, where in zip(parts, ("loopback", "across")):
            t.update(part_truth(p, where))
        for k, v in pl["extra"].get("checks", {}).items():
            t[k] = v(parts) if callable(v) else v
        return t

    def build_submission(self, pl):
        name = pl["name"]
        sub_dir = os.path.join(self.work, "sub-" + name)
        inner = pl["extra"].get("inner", "")
        os.makedirs(os.path.join(sub_dir, inner), exist_ok=True)
        parts = []
        for key, pname in (("p1", "part1"), ("p2", "part2")):
            parts.append(self.make_part(os.path.join(sub_dir, inner), inner, pname, pl[key]))
        for extra_file, content in pl["extra"].get("more_files", {}).items():
            open(os.path.join(sub_dir, inner, extra_file), "wb").write(content)
        for f in pl["files"]:
            open(os.path.join(sub_dir, inner, f), "w").write(
                "# %s of %s\nopen(%r, 'w').write('executed')\n" % (f, name, os.path.join(self.out, "EXECUTED")))
        outtext = None
        if pl["output"]:
            outtext = pl["p1"].get("outtext", "") if pl["output"] == "part1" else pl["output"]
            open(os.path.join(sub_dir, inner, "out-proj.txt"), "w", encoding="utf-8").write(outtext)
        t = self.truth_of(pl, parts)
        t["output"] = output_truth(outtext, inner + "out-proj.txt")
        present = [f for f in ("server.py", "client.py") if f in pl["files"]]
        missing = [f for f in ("server.py", "client.py") if f not in pl["files"]]
        t["files"] = ("FAIL", "missing " + ", ".join(missing)) if missing else ("PASS", "present: " + ", ".join(present))
        nfiles = sum(len([f for f in fs if not f.startswith(".")]) for d, _, fs in os.walk(sub_dir)
                     if "__MACOSX" not in d)
        if pl["container"] == "zip":
            zpath = os.path.join(self.cls, name + ".zip")
            with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
                for d, _, fs in os.walk(sub_dir):
                    for f in sorted(fs):
                        full = os.path.join(d, f)
                        z.write(full, os.path.relpath(full, sub_dir))
                if pl["extra"].get("macosx"):
                    z.writestr("__MACOSX/._part1.pcap", b"\0\5\26\7resource fork")
                    z.writestr(".DS_Store", b"\0\0\0\1Bud1")
            t["readable"] = ("PASS", "a zip of %d file%s" % (nfiles, "" if nfiles == 1 else "s"))
            sub = name + ".zip"
        else:
            shutil.copytree(sub_dir, os.path.join(self.cls, name), symlinks=True)
            t["readable"] = ("PASS", "a folder of %d file%s" % (nfiles, "" if nfiles == 1 else "s"))
            sub = name
        ref = pl["extra"].get("reference")
        if callable(ref):
            ref = {"part1": [ref(parts)[0]] if ref(parts)[0] else [], "part2": [ref(parts)[1]] if ref(parts)[1] else []}
        elif ref is not None:
            ref = {"part1": ref, "part2": ref}
        self.add_truth(sub, t, ref, pl["extra"].get("port_same"))

    def add_truth(self, sub, t, reference=None, port_same=None):
        verdict = "PASS" if all(v[0] == "PASS" for v in t.values()) else "FAIL"
        entry = {"submission": sub, "verdict": verdict, "checks": {k: {"result": v[0], "reason": v[1]}
                                                                  for k, v in t.items()}}
        if reference is not None:
            entry["reference"] = reference
        if port_same is not None:
            entry["port_same"] = port_same
        self.truth.append(entry)

    def refused(self, sub, reason):
        t = {"readable": ("FAIL", reason)}
        for c in CHECKS[1:]:
            t[c] = ("FAIL", "not graded: the submission could not be read")
        self.add_truth(sub, t)


CHECKS = ["readable"] + ["%s.%s" % (p, c) for p in ("part1", "part2")
                         for c in ("capture", "port", "greeting", "echo", "interface")] + ["output", "files"]

RUBRIC = """# The class test's rubric (Tests/grade-class/mkclass.py)
title = CS 352 echo project (class test)
greeting = Welcome to CS 352!
port = 5000
input = in-proj.txt
transform = reverse-swapcase
require = part1, part2          # part1 on loopback, part2 across hosts
output = out-proj.txt
files = server.py, client.py
points.echo = 4
points.greeting = 2
points.output = 2
"""


def echo_fail(sentences):
    return ("FAIL", with_more(sentences))


def plans(b):
    """Every submission of the class, each with what it gets right and wrong."""
    W = {"sargs": [], "cargs": []}
    b.plan("s01-netlab", dict(server="netlab", client="netlab"), dict(server="netlab", client="netlab"),
           reference=[])
    b.plan("s02-python-pcapng", dict(source="lo-pcapng"), dict(source="any-pcapng"), container="zip", reference=[])
    b.plan("s03-one-write", dict(cargs=["--mode", "onewrite"]), dict(cargs=["--mode", "onewrite"]), reference=[])
    b.plan("s04-pipelined", dict(cargs=["--mode", "pipelined"], source="any-pcap"), dict(cargs=["--mode", "pipelined"]))
    b.plan("s05-coalesced", dict(sargs=["--mode", "batch"], cargs=["--mode", "onewrite"]),
           dict(sargs=["--mode", "batch"], cargs=["--mode", "onewrite"]), container="zip")
    b.plan("s06-line-split", dict(cargs=["--mode", "splitline"]), dict(cargs=["--mode", "splitline"]))
    b.plan("s07-echo-bytewise", dict(sargs=["--mode", "bytewise"]), dict(sargs=["--mode", "bytewise"]))
    b.plan("s08-crlf", dict(cargs=["--mode", "crlf"]), dict(cargs=["--mode", "crlf"]), reference=[])
    b.plan("s09-late-greeting", dict(sargs=["--greet", "first-read"], cargs=["--mode", "first"]),
           dict(sargs=["--greet", "first-read"], cargs=["--mode", "first"]), reference=[])
    b.plan("s10-slow-greeting", dict(sargs=["--greet", "delay"]), dict(sargs=["--greet", "delay"]))
    b.plan("s11-split-greeting", dict(sargs=["--split-greeting"]), dict(sargs=["--split-greeting"]), reference=[])
    b.plan("s12-ipv6", dict(family=6), dict(family=6, source="any-pcapng"),
           reference=[["connection", "IP version: yours IPv6, the reference's IPv4"]])
    b.plan("s13-retransmissions", dict(), dict(loss=True), reference=[])
    b.plan("s14-duplicate-copies", dict(source="any-pcap"), dict(source="b-any-pcap"), reference=[])
    b.plan("s15-half-close", dict(cargs=["--mode", "halfclose"]), dict(cargs=["--mode", "halfclose"]))
    b.plan("s16-zip-in-a-folder", dict(), dict(), container="zip", inner="s16/", macosx=True)
    b.plan("s17-names", dict(file="Part-1.pcapng", source="lo-pcapng"), dict(file="PART_2.pcap"), container="zip")
    b.plan("s18-client-first", dict(cargs=["--mode", "first"]), dict(cargs=["--mode", "first"]))
    b.plan("s20-greeting-without-line-end", dict(sargs=["--greeting-no-eol"], cargs=["--greeting-timeout", "0.3"]),
           dict(sargs=["--greeting-no-eol"], cargs=["--greeting-timeout", "0.3"]), reference=[])
    b.plan("s19-unnamed-captures", dict(file="loopback.pcap", named=False),
           dict(file="eth0.pcapng", source="any-pcapng", named=False), container="zip")

    b.plan("b01-wrong-greeting", dict(sargs=["--greeting", "Hello from my server"]),
           dict(sargs=["--greeting", "Hello from my server"]),
           checks={"part1.greeting": ("FAIL", "greeting 'Hello from my server' is not 'Welcome to CS 352!'"),
                   "part2.greeting": ("FAIL", "greeting 'Hello from my server' is not 'Welcome to CS 352!'")},
           reference=[["greeting", "greeting: yours 'Hello from my server', the reference's 'Welcome to CS 352!'"]])
    nogreet = lambda n: lambda parts: ("FAIL", "no greeting: the client spoke first (packet %d) and the server only "
                                       "replied" % first_frame(parts[n].path, dport=PORT))
    b.plan("b02-no-greeting", dict(sargs=["--no-greeting"], cargs=["--greeting-timeout", "0.5"]),
           dict(sargs=["--no-greeting"], cargs=["--greeting-timeout", "0.5"]),
           checks={"part1.greeting": nogreet(0), "part2.greeting": nogreet(1)})
    b.plan("b03-client-speaks-first", dict(sargs=["--no-greeting"], cargs=["--mode", "first"]),
           dict(sargs=["--no-greeting"], cargs=["--mode", "first"]),
           checks={"part1.greeting": nogreet(0), "part2.greeting": nogreet(1)})
    wrong3 = "".join(reversed(LINES[2]))
    wrong = lambda n: lambda parts: ("FAIL", "packet %d: the echo of line 3 is %s, expected %s" % (
        first_frame(parts[n].path, sport=PORT, holding=wrong3), quote(wrong3),
        quote(transform(LINES[2]))))
    b.plan("b04-wrong-echo", dict(sargs=["--mode", "wrong-echo:3"]), dict(sargs=["--mode", "wrong-echo:3"]),
           checks={"part1.echo": wrong(0), "part2.echo": wrong(1)},
           reference=lambda parts: [["echo", "reply 3: yours %s (packet %d), the reference's %s" % (
               quote(wrong3), first_frame(p.path, sport=PORT, holding=wrong3), quote(transform(LINES[2])))]
               for p in parts])
    ident = lambda n: lambda parts: echo_fail(["packet %d: the echo of line %d is %s, expected %s" % (
        first_frame(parts[n].path, sport=PORT, holding=l + "\n"), k + 1, quote(l),
        quote(transform(l))) for k, l in enumerate(LINES)])
    b.plan("b05-no-transform", dict(sargs=["--mode", "identity"]), dict(sargs=["--mode", "identity"]),
           container="zip", checks={"part1.echo": ident(0), "part2.echo": ident(1)})
    nogreet_p = lambda n, port: lambda parts: ("PASS", "greeting %s (packet %d)" % (
        quote(GREETING), first_frame(parts[n].path, sport=port)))
    b.plan("b06-wrong-port", dict(port=5001), dict(port=5001),
           checks={"part1.greeting": nogreet_p(0, 5001), "part2.greeting": nogreet_p(1, 5001)},
           reference=[["port", "server port: yours 5001, the reference's 5000"]],
           port_same={"part1.port": ["PASS", "server port 5001"], "part2.port": ["PASS", "server port 5001"]})
    b.plan("b07-line-not-sent", dict(cargs=["--mode", "skip:4"]), dict(cargs=["--mode", "skip:4"]),
           checks={"part1.echo": ("FAIL", "line 4 'MiXeD CaSe 123' never reached the server"),
                   "part2.echo": ("FAIL", "line 4 'MiXeD CaSe 123' never reached the server")})
    b.plan("b08-echo-not-sent", dict(sargs=["--mode", "skip:2"], cargs=["--answer-timeout", "0.3"]),
           dict(sargs=["--mode", "skip:2"], cargs=["--answer-timeout", "0.3"]),
           checks={"part1.echo": ("FAIL", "no echo of line 2 (expected %s)" % quote(transform(LINES[1]))),
                   "part2.echo": ("FAIL", "no echo of line 2 (expected %s)" % quote(transform(LINES[1])))})
    bye = lambda n: lambda parts: ("FAIL", "packet %d: the server sent 'BYE', which answers no line" % first_frame(
        parts[n].path, sport=PORT, holding="BYE\n"))
    b.plan("b09-extra-line", dict(sargs=["--mode", "extra"]), dict(sargs=["--mode", "extra"]),
           checks={"part1.echo": bye(0), "part2.echo": bye(1)},
           reference=lambda parts: [["echo", "reply 7: yours 'BYE' (packet %d), the reference's none" % first_frame(
               p.path, sport=PORT, holding="BYE\n")] for p in parts])
    swapped = lambda n: lambda parts: ("FAIL", "packet %d: the echo of line 2 comes before the echo of line 1" % (
        first_frame(parts[n].path, sport=PORT, holding=transform(LINES[1]))))
    b.plan("b10-echoes-swapped", dict(sargs=["--mode", "swap12"], cargs=["--mode", "pipelined"]),
           dict(sargs=["--mode", "swap12"], cargs=["--mode", "pipelined"]),
           checks={"part1.echo": swapped(0), "part2.echo": swapped(1)})
    early = lambda n: lambda parts: ("FAIL", "packet %d: the echo of line 1 left before line 1 arrived (packet %d)" % (
        first_frame(parts[n].path, sport=PORT, holding=transform(LINES[0])),
        first_frame(parts[n].path, dport=PORT, holding=LINES[0])))
    b.plan("b11-echo-before-line", dict(sargs=["--mode", "predict1"]), dict(sargs=["--mode", "predict1"]),
           checks={"part1.echo": early(0), "part2.echo": early(1)})
    silent_echo = echo_fail(["no echo of line %d (expected %s)" % (k + 1, quote(transform(l)))
                             for k, l in enumerate(LINES)])
    b.plan("b12-silent-server", dict(sargs=["--mode", "silent"], cargs=["--greeting-timeout", "0.3",
                                                                       "--answer-timeout", "0.1"]),
           dict(sargs=["--mode", "silent"], cargs=["--greeting-timeout", "0.3", "--answer-timeout", "0.1"]),
           output=None,
           checks={"part1.greeting": ("FAIL", "no greeting: the server sent nothing"),
                   "part2.greeting": ("FAIL", "no greeting: the server sent nothing"),
                   "part1.echo": silent_echo, "part2.echo": silent_echo})
    b.plan("b13-empty-capture", dict(kind="empty"), dict())
    b.plan("b14-cut-short", dict(), dict(kind="cut"), container="zip")
    b.plan("b15-not-a-capture", dict(kind="garbage"), dict())
    b.plan("b16-part2-missing", dict(), dict(kind="missing"))
    b.plan("b17-no-output", dict(), dict(), output=None)
    bad_out = "".join(transform(l) + "\n" for l in LINES).replace(transform(LINES[1]), "wrong line")
    b.plan("b18-wrong-output", dict(), dict(), output=bad_out)
    b.plan("b19-client-missing", dict(), dict(), files=("server.py",))
    b.plan("b20-parts-swapped", dict(where="across", source="any-pcap"), dict(where="lo", source="lo-pcap"))
    b.plan("b21-two-part1", dict(), dict(),
           more_files={}, checks={})
    b.plan("b22-no-tcp", dict(kind="notcp"), dict())
    b.plan("b23-part2-other-port", dict(), dict(port=5001),
           reference=lambda parts: [None, ["port", "server port: yours 5001, the reference's 5000"]],
           port_same={"part1.port": ["PASS", "server port 5000"],
                      "part2.port": ["FAIL", "server port 5001 is not part1's 5000"]})
    b.plan("b24-crlf-output", dict(cargs=["--mode", "crlf"]), dict(), output="".join(
        transform(l) + "\r\n" for l in LINES))


def hostile(b):
    """Zips and a folder a grader must refuse, each with the reason it must give."""
    c = b.cls
    good = open(os.path.join(b.work, "sub-s01-netlab", "part1.pcap"), "rb").read()

    def z(name, entries, reason, **kw):
        with zipfile.ZipFile(os.path.join(c, name), "w", zipfile.ZIP_DEFLATED) as zf:
            for e, data in entries:
                zf.writestr(e, data)
        b.refused(name, reason)

    z("z01-dot-dot.zip", [("part1.pcap", good), ("../evil.txt", b"escaped")],
      'refused: z01-dot-dot.zip: entry "../evil.txt" climbs out of its folder ("..")')
    evil = "/tmp/netlab-grade-evil-%d.txt" % os.getpid()  # must never appear
    z("z02-absolute.zip", [("part1.pcap", good), (evil, b"escaped")],
      'refused: z02-absolute.zip: entry "%s" has an absolute path: it would unpack outside its folder' % evil)
    open(os.path.join(b.out, "never-written.txt"), "w").write(
        "\n".join([evil, os.path.join(os.path.dirname(c), "evil.txt"), os.path.join(b.out, "EXECUTED")]) + "\n")
    link = zipfile.ZipInfo("part2.pcap")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    z("z03-symlink.zip", [("part1.pcap", good), (link, "/etc/shadow")],
      'refused: z03-symlink.zip: entry "part2.pcap" is a symbolic link: refused (zip the file itself)')
    bomb = os.path.join(c, "z04-bomb.zip")
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("part1.pcap", b"\0" * (64 << 20))
        packed = zf.getinfo("part1.pcap").compress_size
    b.refused("z04-bomb.zip", 'refused: z04-bomb.zip: entry "part1.pcap" unpacks %d bytes from %d, more than 200 '
              'times its size: a zip bomb' % (64 << 20, packed))
    with zipfile.ZipFile(os.path.join(c, "z05-many.zip"), "w", zipfile.ZIP_STORED) as zf:
        for i in range(100000):
            zf.writestr("f%06d.txt" % i, b"")
    b.refused("z05-many.zip", "refused: z05-many.zip: 100000 entries, more than the 10000 netlab reads")
    path = os.path.join(c, "z06-not-utf8.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("part1.pcap", good)
        zf.writestr("caf_.pcap", good)
    data = open(path, "rb").read().replace(b"caf_.pcap", b"caf\xe9.pcap")
    open(path, "wb").write(data)
    b.refused("z06-not-utf8.zip", 'refused: z06-not-utf8.zip: entry 2\'s name "caf\\xE9.pcap" is not UTF-8: refused '
              '(re-zip with UTF-8 names)')
    d = os.path.join(c, "f01-link-in-folder")
    os.makedirs(d)
    open(os.path.join(d, "part1.pcap"), "wb").write(good)
    os.symlink("/etc/hostname", os.path.join(d, "part2.pcap"))
    b.refused("f01-link-in-folder", "part2.pcap is a symbolic link: refused (hand in files, not links)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--bin", required=True, help="folder of netlab's echoserver and echoclient")
    ap.add_argument("--bench", type=int, default=0, help="a class of this many copies of the passing submissions")
    ap.add_argument("--keep", action="store_true", help="keep OUT/work (the whole captures, each submission's files)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("mkclass: needs root (network namespaces and capture)")
    b = Builder(os.path.abspath(a.out), os.path.abspath(a.bin))
    plans(b)
    net = Net()
    try:
        b.record_sessions(net)
    finally:
        net.remove()
    for pl in b.plans:
        b.build_submission(pl)
    finish_special(b)
    hostile(b)
    os.makedirs(os.path.join(b.out, "ref"), exist_ok=True)
    b.caps.cut("lo-pcap", b.ref1, os.path.join(b.out, "ref", "part1.pcap"))
    b.caps.cut("any-pcap", b.ref2, os.path.join(b.out, "ref", "part2.pcap"))
    open(os.path.join(b.out, "rubric.txt"), "w").write(RUBRIC)
    if a.bench:
        bench_class(b, a.bench)
    with open(os.path.join(b.out, "truth.jsonl"), "w") as f:
        for t in b.truth:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    if not a.keep:
        shutil.rmtree(b.work)
    print("mkclass: %d submissions in %s" % (len(os.listdir(b.cls)), b.cls))


def finish_special(b):
    """The ambiguous part 1: a second capture whose name also says part1."""
    d = os.path.join(b.cls, "b21-two-part1")
    shutil.copy(os.path.join(d, "part1.pcap"), os.path.join(d, "part1-old.pcap"))
    why = "2 captures for part1: part1-old.pcap, part1.pcap (keep one)"
    for t in b.truth:
        if t["submission"] == "b21-two-part1":
            t["checks"]["part1.capture"] = {"result": "FAIL", "reason": why}
            for c in ("port", "greeting", "echo", "interface"):
                t["checks"]["part1." + c] = {"result": "FAIL", "reason": "not graded: " + why}
            t["checks"]["readable"]["reason"] = t["checks"]["readable"]["reason"].replace("of 5 files", "of 6 files")
            t["verdict"] = "FAIL"


def bench_class(b, n):
    """The class becomes n copies (new names) of the submissions that pass, each of two real captures."""
    good = [t for t in b.truth if t["verdict"] == "PASS"]
    keep = os.path.join(b.out, "passing")
    os.rename(b.cls, keep)
    os.makedirs(b.cls)
    truth = []
    for k in range(n):
        t = json.loads(json.dumps(good[k % len(good)]))
        src = os.path.join(keep, t["submission"])
        dst = "%04d-%s" % (k + 1, t["submission"])
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(b.cls, dst))
        else:
            shutil.copy(src, os.path.join(b.cls, dst))
        t["submission"] = dst
        truth.append(t)
    shutil.rmtree(keep)
    b.truth = truth


if __name__ == "__main__":
    main()
