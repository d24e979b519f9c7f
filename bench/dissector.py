#!/usr/bin/env python3
"""The chat dissector (wireshark/netlab_chat.lua) against tshark alone on the same captures
(issue 20 item 8). Run by bench/dissector.sh, which makes the captures; prints every run, then
medians and pairwise ratios, the work the dissector is given, and the scaling check.

For each capture, tshark with the plugin (A) and without it (B) run in turn, ROUNDS pairs
(A B A B ...), each timed whole from outside (wall clock; user + system CPU from wait4), and
the ratio A/B taken pair by pair, so load that comes and goes on a shared machine hits both
alike. Two ways of reading: `tshark -r` (the Info column only) and a display filter on a
dissector field (-Y 'netlabchat.verb == "MSG"' against -Y 'tcp.len > 0', every line taken apart).

Work (no clock): a wrapper dissector counts the bytes TCP hands the chat dissector over the
whole run; linear means about the payload's size (a line re-handed while it is reassembled
costs at most MAX_LINE bytes more), quadratic means payload^2 / (2 MSS).

Scaling (the shape, not a speed): the CPU the plugin adds per MB at the larger of two sizes over
that at the smaller; linear stays near 1, quadratic grows with the size ratio (4 here). The
bound is generous (2): a check that a loaded machine does not fail by chance.

  bench/dissector.py OUTDIR LUA [OLD_LUA]   (OLD_LUA: also time the dissector before the fix on
                                             the captures it finishes within BEFORE_LIMIT seconds)
"""
import os, statistics, subprocess, sys, time

out, lua = sys.argv[1], sys.argv[2]
old = sys.argv[3] if len(sys.argv) > 3 else None
rounds = int(os.environ.get("ROUNDS", "5"))
before_limit = float(os.environ.get("BEFORE_LIMIT", "120"))
caps = {  # name: (file, payload bytes)
    "line300k": ("line300k.pcap", 300000), "line2m": ("line2m.pcap", 2000000),
    "line2m-end": ("line2m-end.pcap", 2000001), "line8m": ("line8m.pcap", 8000000),
    "lines5m": ("lines5m.pcap", 5000000), "lines21m": ("lines21m.pcap", 21000000),
}
WORK_LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chatwork.lua")


def timed(argv, limit=None):
    """(wall s, cpu s) of one whole run, output discarded; None when it passed `limit` seconds."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = None if limit is None else t0 + limit
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            return None
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s failed: %s" % (" ".join(argv), status))
    return wall, ru.ru_utime + ru.ru_stime


def pairs(name, a, b):
    """ROUNDS pairs A B; returns medians and pairwise-ratio medians."""
    ra, rb = [], []
    for r in range(rounds):
        ra.append(timed(a))
        rb.append(timed(b))
        print("  %-10s round %d  plugin %7.3f s wall %7.3f s cpu   tshark alone %7.3f s wall %7.3f s cpu"
              % (name, r + 1, ra[-1][0], ra[-1][1], rb[-1][0], rb[-1][1]), flush=True)
    med = statistics.median
    return {"a_wall": med(x[0] for x in ra), "a_cpu": med(x[1] for x in ra),
            "b_wall": med(x[0] for x in rb), "b_cpu": med(x[1] for x in rb),
            "wall_ratio": med(x[0] / y[0] for x, y in zip(ra, rb)),
            "cpu_ratio": med(x[1] / y[1] for x, y in zip(ra, rb)),
            "extra_cpu": med(x[1] - y[1] for x, y in zip(ra, rb))}


def work(cap):
    r = subprocess.run(["tshark", "-X", "lua_script:" + lua, "-X", "lua_script:" + WORK_LUA, "-r", cap, "-q"],
                       capture_output=True, text=True, check=True)
    line = [l for l in r.stdout.splitlines() if l.startswith("chatwork")][-1]
    return dict(kv.split("=") for kv in line.split()[1:])


results = {}
print("tshark -r CAPTURE, with the plugin (-X lua_script:%s) and without, %d pairs each:" % (lua, rounds))
for name, (fname, size) in caps.items():
    cap = os.path.join(out, fname)
    results[name] = pairs(name, ["tshark", "-X", "lua_script:" + lua, "-r", cap], ["tshark", "-r", cap])
filtered = {}
print("\nwith a display filter on a dissector field (every line taken apart):")
for name in ["line2m", "lines21m"]:
    cap = os.path.join(out, caps[name][0])
    filtered[name] = pairs(name, ["tshark", "-X", "lua_script:" + lua, "-r", cap, "-Y", 'netlabchat.verb == "MSG"'],
                           ["tshark", "-r", cap, "-Y", "tcp.len > 0"])

print("\n| capture | payload | tshark alone (s, median wall / cpu) | with the plugin | ratio wall | ratio cpu | bytes handed / payload |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, (fname, size) in caps.items():
    r = results[name]
    w = work(os.path.join(out, fname))
    print("| %s | %.1f MB | %.2f / %.2f | %.2f / %.2f | %.2fx | %.2fx | %.2f (%s calls) |"
          % (name, size / 1e6, r["b_wall"], r["b_cpu"], r["a_wall"], r["a_cpu"], r["wall_ratio"], r["cpu_ratio"],
             int(w["bytes"]) / size, w["calls"]))
for name, r in filtered.items():
    print("| %s, -Y on a field | %.1f MB | %.2f / %.2f | %.2f / %.2f | %.2fx | %.2fx | |"
          % (name, caps[name][1] / 1e6, r["b_wall"], r["b_cpu"], r["a_wall"], r["a_cpu"], r["wall_ratio"], r["cpu_ratio"]))

ok = True
print()
worst = max(r["cpu_ratio"] for r in list(results.values()) + list(filtered.values()))
print("goal: within a few times tshark's own time (cpu ratio <= 4 on every capture): worst %.2fx: %s"
      % (worst, "met" if worst <= 4 else "NOT met"))
for small, large in [("line2m", "line8m"), ("lines5m", "lines21m")]:
    s_mb, l_mb = caps[small][1] / 1e6, caps[large][1] / 1e6
    per_s = max(results[small]["extra_cpu"], 0.01) / s_mb
    per_l = max(results[large]["extra_cpu"], 0.01) / l_mb
    shape = per_l / per_s
    good = shape <= 2.0
    ok &= good
    print("scaling %s -> %s (%.1fx the bytes): cpu the plugin adds per MB %.4f s -> %.4f s, %.2fx (linear ~1, "
          "quadratic ~%.0f; bound 2): %s" % (small, large, l_mb / s_mb, per_s, per_l, shape, l_mb / s_mb,
                                            "linear" if good else "NOT linear"))
for name in ["line300k", "line2m", "line8m"]:
    w = work(os.path.join(out, caps[name][0]))
    good = int(w["bytes"]) <= caps[name][1] + 64 * 1024
    ok &= good
    print("work %s: %s bytes handed for %d bytes of payload (bound: payload + 64 KiB): %s"
          % (name, w["bytes"], caps[name][1], "met" if good else "NOT met"))

if old:
    print("\nbefore the fix (%s), %.0f s at most per run:" % (old, before_limit))
    for name in ["line300k", "lines5m", "lines21m", "line2m"]:
        cap = os.path.join(out, caps[name][0])
        t = timed(["tshark", "-X", "lua_script:" + old, "-r", cap], limit=before_limit)
        print("  %-10s %s" % (name, "unfinished after %.0f s" % before_limit if t is None
                              else "%.2f s wall, %.2f s cpu (%.1fx tshark alone's cpu)" % (t[0], t[1], t[1] / results[name]["b_cpu"])))
sys.exit(0 if ok else 1)
