#!/usr/bin/env python3
"""budget_summary.py - averages `toa compare` CSVs of several seeds that ran
with --budget-modes into markdown tables: rows method x mode (fixed, stop,
job), columns generations per prompt, cells "mean (sd)" of the quality over
seeds (share solved in %, or mean best reward), plus the generations each
mode actually spent per prompt.

usage: budget_summary.py TITLE compare.csv..."""
import collections
import csv
import statistics
import sys

title, paths = sys.argv[1], sys.argv[2:]
runs = collections.defaultdict(list)      # (method, mode, budget) -> rows
methods, budgets, modes = [], [], []
metric = None
for path in paths:
    try:
        f = open(path)
    except OSError:
        continue
    with f:
        for row in csv.DictReader(f):
            key = (row["method"], row.get("mode", "fixed"), int(row["budget"]))
            runs[key].append(row)
            metric = row["metric"]
            for value, seen in ((key[0], methods), (key[1], modes), (key[2], budgets)):
                if value not in seen:
                    seen.append(value)
budgets.sort()
accuracy = metric == "best_correct_share"
scale = 100.0 if accuracy else 1.0
shown = {"fixed": "fixed", "stop": "early stop", "job": "job-wide + early stop"}


def cell(rows, field, fmt):
    values = [float(r[field]) * (scale if field == "quality" else 1) for r in rows
              if r["exit_code"] == "0"]
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (fmt % statistics.mean(values)) + (" (" + fmt % sd + ")" if len(values) > 1 else "")


n_models = None
print(f"### {title}: {'share of prompts solved (%)' if accuracy else 'mean best reward'}, "
      f"mean (sd) over {len(paths)} seeds")
print()
for (method, mode, b), rows in runs.items():
    for row in rows:
        if mode == "fixed" and row["exit_code"] == "0" and float(row["generations_per_prompt"]) > 0:
            n_models = round(float(row["generations_per_prompt"]) / b)
            break
    if n_models:
        break
header = [f"{b * (n_models or 1)}" for b in budgets]
print("| method | budget | " + " | ".join(header) + " |")
print("| --- | --- |" + " --- |" * len(budgets))
fmt = "%.1f" if accuracy else "%.3f"
for m in methods:
    for mode in modes:
        cells = [cell(runs.get((m, mode, b), []), "quality", fmt) for b in budgets]
        print(f"| {m} | {shown.get(mode, mode)} | " + " | ".join(cells) + " |")
print()
print("Generations spent per prompt (mean over seeds):")
print()
print("| method | budget | " + " | ".join(header) + " |")
print("| --- | --- |" + " --- |" * len(budgets))
for m in methods:
    for mode in modes:
        cells = [cell(runs.get((m, mode, b), []), "generations_per_prompt", "%.2f")
                 .split(" (")[0] for b in budgets]
        print(f"| {m} | {shown.get(mode, mode)} | " + " | ".join(cells) + " |")
