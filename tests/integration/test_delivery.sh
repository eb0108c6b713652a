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
#   5. the output throttled (a slow pipe reading --output -);
#   6. the broker killed and restarted while a searched job's results wait
#      for a paused client: the client resumes, re-attaches, gets them all.
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
REDIS_URL=""
# deploy/fleet gives its managed Redis a password (run/redis.password).
rcli () { REDISCLI_AUTH=$(cat "$CASE_DIR/run/redis.password" 2>/dev/null) redis-cli -u "$REDIS_URL" "$@"; }
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
field_in () { case " $3 " in *" $(job_field "$1" "$2") "*) return 0 ;; esac; return 1; }
lines_at_least () { [ "$(lines "$1")" -ge "$2" ]; }

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
    REDIS_URL=$(jq -r .redis.url "$CONFIG")
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
    # the client trails the search: paused with 1,000 lines written, it
    # sleeps through the end of the search
    check "case 1: the client writes (1,000 of 2,000 lines)" \
        wait_for 120 lines_at_least "$CASE_DIR/out.jsonl" 1000
    kill -STOP "$CLIENT"
    paused_at=$(date +%s)
    wait_for 60 field_in job-pause state "searched done"
    check_eq "case 1: while the client is paused the job becomes searched (Redis)" searched \
        "$(job_field job-pause state)"
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
    check "case 2: the broker finishes the last prompt" wait_for 120 field_in job-kill state "searched done"
    kill -KILL "$CLIENT"; wait "$CLIENT" 2>/dev/null
    echo "# case 2: killed at state $(job_field job-kill state) with $(lines "$CASE_DIR/out.jsonl") lines"
    "$TOA" attach job-kill --config "$CONFIG" --output "$CASE_DIR/out.jsonl" 2>"$CASE_DIR/attach.err"
    check_eq "case 2: toa attach after the kill exits 0" 0 $?
    check "case 2: every prompt once (no duplicate, no torn line), its whole budget" \
        history "$CASE_DIR/out.jsonl"
    check "case 2: no state file is left" test ! -e "$CASE_DIR/out.jsonl.toa-state"
    check_eq "case 2: the job is done" done "$(job_field job-kill state)"
    fleet_down
fi

# --- 3. a full disk, then attach with a good path ---------------------------
# A 128 KiB tmpfs holds some 100 results of 300; where mounting is not
# allowed, a file size limit (ulimit -f, EFBIG) stands in for it.
if case_start 3 300 '.'; then
    FULL=$CASE_DIR/full
    mkdir -p "$FULL"
    if mount -t tmpfs -o size=128k tmpfs "$FULL" 2>/dev/null; then
        MOUNTED=$FULL LIMIT=unlimited
        echo "# case 3: a 128 KiB tmpfs"
    else
        LIMIT=128
        echo "# case 3: no tmpfs (mount refused); ulimit -f 128 instead"
    fi
    (ulimit -f "$LIMIT"; exec "$TOA" submit --config "$CONFIG" --input "$DATA" \
        --output "$FULL/out.jsonl" --job job-full --quiet) 2>"$CASE_DIR/full.err"
    rc=$?
    sed 's/^/# /' "$CASE_DIR/full.err"
    check_eq "case 3: a full disk is exit 1" 1 "$rc"
    check "case 3: it says why" grep -Eq "write failed: (No space left on device|File too large)" \
        "$CASE_DIR/full.err"
    stored=$(sed -n 's/.*job job-full: \([0-9]*\) of its 300 results are stored.*/\1/p' "$CASE_DIR/full.err")
    check "case 3: it says how many results are stored and how to fetch the rest" \
        grep -q "the other $((300 - ${stored:-0})) wait in the broker: toa attach job-full --output $FULL/out.jsonl" \
        "$CASE_DIR/full.err"
    # whole lines only: the line the disk cut is toa's to cut at the next open
    python3 -c 'import sys; d=open(sys.argv[1]).read(); sys.stdout.write(d[:d.rfind("\n")+1])' \
        "$FULL/out.jsonl" >"$CASE_DIR/full-whole.jsonl"
    check_eq "case 3: the whole lines on the full disk are the $stored results acknowledged" \
        "$stored" "$(lines "$CASE_DIR/full-whole.jsonl")"
    check "case 3: its state file stays (the cut line is toa's)" test -e "$FULL/out.jsonl.toa-state"
    "$TOA" attach job-full --config "$CONFIG" --output "$CASE_DIR/good.jsonl" --quiet 2>"$CASE_DIR/attach.err"
    check_eq "case 3: attach with a good path exits 0" 0 $?
    check_eq "case 3: it fetches the other results" $((300 - ${stored:-0})) "$(lines "$CASE_DIR/good.jsonl")"
    cat "$CASE_DIR/full-whole.jsonl" "$CASE_DIR/good.jsonl" >"$CASE_DIR/both.jsonl"
    check "case 3: the two files hold every prompt once, its whole budget" history "$CASE_DIR/both.jsonl"
    unmount
    fleet_down
