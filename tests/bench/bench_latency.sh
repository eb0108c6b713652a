#!/usr/bin/env bash
# bench_latency.sh - utilization at a realistic latency, default settings:
# three simulated models, 32 slots each, 200 ms +- 50 ms a request; 300
# prompts x 8 samples per model (7,200 generations) with TOA, best-of-n and
# MoA. Prints each wall time next to the bound the servers allow:
#   max(over models: its generations x mean latency / its slots,
#       the longest chain of dependent generations of one prompt x latency)
# (TOA loads the models unevenly, so the bound is per model). The bound is
# the simulated servers' time only: the chain counts generations (TOA: its 24
# responses; MoA: 2 layers), not scoring (math-verify, on the scorer's CPU)
# nor any of the fleet's own time; the wall time is the client's, submit to
# last result. Appends the figures to bench/results.json. Never fails on
# speed. Each of the 2 workers takes half of a model's slots
# (models[].max_concurrent = 16, the default; worker.max_tasks 64, the default).
#   BENCH_LATENCY_PROMPTS, BENCH_LATENCY_METHODS, BENCH_LATENCY_FLEET_ARGS
#   (more fleet_config.py options) change the run;
#   BENCH_LATENCY_TRACE=1 samples the simulator's busy slots during each job
#   and prints where the time above the bound went (trace_slots.py).
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
PROMPTS=${BENCH_LATENCY_PROMPTS:-300} SAMPLES=8 LATENCY=200 JITTER=50 SLOTS=32
METHODS=${BENCH_LATENCY_METHODS:-toa best-of-n moa}
TRACE=${BENCH_LATENCY_TRACE:-0}
CONFIG=$TOA_TMP/latency.json INPUT=$TOA_TMP/prompts.jsonl
python3 "$BENCH_DIR/fleet_config.py" "$CONFIG" "$INPUT" "$TOA_RUN_DIR" --prompts "$PROMPTS" \
    --latency "$LATENCY" --jitter "$JITTER" --slots "$SLOTS" --max-concurrent $((SLOTS / 2)) \
    ${BENCH_LATENCY_FLEET_ARGS:-} >/dev/null
bench_up "$CONFIG" || exit 0
trap 'bench_down "$CONFIG"; toa_cleanup' EXIT
echo "bench_latency: $(bench_load); 3 models x $SLOTS slots, ${LATENCY} +- ${JITTER} ms," \
     "$PROMPTS prompts x $SAMPLES samples per model, default settings"

if [ "$TRACE" = 1 ]; then
    python3 "$BENCH_DIR/trace_slots.py" sample "http://$(jq -r .simllm.listen "$CONFIG")" \
        "$TOA_TMP/trace.jsonl" &
    TRACER=$!
    for _ in $(seq 100); do [ -s "$TOA_TMP/trace.jsonl" ] && break; sleep 0.1; done
    trap 'kill $TRACER 2>/dev/null; bench_down "$CONFIG"; toa_cleanup' EXIT
fi

for method in $METHODS; do
    out=$TOA_TMP/$method.jsonl
    start_ms=$(date +%s%3N)
    ms=$(bench_submit "$CONFIG" "$INPUT" "$out" "$method" "$SAMPLES")
    gens=$(bench_generations "$out")
    # Per model: its generations x latency / slots; the chain: the deepest
    # dependent generation of any prompt (depth counts from 0) + 1.
    per_model=$(jq -s '[.[].actions[].model] | group_by(.) | map(length) | max' "$out")
    chain=$(jq -s '[.[] | if .method == "toa" or .method == "seq-refine"
                          then (.responses | length) else ([.actions[].depth] | max + 1) end]
                   | max' "$out")
    model_bound=$(( per_model * LATENCY / SLOTS ))
    chain_bound=$(( chain * LATENCY ))
    bound=$(( model_bound > chain_bound ? model_bound : chain_bound ))
    ratio=$(awk "BEGIN {printf \"%.3f\", $ms / $bound}")
    echo "$method: $gens generations in $ms ms; bound $bound ms (busiest model $per_model" \
         "generations: $model_bound ms; chain $chain: $chain_bound ms); ratio $ratio"
    [ "$TRACE" = 1 ] && python3 "$BENCH_DIR/trace_slots.py" summary "$TOA_TMP/trace.jsonl" \
        "$start_ms" $((start_ms + ms)) "$SLOTS"
    bench_record "$(jq -n --arg m "$method" --argjson g "$gens" --argjson ms "$ms" \
        --argjson bound "$bound" --argjson ratio "$ratio" --argjson pm "$per_model" \
        --argjson chain "$chain" --argjson p "$PROMPTS" \
        '{bench: "latency", method: $m, prompts: $p, generations: $g, wall_ms: $ms,
          bound_ms: $bound, ratio: $ratio, busiest_model_generations: $pm, chain: $chain,
          latency_ms: 200, jitter_ms: 50, slots_per_model: 32}')"
done
