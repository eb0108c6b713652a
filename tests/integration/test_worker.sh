#!/usr/bin/env bash
# test_worker.sh - toa-worker against real servers: a broker harness over
# real ZeroMQ (tests/harness/broker_harness.c), a scripted OpenAI-compatible
# server for exotic statuses (tests/integration/worker/script_server.py) and
# toa-simllm for throughput. Covers: every retry rule, both error shapes,
# n > 1 splitting, replicas and cool-down, concurrency limits, reconnection,
# bad broker messages, SIGTERM drain, config errors, no API key in logs.
source "$(dirname "$0")/../lib.sh"

HERE=$(cd "$(dirname "$0")/worker" && pwd)
WORKER=$TOA_BIN/toa-worker
SIMLLM=$TOA_BIN/toa-simllm
HARNESS=$(toa_harness broker_harness)
toa_require "$WORKER" "$HARNESS"

export TOA_TEST_KEY=sk-test-SECRET-0123456789
FAST="--retry-base-ms 50 --retry-max-ms 200 --reconnect-min-ms 100 --reconnect-max-ms 400"
P1=$(toa_free_port); P2=$(toa_free_port); DEAD=$(toa_free_port)
toa_start script python3 "$HERE/script_server.py" "$P1" "$P2" >/dev/null
toa_wait_port "$P1" 30 && toa_wait_port "$P2" 30 || { not_ok "script server starts"; toa_done; }
U1=http://127.0.0.1:$P1/v1
U2=http://127.0.0.1:$P2/v1

# model NAME MODEL_ID [extra JSON members]: one entry of "models".
model () { echo "{\"name\":\"$1\",\"model_id\":\"$2\",\"base_url\":\"$U1\"${3:+,$3}}"; }

# config FILE ENDPOINT MODELS_JSON [SIMLLM_JSON]
config () {
    local simllm=""
    [ -z "${4:-}" ] || simllm=", \"simllm\": $4"
    cat >"$1" <<EOF
{"broker": {"worker_endpoint": "$2", "heartbeat_ms": 200},
 "worker": {"max_tasks": 32, "heartbeat_ms": 200},
 "models": [$3]$simllm}
EOF
}

# task MODEL CONTENT [extra JSON members]: one line of a harness task file.
task () { echo "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"$2\"}]${3:+,$3}}"; }

# run NAME CONFIG TASKS [worker options]: the harness hands out TASKS to one
# worker, and once all are answered sends it SIGTERM and waits for its
# DISCONNECT. Events in $TOA_TMP/NAME.events, the worker's log in
# $TOA_TMP/NAME-worker.log, its exit status in WORKER_STATUS.
run () {
    local name=$1 cfg=$2 tasks=$3; shift 3
    local endpoint; endpoint=$(jq -r .broker.worker_endpoint "$cfg")
    "$WORKER" --config "$cfg" $FAST "$@" 2>"$TOA_TMP/$name-worker.log" &
    local worker=$!
    "$HARNESS" --endpoint "$endpoint" --tasks "$tasks" --heartbeat-ms 200 --stop-pid "$worker" \
        --run-ms 60000 >"$TOA_TMP/$name.events" 2>"$TOA_TMP/$name-harness.log" &
    local harness=$!
    TOA_PIDS+=("$harness" "$worker")
    wait "$harness"
    kill -TERM "$worker" 2>/dev/null
    wait "$worker"; WORKER_STATUS=$?
}

# answer EVENTS TASK JQ: JQ applied to the result or failure of task TASK.
answer () { jq -r "select((.event==\"result\" or .event==\"failure\") and .task==$2) | $3" "$1"; }
# fetch_stats: the script server's record of requests, into STATS.
fetch_stats () { STATS=$(curl -s "http://127.0.0.1:$P1/stats"); }
# requests MODEL_ID: requests in STATS for MODEL_ID.
requests () { echo "$STATS" | jq "[.requests[] | select(.model==\"$1\")] | length"; }
reset_script () { curl -s -X POST "http://127.0.0.1:$P1/stats/reset" >/dev/null; }

