#!/usr/bin/env bash
# test_broker.sh - the real toa-broker with a real redis-server, driven over
# real ZeroMQ by tests/harness/broker_peers (a client, and a worker + scorer
# answering with deterministic texts and rewards): best-of-n and TOA jobs to
# the end, rejected batches that leave no trace in Redis (a chunk out of
# order, a client gone quiet mid-submission too), credit never
# exceeded, a model no worker serves, cancel, a late answer to a re-issued
# task, garbage on both sockets, permanent and transient task failures,
# kill -9 of the broker mid-job, a Redis restart mid-job, SIGTERM; a model
# whose tasks always fail is marked down: TOA picks the other models, a
# best-of-n job records the failures.
source "$(dirname "$0")/../lib.sh"

BROKER=$TOA_BIN/toa-broker
PEERS=$(toa_harness broker_peers)
toa_require "$BROKER" "$PEERS"
T=$TOA_TMP

toa_start_redis yes || { not_ok "redis-server starts"; toa_done; }
CPORT=$(toa_free_port)
WPORT=$(toa_free_port)
CLIENT_EP=tcp://127.0.0.1:$CPORT
WORKER_EP=tcp://127.0.0.1:$WPORT
rcli () { redis-cli -p "$REDIS_PORT" "$@"; }

# start_broker NAME: a broker with a 200 ms heartbeat and 1.5 s leases; a
# model is down after 3 failures in a row for 1 s (doubling up to 4 s), and
# best-of-n tasks of a model down for 1.5 s fail for good; a submission in
# chunks whose client sends no chunk for 4 s is dropped.
# (Started here rather than with toa_start so that `wait` gets its status.)
start_broker () {
    "$BROKER" --redis "$REDIS_URL" --client-endpoint "$CLIENT_EP" \
        --worker-endpoint "$WORKER_EP" --set broker.heartbeat_ms=200 \
        --set broker.task_timeout_ms=1500 --max-active 4 --model-down-after 3 \
        --model-down-ms 1000 --model-down-max-ms 4000 --model-down-fail-ms 1500 \
        --submit-idle-ms 4000 >"$T/$1.log" 2>&1 &
    BROKER_PID=$!
    TOA_PIDS+=("$BROKER_PID")
    toa_wait_port "$CPORT" 30 && toa_wait_port "$WPORT" 30
}

# settings FILE METHOD MODELS SAMPLES [EXTRA]: job settings JSON.
settings () {
    echo "{\"models\": $3, \"method\": {\"name\": \"$2\", \"samples\": $4 ${5:-}}," \
         "\"sampling\": {\"seed\": 11}," \
         "\"reward\": {\"backend\": \"fake\", \"reference_field\": \"gold_answer\"}}" >"$1"
}

# prompts FILE N: N prompts, ids p1 2 p3 ..., half with a gold answer.
prompts () {
    : >"$1"
    for i in $(seq "$2"); do
        if [ $((i % 2)) -eq 1 ]; then
            echo "{\"id\": \"p$i\", \"instruction\": \"What is $i + $i?\", \"gold_answer\": $((2 * i))}" >>"$1"
        else
            echo "{\"id\": $i, \"messages\": [{\"role\": \"user\", \"content\": \"Say $i\"}]}" >>"$1"
        fi
    done
}

# client NAME JOB METHOD SETTINGS PROMPTS [options]: runs the client to the end.
client () {
    local name=$1 job=$2 method=$3 settings_file=$4 prompts_file=$5
    shift 5
    "$PEERS" client --endpoint "$CLIENT_EP" --job "$job" --method "$method" \
        --settings "$settings_file" --prompts "$prompts_file" --out "$T/$name.jsonl" "$@" \
        >"$T/$name.events" 2>&1
}

