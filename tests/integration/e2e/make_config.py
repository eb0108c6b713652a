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

from fleet import fleet_config

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("data_file")
parser.add_argument("run_dir")
parser.add_argument("latency", nargs="?", type=float, default=0.0)
parser.add_argument("--reward", choices=["math-verify", "chrf"], default="math-verify")
parser.add_argument("--tau", type=float)
args = parser.parse_args()
skills = {"sim-alpha": 0.20, "sim-beta": 0.24, "sim-gamma": 0.16}
noise = {"sim-alpha": 0.30, "sim-beta": 0.25, "sim-gamma": 0.35}
config = fleet_config(
    args.run_dir, [args.data_file],
    {m: {"latency_ms": args.latency, "jitter_ms": 0, "per_token_ms": 0, "slots": 64,
         "math_skill": s, "skill_spread": 0.35, "fix_prob": 0.3, "spoil_prob": 0.05,
         "translation_noise": noise[m], "refine_gain": 0.5} for m, s in skills.items()},
    model_extra={"max_concurrent": 32}, broker={"max_active_prompts": 64})
config.update({
    "reward": ({"backend": "math-verify", "reference_field": "gold_answer"}
               if args.reward == "math-verify" else {"backend": "chrf", "reference_field": "en"}),
    "sampling": {"temperature": 0.7, "max_tokens": 512, "seed": 7},
    "method": {"name": "toa", "samples": 3},
    "worker": {"count": 2, "max_tasks": 64},
    "scorer": {"count": 1, "max_tasks": 64},
})
if args.tau is not None:
    config["method"]["tau"] = args.tau
with open(args.out, "w") as f:
    json.dump(config, f, indent=1)
print(" ".join(skills))