# ------------------------------------------------------------ config errors
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/base.json" "$EP" "$(model ok seq:ok)"
"$WORKER" --config "$TOA_TMP/base.json" --model nope --max-tasks zero >"$TOA_TMP/bad.out" 2>&1
check_eq "bad arguments exit with status 2" 2 $?
check "each problem printed on its own line" \
    grep -q "^--max-tasks: 'zero' is not a whole number" "$TOA_TMP/bad.out"
"$WORKER" --config "$TOA_TMP/base.json" --model nope >"$TOA_TMP/bad.out" 2>&1
check_eq "an unknown --model exits with status 2" 2 $?
check "an unknown --model is named" grep -q "model nope: no such model" "$TOA_TMP/bad.out"
echo '{"models": [{"name": "x", "base_url": "ftp://x"}], "worker": {"max_tasks": 0}}' >"$TOA_TMP/broken.json"
"$WORKER" --config "$TOA_TMP/broken.json" >"$TOA_TMP/bad.out" 2>&1
check_eq "a bad config file exits with status 2" 2 $?
check "a bad config file reports every problem" \
    test "$(grep -c broken.json "$TOA_TMP/bad.out")" -ge 2
"$WORKER" --help >"$TOA_TMP/help.out" 2>&1
check "--help prints the usage" grep -q "Usage: toa-worker --config FILE" "$TOA_TMP/help.out"

# ------------------------------------------------------------ retry rules and error shapes
EP=tcp://127.0.0.1:$(toa_free_port)
MODELS="$(model ok seq:ok '"api_key_env":"TOA_TEST_KEY","stop":["###"]'),
 $(model e500 seq:500,ok), $(model e408 seq:408,ok), $(model e409 seq:409,ok),
 $(model e503 seq:503,503,ok), $(model ra1 seq:ra1,ok), $(model rams seq:rams300,ok),
 $(model radate seq:radate,ok), $(model c400 seq:flat400), $(model c401 seq:401),
 $(model c403 seq:403), $(model c404 seq:404), $(model quota seq:quota),
 $(model hang seq:hang '"timeout_ms":300,"max_retries":1'),
 $(model malformed seq:malformed '"max_retries":1'), $(model nochoices seq:nochoices '"max_retries":0'),
 $(model malok seq:malformed,ok), $(model exhaust seq:500 '"max_retries":2'),
 $(model rejn seq:rejectn), $(model ign seq:ignoren), $(model okn seq:ok)"
config "$TOA_TMP/rules.json" "$EP" "$MODELS"
{
    task ok hello '"seed":5,"stop":["END"]'              # 1
    task e500 a; task e408 b; task e409 c; task e503 d   # 2-5
    task ra1 e; task rams f; task radate g               # 6-8
    task c400 h; task c401 i; task c403 j; task c404 k   # 9-12
    task quota l; task hang m; task malformed n          # 13-15
    task nochoices o; task malok p; task exhaust q       # 16-18
    task rejn many '"n":3,"seed":10'                     # 19
    task ign some '"n":2,"seed":20'                      # 20
    task okn three '"n":3'                               # 21
} >"$TOA_TMP/rules.jsonl"
run rules "$TOA_TMP/rules.json" "$TOA_TMP/rules.jsonl"
EV=$TOA_TMP/rules.events
check_eq "every task is answered" true "$(jq -r 'select(.event=="done") | .all_answered' "$EV")"
check_eq "worker exits 0 on SIGTERM" 0 "$WORKER_STATUS"
check "the worker says DISCONNECT when it stops" grep -q '"event":"disconnect"' "$EV"
check_eq "a plain task gets the server's text" "seq:ok|5|0|hello" "$(answer "$EV" 1 '.outputs[0].text')"
check_eq "usage is passed on" "10 7 stop" \
    "$(answer "$EV" 1 '"\(.outputs[0].prompt_tokens) \(.outputs[0].completion_tokens) \(.outputs[0].finish_reason)"')"