# check_results NAME N RESPONSES [tree]: N result lines, unique ids, each with
# RESPONSES scored responses and every result field.
check_results () {
    python3 - "$T/$1.jsonl" "$2" "$3" "${4:-}" <<'EOF'
import json, sys
path, n, responses, tree = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = [json.loads(l) for l in open(path)]
assert len(lines) == n, f"{len(lines)} lines, expected {n}"
ids = [json.dumps(l["id"]) for l in lines]
assert len(set(ids)) == n, f"duplicate ids {ids}"
for l in lines:
    for key in ("responses", "actions", "rewards", "n_prompt_tokens", "n_completion_tokens",
                "total_tokens", "best_response", "best_model", "best_reward", "method"):
        assert key in l, f"{key} missing"
    assert len(l["responses"]) == responses, f"{len(l['responses'])} responses"
    assert all(isinstance(r, float) or isinstance(r, int) for r in l["rewards"]), l["rewards"]
    assert all(isinstance(t, str) for t in l["responses"])
    assert len(l["actions"]) == responses and len(l["total_tokens"]) == responses
    assert l["best_reward"] == max(l["rewards"])
    assert l["best_response"] == l["responses"][l["rewards"].index(max(l["rewards"]))]
    assert "failures" not in l
    assert ("instruction" in l) or ("messages" in l)
    if tree:
        assert len([x for x in l["tree"]["nodes"] if x["kind"] == "response"]) == responses
        assert any(a["depth"] > 0 for a in l["actions"]), "no refinement"
EOF
}

# no_keys JOB: nothing of the job is left in Redis.
no_keys () {
    [ "$(rcli --scan --pattern "*$1*" | wc -l)" -eq 0 ] && [ "$(rcli sismember toa:jobs "$1")" = 0 ]
}
# retired JOB: a done job keeps only its hash, state "done", with an expiry.
retired () {
    [ "$(rcli --scan --pattern "*$1*")" = "toa:job:{$1}" ] && [ "$(rcli sismember toa:jobs "$1")" = 0 ] \
        && [ "$(rcli hget "toa:job:{$1}" state)" = done ] && [ "$(rcli ttl "toa:job:{$1}")" -gt 0 ]
}

# event_count NAME EVENT: lines of that event in $T/NAME.events (or .out).
event_count () { grep -c "\"event\":\"$2\"" "$T/$1" 2>/dev/null; }
# readies_at_least N: the first broker has logged N peers' READY.
readies_at_least () { [ "$(grep -c ' ready: serves' "$T/broker1.log")" -ge "$1" ]; }

start_broker broker1 || { not_ok "broker starts and listens"; toa_done; }
ok "broker starts and listens"
WORKER_PID=$(toa_start worker "$PEERS" worker --endpoint "$WORKER_EP" --models m-a,m-b,m-bad \
    --backends fake --credit 1 --delay-ms 15 --heartbeat-ms 200 --broker-silence-ms 1000 \
    --fail-model m-bad --run-ms 600000)

# --- best-of-n and TOA to the end ------------------------------------------
prompts "$T/p3.jsonl" 3
settings "$T/bon.json" best-of-n '["m-a", "m-b"]' 2
client bon job-bon best-of-n "$T/bon.json" "$T/p3.jsonl" --timeout-ms 60000
check_eq "best-of-n job runs to the end" 0 $?
check "best-of-n job was accepted with 3 prompts" grep -q '"event":"accept","n_prompts":3' "$T/bon.events"
check "best-of-n: 3 results, 4 scored responses each, every field" check_results bon 3 4
check "best-of-n: after the acks Redis holds only the done job's hash (with an expiry)" retired job-bon

settings "$T/toa.json" toa '["m-a", "m-b"]' 2 ', "width": 2'
client toa job-toa toa "$T/toa.json" "$T/p3.jsonl" --timeout-ms 60000
check_eq "toa job runs to the end" 0 $?
check "toa: 3 results, 4 scored responses each, a tree, refinements" check_results toa 3 4 tree
check "toa: after the acks Redis holds only the done job's hash (with an expiry)" retired job-toa
check "score tasks carry the reference when the prompt has one" \
    grep -q '"event":"score".*"reference":true' "$T/worker.log"
check "score tasks carry nil when the prompt has no reference" \
    grep -q '"event":"score".*"reference":false' "$T/worker.log"
check_eq "a worker with credit 1 never held 2 tasks" 0 "$(event_count worker.log violation)"
check "the worker is still running" kill -0 "$WORKER_PID"

# --- task failures ------------------------------------------------------------
settings "$T/fail.json" best-of-n '["m-a", "m-bad"]' 2
client fail job-fail best-of-n "$T/fail.json" "$T/p3.jsonl" --timeout-ms 60000
check_eq "a job with a model that always fails still runs to the end" 0 $?
check "permanent failures are in each result (index, model, reason), rewards null" \
    python3 - "$T/fail.jsonl" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 3
