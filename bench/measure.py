#!/usr/bin/env python3
"""Run commands side by side, RUNS rounds (round-robin, so load spikes hit all
alike), and print for each: median and min wall time, peak RSS (ru_maxrss of
that child alone, from wait4). Output goes to /dev/null unless a command ends
with '> FILE'. Used by bench/analyze.sh.

  measure.py RUNS 'name=command ...' ...   (a command is run through /bin/sh -c)
"""
import json, os, statistics, subprocess, sys, time

runs = int(sys.argv[1])
cmds = []
for spec in sys.argv[2:]:
    name, cmd = spec.split("=", 1)
    cmds.append((name, cmd))
res = {name: {"wall": [], "rss_kb": []} for name, _ in cmds}
for r in range(runs):
    for name, cmd in cmds:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/bin/sh", "-c", "exec " + cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("%s failed (%s): %s" % (name, status, err[-500:]))
        res[name]["wall"].append(wall)
        res[name]["rss_kb"].append(ru.ru_maxrss)
        print("  round %d %-14s %8.3f s  %8d KB" % (r + 1, name, wall, ru.ru_maxrss), file=sys.stderr, flush=True)
out = {}
for name, v in res.items():
    out[name] = {"median": statistics.median(v["wall"]), "min": min(v["wall"]), "runs": v["wall"],
                 "rss_kb": max(v["rss_kb"])}
print(json.dumps(out))