fetch_stats
check_eq "the API key is sent as a bearer token" true \
    "$(echo "$STATS" | jq '[.requests[] | select(.model=="seq:ok" and .prompt=="hello")][0].authorized')"
check_eq "stop strings: the model's and the task's" '["###","END"]' \
    "$(echo "$STATS" | jq -c '[.requests[] | select(.model=="seq:ok" and .prompt=="hello")][0].stop')"
check "the API key never reaches the log" bash -c "! grep -q SECRET '$TOA_TMP/rules-worker.log'"
for case in "2 seq:500,ok 2 500" "3 seq:408,ok 2 408" "4 seq:409,ok 2 409" "5 seq:503,503,ok 3 503"; do
    set -- $case
    check_eq "HTTP $4 is retried, then succeeds" "result $3" \
        "$(answer "$EV" "$1" .event) $(requests "$2")"
done
check_eq "429 with Retry-After is retried" "result 2" "$(answer "$EV" 6 .event) $(requests seq:ra1,ok)"
check "Retry-After: 1 is honoured (latency >= 1000 ms)" test "$(answer "$EV" 6 .latency_ms)" -ge 1000
check "retry-after-ms: 300 is honoured (latency >= 300 ms)" test "$(answer "$EV" 7 .latency_ms)" -ge 300
check "Retry-After as an HTTP-date is honoured (latency >= 900 ms)" test "$(answer "$EV" 8 .latency_ms)" -ge 900
check_eq "400 is not retried: permanent failure with the server's message (vLLM shape)" \
    "permanent 400 1 true" \
    "$(answer "$EV" 9 '"\(.class) \(.http_status)"') $(requests seq:flat400) $(answer "$EV" 9 '.reason | contains("maximum context length")')"
for case in "10 401" "11 403" "12 404"; do
    set -- $case
    check_eq "$2 is not retried: permanent failure" "permanent $2 1 true" \
        "$(answer "$EV" "$1" '"\(.class) \(.http_status)"') $(requests "seq:$2") $(answer "$EV" "$1" '.reason | contains("scripted status")')"
done
check_eq "429 insufficient_quota is not retried" "permanent 429 1 true" \
    "$(answer "$EV" 13 '"\(.class) \(.http_status)"') $(requests seq:quota) $(answer "$EV" 13 '.reason | contains("quota")')"
check_eq "a hanging server times out, is retried, then fails transiently" "transient 2 true" \
    "$(answer "$EV" 14 .class) $(requests seq:hang) $(answer "$EV" 14 '.reason | test("timed out")')"
check_eq "a 200 that is not JSON is retried, then fails transiently with the reason" \
    "transient 2 true 200" \
    "$(answer "$EV" 15 .class) $(requests seq:malformed) $(answer "$EV" 15 '.reason | contains("malformed reply")') $(answer "$EV" 15 .http_status)"
check_eq "a 200 without choices is not an empty success" "transient true" \
    "$(answer "$EV" 16 .class) $(answer "$EV" 16 '.reason | contains("no choices")')"
check_eq "a malformed reply then a good one succeeds" "result 2" \
    "$(answer "$EV" 17 .event) $(requests seq:malformed,ok)"
check_eq "retries exhausted: transient failure with the last status" "transient 500 3" \
    "$(answer "$EV" 18 '"\(.class) \(.http_status)"') $(requests seq:500)"
check_eq "n > 1 refused: split into seeded single requests, merged in order" \
    "seq:rejectn|10|0|many seq:rejectn|11|0|many seq:rejectn|12|0|many" \
    "$(answer "$EV" 19 '[.outputs[].text] | join(" ")')"
