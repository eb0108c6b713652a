#!/usr/bin/env python3
"""make_prompts.py - writes N prompts for delivery tests and benchmarks: the
lines of examples/prompts-math.jsonl over and over, each with a fresh id
(PREFIX + its number), so any size of job needs nothing beyond the repo.

usage: make_prompts.py N OUT.jsonl [--prefix P]"""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("n", type=int)
parser.add_argument("out")
parser.add_argument("--prefix", default="d")
args = parser.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
source = os.path.join(here, "..", "..", "..", "examples", "prompts-math.jsonl")
with open(source) as f:
    base = [json.loads(line) for line in f if line.strip()]
with open(args.out, "w") as out:
    for i in range(args.n):
        prompt = dict(base[i % len(base)])
        prompt["id"] = f"{args.prefix}{i}"
        out.write(json.dumps(prompt, separators=(",", ":")) + "\n")
