#!/usr/bin/env bash
# test_client.sh - the `toa` client against a fake broker over real ZeroMQ
# (tests/harness/client_fake_broker.c): submit to the end, duplicates,
# reject with line numbers, bad input caught locally (nothing sent), Ctrl-C
# detach then attach, a silent broker (re-attach on a new socket), a broker
# restarted mid-job, status / cancel, no broker at all, export and tree.
source "$(dirname "$0")/../lib.sh"

TOA=$TOA_BIN/toa
HARNESS=$(toa_harness client_fake_broker)
toa_require "$TOA" "$HARNESS"
T=$TOA_TMP

# config FILE PORT: two models, a verifier, a 200 ms broker heartbeat.
config () {
    cat >"$1" <<EOF
{"broker": {"client_endpoint": "tcp://127.0.0.1:$2", "heartbeat_ms": 200},
 "models": [{"name": "sim-alpha", "base_url": "http://127.0.0.1:9/v1"},
            {"name": "sim-beta", "base_url": "http://127.0.0.1:9/v1"}],
 "reward": {"backend": "math-verify", "reference_field": "gold_answer"},
 "method": {"name": "toa", "samples": 3}}
EOF
}

# prompts FILE N: N math prompts, ids 1..N (odd ones as strings).
prompts () {
    local i
    : >"$1"
    for i in $(seq "$2"); do
        if [ $((i % 2)) -eq 1 ]; then id="\"p$i\""; else id=$i; fi
        echo "{\"id\": $id, \"instruction\": \"What is $i + $i?\", \"gold_answer\": \"$((2 * i))\"}" >>"$1"
    done
}

# broker NAME PORT [options]: start the fake broker; events in $T/NAME.events.
broker () {
    local name=$1 port=$2; shift 2
    BROKER_PID=$(toa_start "$name" "$HARNESS" --endpoint "tcp://127.0.0.1:$port" \
        --events "$T/$name.events" "$@")
    toa_wait_port "$port" 30 || not_ok "$name listens"
}