check_eq "n > 1 refused: one n=3 request, then n=1 with seeds 10, 11, 12" "3:10 1:10 1:11 1:12" \
    "$(echo "$STATS" | jq -r '[.requests[] | select(.model=="seq:rejectn")] | sort_by([-.n, .seed]) | map("\(.n):\(.seed)") | join(" ")')"
check_eq "fewer choices than n: the rest asked one by one" \
    "seq:ignoren|20|0|some seq:ignoren|21|0|some" "$(answer "$EV" 20 '[.outputs[].text] | join(" ")')"
check_eq "n > 1 accepted: one request, three outputs" "1 3" \
    "$(echo "$STATS" | jq '[.requests[] | select(.prompt=="three")] | length') $(answer "$EV" 21 '.outputs | length')"

# ------------------------------------------------------------ n refusal learnt once per replica
reset_script
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/once.json" "$EP" "$(model rejn seq:rejectn)"
{ task rejn first '"n":2,"seed":1'; task rejn second '"n":2,"seed":7'; } >"$TOA_TMP/once.jsonl"
run once "$TOA_TMP/once.json" "$TOA_TMP/once.jsonl" --max-tasks 1
fetch_stats
check_eq "a replica refusing n is asked with n > 1 only once" "1 4" \
    "$(echo "$STATS" | jq -r '"\([.requests[] | select(.n > 1)] | length) \([.requests[] | select(.n == 1)] | length)"')"
# one task at a time, at most 2 requests at once: keep-alive needs 2 connections
check_eq "connections are kept alive and reused" 2 \
    "$(echo "$STATS" | jq '[.requests[] | .client_port] | unique | length')"

