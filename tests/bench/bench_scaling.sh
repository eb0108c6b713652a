#!/usr/bin/env bash
# bench_scaling.sh - scaling out: 1, 2, 4 and 8 toa-worker processes (one
# broker, one scorer, Redis with its append-only file) against toa-simllm
# at zero latency with 256 slots per model (never the bottleneck in slots);
# best-of-n and TOA on BENCH_SCALING_PROMPTS (default 500) prompts x 3
# models x 4 samples. Prints generations/s per worker count, the broker's
# CPU microseconds per generation and its core's busy share (broker CPU
# time / wall time): the rate at which one broker core saturates is
# 1e6 / (its microseconds per generation). On a small machine the workers,
# the simulator and Redis share the same cores, so the figures say where
# the CPU goes more than how far workers scale. Appends to bench/results.json.
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
PROMPTS=${BENCH_SCALING_PROMPTS:-500} SAMPLES=4
echo "bench_scaling: $(bench_load); $PROMPTS prompts x $((SAMPLES * 3)) generations, zero latency"
for workers in ${BENCH_SCALING_WORKERS:-1 2 4 8}; do
    CONFIG=$TOA_TMP/scaling-$workers.json INPUT=$TOA_TMP/prompts.jsonl
    python3 "$BENCH_DIR/fleet_config.py" "$CONFIG" "$INPUT" "$TOA_RUN_DIR/$workers" \
        --prompts "$PROMPTS" --workers "$workers" --slots 256 >/dev/null
    TOA_RUN_DIR=$TOA_TMP/run/$workers bench_up "$CONFIG" || continue
    for method in best-of-n toa; do
        broker=$(TOA_RUN_DIR=$TOA_TMP/run/$workers bench_pid broker)
        before=$(bench_cpu_ms "$broker")
        ms=$(bench_submit "$CONFIG" "$INPUT" "$TOA_TMP/$workers-$method.jsonl" "$method" "$SAMPLES")
        gens=$(bench_generations "$TOA_TMP/$workers-$method.jsonl")
        [ "${gens:-0}" -gt 0 ] || { echo "$workers workers, $method: no generations"; continue; }
        cpu=$(( $(bench_cpu_ms "$broker") - before ))
        rate=$(( gens * 1000 / (ms > 0 ? ms : 1) ))
        us=$(( cpu * 1000 / gens ))
        busy=$(awk "BEGIN {printf \"%.2f\", $cpu / ($ms > 0 ? $ms : 1)}")
        carries=$(( us > 0 ? 1000000 / us : 0 ))
        echo "$workers workers, $method: $gens generations in $ms ms = $rate generations/s;" \
             "broker $us us/generation, its core $busy busy (one core would carry ~$carries/s)"
        bench_record "$(jq -n --arg m "$method" --argjson w "$workers" --argjson g "$gens" \
            --argjson ms "$ms" --argjson rate "$rate" --argjson us "$us" --argjson busy "$busy" \
            '{bench: "scaling", method: $m, workers: $w, generations: $g, wall_ms: $ms,
              generations_per_s: $rate, broker_cpu_us_per_generation: $us,
              broker_core_busy: $busy}')"
    done
    TOA_RUN_DIR=$TOA_TMP/run/$workers bench_down "$CONFIG"
done
