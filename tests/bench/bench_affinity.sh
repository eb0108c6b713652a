#!/usr/bin/env bash
# bench_affinity.sh - prefix-affinity routing against plain least-loaded
# routing, on TOA (whose refinements repeat the prompt and an earlier
# response): two replicas of toa-simllm (two processes, each its own prefix
# cache of 8192 64-byte blocks per model: a fully cached prompt 50% faster), 3 models x 16 slots each per
# replica, 200 ms +- 50 ms; 2 workers, each taking up to 8 of those slots (so a
# worker's "room on a replica" is the server's); prompts x 3 models x 4
# samples, for 64 prompts (fewer requests than slots: each step's latency is
# the chain's) and 200 (more requests than slots: a prompt's replica is
# often full, and the request goes to the least loaded); BENCH_AFFINITY_PROMPTS
# overrides the list. The same job twice: worker.prefix_affinity
# true (a prompt's requests go to the replica that served it while it has
# room) and false (least loaded). Prints both wall times and the gain;
# appends them to bench/results.json. Never fails on speed.
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
SAMPLES=4 SHARE=0.5
# A cache smaller than the job's working set, as a GPU's KV cache is: with
# affinity each replica holds its own prompts, without it both hold all.
BLOCKS=${BENCH_AFFINITY_BLOCKS:-8192}
run_affinity () {   # PROMPTS
    local PROMPTS=$1
    CONFIG=$TOA_TMP/affinity-$PROMPTS.json INPUT=$TOA_TMP/prompts-$PROMPTS.jsonl
    mapfile -t listens < <(python3 "$BENCH_DIR/fleet_config.py" "$CONFIG" "$INPUT" "$TOA_RUN_DIR" \
        --prompts "$PROMPTS" --latency 200 --jitter 50 --slots 16 --max-concurrent 8 \
        --replicas 2 --prefix-cache-share "$SHARE" --prefix-cache-entries "$BLOCKS")
    echo "bench_affinity: $(bench_load); 2 replicas x 3 models x 16 slots, 200 +- 50 ms," \
         "prefix cache share $SHARE, $BLOCKS blocks per model; TOA, $PROMPTS prompts x $((SAMPLES * 3))"
    declare -A wall=() cached=()
    for affinity in true false; do
        tmp=$(mktemp); jq --argjson a "$affinity" '.worker.prefix_affinity = $a' "$CONFIG" >"$tmp" \
            && mv "$tmp" "$CONFIG"
        bench_up "$CONFIG" || exit 0
        # The second replica: the same models, its own process and cache.
        replica=$(toa_start "simllm2-$PROMPTS-$affinity" "$TOA_BIN/toa-simllm" --config "$CONFIG" \
                  --listen "${listens[1]}")
        toa_wait_port "${listens[1]##*:}" 10 || { echo "replica 2 did not start"; bench_down "$CONFIG"; exit 0; }
        wall[$affinity]=$(bench_submit "$CONFIG" "$INPUT" "$TOA_TMP/toa-$PROMPTS-$affinity.jsonl" toa "$SAMPLES")
        gens=$(bench_generations "$TOA_TMP/toa-$PROMPTS-$affinity.jsonl")
        # The prompts' mean cached share, over both replicas' prefix caches.
        cached[$affinity]=$(for l in "${listens[@]}"; do curl -s "http://$l/stats"; done \
            | jq -s '[.[].models[].prefix_cache | select(.) | [.lookups, .mean_cached * .lookups]]
                     | (map(.[1]) | add) / (map(.[0]) | add) | . * 1000 | round / 1000')
        kill -TERM "$replica" 2>/dev/null; wait "$replica" 2>/dev/null
        bench_down "$CONFIG"
        echo "prefix_affinity $affinity: $gens generations in ${wall[$affinity]} ms;" \
             "mean cached share of a prompt ${cached[$affinity]}"
    done
    gain=$(awk "BEGIN {printf \"%.3f\", 1 - ${wall[true]} / ${wall[false]}}")
    echo "$PROMPTS prompts: affinity saves $gain of the wall time of least-loaded routing"
    bench_record "$(jq -n --argjson on "${wall[true]}" --argjson off "${wall[false]}" \
        --argjson gain "$gain" --argjson p "$PROMPTS" --argjson share "$SHARE" \
        --argjson blocks "$BLOCKS" --argjson con "${cached[true]}" --argjson coff "${cached[false]}" \
        '{bench: "affinity", method: "toa", prompts: $p, prefix_cache_share: $share,
          prefix_cache_blocks: $blocks,
          wall_ms_affinity: $on, wall_ms_least_loaded: $off, saved: $gain,
          cached_share_affinity: $con, cached_share_least_loaded: $coff}')"
}

for prompts in ${BENCH_AFFINITY_PROMPTS:-64 200}; do run_affinity "$prompts"; done