for l in lines:
    assert len(l["responses"]) == 4 and len(l["rewards"]) == 4
    bad = [i for i, a in enumerate(l["actions"]) if a["model"] == "m-bad"]
    assert len(bad) == 2 and all(l["rewards"][i] is None and l["responses"][i] is None for i in bad)
    assert sorted(f["index"] for f in l["failures"]) == bad
    assert all(f["model"] == "m-bad" and "refuses" in f["reason"] for f in l["failures"])
    assert l["best_model"] == "m-a"
EOF
check "the job's failed count says 6" grep -q '"failed":6' "$T/fail.events"
RETRY_PID=$(toa_start retry "$PEERS" worker --endpoint "$WORKER_EP" --models m-retry --credit 1 \
    --fail-first-transient 2 --heartbeat-ms 200 --broker-silence-ms 5000 --run-ms 600000)
settings "$T/retry.json" best-of-n '["m-retry"]' 2
prompts "$T/p1.jsonl" 1
client retry job-retry best-of-n "$T/retry.json" "$T/p1.jsonl" --timeout-ms 60000
check_eq "transient failures are retried until the job is done" 0 $?
check "retry: one result, 2 responses, no failures" check_results retry 1 2
check_eq "retry: the worker saw 4 generation tasks (2 failed, 2 answered)" 4 \
    "$(event_count retry.log gen)"
kill "$RETRY_PID" 2>/dev/null

# --- rejected batches ---------------------------------------------------------
cat >"$T/bad.jsonl" <<'EOF'
{"id": 1, "instruction": "fine"}
{"id": 1, "instruction": "duplicate id"}
this is not json

{"instruction": "no id"}
{"id": 5, "note": "neither instruction nor messages"}
EOF
client bad job-bad best-of-n "$T/bon.json" "$T/bad.jsonl" --timeout-ms 60000
check_eq "a bad batch is rejected" 3 $?
for line in 2 3 5 6; do
    check "the reject names line $line" grep -q "\"line\":$line," "$T/bad.events"
done
check "the reject does not name the good line" bash -c "! grep -q '\"line\":1,' '$T/bad.events'"
check "the reject says duplicate" grep -q 'duplicate' "$T/bad.events"
check "a rejected batch leaves no trace in Redis" no_keys job-bad
: >"$T/empty.jsonl"
client empty job-empty best-of-n "$T/bon.json" "$T/empty.jsonl" --timeout-ms 60000
check_eq "an empty batch is rejected" 3 $?
check "the empty batch reject is about line 0" grep -q '"line":0,' "$T/empty.events"
settings "$T/narrow.json" toa '["m-a", "m-b"]' 2 ', "width": 1'
client narrow job-narrow toa "$T/narrow.json" "$T/p3.jsonl" --timeout-ms 60000
check_eq "toa with width < models is rejected" 3 $?
check "the settings reject names method.width on line 0" grep -q '"line":0,"reason":"settings: method.width' "$T/narrow.events"
check "rejected settings leave no trace in Redis" no_keys job-narrow

# a batch streamed in chunks (submit-begin, submit-chunk x N, submit-end)
client chunked job-chunked best-of-n "$T/bon.json" "$T/p3.jsonl" --chunk 1 --timeout-ms 60000
check_eq "a batch in chunks of one line runs to the end" 0 $?
check "chunks: 3 results, 4 scored responses each" check_results chunked 3 4
# a duplicate id in a later chunk: found through Redis, the whole batch rejected
printf '%s\n' '{"id": 1, "instruction": "a"}' '{"id": 2, "instruction": "b"}' \
    '{"id": "1", "instruction": "c"}' >"$T/dup-chunks.jsonl"
client dupchunks job-dupchunks best-of-n "$T/bon.json" "$T/dup-chunks.jsonl" --chunk 1 --timeout-ms 60000
check_eq "a duplicate id across chunks: rejected" 3 $?
check "the reject names line 3 and the first line of the id" \
    grep -q '"line":3,"reason":"id: duplicate id 1 (first on line 1)"' "$T/dupchunks.events"
check "a rejected chunked batch leaves no trace in Redis" no_keys job-dupchunks
# a chunk out of order (2 before 1): error 400, the submission is dropped
client swap job-swap best-of-n "$T/bon.json" "$T/p3.jsonl" --chunk 1 --chunk-swap --timeout-ms 60000
check_eq "a chunk out of order: an error (exit 4)" 4 $?
check "... 400, saying which chunk came and which was expected" \
    bash -c "grep '\"event\":\"error\"' '$T/swap.events' | head -1 | grep -q '\"code\":400' \
             && grep -q 'chunk 2 out of order (expected 1); the submission is dropped' '$T/swap.events'"
