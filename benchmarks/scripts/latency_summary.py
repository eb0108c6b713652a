#!/usr/bin/env python3
"""latency_summary.py - one markdown row for parallel expansions K: median
and 95th percentile of the per-prompt latencies in TIMES files (pooled over
seeds), the mean job wall time (the last latency of each file) and the mean
share of prompts solved (best reward >= 1) over the RESULTS files.

usage: latency_summary.py K TIMES... RESULTS..."""
import json
import statistics
import sys

k, files = sys.argv[1], sys.argv[2:]
latencies, walls, solved = [], [], []
for path in files:
    if path.endswith(".times"):
        values = [float(x) for x in open(path) if x.strip()]
        latencies += values
        if values:
            walls.append(max(values))
    else:
        results = [json.loads(line) for line in open(path) if line.strip()]
        if results:
            solved.append(100.0 * sum((r.get("best_reward") or 0) >= 1 for r in results)
                          / len(results))
latencies.sort()
if not latencies:
    print(f"| {k} | - | - | - | - |")
    sys.exit(0)
p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
sd = f" ({statistics.stdev(solved):.1f})" if len(solved) > 1 else ""
print(f"| {k} | {statistics.median(latencies):.2f} | {p95:.2f} | {statistics.mean(walls):.1f} | "
      f"{statistics.mean(solved):.1f}{sd} |")
