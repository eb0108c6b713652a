#!/usr/bin/env python3
"""check_results.py - checks a results file against its input: every prompt
exactly once, each with BUDGET scored responses and every result field.

usage: check_results.py INPUT.jsonl RESULTS.jsonl BUDGET METHOD [--failures [MODEL,...]]

--failures accepts responses that failed for good, when each is recorded in
the result's `failures` list (generation failures: text and reward null;
scoring failures: reward null); with a list of models, only those models may
have failed. Without it every response must be scored."""
import json
import sys

inp, res, budget, method = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
allow_failures = len(sys.argv) > 5 and sys.argv[5] == "--failures"
failing_models = set(sys.argv[6].split(",")) if allow_failures and len(sys.argv) > 6 else None
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
    known = len(problems)
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
    if len(problems) > known:
        continue
    for f in ["responses", "actions", "rewards", "n_prompt_tokens", "n_completion_tokens",
              "total_tokens"]:
        if len(r[f]) != budget:
            problems.append(f"prompt {pid}: {len(r[f])} {f}, expected {budget}")
    failed = {}
    for fail in r.get("failures", []) if allow_failures else []:
        failed[fail.get("index")] = fail
        if failing_models is not None and fail.get("model") not in failing_models:
            problems.append(f"prompt {pid}: model {fail.get('model')} failed: {fail.get('reason')}")
        if fail.get("stage") not in ("generation", "scoring"):
            problems.append(f"prompt {pid}: failure of stage {fail.get('stage')}")
    if "failures" in r and not allow_failures:
        problems.append(f"prompt {pid}: {len(r['failures'])} failures, e.g. {r['failures'][0]}")
    for i, x in enumerate(r["rewards"]):
        if x is None and i not in failed:
            problems.append(f"prompt {pid}: response {i} unscored and not a recorded failure")
        if x is not None and i in failed:
            problems.append(f"prompt {pid}: response {i} scored but recorded as failed")
        if i in failed and failed[i].get("stage") == "generation" and r["responses"][i] is not None:
            problems.append(f"prompt {pid}: response {i} failed generation but has a text")
    if r["method"] != method:
        problems.append(f"prompt {pid}: method {r['method']}")
    scored = [x for x in r["rewards"] if x is not None]
    if scored and r["best_reward"] != max(scored):
        problems.append(f"prompt {pid}: best_reward is not the largest reward")
missing = set(prompts) - seen
if missing:
    problems.append(f"{len(missing)} prompts missing, e.g. {sorted(missing)[:5]}")
for p in problems[:20]:
    print("#", p)
sys.exit(1 if problems else 0)
