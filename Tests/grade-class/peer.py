#!/usr/bin/python3
"""The echo assignment written as a class of students writes it: a plain-socket
server and client with the behaviours a class hands in, right and wrong.

    peer.py server --port 5000 [--bind ADDR] [--greeting TEXT|--no-greeting]
                   [--greet accept|first-read|delay] [--split-greeting] [--mode MODE]
                   [--out out-proj.txt]
    peer.py client --host ADDR --port 5000 --input in-proj.txt [--bind-port N]
                   [--mode MODE] [--greeting-timeout S]

Server modes: ok, wrong-echo:K (line K reversed without swapping case), identity,
skip:K (line K unanswered), extra (a last line "BYE"), swap12 (lines 1 and 2
answered in the other order), predict1 (the echo of line 1 sent before line 1
came), silent (nothing at all), batch (every answer in one send after the
client's FIN), bytewise (each answer one byte per segment).
Client modes: wait (each line after the previous answer), onewrite (every line in
one write, then a half-close), pipelined (each line its own write, answers read
after), splitline (each line in two writes), crlf (CRLF line ends), first (the
first line sent at once, before any greeting), skip:K (line K never sent),
halfclose (wait, then a half-close before the last answers are read).
One connection, then the server exits. Used by Tests/grade-class/mkclass.py.
"""
import argparse
import socket
import sys
import time


def transform(line: str) -> str:
    """netlab's echo: reversed by character, ASCII case swapped."""
    return "".join(c.swapcase() if c.isascii() else c for c in reversed(line))


