#!/usr/bin/env bash
# tests/bench/run.sh - the benchmarks behind `make bench`: programs that print
# figures (never pass/fail on speed).
set -u
cd "$(dirname "$0")/../.."
ran=0
for bench in tests/bench/bench_*.sh; do
    [ -f "$bench" ] || continue
    echo "== $(basename "$bench" .sh) =="
    bash "$bench"
    ran=1
done
[ "$ran" -eq 1 ] || echo "nothing yet"
