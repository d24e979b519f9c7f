#!/usr/bin/python3
"""Compare analyze's TCP analysis with tshark's tcp.analysis.* flags, frame by frame,
over every capture under a folder (captures of any origin: a peer's test suite, sample sets).

    tools/tshark-compare.py CORPUS [--analyze PATH] [--jobs N] [--diffs FILE] [--only SUBSTR]

CORPUS's first level of folders names the sources ("tcpdump", "scapy", ...); captures
directly in CORPUS count as source ".". Files tshark finds no TCP in are skipped. For every
flag kind and source the table gives tshark's flagged frames, netlab's, both, and the frames
only one side flags; duplicate copies (analyze's duplicate_packets) are set aside, and
frames analyze does not decode as TCP (tunnels, link types it does not read) are counted
apart as "not decoded". --diffs writes one line per differing frame (file, frame, flag,
who flags it). Needs tshark on PATH; uses Debian's python3 (no modules outside the standard
library). Nothing here is fetched: the corpus is whatever the caller collected.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys

FIELDS = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
          "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
          "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack"]
EXTS = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".ntar")


def tshark_flags(path):
    """{field: set(frames)}, set of TCP frames; None when tshark cannot read the file."""
    args = ["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "occurrence=f", "-e", "frame.number"]
    for f in FIELDS:
        args += ["-e", "tcp.analysis." + f]
    try:
        r = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=300)
    except subprocess.TimeoutExpired:
        return None, None
    flags, frames = collections.defaultdict(set), set()
    for line in r.stdout.splitlines():
        c = line.split("\t")
        if len(c) != len(FIELDS) + 1 or not c[0].isdigit():
            continue
        n = int(c[0])
        frames.add(n)
        for i, f in enumerate(FIELDS):
            if c[i + 1]:
                flags[f].add(n)
    return flags, frames


def netlab_flags(analyze, path):
    """{field: set(frames)}, set of TCP frames analysed, set of duplicate copies; None on failure."""
    try:
        r = subprocess.run([analyze, "--json", "--packets", "--max-listed", "100000000", path],
                           capture_output=True, text=True, errors="replace", timeout=300)
        d = json.loads(r.stdout)
    except (subprocess.TimeoutExpired, ValueError):
        return None, None, None
    if isinstance(d, list):
        d = d[0]
    flags = {f: set(d.get("tcp_analysis", {}).get(f, [])) for f in FIELDS}
    frames = {p["packet"] for p in d.get("tcp_packets", [])}
    dups = set()
    for x in d.get("duplicate_packets", []):
        dups.add(x["packet"] if isinstance(x, dict) else x)
    return flags, frames, dups


def one(args):
    analyze, root, path = args
    th, tframes = tshark_flags(path)
    if th is None or not tframes:
        return None
    nl, nframes, dups = netlab_flags(analyze, path)
    if nl is None:
        return (path, "analyze failed", None)
    rel = os.path.relpath(path, root)
    source = rel.split(os.sep)[0] if os.sep in rel else "."
    rows, diffs = {}, []
    for f in FIELDS:
        t = th.get(f, set()) - dups
        n = nl.get(f, set()) - dups
        undecoded = {x for x in t if x not in nframes}
        t -= undecoded
        rows[f] = (len(t), len(n), len(t & n), len(t - n), len(n - t), len(undecoded))
        for x in sorted(t - n):
            diffs.append((rel, x, f, "tshark only"))
        for x in sorted(n - t):
            diffs.append((rel, x, f, "netlab only"))
    return (rel, source, rows, diffs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--analyze", default=None, help="the analyze binary (default: swift build's)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--diffs", help="write every differing frame here")
    ap.add_argument("--only", help="only files whose path contains this")
    a = ap.parse_args()
    analyze = os.path.abspath(a.analyze) if a.analyze else None
    if not analyze:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        b = subprocess.run(["swift", "build", "--show-bin-path"], cwd=here, capture_output=True, text=True)
        analyze = os.path.join(b.stdout.strip(), "analyze")
    files = []
    for d, _, names in os.walk(a.corpus, followlinks=True):
        for n in names:
            if n.lower().endswith(EXTS) and (not a.only or a.only in os.path.join(d, n)):
                files.append(os.path.join(d, n))
    files.sort()
    per = collections.defaultdict(lambda: collections.defaultdict(lambda: [0] * 6))
    captures = collections.Counter()
    agreeing = collections.Counter()
    diffs, failed = [], []
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for res in ex.map(one, [(analyze, a.corpus, f) for f in files]):
            if res is None:
                continue
            if res[2] is None:
                failed.append(res[0])
                continue
            rel, source, rows, d = res
            captures[source] += 1
            if not d:
                agreeing[source] += 1
            for f, r in rows.items():
                for i in range(6):
                    per[source][f][i] += r[i]
                    per["all"][f][i] += r[i]
            diffs += d
    print("| source | captures with TCP | all flags agree |")
    print("|---|---:|---:|")
    for s in sorted(captures):
        print(f"| {s} | {captures[s]} | {agreeing[s]} |")
    print(f"| all | {sum(captures.values())} | {sum(agreeing.values())} |")
    print()
    print("| source | flag | tshark | netlab | both | tshark only | netlab only | not decoded |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for s in sorted(per, key=lambda x: (x == "all", x)):
        for f in FIELDS:
            r = per[s][f]
            if any(r):
                print(f"| {s} | {f} | " + " | ".join(str(v) for v in r) + " |")
    if failed:
        print("\nanalyze failed on: " + ", ".join(failed))
    if a.diffs:
        with open(a.diffs, "w") as out:
            for d in diffs:
                out.write("\t".join(str(x) for x in d) + "\n")
    print(f"\n{len(diffs)} differing (frame, flag) pairs", file=sys.stderr)


if __name__ == "__main__":
    main()
