#!/usr/bin/env bash
# bench_delivery.sh - large jobs in flat memory (issue 10): for jobs of 10k,
# 100k and 1M prompts (best-of-n, one model, one sample: a budget of 1 per
# model, zero latency), a fresh fleet each, it prints
#   - the broker's peak RSS (VmHWM) over the whole job,
#   - Redis used_memory once the job is submitted (every prompt queued),
#     per prompt next to the prompt's own size, and Redis' used_memory_peak,
#   - the submit time (the client's start to the job running in Redis),
#   - the wall time, and lines written == prompts.
# The prompts are examples/prompts-math.jsonl repeated with fresh ids.
# TOA_BENCH_DELIVERY_SIZES="10000 100000" picks other sizes. Prints figures;
# never fails on speed.
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
HERE=$TOA_ROOT/tests/integration
SIZES=${TOA_BENCH_DELIVERY_SIZES:-10000 100000 1000000}

kib () { awk '{printf "%.1f MiB", $1 / 1024}' <<<"$1"; }
# deploy/fleet gives its managed Redis a password (run/redis.password).
rcli () { REDISCLI_AUTH=$(cat "$TOA_RUN_DIR/redis.password" 2>/dev/null) redis-cli -u "$url" "$@"; }
redis_mem () { rcli info memory | tr -d '\r' | awk -F: -v k="$1" '$1 == k {print $2}'; }

echo "# $(bench_load); one model, best-of-n, 1 sample, zero latency"
printf '%-9s %-15s %-20s %-16s %-17s %-10s %-9s %s\n' prompts "broker peak RSS" \
    "redis after submit" "redis per prompt" "redis used peak" "submit" "wall" "lines written"
for n in $SIZES; do
    dir=$TOA_TMP/n$n
    mkdir -p "$dir"
    python3 "$HERE/delivery/make_prompts.py" "$n" "$dir/prompts.jsonl" --prefix b
    python3 "$HERE/e2e/make_config.py" "$dir/fleet.in" "$dir/prompts.jsonl" "$dir/run" 0 >/dev/null
    jq '.models = [.models[0]] | .simllm.models = [.simllm.models[0]] | .method.name = "best-of-n"
        | .method.samples = 1 | .broker.max_active_prompts = 256' "$dir/fleet.in" >"$dir/fleet.json"
    export TOA_RUN_DIR=$dir/run
    bench_up "$dir/fleet.json" || continue
    url=$(jq -r .redis.url "$dir/fleet.json")
    base=$(redis_mem used_memory)
    start=$(date +%s%N)
    "$TOA_BIN/toa" submit --config "$dir/fleet.json" --input "$dir/prompts.jsonl" \
        --output "$dir/out.jsonl" --job bench-$n --quiet --timeout 60 2>"$dir/client.err" &
    client=$!
    submitted="" queued=""
    while kill -0 "$client" 2>/dev/null; do
        if [ -z "$submitted" ] && [ "$(rcli hget "toa:job:{bench-$n}" state)" = running ]; then
            submitted=$(( ($(date +%s%N) - start) / 1000000 ))
            queued=$(redis_mem used_memory)
        fi
        sleep 0.05
    done
    wait "$client"; rc=$?
    wall=$(( ($(date +%s%N) - start) / 1000000 ))
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$(bench_pid broker)/status")
    peak=$(redis_mem used_memory_peak)
    bench_down "$dir/fleet.json"
    lines=$(wc -l <"$dir/out.jsonl")
    bytes=$(wc -c <"$dir/prompts.jsonl")
    per_prompt=$(( (${queued:-$base} - base) / n ))
    printf '%-9s %-15s %-20s %-16s %-17s %-10s %-9s %s\n' "$n" "$(kib "$hwm")" \
        "$(kib $(( (${queued:-0} - base) / 1024 )))" "$per_prompt B ($(( bytes / n )) B line)" \
        "$(kib $(( peak / 1024 )))" "${submitted:-?} ms" "$(( wall / 1000 )) s" \
        "$lines == $n: $([ "$lines" = "$n" ] && [ "$rc" = 0 ] && echo yes || echo "NO (exit $rc)")"
    bench_record "{\"bench\": \"delivery\", \"prompts\": $n, \"broker_peak_rss_kib\": $hwm,
        \"redis_after_submit_bytes\": $(( ${queued:-0} - base )), \"redis_peak_bytes\": $peak,
        \"submit_ms\": ${submitted:-null}, \"wall_ms\": $wall, \"lines\": $lines, \"exit\": $rc}"
done
