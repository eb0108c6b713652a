#!/usr/bin/env python3
"""make_config.py - writes a fleet config for the end-to-end tests: three
simulated models with different skills on free ports of 127.0.0.1.

usage: make_config.py OUT.json DATA_FILE RUN_DIR [latency_ms]"""
import json
import socket
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


out, data_file, run_dir = sys.argv[1:4]
latency = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
sim_port, redis_port, client_port, worker_port = (free_port() for _ in range(4))
base = f"http://127.0.0.1:{sim_port}/v1"
skills = {"sim-alpha": 0.20, "sim-beta": 0.24, "sim-gamma": 0.16}
config = {
    "broker": {"client_endpoint": f"tcp://127.0.0.1:{client_port}",
               "worker_endpoint": f"tcp://127.0.0.1:{worker_port}",
               "heartbeat_ms": 500, "max_active_prompts": 64},
    "redis": {"url": f"redis://127.0.0.1:{redis_port}/0", "managed": True,
              "data_dir": f"{run_dir}/redis"},
    "models": [{"name": m, "base_url": base, "simulated": True, "max_concurrent": 32}
               for m in skills],
    "reward": {"backend": "math-verify", "reference_field": "gold_answer"},
    "sampling": {"temperature": 0.7, "max_tokens": 512, "seed": 7},
    "method": {"name": "toa", "samples": 3},
    "worker": {"count": 2, "max_tasks": 64},
    "scorer": {"count": 1, "max_tasks": 64},
    "simllm": {
        "listen": f"127.0.0.1:{sim_port}", "data_files": [data_file], "threads": 2,
        "models": [{"model_id": m, "latency_ms": latency, "jitter_ms": 0, "per_token_ms": 0,
                    "slots": 64, "math_skill": s, "skill_spread": 0.35,
                    "fix_prob": 0.3, "spoil_prob": 0.05} for m, s in skills.items()],
    },
}
with open(out, "w") as f:
    json.dump(config, f, indent=1)
print(" ".join(skills))
