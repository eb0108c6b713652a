#!/usr/bin/env bash
# bench_cost.sh - what the fleet itself costs, against a server that costs
# nothing: toa-simllm at zero latency, one broker, two workers, one
# math-verify scorer, Redis with its append-only file (deploy/fleet).
#   1. wrk on the same toa-simllm, as many connections as the workers may
#      have requests in flight (workers x max_tasks), posting a worker's chat
#      body (tests/bench/chat.lua): the raw rate;
#   2. best-of-n and TOA, 3 models x 4 samples on BENCH_COST_PROMPTS synthetic
#      prompts (default 1000: 12,000 generations each): generations/s, as a
#      share of the raw rate, and CPU microseconds per generation of the
#      broker, a worker, the scorer (from /proc, user + system).
# Appends the figures to bench/results.json. Never fails on speed.
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
PROMPTS=${BENCH_COST_PROMPTS:-1000}
SAMPLES=4 WORKERS=2 MAX_TASKS=64
CONFIG=$TOA_TMP/cost.json INPUT=$TOA_TMP/prompts.jsonl
python3 "$BENCH_DIR/fleet_config.py" "$CONFIG" "$INPUT" "$TOA_RUN_DIR" --prompts "$PROMPTS" \
    --workers "$WORKERS" --max-tasks "$MAX_TASKS" --slots 64 >/dev/null
bench_up "$CONFIG" || exit 0
trap 'bench_down "$CONFIG"; toa_cleanup' EXIT
echo "bench_cost: $(bench_load)"

connections=$((WORKERS * MAX_TASKS))
models=$(jq -r '[.models[].name] | join(",")' "$CONFIG")
url=http://$(jq -r '.simllm.listen' "$CONFIG")
raw=0
if command -v wrk >/dev/null; then
    # The body a worker sends for a prompt's first generation.
    jq -c --arg text "$(head -1 "$INPUT" | jq -r .instruction)" -n \
        '{model: "@MODEL@", messages: [{role: "user", content: $text}], temperature: 0.7,
          top_p: 1.0, max_tokens: 512, seed: 7}' >"$TOA_TMP/body.json"
    raw=$(BODY_FILE=$TOA_TMP/body.json SIM_MODELS=$models wrk -t 2 -c "$connections" -d 5s \
          -s "$BENCH_DIR/chat.lua" "$url/v1/chat/completions" | awk '/Requests\/sec/ {print int($2)}')
    echo "raw: wrk, $connections connections, zero latency: $raw requests/s"
else
    echo "raw: wrk is not installed (deploy/install-deps.sh --bench): no raw rate"
fi

for method in best-of-n toa; do
    declare -A before=()
    for p in broker worker1 worker2 scorer1 simllm redis; do before[$p]=$(bench_cpu_ms "$(bench_pid $p)"); done
    broker_sys=$(bench_sys_ms "$(bench_pid broker)")
    worker_sys=$(( $(bench_sys_ms "$(bench_pid worker1)") + $(bench_sys_ms "$(bench_pid worker2)") ))
    ms=$(bench_submit "$CONFIG" "$INPUT" "$TOA_TMP/$method.jsonl" "$method" "$SAMPLES")
    gens=$(bench_generations "$TOA_TMP/$method.jsonl")
    [ "${gens:-0}" -gt 0 ] || { echo "$method: no generations"; continue; }
    lines=$(wc -l <"$TOA_TMP/$method.jsonl")
    [ "$lines" -eq "$PROMPTS" ] || echo "  $method: the client wrote $lines of $PROMPTS results"
    declare -A us=()
    for p in broker worker1 worker2 scorer1 simllm redis; do
        us[$p]=$(( ($(bench_cpu_ms "$(bench_pid $p)") - ${before[$p]}) * 1000 / gens ))
    done
    # A generation's cost in a worker: both workers' CPU over every generation.
    us[worker]=$(( us[worker1] + us[worker2] ))
    broker_sys=$(( ($(bench_sys_ms "$(bench_pid broker)") - broker_sys) * 1000 / gens ))
    worker_sys=$(( ($(bench_sys_ms "$(bench_pid worker1)") + $(bench_sys_ms "$(bench_pid worker2)") \
                    - worker_sys) * 1000 / gens ))
    rate=$(( gens * 1000 / (ms > 0 ? ms : 1) ))
    share=null
    [ "$raw" -gt 0 ] && share=$(awk "BEGIN {printf \"%.3f\", $rate / $raw}")
    echo "$method: $gens generations in $ms ms = $rate generations/s (each also scored);" \
         "share of raw $share; CPU us/generation: broker ${us[broker]} (kernel $broker_sys)," \
         "in a worker ${us[worker]} (kernel $worker_sys)," \
         "scorer ${us[scorer1]}, simllm ${us[simllm]}, redis ${us[redis]}"
    bench_record "$(jq -n --arg m "$method" --argjson g "$gens" --argjson ms "$ms" \
        --argjson rate "$rate" --argjson raw "$raw" --argjson share "$share" \
        --argjson b "${us[broker]}" --argjson w "${us[worker]}" --argjson bsys "$broker_sys" --argjson wsys "$worker_sys" --argjson s "${us[scorer1]}" \
        --argjson sim "${us[simllm]}" --argjson r "${us[redis]}" --argjson c "$connections" \
        '{bench: "cost", method: $m, generations: $g, wall_ms: $ms, generations_per_s: $rate,
          raw_requests_per_s: $raw, connections: $c, share_of_raw: $share,
          cpu_us_per_generation: {broker: $b, broker_kernel: $bsys, worker: $w, worker_kernel: $wsys, scorer: $s, simllm: $sim, redis: $r}}')"
done
