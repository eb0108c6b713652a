#!/usr/bin/env bash
# bench_compare.sh - search quality of every method at equal budgets, on the
# real fleet (deploy/fleet) with three simulated models (latency 0):
#   GSM8K-100 with math-verify: the share of prompts whose best response is
#     correct;
#   WMT22 de-en-100 with chrF (0..100): the mean best reward; TOA's reward
#     temperature is method.tau = 50 (docs/methods.md "TOA's tau with
#     chrF"), and TOA is also run at tau 0.1 (the default) and 10 to show
#     how much that choice matters.
# Budgets 1,2,4,8,16 samples per model; each dataset with sampling and
# method seeds $TOA_BENCH_SEEDS (default "1 2 3"); the tables print the mean
# over seeds and its sd. Everything is kept in $TOA_BENCH_OUT (default
# build/bench/compare): per seed the results, compare.csv and compare.png
# of `toa compare`; per dataset summary.csv and summary.png.
# Prints figures; never fails on them.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${TOA_BENCH_OUT:-$TOA_ROOT/build/bench/compare}
SEEDS=${TOA_BENCH_SEEDS:-1 2 3}
BUDGETS=${TOA_BENCH_BUDGETS:-1,2,4,8,16}
CHRF_TAU=50
export TOA_RUN_DIR=$TOA_TMP/run
CONFIG=
fleet_down () { [ -n "$CONFIG" ] && "$TOA_ROOT/deploy/fleet" down "$CONFIG" >/dev/null 2>&1; }
trap 'fleet_down; toa_cleanup' EXIT
start_all=$(date +%s)

# run_dataset NAME DATA REWARD [extra make_config flags]
run_dataset () {
    local name=$1 data=$2 reward=$3; shift 3
    if [ ! -f "$data" ]; then echo "# $name: $data not found; skipped"; return; fi
    rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT/$name"
    CONFIG=$TOA_TMP/$name.json
    python3 "$TOA_ROOT/tests/integration/e2e/make_config.py" "$CONFIG" "$data" \
        "$TOA_RUN_DIR/$name" --reward "$reward" "$@" >/dev/null
    if ! "$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/$name-up.log" 2>&1; then
        cat "$TOA_TMP/$name-up.log"; echo "# $name: fleet up failed"; return
    fi
    local seed csvs=() start
    start=$(date +%s)
    for seed in $SEEDS; do
        "$TOA_BIN/toa" compare --config "$CONFIG" --input "$data" --budgets "$BUDGETS" \
            --methods all --set "sampling.seed=$seed" --set "method.seed=$seed" \
            --output-dir "$OUT/$name/seed-$seed" >"$OUT/$name/seed-$seed.txt" \
            2>"$OUT/$name/seed-$seed.log" || echo "# $name seed $seed: toa compare exit $?"
        csvs+=("$OUT/$name/seed-$seed/compare.csv")
    done
    echo
    echo "== $name ($reward), 3 simulated models, budgets $BUDGETS, $(( $(date +%s) - start )) s"
    python3 "$HERE/compare_summary.py" "$(basename "$data")" "$OUT/$name" "${csvs[@]}"
    if [ "$reward" = chrf ]; then
        local tau tau_csvs
        for tau in 0.1 10; do
            tau_csvs=()
            for seed in $SEEDS; do
                "$TOA_BIN/toa" compare --config "$CONFIG" --input "$data" --budgets "$BUDGETS" \
                    --methods toa --set "sampling.seed=$seed" --set "method.seed=$seed" \
                    --set "method.tau=$tau" --output-dir "$OUT/$name/tau-$tau-seed-$seed" \
                    >/dev/null 2>"$OUT/$name/tau-$tau-seed-$seed.log" \
                    || echo "# $name tau $tau seed $seed: toa compare exit $?"
                tau_csvs+=("$OUT/$name/tau-$tau-seed-$seed/compare.csv")
            done
            echo
            python3 "$HERE/compare_summary.py" "TOA at tau $tau (instead of $CHRF_TAU)" \
                "$OUT/$name/tau-$tau" "${tau_csvs[@]}" | sed 1s/^/"# "/
        done
    fi
    fleet_down
    CONFIG=
}

run_dataset gsm8k "$TOA_SHARED/data/gsm8k-test-100.jsonl" math-verify
run_dataset wmt22 "$TOA_SHARED/data/wmt22-de-en-100.jsonl" chrf --tau "$CHRF_TAU"
echo
echo "# bench_compare: $(( $(date +%s) - start_all )) s; tables, CSVs and plots in $OUT"
