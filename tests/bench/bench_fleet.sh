#!/usr/bin/env bash
# bench_fleet.sh - throughput of the whole fleet against the simulated server,
# next to the rate the same server gives a plain load generator.
#   1. toa-simllm alone, zero latency: requests/s from wrk (32 connections),
#      or from the python client when wrk is not installed;
#   2. the fleet (deploy/fleet: broker, 2 workers, 1 scorer) running best-of-n
#      and TOA on GSM8K-100 (3 models x 4 samples) at zero latency;
#   3. the same with 50 ms latency and 8 slots per model: wall time against the
#      bound the slots allow (generations per model / slots x latency).
# Prints figures; never fails on speed.
set -u
source "$(dirname "$0")/../lib.sh"
E2E=$TOA_ROOT/tests/integration/e2e
DATA=$TOA_SHARED/data/gsm8k-test-100.jsonl
[ -f "$DATA" ] || { echo "bench_fleet: $DATA not found; skipped"; exit 0; }
export TOA_RUN_DIR=$TOA_TMP/run

run_fleet () {   # LATENCY SLOTS: prints the figures of one fleet run
    local latency=$1 slots=$2 config=$TOA_TMP/fleet-$1.json
    python3 "$E2E/make_config.py" "$config" "$DATA" "$TOA_RUN_DIR" "$latency" >/dev/null
    local tmp; tmp=$(mktemp); jq --argjson s "$slots" '.simllm.models[].slots = $s | .models[].max_concurrent = $s' "$config" >"$tmp" && mv "$tmp" "$config"
    "$TOA_ROOT/deploy/fleet" up "$config" >/dev/null || { echo "fleet did not start"; return 1; }
    local url; url=http://$(jq -r '.simllm.listen' "$config")
    if [ "$latency" = 0 ]; then
        if command -v wrk >/dev/null; then
            rps=$(SIM_MODEL=sim-alpha wrk -t 2 -c 32 -d 3s -s "$TOA_ROOT/tests/integration/simllm/chat.lua" \
                  "$url/v1/chat/completions" | awk '/Requests\/sec/ {print int($2)}')
            echo "simllm alone (wrk, 32 connections, zero latency): $rps requests/s"
        else
            rps=$(python3 "$TOA_ROOT/tests/integration/simllm/client.py" load "$url" sim-alpha 4000 32 | jq -r '.req_per_s | floor')
            echo "simllm alone (python client, 32 connections, zero latency): $rps requests/s"
        fi
    fi
    local method
    for method in best-of-n toa; do
        local start end
        start=$(date +%s%N)
        "$TOA_BIN/toa" submit --config "$config" --input "$DATA" --output "$TOA_TMP/$method-$latency.jsonl" \
            --method "$method" --samples 4 --quiet || echo "  $method failed"
        end=$(date +%s%N)
        local gens; gens=$(jq -s 'map(.responses | length) | add' "$TOA_TMP/$method-$latency.jsonl")
        local ms=$(( (end - start) / 1000000 ))
        if [ "$latency" = 0 ]; then
            echo "fleet, $method, 100 prompts x 12 generations, zero latency: $gens generations in $ms ms = $(( gens * 1000 / (ms > 0 ? ms : 1) )) generations/s (each also scored)"
        else
            # Per model: 400 generations over SLOTS slots of LATENCY ms each.
            local per_model; per_model=$(jq -s '[.[].actions[].model] | group_by(.) | map(length) | max' "$TOA_TMP/$method-$latency.jsonl")
            local bound=$(( per_model * latency / slots ))
            echo "fleet, $method, ${latency} ms latency, $slots slots per model: $ms ms; bound for the busiest model ($per_model generations) $bound ms; ratio $(awk "BEGIN {printf \"%.2f\", $ms / $bound}")"
        fi
    done
    "$TOA_ROOT/deploy/fleet" down "$config" >/dev/null
}

run_fleet 0 64
run_fleet 50 8
