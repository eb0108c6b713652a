#!/usr/bin/env python3
"""fleet_config.py - writes the fleet config and the prompts of a benchmark:
N simulated models on one toa-simllm (or on several replicas, each its own
toa-simllm), a math-verify scorer, free ports of 127.0.0.1, and N synthetic
math prompts with gold answers (so nothing outside the repository is read).

usage: fleet_config.py OUT.json PROMPTS.jsonl RUN_DIR [options]
  --prompts N        prompts to write (default 1000)
  --models N         simulated models (default 3)
  --latency MS       mean latency of a chat request (default 0)
  --jitter MS        uniform jitter around it (default 0)
  --slots N          slots per model of one toa-simllm (default 64)
  --workers N        toa-worker processes (default 2)
  --max-tasks N      credit of a worker (default 64)
  --max-concurrent N requests in flight per model and base URL of a worker (default 64)
  --replicas N       toa-simllm replicas: base_urls of every model (default 1);
                     the config's simllm section is the first, the bench
                     starts the others with --listen
  --max-active N     broker.max_active_prompts (default: not set, the broker's own)
  --prefix-cache-share X, --prefix-cache-entries N   the simulator's prefix cache
Prints the listen address of every replica, one a line."""
import argparse
import json
import random
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("prompts_out")
parser.add_argument("run_dir")
parser.add_argument("--prompts", type=int, default=1000)
parser.add_argument("--models", type=int, default=3)
parser.add_argument("--latency", type=float, default=0.0)
parser.add_argument("--jitter", type=float, default=0.0)
parser.add_argument("--slots", type=int, default=64)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--max-tasks", type=int, default=64)
parser.add_argument("--max-concurrent", type=int, default=64)
parser.add_argument("--replicas", type=int, default=1)
parser.add_argument("--max-active", type=int)
parser.add_argument("--prefix-cache-share", type=float)
parser.add_argument("--prefix-cache-entries", type=int)
args = parser.parse_args()

rng = random.Random(7)
with open(args.prompts_out, "w") as f:
    for i in range(args.prompts):
        a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 9)
        f.write(json.dumps({"id": i, "instruction":
                            f"Problem {i}: a crate holds {a} apples and another {b}; "
                            f"each is then multiplied by {c}. How many apples are there?",
                            "gold_answer": str((a + b) * c)}) + "\n")

listens = [f"127.0.0.1:{free_port()}" for _ in range(args.replicas)]
redis_port, client_port, worker_port = (free_port() for _ in range(3))
names = [f"sim-{i}" for i in range(args.models)]
sim_models = []
for i, m in enumerate(names):
    model = {"model_id": m, "latency_ms": args.latency, "jitter_ms": args.jitter,
             "per_token_ms": 0, "slots": args.slots, "math_skill": 0.3 + 0.05 * i,
             "skill_spread": 0.3, "fix_prob": 0.3, "spoil_prob": 0.05}
    if args.prefix_cache_share is not None:
        model["prefix_cache_share"] = args.prefix_cache_share
    if args.prefix_cache_entries is not None:
        model["prefix_cache_blocks"] = args.prefix_cache_entries
    sim_models.append(model)
broker = {"client_endpoint": f"tcp://127.0.0.1:{client_port}",
          "worker_endpoint": f"tcp://127.0.0.1:{worker_port}", "heartbeat_ms": 1000}
if args.max_active:
    broker["max_active_prompts"] = args.max_active
config = {
    "broker": broker,
    "redis": {"url": f"redis://127.0.0.1:{redis_port}/0", "managed": True,
              "data_dir": f"{args.run_dir}/redis"},
    "models": [{"name": m, "base_urls": [f"http://{l}/v1" for l in listens],
                "simulated": True, "max_concurrent": args.max_concurrent} for m in names],
    "reward": {"backend": "math-verify", "reference_field": "gold_answer"},
    "sampling": {"temperature": 0.7, "max_tokens": 512, "seed": 7},
    "method": {"name": "toa", "samples": 4},
    "worker": {"count": args.workers, "max_tasks": args.max_tasks},
    "scorer": {"count": 1, "max_tasks": 256},
    "simllm": {"listen": listens[0], "data_files": [args.prompts_out], "threads": 2,
               "models": sim_models},
}
with open(args.out, "w") as f:
    json.dump(config, f, indent=1)
print("\n".join(listens))
