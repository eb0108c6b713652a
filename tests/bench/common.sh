# tests/bench/common.sh - helpers shared by the fleet benchmarks (sourced
# after tests/lib.sh): a fleet from tests/bench/fleet_config.py, CPU time of
# its processes from /proc, wall time of one job, and figures appended to
# bench/results.json.

BENCH_DIR=$TOA_ROOT/tests/bench
BENCH_RESULTS=${BENCH_RESULTS:-$TOA_ROOT/bench/results.json}
export TOA_RUN_DIR=$TOA_TMP/run
BENCH_TICK=$(getconf CLK_TCK)

# bench_load: the machine's load (1-minute average) and its cores, as text.
bench_load () { echo "load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"; }

# bench_cpu_ms PID: user + system CPU time of PID so far, in ms (0 when gone).
bench_cpu_ms () {
    awk -v tick="$BENCH_TICK" '{print int(($14 + $15) * 1000 / tick)}' "/proc/$1/stat" \
        2>/dev/null || echo 0
}

# bench_sys_ms PID: system (kernel) CPU time of PID so far, in ms.
bench_sys_ms () {
    awk -v tick="$BENCH_TICK" '{print int($15 * 1000 / tick)}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# bench_pid NAME: the pid deploy/fleet recorded for NAME (broker, worker1...).
bench_pid () { cat "$TOA_RUN_DIR/$1.pid" 2>/dev/null; }

# bench_up CONFIG / bench_down CONFIG: the fleet of CONFIG.
bench_up () { "$TOA_ROOT/deploy/fleet" up "$1" >/dev/null || { echo "fleet did not start"; return 1; }; }
bench_down () { "$TOA_ROOT/deploy/fleet" down "$1" >/dev/null 2>&1; }

# bench_submit CONFIG INPUT OUTPUT METHOD SAMPLES: runs one job; prints its
# wall time in ms (the client's submit to its last result).
bench_submit () {
    local start end
    start=$(date +%s%N)
    "$TOA_BIN/toa" submit --config "$1" --input "$2" --output "$3" --method "$4" \
        --samples "$5" --quiet --timeout 60 >/dev/null || echo "  $4 failed" >&2
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

# bench_generations RESULTS: generations in a results file.
bench_generations () { jq -s 'map(.responses | length) | add // 0' "$1"; }

# bench_record JSON: appends one object (bench, figures, when, load, commit)
# to bench/results.json, a JSON array.
bench_record () {
    mkdir -p "$(dirname "$BENCH_RESULTS")"
    [ -s "$BENCH_RESULTS" ] || echo '[]' >"$BENCH_RESULTS"
    local commit; commit=$(git -C "$TOA_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    local tmp; tmp=$(mktemp)
    if jq --argjson r "$1" --arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$commit" \
          --arg load "$(bench_load)" '. + [{when: $when, commit: $commit, load: $load} + $r]' \
          "$BENCH_RESULTS" >"$tmp"; then
        mv "$tmp" "$BENCH_RESULTS"
    else
        rm -f "$tmp"; echo "bench: could not append to $BENCH_RESULTS" >&2
    fi
}