check "a submission dropped for a chunk out of order leaves no trace in Redis" no_keys job-swap
# a client gone quiet mid-submission: one chunk, no submit-end; the broker
# drops what it staged once no chunk came for 4 s (--submit-idle-ms)
client quiet job-quiet best-of-n "$T/bon.json" "$T/p3.jsonl" --chunk 1 --chunk-stop 1 \
    --timeout-ms 60000 --reattach-ms 600000 &
QUIET_CLIENT=$!
staged () { [ "$(rcli hget 'toa:job:{job-quiet}' state)" = loading ]; }
check "a half-submitted batch is staged in Redis (state loading)" toa_wait_until 30 staged
check "... and dropped once its client has sent no chunk for 4 s" toa_wait_log "$T/broker1.log" \
    'job job-quiet: its client sent nothing for 4\.0 s mid-submission; dropped' 60
check "a dropped submission leaves no trace in Redis" no_keys job-quiet
kill "$QUIET_CLIENT" 2>/dev/null; wait "$QUIET_CLIENT" 2>/dev/null

# --- a model no worker serves; cancel -----------------------------------------
settings "$T/none.json" best-of-n '["m-none"]' 1
client none job-none best-of-n "$T/none.json" "$T/p3.jsonl" --timeout-ms 1500
none_waits () {
    "$PEERS" status --endpoint "$CLIENT_EP" --job job-none >"$T/none-status.events"
    grep -q '"waiting":"no worker serves model m-none"' "$T/none-status.events"
}
check "status says no worker serves the model" toa_wait_until 30 none_waits
check "the job waits (nothing done)" grep -q '"done":0' "$T/none-status.events"
client dup job-none best-of-n "$T/none.json" "$T/p3.jsonl" --timeout-ms 60000
check_eq "a second submit with the same job id gets an error" 4 $?
check "that error is 409" grep -q '"code":409' "$T/dup.events"
"$PEERS" cancel --endpoint "$CLIENT_EP" --job job-none >"$T/cancel.events"
check "cancel answers status cancelled" grep -q '"state":"cancelled"' "$T/cancel.events"
check "a cancelled job leaves no trace in Redis" no_keys job-none
"$PEERS" status --endpoint "$CLIENT_EP" --job job-none >"$T/gone.events"
check "a cancelled job is unknown afterwards (404)" grep -q '"code":404' "$T/gone.events"

# --- garbage on the wire ---------------------------------------------------------
"$PEERS" garbage --endpoint "$WORKER_EP" >"$T/garbage-worker.events"
check "a peer that sends garbage is told to disconnect" \
    grep -q '"event":"disconnect","reason":"bad message' "$T/garbage-worker.events"
"$PEERS" garbage --endpoint "$CLIENT_EP" >"$T/garbage-client.events"
check "a client that sends garbage gets error 400" grep -q '"code":400' "$T/garbage-client.events"
check "the broker is still running after garbage" kill -0 "$BROKER_PID"

# --- a late answer to a re-issued task is dropped -------------------------------
# each worker's READY is waited for in the broker's log (not the worker's):
# the slow one registers first
readies=$(grep -c ' ready: serves' "$T/broker1.log")
SLOW_PID=$(toa_start slow "$PEERS" worker --endpoint "$WORKER_EP" --models m-late --credit 1 \
    --hold-first-ms 2500 --heartbeat-ms 200 --broker-silence-ms 5000 --run-ms 600000)
toa_wait_until 30 readies_at_least $((readies + 1)) || not_ok "the slow worker registers"
FAST_PID=$(toa_start fast "$PEERS" worker --endpoint "$WORKER_EP" --models m-late --credit 1 \
    --heartbeat-ms 200 --broker-silence-ms 5000 --run-ms 600000)
toa_wait_until 30 readies_at_least $((readies + 2)) || not_ok "the fast worker registers"
settings "$T/late.json" best-of-n '["m-late"]' 2
client late job-late best-of-n "$T/late.json" "$T/p1.jsonl" --timeout-ms 60000
check_eq "the job with a held task runs to the end" 0 $?
check "late: one result with 2 responses" check_results late 1 2
check "the slow worker answered late" toa_wait_log "$T/slow.log" '"event":"late-answer"'
check "the broker dropped the late answer and said so" toa_wait_log "$T/broker1.log" 'dropped a late answer'
check "the re-issued task went to the other worker" grep -q '"event":"gen"' "$T/fast.log"
check_eq "the slow worker got nothing while it held its task" 0 "$(event_count slow.log violation)"
kill "$SLOW_PID" "$FAST_PID" 2>/dev/null