fi

# --- 4. two clients attach to one job at once -------------------------------
# One client follows a job at a time: while the broker hears the attached
# one (heartbeats), another attach is refused with error 423 and that client
# retries until --timeout. A client paused past 3 heartbeats gives the job up.
# (200 ms answers, 16 prompts at a time: some 12 s of job, time to do this;
# 1 s heartbeats: a loaded host may well hold a live client 0.9 s)
if case_start 4 1000 '.simllm.models[].latency_ms = 200 | .broker.max_active_prompts = 16
        | .broker.heartbeat_ms = 1000'; then
    submit job-two "$CASE_DIR/a.jsonl"
    A=$CLIENT
    check "case 4: the first client writes" wait_for 60 lines_at_least "$CASE_DIR/a.jsonl" 50
    "$TOA" attach job-two --config "$CONFIG" --output "$CASE_DIR/b.jsonl" --timeout 2 \
        2>"$CASE_DIR/b.err"
    check_eq "case 4: a second attach while the first follows the job: exit 1" 1 $?
    check "case 4: it says another client follows the job" \
        grep -q "job job-two is attached to another client" "$CASE_DIR/b.err"
    check_eq "case 4: the second client wrote nothing" 0 "$(lines "$CASE_DIR/b.jsonl")"
    # the first pauses: past 3 heartbeats (3 s) the job goes to the next
    # attach (which asks again while the broker answers 423)
    kill -STOP "$A"
    sleep 3.5
    "$TOA" attach job-two --config "$CONFIG" --output "$CASE_DIR/b.jsonl" --quiet 2>"$CASE_DIR/b2.err"
    check_eq "case 4: attach after the first client stopped being heard: exit 0" 0 $?
    kill -CONT "$A"
    wait "$A"; rc=$?
    check_eq "case 4: the first client, resumed, does not claim success: exit 1" 1 "$rc"
    check "case 4: it says the rest was acknowledged by another client" \
        grep -q "acknowledged by another client" "$CASE_DIR/client.log"
    for f in a b; do
        check_eq "case 4: $f.jsonl holds each prompt at most once" "" \
            "$(jq -r '.id' "$CASE_DIR/$f.jsonl" | sort | uniq -d | head -3)"
    done
    check_eq "case 4: together the two files hold all 1000 prompts" 1000 \
        "$(cat "$CASE_DIR/a.jsonl" "$CASE_DIR/b.jsonl" | jq -r '.id' | sort -u | wc -l)"
    fleet_down
fi

# --- 6. the broker restarts while the searched job's results wait ---------
if case_start 6 1000 '.'; then
    submit job-restart "$CASE_DIR/out.jsonl"
    check "case 6: the client writes" wait_for 120 lines_at_least "$CASE_DIR/out.jsonl" 200
    kill -STOP "$CLIENT"
    wait_for 60 field_in job-restart state "searched done"
    check_eq "case 6: the job is searched while the client is paused" searched \
        "$(job_field job-restart state)"
    kill -9 "$(cat "$CASE_DIR/run/broker.pid")"
    sleep 0.5
    check "case 6: the broker starts again" fleet up >>"$CASE_DIR/fleet.log" 2>&1
    kill -CONT "$CLIENT"
    wait "$CLIENT"; rc=$?
    check_eq "case 6: the client re-attaches to the new broker and exits 0" 0 "$rc"
    check "case 6: every prompt once, its whole budget" history "$CASE_DIR/out.jsonl"
    check_eq "case 6: the job is done" done "$(job_field job-restart state)"
    fleet_down
fi

# --- 5. the output throttled: a slow pipe -----------------------------------
# toa writes to standard output (--output -), read at 256 KiB/s: the client
# blocks in write while the search goes on; every result still arrives once.
if case_start 5 "$BIG" '.'; then
    "$TOA" submit --config "$CONFIG" --input "$DATA" --output - --job job-pipe --quiet \
        2>"$CASE_DIR/pipe.err" | python3 -c '
import sys, time
rate, chunk = 256 * 1024, 16 * 1024
while True:
    data = sys.stdin.buffer.read1(chunk)
    if not data:
        break
    sys.stdout.buffer.write(data)
    time.sleep(len(data) / rate)' >"$CASE_DIR/out.jsonl"
    rc=${PIPESTATUS[0]}
    check_eq "case 5: toa submit into a slow pipe exits 0" 0 "$rc"
    check_eq "case 5: $BIG lines" "$BIG" "$(lines "$CASE_DIR/out.jsonl")"
    check "case 5: every prompt once, its whole budget" history "$CASE_DIR/out.jsonl"
    fleet_down
fi

toa_done