# ------------------------------------------------------------ replicas, limits, cool-down
reset_script
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/replicas.json" "$EP" \
    "{\"name\":\"two\",\"model_id\":\"seq:sleep100\",\"base_urls\":[\"$U1\",\"$U2\"]},
     {\"name\":\"lim\",\"model_id\":\"seq:sleep200\",\"base_url\":\"$U1\",\"max_concurrent\":2},
     {\"name\":\"dead\",\"model_id\":\"seq:ok\",\"base_urls\":[\"http://127.0.0.1:$DEAD/v1\",\"$U1\"],\"max_retries\":5}"
{ for i in $(seq 20); do task two "r$i"; done
  for i in $(seq 8); do task lim "l$i"; done
  for i in $(seq 12); do task dead "d$i"; done; } >"$TOA_TMP/replicas.jsonl"
run replicas "$TOA_TMP/replicas.json" "$TOA_TMP/replicas.jsonl"
fetch_stats
check_eq "every replica task succeeds" 40 "$(jq -s '[.[] | select(.event=="result")] | length' "$TOA_TMP/replicas.events")"
check "both replicas serve (least in flight)" test \
    "$(echo "$STATS" | jq "[.requests[] | select(.model==\"seq:sleep100\" and .port==$P1)] | length")" -ge 5 -a \
    "$(echo "$STATS" | jq "[.requests[] | select(.model==\"seq:sleep100\" and .port==$P2)] | length")" -ge 5
# with 2 slots and 200 ms per request no 3 requests can start within 150 ms
check_eq "max_concurrent per base URL is respected" 2 "$(echo "$STATS" | jq '[.requests[] | select(.model=="seq:sleep200") | .t] | sort as $t
    | [range(0; $t | length) as $i | [$t[] | select(. >= $t[$i] and . < $t[$i] + 0.15)] | length] | max')"
check "a dead replica is cooled down" grep -q "cooling down" "$TOA_TMP/replicas-worker.log"
check "a dead replica's work goes to the live one" test \
    "$(echo "$STATS" | jq '[.requests[] | select(.model=="seq:ok")] | length')" -eq 12

# ------------------------------------------------------------ every replica cooling down
# A model whose only server is gone: once its replica cools down (3 failures),
# what waits for it fails at once (transient) instead of being held for the
# cool-down, so the broker can spend the work elsewhere. The cool-down here
# (60 s) is far longer than the whole run may take.
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/cold.json" "$EP" \
    "{\"name\":\"gone\",\"model_id\":\"seq:ok\",\"base_url\":\"http://127.0.0.1:$DEAD/v1\",\"max_retries\":5,\"max_concurrent\":1}"
for i in $(seq 10); do task gone "c$i"; done >"$TOA_TMP/cold.jsonl"
cold_start=$(date +%s%N)
run cold "$TOA_TMP/cold.json" "$TOA_TMP/cold.jsonl" --cooldown-ms 60000
cold_ms=$(( ($(date +%s%N) - cold_start) / 1000000 ))
check_eq "every task of a model with no live server fails" 10 \
    "$(jq -s '[.[] | select(.event=="failure" and .class=="transient")] | length' "$TOA_TMP/cold.events")"
check "... saying its servers are cooling down" grep -q 'cooling down after repeated failures' "$TOA_TMP/cold.events"
check "... without waiting for the 60 s cool-down (took $cold_ms ms)" test "$cold_ms" -lt 30000

# ------------------------------------------------------------ many requests in flight (toa-simllm)
if [ -x "$SIMLLM" ]; then
    SP=$(toa_free_port)
    EP=tcp://127.0.0.1:$(toa_free_port)
    config "$TOA_TMP/sim.json" "$EP" \
        "{\"name\":\"fast\",\"model_id\":\"sim-a\",\"base_url\":\"http://127.0.0.1:$SP/v1\",\"max_concurrent\":64}" \
        "{\"listen\":\"127.0.0.1:$SP\",\"threads\":4,\"models\":[{\"model_id\":\"sim-a\",\"latency_ms\":200,\"slots\":64}]}"
    toa_start simllm "$SIMLLM" --config "$TOA_TMP/sim.json" >/dev/null
    toa_wait_port "$SP" 30
    for i in $(seq 40); do task fast "q$i" '"max_tokens":8'; done >"$TOA_TMP/sim.jsonl"
    run sim "$TOA_TMP/sim.json" "$TOA_TMP/sim.jsonl" --max-tasks 20
    EV=$TOA_TMP/sim.events
    ELAPSED=$(jq -s '([.[] | select(.event=="result") | .t] | max) - ([.[] | select(.event=="sent") | .t] | min)' "$EV")
    echo "# 40 tasks x 200 ms, credit 20: ${ELAPSED} ms (serial: 8000 ms)"
    check_eq "40 simllm tasks all succeed" 40 "$(jq -s '[.[] | select(.event=="result")] | length' "$EV")"
    check "many requests in flight at once" test \
        "$(curl -s "http://127.0.0.1:$SP/stats" | jq '.models["sim-a"].max_in_flight')" -ge 10
else
    not_ok "toa-simllm is built ($SIMLLM)"
fi

# ------------------------------------------------------------ broker goes away and comes back
# (the first broker goes away 300 ms after it handed out the tasks, however
# long the worker took to start)
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/recon.json" "$EP" "$(model hang seq:hang '"timeout_ms":20000')"
for i in 1 2 3; do task hang "h$i"; done >"$TOA_TMP/recon.jsonl"
"$HARNESS" --endpoint "$EP" --tasks "$TOA_TMP/recon.jsonl" --heartbeat-ms 200 \
    --exit-after-sent 300 --run-ms 60000 >"$TOA_TMP/recon-a.events" 2>"$TOA_TMP/recon-a-harness.log" &
HA=$!
toa_start recon-worker "$WORKER" --config "$TOA_TMP/recon.json" $FAST >/dev/null
RW=${TOA_PIDS[-1]}
wait "$HA"
"$HARNESS" --endpoint "$EP" --heartbeat-ms 200 --readies 1 --run-ms 60000 >"$TOA_TMP/recon-b.events" \
    2>"$TOA_TMP/recon-b-harness.log"
check_eq "the first broker got the tasks" 3 "$(jq -s '[.[] | select(.event=="sent")] | length' "$TOA_TMP/recon-a.events")"
check_eq "after the broker's silence the worker reconnects and sends READY again" 1 \
    "$(jq -r 'select(.event=="done") | .readies' "$TOA_TMP/recon-b.events")"
check "tasks in flight when the broker went away are dropped" \
    grep -q "dropped 3 task(s) in progress" "$TOA_TMP/recon-worker.log"
check_eq "no stale answer reaches the new broker" 0 \
    "$(jq -r 'select(.event=="done") | .results + .failures + .stale' "$TOA_TMP/recon-b.events")"
"$HARNESS" --endpoint "$EP" --heartbeat-ms 200 --after-ready disconnect --readies 2 --run-ms 60000 \
    >"$TOA_TMP/recon-c.events" 2>"$TOA_TMP/recon-c-harness.log"
check_eq "DISCONNECT from the broker: the worker reconnects with READY" 2 \
    "$(jq -r 'select(.event=="done") | .readies' "$TOA_TMP/recon-c.events")"
kill -TERM "$RW"; wait "$RW"
check_eq "the reconnecting worker still exits 0" 0 $?

# ------------------------------------------------------------ bad messages from the broker
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/garbage.json" "$EP" "$(model ok seq:ok)"
for i in 1 2 3; do task ok "g$i"; done >"$TOA_TMP/garbage.jsonl"
"$HARNESS" --endpoint "$EP" --tasks "$TOA_TMP/garbage.jsonl" --heartbeat-ms 200 \
    --after-ready garbage --exit-when-done --run-ms 60000 >"$TOA_TMP/garbage.events" 2>"$TOA_TMP/garbage-harness.log" &
HG=$!
toa_start garbage-worker "$WORKER" --config "$TOA_TMP/garbage.json" $FAST >/dev/null
GW=${TOA_PIDS[-1]}
wait "$HG"
check_eq "a bad message from the broker does not stop the work" 3 \
    "$(jq -r 'select(.event=="done") | .results' "$TOA_TMP/garbage.events")"
check "a bad message from the broker is logged" grep -q "bad message from the broker" "$TOA_TMP/garbage-worker.log"
check "the worker is still running" kill -0 "$GW"

# ------------------------------------------------------------ SIGTERM drains
EP=tcp://127.0.0.1:$(toa_free_port)
config "$TOA_TMP/drain.json" "$EP" "$(model slow seq:sleep1000)"
for i in 1 2 3 4; do task slow "s$i"; done >"$TOA_TMP/drain.jsonl"
"$HARNESS" --endpoint "$EP" --tasks "$TOA_TMP/drain.jsonl" --heartbeat-ms 200 \
    --exit-on-disconnect --run-ms 60000 >"$TOA_TMP/drain.events" 2>"$TOA_TMP/drain-harness.log" &
HD=$!
"$WORKER" --config "$TOA_TMP/drain.json" $FAST 2>"$TOA_TMP/drain-worker.log" &
DW=$!
TOA_PIDS+=("$HD" "$DW")
# SIGTERM once the server has all 4 requests: the tasks are in flight in the
# worker, not only sent by the broker (a loaded worker may not have read them)
drain_started () {
    fetch_stats
    [ "$(requests seq:sleep1000)" -ge 4 ]
}
check "the 4 slow tasks reach the server" toa_wait_until 60 drain_started
kill -TERM "$DW"
wait "$DW"
check_eq "SIGTERM with tasks in flight exits 0" 0 $?
wait "$HD"
check_eq "tasks in flight at SIGTERM are finished and sent" 4 \
    "$(jq -r 'select(.event=="done") | .results' "$TOA_TMP/drain.events")"
check "then the worker says DISCONNECT" grep -q '"event":"disconnect"' "$TOA_TMP/drain.events"

toa_done