def nodelay(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Lines:
    """A line reader over a socket that keeps what it read ahead."""

    def __init__(self, s):
        self.s, self.buf, self.eof = s, b"", False

    def line(self, timeout=None):
        self.s.settimeout(timeout)
        try:
            while b"\n" not in self.buf and not self.eof:
                got = self.s.recv(65536)
                if not got:
                    self.eof = True
                self.buf += got
        except socket.timeout:
            return None
        finally:
            self.s.settimeout(None)
        if b"\n" not in self.buf:
            rest, self.buf = self.buf, b""
            return rest or None
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def rest(self):
        while not self.eof:
            got = self.s.recv(65536)
            if not got:
                self.eof = True
            self.buf += got
        rest, self.buf = self.buf, b""
        return rest


def answer_for(mode, k, text):
    if mode == "identity":
        return text
    if mode.startswith("wrong-echo:") and k == int(mode.split(":")[1]):
        return "".join(reversed(text))
    return transform(text)


def serve(a):
    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    nodelay(c)
    r = Lines(c)
    greeting = None if a.no_greeting else (a.greeting + ("" if a.greeting_no_eol else "\n")).encode()
    out = []

    def greet():
        if greeting is None:
            return
        if a.split_greeting:
            half = len(greeting) // 2
            c.sendall(greeting[:half])
            time.sleep(0.03)
            c.sendall(greeting[half:])
        else:
            c.sendall(greeting)

    if a.greet == "accept" and a.mode not in ("predict1", "silent"):
        greet()
    elif a.greet == "delay":
        time.sleep(0.3)
        greet()
    if a.mode == "predict1":
        # The greeting and the echo of a line not yet received, in one segment.
        first = open(a.input_hint, encoding="utf-8").read().split("\n")[0]
        c.sendall(greeting + (transform(first) + "\n").encode())
        out.append(transform(first))
    if a.mode == "silent":
        while r.line() is not None:
            pass
        c.close()
        return
    if a.mode == "batch":
        data = r.rest()
        lines = data.decode().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if a.greet == "first-read":
            greet()
        answers = [answer_for(a.mode, k + 1, t.rstrip("\r")) for k, t in enumerate(lines)]
        c.sendall("".join(x + "\n" for x in answers).encode())
        out += answers
        c.close()
        write_out(a, out)
        return
    k, held = 0, None
    while True:
        raw = r.line()
        if raw is None:
            break
        if a.greet == "first-read" and k == 0:
            greet()
            time.sleep(0.03)  # the greeting and the first echo in two segments
        k += 1
        crlf = raw.endswith(b"\r\n")
        text = raw.decode().rstrip("\n").rstrip("\r")
        eol = "\r\n" if crlf else "\n"
        if a.mode.startswith("skip:") and k == int(a.mode.split(":")[1]):
            continue
        if a.mode == "predict1" and k == 1:
            continue
        ans = answer_for(a.mode, k, text)
        if a.mode == "swap12" and k == 1:
            held = ans + eol
            out.append(ans)
            continue
        payload = (ans + eol).encode()
        if a.mode == "swap12" and k == 2:
            out.insert(len(out) - 1, ans)
            c.sendall(payload)
            c.sendall(held.encode())
            continue
        out.append(ans)
        if a.mode == "bytewise":
            for b in payload:
                c.sendall(bytes([b]))
                time.sleep(0.002)
        else:
            c.sendall(payload)
    if a.mode == "extra":
        c.sendall(b"BYE\n")
    c.close()
    write_out(a, out)


def write_out(a, out):
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write("".join(x + "\n" for x in out))


def client(a):
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.bind_port:
        s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", a.bind_port))
    for _ in range(100):
        try:
            s.connect((a.host, a.port))
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    nodelay(s)
    r = Lines(s)
    lines = open(a.input, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    skip = int(a.mode.split(":")[1]) if a.mode.startswith("skip:") else 0
    send = [t for k, t in enumerate(lines, 1) if k != skip]
    eol = "\r\n" if a.mode == "crlf" else "\n"
    if a.mode == "first":
        s.sendall((send[0] + eol).encode())
        r.line(timeout=a.greeting_timeout)  # the greeting, or the first answer
        for t in send[1:]:
            s.sendall((t + eol).encode())
            r.line(timeout=a.answer_timeout)
        finish(s, r)
        return
    r.line(timeout=a.greeting_timeout)  # wait for the greeting (it may never come)
    if a.mode == "onewrite":
        s.sendall("".join(t + eol for t in send).encode())
        finish(s, r)
    elif a.mode == "pipelined":
        for t in send:
            s.sendall((t + eol).encode())
            time.sleep(0.01)
        finish(s, r)
    else:
        for i, t in enumerate(send):
            data = (t + eol).encode()
            if a.mode == "splitline":
                half = max(1, len(data) // 2)
                s.sendall(data[:half])
                time.sleep(0.03)
                s.sendall(data[half:])
            else:
                s.sendall(data)
            if a.mode == "halfclose" and i == len(send) - 1:
                break
            r.line(timeout=a.answer_timeout)
        finish(s, r)


def finish(s, r):
    """A half-close, then whatever the server still sends, up to its FIN: both sides end with FIN."""
    s.shutdown(socket.SHUT_WR)
    r.rest()
    s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="role", required=True)
    sv = sub.add_parser("server")
    sv.add_argument("--port", type=int, required=True)
    sv.add_argument("--bind", default="127.0.0.1")
    sv.add_argument("--greeting", default="Welcome to CS 352!")
    sv.add_argument("--no-greeting", action="store_true")
    sv.add_argument("--greet", default="accept", choices=["accept", "first-read", "delay"])
    sv.add_argument("--split-greeting", action="store_true")
    sv.add_argument("--greeting-no-eol", action="store_true", help="the greeting without its line end")
    sv.add_argument("--mode", default="ok")
    sv.add_argument("--out")
    sv.add_argument("--input-hint", help="the class's input (predict1 reads its first line)")
    cl = sub.add_parser("client")
    cl.add_argument("--host", default="127.0.0.1")
    cl.add_argument("--port", type=int, required=True)
    cl.add_argument("--input", required=True)
    cl.add_argument("--bind-port", type=int, default=0)
    cl.add_argument("--mode", default="wait")
    cl.add_argument("--greeting-timeout", type=float, default=3.0)
    cl.add_argument("--answer-timeout", type=float, default=5.0)
    a = p.parse_args()
    (serve if a.role == "server" else client)(a)


if __name__ == "__main__":
    sys.exit(main())
