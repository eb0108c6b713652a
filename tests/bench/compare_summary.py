#!/usr/bin/env python3
"""compare_summary.py - averages several `toa compare` CSVs (one per seed)
into one table: per method and budget, the mean and standard deviation over
seeds of the best-response quality, and the means of generations per prompt,
mean reward and wall time. Writes OUT_DIR/summary.csv and, when gnuplot is
there, OUT_DIR/summary.png (quality against generations per prompt, one
line per method, error bars = sd over seeds).

usage: compare_summary.py TITLE OUT_DIR compare.csv..."""
import csv
import os
import statistics
import subprocess
import sys

title, out_dir, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = {}          # (method, budget) -> list of rows
order = []
metric = None
for path in paths:
    with open(path) as f:
        for row in csv.DictReader(f):
            key = (row["method"], int(row["budget"]))
            if key not in runs:
                runs[key] = []
                order.append(key)
            runs[key].append(row)
            metric = row["metric"]
accuracy = metric == "best_correct_share"


def mean(rows, field):
    return statistics.mean(float(r[field]) for r in rows)


def sd(rows, field):
    values = [float(r[field]) for r in rows]
    return statistics.stdev(values) if len(values) > 1 else 0.0


scale = 100.0 if accuracy else 1.0
quality_name = "best correct %" if accuracy else "best reward"
print(f"{title}: mean over {len(paths)} seeds (sd over seeds)")
print(f"{'method':<11} {'budget':>6} {'gens/prompt':>11} {quality_name:>17} {'mean reward':>11} "
      f"{'wall s':>7} {'failed':>6}")
summary = []
for key in order:
    rows = runs[key]
    ok = [r for r in rows if r["exit_code"] == "0"]
    failed = len(rows) - len(ok)
    if not ok:
        print(f"{key[0]:<11} {key[1]:>6} {'':>11} {'':>17} {'':>11} {'':>7} {failed:>6}")
        continue
    q, qsd = mean(ok, "quality") * scale, sd(ok, "quality") * scale
    entry = {"method": key[0], "budget": key[1], "seeds": len(ok),
             "generations_per_prompt": mean(ok, "generations_per_prompt"),
             "metric": metric, "quality_mean": q / scale, "quality_sd": qsd / scale,
             "mean_reward": mean(ok, "mean_reward"), "wall_seconds": mean(ok, "wall_seconds")}
    summary.append(entry)
    quality = f"{q:.1f} ({qsd:.1f})" if accuracy else f"{q:.2f} ({qsd:.2f})"
    print(f"{key[0]:<11} {key[1]:>6} {entry['generations_per_prompt']:>11.1f} {quality:>17} "
          f"{entry['mean_reward']:>11.3f} {entry['wall_seconds']:>7.1f} {failed:>6}")

os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "summary.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(summary[0].keys()) if summary else ["method"])
    writer.writeheader()
    writer.writerows(summary)

methods = []
for entry in summary:
    if entry["method"] not in methods:
        methods.append(entry["method"])
if not methods:
    sys.exit(0)
script = [
    "set terminal pngcairo size 960,600 noenhanced",
    f"set output '{os.path.join(out_dir, 'summary.png')}'",
    f"set title '{title} (mean over {len(paths)} seeds, bars: sd)'",
    "set xlabel 'generations per prompt'",
    "set ylabel '%s'" % ("share of prompts whose best response is correct" if accuracy
                         else "mean reward of the best response"),
    "set logscale x 2", "set grid", "set key outside right top",
    "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05",
]
ticks = sorted({round(e["generations_per_prompt"], 2) for e in summary})
script.append("set xtics (" + ", ".join(f'"{t:g}" {t}' for t in ticks) + ")")
plots = []
for k, method in enumerate(methods):
    script.append(f"$d{k} << EOD")
    for e in summary:
        if e["method"] == method:
            script.append(f"{e['generations_per_prompt']} {e['quality_mean']} {e['quality_sd']}")
    script.append("EOD")
    plots.append(f"$d{k} using 1:2:3 with yerrorlines linewidth 2 pointtype {k + 4} "
                 f"title '{method}'")
script.append("plot " + ", \\\n     ".join(plots))
path = os.path.join(out_dir, "summary.gp")
with open(path, "w") as f:
    f.write("\n".join(script) + "\n")
try:
    subprocess.run(["gnuplot", path], check=True)
except (OSError, subprocess.CalledProcessError) as error:
    print(f"# no summary plot: {error}")
