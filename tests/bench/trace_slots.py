#!/usr/bin/env python3
"""trace_slots.py - where a benchmark's wall time goes, seen from the
simulator's side: samples toa-simllm's GET /stats (busy slots and requests
per model) and splits the time above the bound into phases.

usage: trace_slots.py sample URL OUT        samples URL/stats every 20 ms
                                            into OUT (one JSON line a sample)
                                            until killed
       trace_slots.py summary OUT START_MS END_MS SLOTS
                                            prints, for the job that ran
                                            from START_MS to END_MS (epoch
                                            ms), the time lost per phase

The phases, in slot-time divided by the slots (ms of the whole fleet idle):
  start  - from the submit to the first request the simulator saw
  ramp   - slots idle until the model first has all SLOTS busy
  steady - slots idle from then until the first model's requests run out
           (the last new request of that model)
  tail   - slots idle from then to the end (the last chains, the last
           requests finishing, the client reading the results)
Figures are per model, then the worst model; a sample is the state at its
time, so each phase is known to about the sampling period."""
import json
import sys
import time
import urllib.request


def sample(url, out):
    with open(out, "w") as f:
        while True:
            t = time.time() * 1000
            try:
                with urllib.request.urlopen(url + "/stats", timeout=1) as r:
                    stats = json.load(r)
            except Exception:
                time.sleep(0.02)
                continue
            models = {m: [v.get("active", 0), v.get("queued", 0), v.get("requests", 0)]
                      for m, v in stats.get("models", {}).items()}
            f.write(json.dumps({"t": round(t), "m": models}) + "\n")
            f.flush()
            time.sleep(0.02)


def summary(path, start, end, slots):
    samples, before = [], None
    with open(path) as f:
        for line in f:
            try:
                s = json.loads(line)
            except ValueError:
                continue
            if s["t"] < start:
                before = s   # the requests counted before the job began
            elif s["t"] <= end:
                samples.append(s)
    if len(samples) < 2 or before is None:
        print("trace: too few samples")
        return
    models = sorted(samples[0]["m"])
    base = {m: before["m"][m][2] for m in models}
    wall = end - start
    print(f"trace: {len(samples)} samples over {wall} ms; idle slot-time / {slots} slots, in ms:")
    for m in models:
        total = samples[-1]["m"][m][2] - base[m]
        first = next((s["t"] for s in samples if s["m"][m][2] > base[m]), end)
        full = next((s["t"] for s in samples if s["t"] >= first and s["m"][m][0] >= slots), end)
        last = next((s["t"] for s in samples if s["m"][m][2] - base[m] >= total), end)
        full = min(full, last)   # never all busy: the ramp ends with the requests
        lost = {"ramp": 0.0, "steady": 0.0, "tail": 0.0}
        for a, b in zip(samples, samples[1:]):
            if a["t"] < first:
                continue
            phase = "ramp" if a["t"] < full else "steady" if a["t"] < last else "tail"
            lost[phase] += (slots - a["m"][m][0]) * (b["t"] - a["t"]) / slots
        busy = sum(a["m"][m][0] * (b["t"] - a["t"]) for a, b in zip(samples, samples[1:]))
        print(f"  {m}: {total} requests; start {first - start} ms, ramp {lost['ramp']:.0f},"
              f" steady {lost['steady']:.0f} (mean busy {busy / max(1, wall):.1f} of {slots}),"
              f" tail {lost['tail']:.0f} (last request at {last - start} ms, end {wall} ms)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "sample":
        sample(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "summary":
        summary(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
