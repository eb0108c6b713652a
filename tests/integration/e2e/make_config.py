#!/usr/bin/env python3
"""make_config.py - writes a fleet config for the end-to-end tests: three
simulated models with different skills on free ports of 127.0.0.1. Prints
the model names.

usage: make_config.py OUT.json DATA_FILE RUN_DIR [latency_ms]
                      [--reward math-verify|chrf] [--tau X]

--reward chrf scores translations (reference field "en") with chrF, and the
models differ in translation noise instead of math skill. --tau sets
method.tau (TOA's reward temperature)."""
import argparse
import json
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("data_file")
parser.add_argument("run_dir")
parser.add_argument("latency", nargs="?", type=float, default=0.0)
parser.add_argument("--reward", choices=["math-verify", "chrf"], default="math-verify")
parser.add_argument("--tau", type=float)
args = parser.parse_args()
out, data_file, run_dir, latency = args.out, args.data_file, args.run_dir, args.latency
sim_port, redis_port, client_port, worker_port = (free_port() for _ in range(4))
base = f"http://127.0.0.1:{sim_port}/v1"
skills = {"sim-alpha": 0.20, "sim-beta": 0.24, "sim-gamma": 0.16}
noise = {"sim-alpha": 0.30, "sim-beta": 0.25, "sim-gamma": 0.35}
config = {
    "broker": {"client_endpoint": f"tcp://127.0.0.1:{client_port}",
               "worker_endpoint": f"tcp://127.0.0.1:{worker_port}",
               "heartbeat_ms": 500, "max_active_prompts": 64},
    "redis": {"url": f"redis://127.0.0.1:{redis_port}/0", "managed": True,
              "data_dir": f"{run_dir}/redis"},
    "models": [{"name": m, "base_url": base, "simulated": True, "max_concurrent": 32}
               for m in skills],
    "reward": ({"backend": "math-verify", "reference_field": "gold_answer"}
               if args.reward == "math-verify" else {"backend": "chrf", "reference_field": "en"}),
    "sampling": {"temperature": 0.7, "max_tokens": 512, "seed": 7},
    "method": {"name": "toa", "samples": 3},
    "worker": {"count": 2, "max_tasks": 64},
    "scorer": {"count": 1, "max_tasks": 64},
    "simllm": {
        "listen": f"127.0.0.1:{sim_port}", "data_files": [data_file], "threads": 2,
        "models": [{"model_id": m, "latency_ms": latency, "jitter_ms": 0, "per_token_ms": 0,
                    "slots": 64, "math_skill": s, "skill_spread": 0.35,
                    "fix_prob": 0.3, "spoil_prob": 0.05, "translation_noise": noise[m],
                    "refine_gain": 0.5} for m, s in skills.items()],
    },
}
if args.tau is not None:
    config["method"]["tau"] = args.tau
with open(out, "w") as f:
    json.dump(config, f, indent=1)
print(" ".join(skills))