# --- a model that is down ------------------------------------------------------
# m-down fails every task transiently with no HTTP status (a server that
# refuses connections). TOA: the model goes down, its plans are withdrawn and
# the search picks m-h1/m-h2, so every prompt gets its full budget; status
# says the model is down while it is.
SICK_PID=$(toa_start sick "$PEERS" worker --endpoint "$WORKER_EP" --models m-h1,m-h2,m-down \
    --backends fake --credit 2 --delay-ms 100 --fail-model-transient m-down \
    --heartbeat-ms 200 --broker-silence-ms 5000 --run-ms 600000)
settings "$T/health.json" toa '["m-h1", "m-h2", "m-down"]' 2 ', "width": 3'
client health job-health toa "$T/health.json" "$T/p3.jsonl" --timeout-ms 60000 &
HEALTH_CLIENT=$!
: >"$T/health-status.events"
while kill -0 "$HEALTH_CLIENT" 2>/dev/null; do
    "$PEERS" status --endpoint "$CLIENT_EP" --job job-health >>"$T/health-status.events" 2>&1
    sleep 0.1
done
wait "$HEALTH_CLIENT"
check_eq "toa with a model that is down runs to the end" 0 $?
check "toa, model down: 3 results, the full budget (6 scored responses) each, a tree" \
    check_results health 3 6 tree
check "toa, model down: the other models made every response" \
    python3 - "$T/health.jsonl" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
models = [a["model"] for l in lines for a in l["actions"]]
assert len(models) == 18 and "m-down" not in models, models
assert {"m-h1", "m-h2"} <= set(models), models
EOF
check "status said the model was down while it was" \
    grep -Eq '"waiting":"model m-down is down \([0-9]+ failures in a row\), retrying at [0-9:]+Z' \
    "$T/health-status.events"
check "the broker logged the model going down" grep -q 'WARN model m-down is down' "$T/broker1.log"
check "m-down was tried, and failed" grep -q '"model":"m-down"' "$T/sick.log"

# best-of-n cannot pick another model: m-down's tasks wait while it is down,
# then fail for good; each result records them and the job ends.
settings "$T/bon-down.json" best-of-n '["m-h1", "m-down"]' 2
client bondown job-bondown best-of-n "$T/bon-down.json" "$T/p3.jsonl" --timeout-ms 60000
check_eq "best-of-n with a model that is down runs to the end" 0 $?
check "best-of-n, model down: its responses are recorded failures, the others scored" \
    python3 - "$T/bondown.jsonl" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 3
down = 0
for l in lines:
    assert len(l["responses"]) == 4
    bad = [i for i, a in enumerate(l["actions"]) if a["model"] == "m-down"]
    assert len(bad) == 2, l["actions"]
    assert all(l["rewards"][i] is None for i in bad)
    assert sorted(f["index"] for f in l["failures"]) == bad
    for f in l["failures"]:
        assert "m-down is down" in f["reason"] or "retries exhausted" in f["reason"], f
        down += "m-down is down" in f["reason"]
    assert all(l["rewards"][i] is not None for i in range(4) if i not in bad)
    assert l["best_model"] == "m-h1"
assert down > 0, "no failure says the model is down"
EOF
check "the broker tried the model again after its down period (and doubled it)" \
    grep -Eq 'model m-down: its down period is over|WARN model m-down is down .*\(2 s\)' \
    "$T/broker1.log"
kill "$SICK_PID" 2>/dev/null

# --- a backlog of several models is dispatched in turn ------------------------
# Tasks of m-x and m-y wait (nobody serves them); then one worker with credit 4
# serving both connects: its credit is spread over both models, not spent on
# the first queue's backlog.
settings "$T/mix.json" best-of-n '["m-x", "m-y"]' 2
client mix job-mix best-of-n "$T/mix.json" "$T/p3.jsonl" --timeout-ms 60000 &
MIX_CLIENT=$!
mix_waits () {
    "$PEERS" status --endpoint "$CLIENT_EP" --job job-mix 2>/dev/null | grep -q '"waiting":"no worker serves'
}
toa_wait_until 30 mix_waits || not_ok "the job of two unserved models waits"
MIX_PID=$(toa_start mix "$PEERS" worker --endpoint "$WORKER_EP" --models m-x,m-y --credit 4 \
    --delay-ms 300 --heartbeat-ms 200 --broker-silence-ms 5000 --run-ms 600000)
