#!/usr/bin/env python3
"""TCP under stress for the analysis agreement tests: a bulk sender, a receiver
that can stop reading (zero window), and an idle connection kept alive by
SO_KEEPALIVE with a one-second interval. Kernel TCP does the rest.

  tcpstress.py serve HOST PORT [--rcvbuf N] [--pause S] [--keepalive]
  tcpstress.py drive HOST PORT --bytes N [--keepalive]
The server prints "ready" once listening and "received N" per bulk connection.
"""
import argparse
import socket
import sys
import time


def serve(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.bind((a.host, a.port))
    s.listen(4)
    s.settimeout(60)
    print("ready", flush=True)
    c, _ = s.accept()
    n = 0
    if a.pause:
        n += len(c.recv(1000))
        time.sleep(a.pause)          # the receive buffer fills: zero window
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
    c.close()
    print("received %d" % n, flush=True)
    if a.keepalive:
        k, _ = s.accept()
        while True:
            d = k.recv(100)
            if not d:
                break
            k.sendall(d)
        k.close()


def drive(a):
    s = socket.create_connection((a.host, a.port), timeout=60)
    s.sendall(b"x" * a.bytes)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    if a.keepalive:
        k = socket.create_connection((a.host, a.port), timeout=60)
        k.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        k.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        k.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        k.sendall(b"hello")
        k.recv(10)
        time.sleep(3.5)              # idle: three keep-alives and their ACKs
        k.sendall(b"bye")
        k.recv(10)
        k.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "drive"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--rcvbuf", type=int, default=0)
    p.add_argument("--pause", type=float, default=0)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--keepalive", action="store_true")
    a = p.parse_args()
    serve(a) if a.mode == "serve" else drive(a)


if __name__ == "__main__":
    sys.exit(main())
