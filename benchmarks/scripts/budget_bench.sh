#!/usr/bin/env bash
# budget_bench.sh - what early stop, the job-wide budget and parallel TOA
# expansions buy, on the real fleet (deploy/fleet: redis, toa-simllm,
# toa-broker, 2 workers, a scorer; the three simulated models of
# tests/integration/e2e/make_config.py). Prints figures; never fails on them.
#
#   1. math-verify on examples/prompts-math.jsonl (21) and on 200 problems
#      the simulator writes (toa-simllm --write-problems 200 --seed 11):
#      every method at 3, 6, 12, 24 generations per prompt on average,
#      fixed budget against job-wide budget with early stop at reward 1
#      (toa compare --budget-modes fixed,job), seeds $SEEDS;
#   2. a graded reward, the simulator's reward model (http-reward without a
#      label: a right answer scores 0.6..1, a wrong one -1..-0.6) on the 200
#      problems: mean best reward, early stop at 0.9;
#   3. parallel TOA expansions k = 1, 2, 4 at 200 ms per generation, 12
#      generations per prompt on 60 and on 20 problems: median and 95th
#      percentile of a prompt's latency (all prompts start together) and the
#      share solved.
#
# usage: budget_bench.sh [part...]   (parts 1 2 3; default all)
# Environment: TOA_BENCH_SEEDS (default "1 2 3"), TOA_BENCH_OUT (default
# build/bench/budget), TOA_BIN (the programs; default bin/),
# TOA_BENCH_METHODS (default all), TOA_BENCH_MODES (default fixed,job). Run it nice'd: it keeps both cores busy for a while.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${TOA_BIN:-$ROOT/bin}
export TOA_BIN=$BIN          # deploy/fleet starts the programs from there
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${TOA_BENCH_OUT:-$ROOT/build/bench/budget}
SEEDS=${TOA_BENCH_SEEDS:-1 2 3}
PARTS=${*:-1 2 3}
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/toa-budget-bench.XXXXXX)
CONFIG=
fleet_down () { [ -n "$CONFIG" ] && TOA_RUN_DIR=$TMP/run "$ROOT/deploy/fleet" down "$CONFIG" >/dev/null 2>&1; CONFIG=; }
trap 'fleet_down; rm -rf "$TMP"' EXIT
"$BIN/toa-simllm" --write-problems 200 --seed 11 >"$OUT/problems-200.jsonl"
MATH=$ROOT/examples/prompts-math.jsonl
PROBLEMS=$OUT/problems-200.jsonl

# fleet_up NAME DATA LATENCY_MS [jq patch]: a fleet for DATA.
fleet_up () {
    CONFIG=$TMP/$1.json
    python3 "$ROOT/tests/integration/e2e/make_config.py" "$CONFIG.in" "$2" "$TMP/run" "$3" >/dev/null
    jq "${4:-.}" "$CONFIG.in" >"$CONFIG"
    if ! TOA_RUN_DIR=$TMP/run "$ROOT/deploy/fleet" up "$CONFIG" >"$TMP/$1-up.log" 2>&1; then
        cat "$TMP/$1-up.log"; echo "# $1: fleet up failed"; CONFIG=; return 1
    fi
    # The broker answers 503 until it has reached Redis.
    local i
    for i in $(seq 100); do
        "$BIN/toa" status --config "$CONFIG" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
}

# compare NAME DATA [toa compare flags...]: every method, fixed and job-wide.
compare () {
    local name=$1 data=$2 seed csvs=() start=$(date +%s); shift 2
    for seed in $SEEDS; do
        "$BIN/toa" compare --config "$CONFIG" --input "$data" --budgets 1,2,4,8 \
            --methods "${TOA_BENCH_METHODS:-all}" --budget-modes "${TOA_BENCH_MODES:-fixed,job}" \
            --set "sampling.seed=$seed" --set "method.seed=$seed" \
            --output-dir "$OUT/$name/seed-$seed" "$@" >"$OUT/$name/seed-$seed.txt" \
            2>"$OUT/$name/seed-$seed.log" || echo "# $name seed $seed: toa compare exit $?"
        csvs+=("$OUT/$name/seed-$seed/compare.csv")
    done
    echo
    python3 "$HERE/budget_summary.py" "$name ($(( $(date +%s) - start )) s)" "${csvs[@]}" \
        | tee "$OUT/$name.md"
}

for part in $PARTS; do
case $part in
1)
    for set in ${TOA_BENCH_SETS:-math:$MATH problems:$PROBLEMS}; do
        name=${set%%:*} data=${set#*:}
        mkdir -p "$OUT/$name"
        fleet_up "$name" "$data" 0 && compare "$name" "$data"
        fleet_down
    done ;;
2)
    mkdir -p "$OUT/graded"
    # The simulator's reward model, without labels: graded rewards.
    if fleet_up graded "$PROBLEMS" 0 \
        '.reward = {"backend": "http-reward", "url": ("http://" + .simllm.listen + "/reward")}'; then
        compare graded "$PROBLEMS" --stop-at-reward 0.9
    fi
    fleet_down ;;
3)
    mkdir -p "$OUT/parallel"
    # 60 prompts fill the fleet's worker slots (2 workers x 64) from k = 2 on;
    # 20 prompts leave slots free up to k = 4.
    head -60 "$PROBLEMS" >"$TMP/p60.jsonl"
    fleet_up parallel "$TMP/p60.jsonl" 200 '.method.samples = 4 | .broker.max_active_prompts = 64' || continue
    for n in 60 20; do
        head -$n "$PROBLEMS" >"$TMP/p$n.jsonl"
        echo
        echo "### parallel TOA expansions: $n problems at once, 12 generations per prompt, 200 ms per generation"
        echo
        echo "| k | median latency s | p95 latency s | job wall s | solved % (mean over seeds) |"
        echo "| --- | --- | --- | --- | --- |"
        for k in 1 2 4; do
            for seed in $SEEDS; do
                out=$OUT/parallel/n$n-k$k-seed$seed.jsonl
                rm -f "$out"
                python3 "$HERE/latency_watch.py" "$out" "$OUT/parallel/n$n-k$k-seed$seed.times" \
                    "$BIN/toa" submit --config "$CONFIG" --input "$TMP/p$n.jsonl" --output "$out" \
                    --method toa --quiet --set "method.parallel_expansions=$k" \
                    --set "sampling.seed=$seed" --set "method.seed=$seed"
            done
            python3 "$HERE/latency_summary.py" "$k" "$OUT"/parallel/n$n-k$k-seed*.times \
                "$OUT"/parallel/n$n-k$k-seed*.jsonl
        done
    done | tee "$OUT/parallel.md"
    fleet_down ;;
esac
done
echo
echo "# budget_bench: figures in $OUT"
