#!/usr/bin/env python3
"""check_results.py - checks a results file against its input: every prompt
exactly once, each with BUDGET scored responses and every result field.

usage: check_results.py INPUT.jsonl RESULTS.jsonl BUDGET METHOD"""
import json
import sys

inp, res, budget, method = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prompts = {}
for line in open(inp):
    if line.strip():
        p = json.loads(line)
        prompts[str(p["id"])] = p
problems = []
seen = set()
for n, line in enumerate(open(res), 1):
    r = json.loads(line)
    pid = str(r.get("id"))
    if pid in seen:
        problems.append(f"line {n}: prompt {pid} appears twice")
    seen.add(pid)
    if pid not in prompts:
        problems.append(f"line {n}: unknown prompt {pid}")
        continue
    for key, value in prompts[pid].items():
        if r.get(key) != value:
            problems.append(f"prompt {pid}: input field {key} not passed through")
    fields = ["responses", "actions", "rewards", "n_prompt_tokens", "n_completion_tokens",
              "total_tokens", "best_response", "best_model", "best_reward", "method"]
    if method == "toa":
        fields.append("tree")
    for f in fields:
        if f not in r:
            problems.append(f"prompt {pid}: no {f}")
    if problems:
        continue
    for f in ["responses", "actions", "rewards", "n_prompt_tokens", "n_completion_tokens",
              "total_tokens"]:
        if len(r[f]) != budget:
            problems.append(f"prompt {pid}: {len(r[f])} {f}, expected {budget}")
    if any(x is None for x in r["rewards"]):
        problems.append(f"prompt {pid}: unscored response")
    if r["method"] != method:
        problems.append(f"prompt {pid}: method {r['method']}")
    if r["rewards"] and r["best_reward"] != max(x for x in r["rewards"] if x is not None):
        problems.append(f"prompt {pid}: best_reward is not the largest reward")
missing = set(prompts) - seen
if missing:
    problems.append(f"{len(missing)} prompts missing, e.g. {sorted(missing)[:5]}")
for p in problems[:20]:
    print("#", p)
sys.exit(1 if problems else 0)
