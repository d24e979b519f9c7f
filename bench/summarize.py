#!/usr/bin/env python3
"""Medians and same-run ratios for bench/echo.sh and bench/chat.sh.

Reads a TSV of measurements (workload, server, round, metric=value ...) and prints,
per workload, the median of every metric per server and the ratios of the medians
against each peer. Goals are checked by the calling script with --goal lines.
"""
import statistics
import sys
from collections import defaultdict


def load(path):
    rows = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    order = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            workload, server = parts[0], parts[1]
            if workload not in order:
                order.append(workload)
            for kv in parts[3:]:
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    try:
                        rows[workload][server][k].append(float(v))
                    except ValueError:
                        pass
    return rows, order


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(v):
    if v != v:  # nan
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def main():
    path, metrics = sys.argv[1], sys.argv[2].split(",")
    ours = sys.argv[3]
    goals = sys.argv[4:]
    rows, order = load(path)
    for w in order:
        servers = list(rows[w].keys())
        print(f"\n{w}")
        head = f"  {'server':<14}" + "".join(f"{m:>22}" for m in metrics) + f"{'runs':>6}"
        print(head)
        for s in servers:
            vals = "".join(f"{fmt(median(rows[w][s][m])):>22}" for m in metrics)
            n = max((len(rows[w][s][m]) for m in metrics), default=0)
            print(f"  {s:<14}{vals}{n:>6}")
        if ours in rows[w]:
            for s in servers:
                if s == ours:
                    continue
                ratios = []
                for m in metrics:
                    a, b = median(rows[w][ours][m]), median(rows[w][s][m])
                    if a == a and b == b and b:
                        ratios.append(f"{m} {a / b:.2f}x")
                print(f"  {ours} / {s}: " + ", ".join(ratios))
    failed = 0
    if goals:
        print("\ngoals (medians of this run)")
    for g in goals:
        # workload|metric|peer|min_ratio|label   (ratio = ours/peer, or peer/ours when min_ratio < 0)
        w, m, peer, r, label = g.split("|")
        r = float(r)
        a, b = median(rows[w][ours][m]), median(rows[w][peer][m])
        ratio = (a / b) if r > 0 else (b / a)
        ok = ratio >= abs(r)
        failed += not ok
        print(f"  {'met    ' if ok else 'NOT met'}  {label}: {ratio:.2f}x (goal >= {abs(r):.2f}x)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
