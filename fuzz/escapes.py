#!/usr/bin/env python3
"""End-to-end run of the text path (issue 20 item 5): captures whose every string is
hostile (fuzz/mkescapes.py) through the real analyze binary in every output mode, on a
pipe and on a terminal (a pty, so colour is on), with stdout and stderr checked byte by
byte: nothing a terminal would act on may come out except what the formatter itself
writes (LF; TAB in a followed stream; ESC only as the SGR colour sequences ESC [ n ; n m
on a terminal). Text must be UTF-8 without C0 (but LF), DEL, C1 or bidirectional
controls; JSON must parse strictly (RFC 8259) and hold the same controls only as \\u
escapes, and its strings must decode to what the capture holds.

  fuzz/escapes.py ANALYZE [SEED] [COUNT]    exit 0 when every run is clean
"""
import json, os, pty, re, select, shutil, subprocess, sys, tempfile, tty

analyze = sys.argv[1]
seed = sys.argv[2] if len(sys.argv) > 2 else "20261209"
count = sys.argv[3] if len(sys.argv) > 3 else "120"
here = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="netlab-escapes-")
corpus = os.path.join(work, "corpus")
n = int(subprocess.check_output([sys.executable, os.path.join(here, "mkescapes.py"), corpus, seed, count]))
files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus) if f.endswith((".pcap", ".pcapng")))
assert len(files) == n, (len(files), n)
csv = os.path.join(work, "hostile.csv")
with open(csv, "wb") as f:
    f.write(b"msg_id,app_protocol,src_app,dst_app,message,timestamp\n"
            b"1,CHAT,client,server,NICK a,2025-03-01T10:00:00.000Z\n"
            b"2,CHAT,client,server,\"MSG bob t\x1b]0;x\x07\r\n\xc2\x9b\",2025-03-01T10:00:01.000Z\n")

BIDI = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029} | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
SGR = re.compile(rb"\x1b\[[0-9;]*m")
failures = []


def fail(what, detail):
    failures.append("%s: %s" % (what, detail))


def check_text(what, data, tabs=False, colour=False):
    """No byte a terminal acts on, but LF (and TAB, and SGR colour on a terminal)."""
    if colour:
        data = SGR.sub(b"", data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return fail(what, "not UTF-8 at byte %d: %r" % (e.start, data[max(0, e.start - 40):e.start + 10]))
    for i, ch in enumerate(text):
        c = ord(ch)
        if (c < 0x20 and ch != "\n" and not (tabs and ch == "\t")) or 0x7F <= c <= 0x9F or c in BIDI:
            return fail(what, "U+%04X raw at character %d: %r" % (c, i, text[max(0, i - 60):i + 10]))


def run(args, on_tty):
    """(status, stdout, stderr) of analyze ARGS, stdout on a pipe or on a raw pty."""
    if not on_tty:
        p = subprocess.run([analyze] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600,
                           env=dict(os.environ, NO_COLOR=""))
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    tty.setraw(slave)  # no LF -> CRLF: every byte as analyze wrote it
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    p = subprocess.Popen([analyze] + args, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out, err = bytearray(), bytearray()
    fds = {master: out, p.stderr.fileno(): err}
    while fds:
        for fd in select.select(list(fds), [], [], 600)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if chunk:
                fds[fd] += chunk
            else:
                del fds[fd]
    os.close(master)
    return p.wait(timeout=60), bytes(out), bytes(err)


MODES = [[], ["--json"], ["--packets"], ["--packets", "--json"], ["--answers"], ["--answers", "--json"],
         ["--follow", "1"], ["--follow", "2", "--json"], ["--find", "bob", "--find", "\x1b[2J\u202e"],
         ["--expect", csv], ["--expect", csv, "--json"]]
colour_seen = False
for mode in MODES:
    json_mode = "--json" in mode
    for on_tty in ([False] if json_mode else [False, True]):
        what = "analyze %s (%s)" % (" ".join(mode) or "(text)", "terminal" if on_tty else "pipe")
        status, out, err = run(mode + files, on_tty)
        if status not in (0, 1, 2):
            fail(what, "exit %d: %s" % (status, err[-2000:]))
        colour_seen |= on_tty and b"\x1b[" in out
        check_text(what + " stderr", err)
        if b"Sanitizer" in err or b"runtime error" in err or any(
                not l.startswith(b"analyze: ") for l in err.splitlines()):
            fail(what, "stderr holds more than analyze's error lines: %r" % err[-2000:])
        if not json_mode:
            check_text(what + " stdout", out, tabs="--follow" in mode, colour=on_tty)
            continue
        check_text(what + " stdout", out)
        try:
            doc = json.loads(out.decode("utf-8"))  # strict: a raw control in a string is an error
        except (UnicodeDecodeError, ValueError) as e:
            fail(what, "not RFC 8259 JSON: %s" % e)
            continue
        # The strings decode to what the capture holds (pcapng strings end at a NUL; bytes
        # that are not UTF-8 read as U+FFFD).
        docs = {d.get("file"): d for d in (doc if isinstance(doc, list) else [doc])}
        def raw(b):
            return b.split(b"\0")[0].decode("utf-8", "replace")
        ifname = docs.get(files[0], {})
        if mode == ["--json"]:
            want = raw(b"eth0\x1b]0;pwned\x07\x1b[2J\r\n\x9b31m" + "\u009b2J\u202e".encode())
            got = [i.get("name") for i in ifname.get("interface_details", [])]
            if got != [want]:
                fail(what, "interface name %r, the capture holds %r" % (got, want))
        if mode == ["--answers", "--json"]:
            nick = docs.get(files[3], {})
            want = raw(b"ev\x1b[2Jil\x1b]0;t\x07\r" + "\u009b\u202e".encode())
            got = [u.get("name") for u in nick.get("chat_users", [])]
            if got != [want]:
                fail(what, "chat user %r, the capture holds %r" % (got, want))
if not colour_seen:
    fail("terminal runs", "no colour on the pty: the terminal path was not exercised")
shutil.rmtree(work)
if failures:
    for f in failures[:40]:
        print("escapes: FAIL " + f, file=sys.stderr)
    sys.exit(1)
print("escapes: %d hostile captures through analyze in %d modes, on a pipe and on a terminal: no control byte "
      "reached stdout or stderr but the formatter's own; JSON strict and lossless" % (n, len(MODES)))