wait "$MIX_CLIENT"
check_eq "the job of two waiting models runs to the end" 0 $?
first_models=$(grep '"event":"gen"' "$T/mix.log" | head -4 | grep -o '"model":"m-[xy]"' | sort -u | wc -l)
check_eq "the first 4 tasks sent to a worker with credit 4 cover both models" 2 "$first_models"
kill "$MIX_PID" 2>/dev/null

# --- SIGTERM: clean stop --------------------------------------------------------
kill -TERM "$BROKER_PID"
wait "$BROKER_PID"
check_eq "SIGTERM: the broker exits 0" 0 $?
check "SIGTERM: the broker says it stopped" grep -q 'INFO stopped' "$T/broker1.log"
check "the final stats line counts the dropped answer" grep -Eq 'stats: .*dropped_results=[1-9]' "$T/broker1.log"
check "the final stats line counts the bad messages" grep -Eq 'stats: .*bad_messages=[2-9]' "$T/broker1.log"
check "the final stats line counts withdrawn plans" grep -Eq 'stats: .*withdrawn=[1-9]' "$T/broker1.log"
check "peers were told to disconnect" grep -q 'broker shutting down' "$T/worker.log"

# --- kill -9 mid-job: the next broker resumes from Redis ------------------------
start_broker broker2 || not_ok "broker restarts"
settings "$T/crash.json" toa '["m-a", "m-b"]' 3 ', "width": 2'
prompts "$T/p4.jsonl" 4
kill "$WORKER_PID" 2>/dev/null
WORKER_PID=$(toa_start worker2 "$PEERS" worker --endpoint "$WORKER_EP" --models m-a,m-b \
    --backends fake --credit 2 --delay-ms 200 --heartbeat-ms 200 --broker-silence-ms 1000 \
    --run-ms 600000)
sleep 0.3
client crash job-crash toa "$T/crash.json" "$T/p4.jsonl" --timeout-ms 120000 --reattach-ms 1000 &
CLIENT_PID=$!
for _ in $(seq 100); do
    [ "$(event_count crash.events accept)" -ge 1 ] && break
    sleep 0.1
done
sleep 1
{ kill -9 "$BROKER_PID"; wait "$BROKER_PID"; } 2>/dev/null
done_before=$(rcli hget 'toa:job:{job-crash}' done)
check "the job was mid-way when the broker was killed (done: $done_before of 4)" \
    test "${done_before:-4}" -lt 4
sleep 0.5
start_broker broker3 || not_ok "broker starts again after kill -9"
wait "$CLIENT_PID"
check_eq "after kill -9 and a restart the job runs to the end" 0 $?
check "the new broker reloaded the job from Redis" grep -q 'job job-crash: reloaded' "$T/broker3.log"
check "kill -9: 4 results, each prompt exactly once, 6 responses each" check_results crash 4 6 tree
check "kill -9: after the acks Redis holds only the done job's hash" retired job-crash

# --- Redis restart mid-job -------------------------------------------------------
client redis job-redis toa "$T/crash.json" "$T/p4.jsonl" --timeout-ms 120000 --reattach-ms 1500 &
CLIENT_PID=$!
for _ in $(seq 100); do
    [ "$(event_count redis.events accept)" -ge 1 ] && break
    sleep 0.1
done
sleep 1
rcli shutdown >/dev/null 2>&1   # writes the AOF, then exits
sleep 1
REDIS_PID=$(toa_start redis2 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --dir "$TOA_TMP/redis" --save '' --appendonly yes --daemonize no)
toa_wait_port "$REDIS_PORT" 30
wait "$CLIENT_PID"
check_eq "after a Redis restart the job runs to the end" 0 $?
check "the broker noticed Redis was gone" grep -q 'dispatching stops' "$T/broker3.log"
check "the broker rebuilt its state from Redis" grep -q 'redis: connected; 1 jobs' "$T/broker3.log"
check "redis restart: 4 results, each prompt once, 6 responses each" check_results redis 4 6 tree
check "the broker is still running" kill -0 "$BROKER_PID"
check_eq "no credit violation over the whole run" 0 "$(cat "$T"/worker*.log | grep -c '"event":"violation"')"
toa_done
