#!/usr/bin/env python3
"""figures.py - the figures of one chaos case, from the broker's logs, the
simulated server's GET /stats and the results file. Prints them as shell
assignments (KEY=VALUE, one a line) for test_chaos.sh to check.

usage: figures.py SIM_STATS.json RESULTS.jsonl BROKER.log...

Generations served (S): chat completions the simulated server answered with
a 200 (`models.*.ok` in GET /stats), less the malformed ones (`faults.malformed`:
a 200 whose body is cut in half, which the worker treats as a transient error
and retries, so it never becomes a generation). Every task here asks for one
choice (sampling.allow_n is off), so one served request is one generation.

Tasks re-issued (R), from broker/search.c and broker/workers.c:
- `requeued`: a task re-issued at once because its lease ran out
  (toa_search_expired) or its peer died or said READY again
  (toa_search_requeue via s_peer_lost). `lease_expired` is not added: every
  expiry that re-issues is already in `requeued`, and the others ended the
  task for good (its last attempt) and re-issued nothing;
- `retries`: a task re-issued after a back-off because its worker answered a
  transient task-failure (toa_search_failed);
- tasks re-created when the broker rebuilt its state from Redis (a broker
  restart, or Redis coming back): these are counted by no counter, so each
  "job J: reloaded (d of t done, N in search)" line adds N: with TOA one
  expansion is in flight per prompt (broker/method/policy_toa.c), so a prompt in
  search has at most one generation that was served before the rebuild and is
  asked again after it.
`withdrawn` (generations of a model marked down, taken back and planned
again among the models that are up) is not added: a withdrawn generation was
not sent, or its task failed, so nothing of it was served.
The broker's counters live in memory: each process logs them (`stats:` at
most every 5 s and at exit); a broker killed with -9 loses what it counted
after its last line. The log lines carry `toa-broker[PID]`, so each process's
last `stats:` line is taken and the processes are summed.

Duplicates dropped (D): `dropped_results` (stale + unknown answers), summed
over broker processes likewise."""
import json
import re
import sys

stats_file, results_file, logs = sys.argv[1], sys.argv[2], sys.argv[3:]

with open(stats_file) as f:
    sim = json.load(f)
ok = sum(m.get("ok", 0) for m in sim.get("models", {}).values())
malformed = sim.get("faults", {}).get("malformed", 0)
served = ok - malformed

last = {}     # broker pid -> counters of its last stats line
reloaded = 0
reload_lines = 0
stat_re = re.compile(r"toa-broker\[(\d+)\].*stats: .*")
for path in logs:
    try:
        lines = open(path, errors="replace").read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        m = stat_re.search(line)
        if m:
            last[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
            continue
        m = re.search(r"job \S+: reloaded \(\d+ of \d+ done, (\d+) in search\)", line)
        if m:
            reloaded += int(m.group(1))
            reload_lines += 1


def total(key):
    return sum(c.get(key, 0) for c in last.values())


prompts = generations = succeeded = failures = 0
with open(results_file) as f:
    for line in f:
        if not line.strip():
            continue
        r = json.loads(line)
        prompts += 1
        generations += len(r.get("responses", []))
        failed_gen = {x.get("index") for x in r.get("failures", []) if x.get("stage") == "generation"}
        failures += len(r.get("failures", []))
        succeeded += sum(1 for i in range(len(r.get("responses", []))) if i not in failed_gen)

figures = {
    "P": prompts, "G": generations, "SUCCEEDED": succeeded, "FAILURES": failures,
    "S": served, "SIM_OK": ok, "SIM_MALFORMED": malformed,
    "REQUEUED": total("requeued"), "RETRIES": total("retries"),
    "LEASE_EXPIRED": total("lease_expired"), "RELOADED": reloaded,
    "RELOADS": reload_lines, "DEAD_PEERS": total("dead_peers"),
    "FAILED_TASKS": total("failed_tasks"), "WITHDRAWN": total("withdrawn"),
    "BROKERS": len(last),
    "D": total("dropped_results"), "STALE": total("stale"), "UNKNOWN": total("unknown"),
}
figures["R"] = figures["REQUEUED"] + figures["RETRIES"] + reloaded
for key, value in figures.items():
    print(f"{key}={value}")