# stop PID: stop a process we started and wait for it.
stop () { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# once FILE: "yes" when every id in the results file appears exactly once.
once () { jq -r '.id|tostring' "$1" | sort | uniq -d | grep -q . && echo no || echo yes; }

# has_lines FILE N: FILE has N lines or more.
has_lines () { [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ]; }
# wait_lines FILE N: wait (60 s at most) until FILE has N lines or more.
wait_lines () { toa_wait_until 60 has_lines "$1" "$2"; }
# last_ack EVENTS: the highest seq the fake broker saw acknowledged.
last_ack () { grep '^ack' "$1" | awk '{print $2}' | sort -n | tail -1; }
# acked EVENTS SEQ: the fake broker has seen SEQ acknowledged (an ack may
# still be on its way when the client has exited).
acked () { [ "$(last_ack "$1")" = "$2" ]; }

# --- command line --------------------------------------------------------
"$TOA" --help >"$T/help.out" 2>&1
check_eq "toa --help exits 0" 0 $?
check "toa --help lists every command" \
    bash -c "grep -q submit '$T/help.out' && grep -q attach '$T/help.out' && grep -q export '$T/help.out' && grep -q tree '$T/help.out'"
for command in submit attach status cancel export tree; do
    "$TOA" "$command" --help >"$T/help-$command.out" 2>&1
    check_eq "toa $command --help exits 0" 0 $?
done
# help_names COMMAND WORD...: toa COMMAND --help names every WORD (its options).
help_names () {
    local command=$1 word; shift
    for word in "$@"; do grep -qF -- "$word" "$T/help-$command.out" || return 1; done
}
check "toa submit --help names each option and the exit statuses" help_names submit --config \
    --input --output --method --samples --stop-at-reward --set --endpoint --job --timeout \
    --give-up --quiet "exit status" "(default 10)" "(default 600"
check "toa attach --help names JOB, each option, defaults and exit statuses" help_names attach \
    JOB --output --config --endpoint --timeout --give-up --quiet "exit status" "(default 10)" \
    "(default 600"
check "toa status --help names JOB, each option, defaults and exit statuses" help_names status \
    JOB --config --endpoint --timeout --json "exit status" "(default 10)"
check "toa cancel --help names JOB, each option, defaults and exit statuses" help_names cancel \
    JOB --config --endpoint --timeout "exit status" "(default 10)"
"$TOA" submit --bogus 2>"$T/usage.err"
check_eq "unknown flag: usage error 2" 2 $?
check "unknown flag is named" grep -q -- "--bogus" "$T/usage.err"
"$TOA" frobnicate 2>/dev/null
check_eq "unknown command: usage error 2" 2 $?
"$TOA" submit --input x --output y 2>"$T/usage.err"
check_eq "missing --config: usage error 2" 2 $?

# --- bad input is caught locally, nothing sent ------------------------------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker local "$PORT"
printf '%s\n' '{"id": 1, "instruction": "fine"}' 'not json' '{"id": 3, "instruction": "ok"}' \
    '{"id": 4}' '{"id": 1, "instruction": "dup"}' >"$T/bad.jsonl"
"$TOA" submit --config "$T/cfg.json" --input "$T/bad.jsonl" --output "$T/bad-out.jsonl" 2>"$T/bad.err"
check_eq "bad input: exit 2" 2 $?
"$TOA" submit --config "$T/cfg.json" --input "$T/bad.jsonl" --output "$T/bad-out.jsonl" --quiet \
    2>"$T/bad-quiet.err"
check "bad input with --quiet: the errors are still printed" grep -q "^$T/bad.jsonl:2: " "$T/bad-quiet.err"
check "bad input: line 2 reported as FILE:2:" grep -q "^$T/bad.jsonl:2: " "$T/bad.err"
check "bad input: line 4 reported as FILE:4:" grep -q "^$T/bad.jsonl:4: " "$T/bad.err"
check "bad input: duplicate id on line 5 reported" grep -q "^$T/bad.jsonl:5: .*duplicate" "$T/bad.err"
sleep 0.3
check_eq "bad input: the broker got no submit" 0 "$(grep -c '^submit' "$T/local.events")"
check "bad input: no output file created" test ! -e "$T/bad-out.jsonl"
"$TOA" submit --config "$T/cfg.json" --input "$T/bad.jsonl" --output "$T/o.jsonl" --samples 0 2>/dev/null
check_eq "--samples 0: usage error 2" 2 $?
"$TOA" submit --config "$T/cfg.json" --input "$T/bad.jsonl" --output "$T/o.jsonl" --set method.samples=many 2>"$T/set.err"
check_eq "bad --set: exit 2" 2 $?
check "bad --set is explained" grep -q "method.samples" "$T/set.err"
prompts "$T/p40.jsonl" 40
# a batch goes in chunks; one line must fit in one message
{ cat "$T/p40.jsonl"; echo "{\"id\": 41, \"instruction\": \"$(head -c 2000 /dev/zero | tr '\0' x)\"}"; } >"$T/p41.jsonl"
"$TOA" submit --config "$T/cfg.json" --input "$T/p41.jsonl" --output "$T/big.jsonl" \
    --set broker.max_message_bytes=1024 2>"$T/big.err"
check_eq "a line over the message limit: exit 2" 2 $?
check "a line over the message limit: says so" grep -q "more than one message may carry.*nothing sent" "$T/big.err"
# no newline for 16 MiB (/dev/zero): an error at line 1, memory bounded (400 MB
# of address space; not under ASan, whose shadow memory needs terabytes of it)
( [ -n "${TOA_SANITIZED:-}" ] || ulimit -v 400000
  "$TOA" submit --config "$T/cfg.json" --input /dev/zero --output "$T/zero.jsonl" ) 2>"$T/zero.err"
check_eq "--input /dev/zero: exit 2" 2 $?
check "--input /dev/zero: FILE:1: line longer than 16777216 bytes" \
    grep -q "^/dev/zero:1: line longer than 16777216 bytes" "$T/zero.err"
sleep 0.3
check_eq "bad input and oversize batch: the broker never got a submit" 0 "$(grep -c '^submit' "$T/local.events")"
stop "$BROKER_PID"

# --- a whole job ---------------------------------------------------------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker normal "$PORT"
"$TOA" submit --config "$T/cfg.json" --input "$T/p40.jsonl" --output "$T/out40.jsonl" \
    --job test-normal-1 --method best-of-n --samples 2 2>"$T/normal.err"
check_eq "submit: exit 0" 0 $?
check "submit: prints the job id and prompt count" grep -q "^job test-normal-1 submitted: 40 prompts" "$T/normal.err"
check "submit: prints a summary about the results written" \
    grep -q "job test-normal-1 done: all 40 results stored: 40 written to $T/out40.jsonl; " "$T/normal.err"
check_eq "submit: 40 result lines" 40 "$(wc -l <"$T/out40.jsonl")"
check_eq "submit: each prompt exactly once" yes "$(once "$T/out40.jsonl")"
check_eq "submit: every input field kept (gold_answer of id 7)" 14 \
    "$(jq -r 'select(.id=="p7") | .gold_answer' "$T/out40.jsonl")"
check_eq "submit: the broker saw one submit of 40" "submit test-normal-1 40" "$(grep '^submit' "$T/normal.events")"
check_eq "submit: the last ack covers seq 39" 39 "$(last_ack "$T/normal.events")"
check_eq "submit: the method flag reached the broker (result method)" best-of-n \
    "$(jq -r .method "$T/out40.jsonl" | sort -u)"

# --quiet: nothing at all on a good run
"$TOA" submit --config "$T/cfg.json" --input "$T/p40.jsonl" --output "$T/quiet40.jsonl" \
    --job test-quiet-1 --method best-of-n --samples 2 --quiet >"$T/quiet.out" 2>"$T/quiet.err"
check_eq "submit --quiet: exit 0" 0 $?
check_eq "submit --quiet: 40 result lines" 40 "$(wc -l <"$T/quiet40.jsonl")"
check "submit --quiet: prints nothing (no submitted line, no summary)" \
    test ! -s "$T/quiet.err" -a ! -s "$T/quiet.out"

# re-running attach on a finished, forgotten job: unknown, file untouched
"$TOA" attach test-normal-1 --output "$T/out40.jsonl" --config "$T/cfg.json" 2>"$T/gone.err"
check_eq "attach to a forgotten job: exit 1" 1 $?
check "attach to a forgotten job says so" grep -q "does not know job test-normal-1" "$T/gone.err"
check_eq "attach to a forgotten job: output untouched" 40 "$(wc -l <"$T/out40.jsonl")"
stop "$BROKER_PID"

# --- duplicates ------------------------------------------------------------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker dup "$PORT" --duplicate
prompts "$T/p20.jsonl" 20
"$TOA" submit --config "$T/cfg.json" --input "$T/p20.jsonl" --output "$T/dup.jsonl" 2>"$T/dup.err"
check_eq "duplicates: exit 0" 0 $?
check_eq "duplicates: every result was sent twice" 40 "$(grep -c '^result' "$T/dup.events")"
check_eq "duplicates: 20 lines" 20 "$(wc -l <"$T/dup.jsonl")"
check_eq "duplicates: each prompt exactly once" yes "$(once "$T/dup.jsonl")"
check "duplicates: the summary counts them" grep -q "20 duplicates skipped" "$T/dup.err"
# results already in the file are not written again by a new submit
"$TOA" submit --config "$T/cfg.json" --input "$T/p20.jsonl" --output "$T/dup.jsonl" 2>"$T/dup2.err"
check_eq "resubmit into a full file: exit 0" 0 $?
check_eq "resubmit into a full file: still 20 lines" 20 "$(wc -l <"$T/dup.jsonl")"
check "resubmit says the file already holds them" grep -q "already holds 20 results" "$T/dup2.err"
stop "$BROKER_PID"

# --- reject ----------------------------------------------------------------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker reject "$PORT" --reject
{ echo '{"id": 1, "instruction": "a"}'; echo; echo '{"id": 2, "instruction": "b"}';
  echo '{"id": 3, "instruction": "c"}'; } >"$T/p-rej.jsonl"
"$TOA" submit --config "$T/cfg.json" --input "$T/p-rej.jsonl" --output "$T/rej.jsonl" 2>"$T/rej.err"
check_eq "reject: exit 2" 2 $?
check "reject: the 1st prompt's line (1)" grep -q "^$T/p-rej.jsonl:1: instruction: must not be empty" "$T/rej.err"
check "reject: the 3rd prompt's line (4, after a blank line)" grep -q "^$T/p-rej.jsonl:4: id: duplicate" "$T/rej.err"
check "reject: the batch error" grep -q "^settings: method.width: too small" "$T/rej.err"
check_eq "reject: nothing written" 0 "$(wc -l <"$T/rej.jsonl")"
stop "$BROKER_PID"

# --- Ctrl-C detaches, attach resumes; status and cancel on the way ------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker stall "$PORT" --stall-after 10
prompts "$T/p30.jsonl" 30
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/stall.jsonl" \
    --job test-stall-1 2>"$T/stall.err" &
CLIENT=$!
wait_lines "$T/stall.jsonl" 10 || not_ok "stall: 10 results arrive"
"$TOA" status --config "$T/cfg.json" >"$T/status.out" 2>"$T/status.err"
check_eq "status: exit 0" 0 $?
check "status: a header" grep -q "^JOB  *STATE  *METHOD  *DONE/TOTAL  *ACTIVE  *GENERATIONS  *FAILED  *WAITING" "$T/status.out"
check "status: the job's row" grep -Eq "^test-stall-1 +running +toa +10/30 +4 +20 +0 +no worker serves model sim-beta" "$T/status.out"
"$TOA" status test-stall-1 --json --config "$T/cfg.json" >"$T/status.json"
check_eq "status --json: done of the job" 10 "$(jq -r '.jobs[0].done' "$T/status.json")"
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/409.jsonl" \
    --job test-stall-1 2>"$T/409.err"
check_eq "submit with a running job's id: exit 2" 2 $?
check "submit with a running job's id: says it exists" grep -q "job test-stall-1 already exists" "$T/409.err"
"$TOA" status nosuchjob --config "$T/cfg.json" 2>"$T/status404.err"
check_eq "status of an unknown job: exit 1" 1 $?
check "status of an unknown job says so" grep -q "unknown job nosuchjob" "$T/status404.err"
kill -INT "$CLIENT"
wait "$CLIENT"
check_eq "Ctrl-C: exit 130" 130 $?
check "Ctrl-C: tells how to resume" grep -q "^detached; resume with: toa attach test-stall-1 --output $T/stall.jsonl" "$T/stall.err"
check_eq "Ctrl-C: the 10 results received are in the file" 10 "$(wc -l <"$T/stall.jsonl")"
toa_wait_until 30 acked "$T/stall.events" 9
check_eq "Ctrl-C: and acknowledged" 9 "$(last_ack "$T/stall.events")"
"$TOA" attach test-stall-1 --output "$T/stall.jsonl" --config "$T/cfg.json" 2>"$T/attach.err"
check_eq "attach: exit 0" 0 $?
check_eq "attach: 30 lines" 30 "$(wc -l <"$T/stall.jsonl")"
check_eq "attach: each prompt exactly once" yes "$(once "$T/stall.jsonl")"
check_eq "attach: the broker saw the attach" 1 "$(grep -c '^attach test-stall-1' "$T/stall.events")"
stop "$BROKER_PID"
# a broker that resends everything (nothing acknowledged): the file stays as it is
broker again "$PORT" --resume test-stall-1 --input "$T/p30.jsonl" --acked 0
"$TOA" attach test-stall-1 --output "$T/stall.jsonl" --config "$T/cfg.json" 2>"$T/again.err"
check_eq "attach again: exit 0" 0 $?
check_eq "attach again: the broker resent all 30" 30 "$(grep -c '^result' "$T/again.events")"
check_eq "attach again: still 30 lines, each once" "30 yes" "$(wc -l <"$T/stall.jsonl") $(once "$T/stall.jsonl")"
check "attach again: the 30 repeats were skipped" grep -q "stored: 0 written to .*(30 duplicates skipped)" "$T/again.err"
stop "$BROKER_PID"

# SIGTERM (a service manager, a fleet going down) detaches too; the job is not
# done, so it is no success: exit 143, and it says what is stored
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker term "$PORT" --stall-after 3
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/term.jsonl" \
    --job test-term-1 2>"$T/term.err" &
CLIENT=$!
wait_lines "$T/term.jsonl" 3 || not_ok "SIGTERM: 3 results arrive"
kill -TERM "$CLIENT"
wait "$CLIENT"
check_eq "SIGTERM: exit 143" 143 $?
check "SIGTERM: says how many results are stored and how to fetch the rest" \
    grep -q "job test-term-1: 3 of its 30 results are stored (3 written to $T/term.jsonl by this run); the other 27 wait in the broker: toa attach test-term-1" "$T/term.err"
check "SIGTERM: tells how to resume" grep -q "^detached; resume with: toa attach test-term-1" "$T/term.err"
check_eq "SIGTERM: the 3 results received are in the file" 3 "$(wc -l <"$T/term.jsonl")"
stop "$BROKER_PID"

# cancel: the attached client learns it and stops
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker cancel "$PORT" --stall-after 5
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/cancel.jsonl" \
    --job test-cancel-1 2>"$T/cancelled.err" &
CLIENT=$!
wait_lines "$T/cancel.jsonl" 5 || not_ok "cancel: 5 results arrive"
"$TOA" cancel test-cancel-1 --config "$T/cfg.json" >"$T/cancel.out" 2>&1
check_eq "cancel: exit 0" 0 $?
check "cancel: says so" grep -q "job test-cancel-1 cancelled" "$T/cancel.out"
wait "$CLIENT"
check_eq "cancel: the attached client exits 1" 1 $?
check "cancel: the attached client says why" grep -q "job test-cancel-1 was cancelled" "$T/cancelled.err"
"$TOA" cancel test-cancel-1 --config "$T/cfg.json" 2>/dev/null
check_eq "cancel of an unknown job: exit 1" 1 $?
stop "$BROKER_PID"

# --- a silent broker: the client says so, re-attaches, finishes -----------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker silent "$PORT" --silent-after 8
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/silent.jsonl" \
    --endpoint "tcp://127.0.0.1:$PORT" 2>"$T/silent.err"
check_eq "silent broker: exit 0 in the end" 0 $?
check "silent broker: the user is told" grep -q "broker silent for [0-9]* s, still waiting" "$T/silent.err"
check "silent broker: the client re-attached" grep -q "^attach " "$T/silent.events"
check_eq "silent broker: 30 lines, each once" "30 yes" "$(wc -l <"$T/silent.jsonl") $(once "$T/silent.jsonl")"
stop "$BROKER_PID"

# --- the broker restarts mid-job -------------------------------------------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker before "$PORT" --interval-ms 40
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/restart.jsonl" \
    --job test-restart-1 2>"$T/restart.err" &
CLIENT=$!
wait_lines "$T/restart.jsonl" 10 || not_ok "restart: 10 results arrive"
kill -KILL "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
ACKED=$(grep '^ack' "$T/before.events" | awk '{print $2 + 1}' | sort -n | tail -1)
broker after "$PORT" --resume test-restart-1 --input "$T/p30.jsonl" --acked "${ACKED:-0}"
wait "$CLIENT"
check_eq "restart: the client finishes with exit 0" 0 $?
check "restart: the client re-attached to the new broker" grep -q "^attach test-restart-1" "$T/after.events"
check_eq "restart: 30 lines, each once" "30 yes" "$(wc -l <"$T/restart.jsonl") $(once "$T/restart.jsonl")"
stop "$BROKER_PID"

# --- a lost broker: the client gives up after --give-up, loudly ------------
PORT=$(toa_free_port)
config "$T/cfg.json" "$PORT"
broker lost "$PORT" --stall-after 5
"$TOA" submit --config "$T/cfg.json" --input "$T/p30.jsonl" --output "$T/lost.jsonl" \
    --job test-lost-1 --give-up 2 2>"$T/lost.err" &
CLIENT=$!
wait_lines "$T/lost.jsonl" 5 || not_ok "lost broker: 5 results arrive"
sleep 0.5
kill -KILL "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
wait "$CLIENT"
check_eq "lost broker: exit 3 after --give-up" 3 $?
check "lost broker: says it gives up" grep -q "broker silent for [0-9]* s: giving up" "$T/lost.err"
check "lost broker: says what is stored and how to fetch the rest" \
    grep -q "job test-lost-1: 5 of its 30 results are stored .*toa attach test-lost-1 --output $T/lost.jsonl" "$T/lost.err"

# --- no broker at all ----------------------------------------------------
DEAD=$(toa_free_port)
"$TOA" submit --config "$T/cfg.json" --input "$T/p20.jsonl" --output "$T/dead.jsonl" \
    --endpoint "tcp://127.0.0.1:$DEAD" --timeout 1 2>"$T/dead.err"
check_eq "no broker: submit exits 3" 3 $?
check "no broker: says where it looked" grep -q "no answer from broker at tcp://127.0.0.1:$DEAD" "$T/dead.err"
"$TOA" status --endpoint "tcp://127.0.0.1:$DEAD" --timeout 1 2>/dev/null
check_eq "no broker: status exits 3" 3 $?
"$TOA" attach some-job --output "$T/dead.jsonl" --endpoint "tcp://127.0.0.1:$DEAD" --timeout 1 2>/dev/null
check_eq "no broker: attach exits 3" 3 $?

# --- export and tree on a real output file --------------------------------
"$TOA" export --input "$T/out40.jsonl" --sft "$T/sft.jsonl" --dpo "$T/dpo.jsonl" 2>"$T/export.err"
check_eq "export: exit 0" 0 $?
check_eq "export: 40 SFT and 40 DPO lines" "40 40" "$(wc -l <"$T/sft.jsonl") $(wc -l <"$T/dpo.jsonl")"
check_eq "export: DPO chosen is the best response" "answer 6, better" \
    "$(jq -r 'select(.prompt[0].content=="What is 7 + 7?") | .chosen[0].content' "$T/dpo.jsonl")"
"$TOA" export --input "$T/out40.jsonl" --dpo "$T/dpo2.jsonl" --min-margin 0.5 2>/dev/null
check_eq "export: a margin above the gap drops every pair" 0 "$(wc -l <"$T/dpo2.jsonl")"
"$TOA" tree --input "$T/out40.jsonl" --id p7 >"$T/tree.out"
check_eq "tree: exit 0" 0 $?
check "tree: lists the generations of a result without tree" grep -q "^#1 sim-beta depth 1  raw 0.750  (best)" "$T/tree.out"
"$TOA" tree --input "$T/out40.jsonl" --id 999 2>/dev/null
check_eq "tree: unknown id exits 1" 1 $?

toa_done
