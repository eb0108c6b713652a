#!/usr/bin/env python3
"""latency_watch.py - runs a `toa submit` and records, for every result line
that appears in its output file, the seconds since the submit started (every
prompt is admitted at once when the job has no more prompts than
broker.max_active_prompts, so that is the prompt's latency).

usage: latency_watch.py OUTPUT.jsonl TIMES.txt toa submit ... --output OUTPUT.jsonl"""
import json
import os
import subprocess
import sys
import time

out, times_path, command = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.monotonic()
proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seen, times, offset, rest = set(), [], 0, b""


def poll():
    global offset, rest
    try:
        with open(out, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return
    offset += len(data)
    rest += data
    *lines, rest = rest.split(b"\n")
    now = time.monotonic() - start
    for line in lines:
        try:
            pid = json.loads(line).get("id")
        except ValueError:
            continue
        if pid not in seen:
            seen.add(pid)
            times.append(now)


while proc.poll() is None:
    poll()
    time.sleep(0.02)
poll()
with open(times_path, "w") as f:
    f.write("\n".join(f"{t:.3f}" for t in times) + "\n")
sys.exit(proc.returncode)
