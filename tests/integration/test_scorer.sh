#!/usr/bin/env bash
# test_scorer.sh - toa-scorer against real servers: a broker harness over
# real ZeroMQ (tests/harness/broker_harness.c), a scripted reward server for
# exact values and failures (tests/integration/scorer/reward_server.py) and
# toa-simllm's /reward, /classify, /pooling and judge. Covers: READY, every
# backend's reward for known inputs, batching on size and on wait, short and
# malformed replies, HTTP 500 retried then transient, a 400 batch split, the
# judge's unparsable reply (transient then permanent), missing references,
# API key sent and never logged, reconnection to a restarted broker, SIGTERM
# drain, config errors.
source "$(dirname "$0")/../lib.sh"

HERE=$(cd "$(dirname "$0")/scorer" && pwd)
SCORER=$TOA_BIN/toa-scorer
SIMLLM=$TOA_BIN/toa-simllm
HARNESS=$(toa_harness broker_harness)
toa_require "$SCORER" "$SIMLLM" "$HARNESS"

export TOA_TEST_KEY=sk-test-SECRET-0123456789
FAST="--retry-base-ms 20 --retry-max-ms 100 --reconnect-min-ms 100 --reconnect-max-ms 400"
FAST="$FAST --cooldown-ms 100"
RP=$(toa_free_port)
toa_start reward python3 "$HERE/reward_server.py" "$RP" >/dev/null
toa_wait_port "$RP" 30 || { not_ok "reward server starts"; toa_done; }
RS=http://127.0.0.1:$RP

"$SIMLLM" --config "$HERE/sim.json" --listen 127.0.0.1:0 >"$TOA_TMP/sim.log" 2>&1 &
TOA_PIDS+=("$!")
SIM=""
toa_wait_log "$TOA_TMP/sim.log" '^listening on http:' 30
SIM=$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$TOA_TMP/sim.log")
[ -n "$SIM" ] || { not_ok "toa-simllm starts"; toa_done; }

# config FILE REWARD_JSON [SCORER_JSON]: a config with a fresh endpoint.
config () {
    cat >"$1" <<EOF
{"broker": {"worker_endpoint": "tcp://127.0.0.1:$(toa_free_port)", "heartbeat_ms": 200},
 "worker": {"heartbeat_ms": 200},
 "scorer": ${3:-{\"max_tasks\": 16\}},
 "reward": $2}
EOF
}

# task ID BACKEND RESPONSE [REFERENCE [PROMPT]]: one line of a task file.
task () {
    jq -cn --argjson id "$1" --arg b "$2" --arg r "$3" --arg ref "${4-}" \
        --arg p "${5:-What is 6 times 7?}" --argjson has "$([ $# -ge 4 ] && echo true || echo false)" \
        '{id: $id, backend: $b, prompt: $p, response: $r} + (if $has then {reference: $ref} else {} end)'
}

# run NAME CONFIG TASKS [harness options --] [scorer options]: the harness
# hands out TASKS to one scorer and, once all are answered, sends it SIGTERM
# and waits for its DISCONNECT. Events in $TOA_TMP/NAME.events, the scorer's
# log in $TOA_TMP/NAME-scorer.log, its exit status in SCORER_STATUS.
run () {
    local name=$1 cfg=$2 tasks=$3; shift 3
    local harness_options=()
    if [ "${1:-}" = "--harness" ]; then
        shift
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do harness_options+=("$1"); shift; done
        shift
    fi
    local endpoint; endpoint=$(jq -r .broker.worker_endpoint "$cfg")
    "$SCORER" --config "$cfg" $FAST "$@" 2>"$TOA_TMP/$name-scorer.log" &
    local scorer=$!
    "$HARNESS" --endpoint "$endpoint" --tasks "$tasks" --heartbeat-ms 200 --stop-pid "$scorer" \
        --run-ms 60000 "${harness_options[@]}" >"$TOA_TMP/$name.events" \
        2>"$TOA_TMP/$name-harness.log" &
    local harness=$!
    TOA_PIDS+=("$harness" "$scorer")
    wait "$harness"
    kill -TERM "$scorer" 2>/dev/null
    wait "$scorer"; SCORER_STATUS=$?
}

# answer EVENTS TASK JQ: JQ applied to the last result or failure of TASK.
answer () {
    jq -r "select((.event==\"result\" or .event==\"failure\") and .task==$2) | $3" "$1" | tail -1
}
# count EVENTS EVENT: how many EVENT lines.
count () { jq -r "select(.event==\"$2\") | .event" "$1" | wc -l | tr -d ' '; }
rs_stats () { curl -s "$RS/stats"; }
rs_reset () { curl -s -X POST "$RS/stats/reset" >/dev/null; }
sim_reset () { curl -s -X POST "$SIM/stats/reset" >/dev/null; }
sim_calls () { curl -s "$SIM/stats" | jq ".endpoints.$1"; }
# same A B: two numbers are equal to 1e-12.
same () { python3 -c "import sys; sys.exit(0 if abs(float('$1') - float('$2')) <= 1e-12 else 1)"; }

# ------------------------------------------------------------ command line
"$SCORER" --help >"$TOA_TMP/help.out" 2>&1
check_eq "--help exits 0" 0 $?
check "--help names --backend" grep -q -- "--backend NAME" "$TOA_TMP/help.out"
config "$TOA_TMP/bad.json" '{"backend": "llm-judge", "batch_size": 0}'
"$SCORER" --config "$TOA_TMP/bad.json" --max-tasks zero >"$TOA_TMP/bad.out" 2>&1
check_eq "bad arguments exit with status 2" 2 $?
check "a bad option is reported" grep -q "^--max-tasks: 'zero' is not a whole number" \
    "$TOA_TMP/bad.out"
"$SCORER" --config "$TOA_TMP/bad.json" >"$TOA_TMP/bad.out" 2>&1
check_eq "a bad config exits with status 2" 2 $?
check_eq "each config problem on its own line" 3 \
    "$(grep -c -E 'reward\.(batch_size|url|model_id):' "$TOA_TMP/bad.out")"
"$SCORER" --config "$TOA_TMP/bad.json" --backend bogus >"$TOA_TMP/bad.out" 2>&1
check "--backend bogus is refused with the valid names" grep -q "unknown reward backend \"bogus\"" \
    "$TOA_TMP/bad.out"

# ------------------------------------------------------------ math-verify
config "$TOA_TMP/math.json" '{"backend": "math-verify"}' '{"max_tasks": 5}'
{
    task 1 math-verify "6 times 7 is 42. The answer is 42." "42"
    task 2 math-verify "6 times 7 is 41. #### 41" "42"
    task 3 math-verify "The answer is 42." 
    task 4 math-verify '\boxed{42}' "42"
    task 5 chrf "The answer is 42." "42"
} >"$TOA_TMP/math.tasks"
run math "$TOA_TMP/math.json" "$TOA_TMP/math.tasks"
E=$TOA_TMP/math.events
check_eq "READY: kind scorer" scorer "$(jq -r 'select(.event=="ready") | .kind' "$E" | head -1)"
check_eq "READY: serves the backend" '["math-verify"]' \
    "$(jq -c 'select(.event=="ready") | .serves' "$E" | head -1)"
check_eq "READY: credit = scorer.max_tasks" 5 "$(jq -r 'select(.event=="ready") | .credit' "$E" | head -1)"
check_eq "math-verify: right answer scores 1" 1 "$(answer "$E" 1 .reward)"
check_eq "math-verify: wrong answer scores 0" 0 "$(answer "$E" 2 .reward)"
check_eq "math-verify: \\boxed answer scores 1" 1 "$(answer "$E" 4 .reward)"
check_eq "math-verify: no reference is a permanent failure" "permanent no reference" \
    "$(answer "$E" 3 '.class + " " + .reason')"
check_eq "a task for another backend is a permanent failure" permanent "$(answer "$E" 5 .class)"
check "the scorer said DISCONNECT" grep -q '"event":"disconnect"' "$E"
check_eq "SIGTERM: exit status 0" 0 "$SCORER_STATUS"

# ------------------------------------------------------------ chrf
config "$TOA_TMP/chrf.json" '{"backend": "math-verify"}'
{
    task 1 chrf "The cat sat on the mat." "The cat is sitting on the mat."
    task 2 chrf "Der Hund bellt laut." "The dog barks loudly."
    task 3 chrf "The dog barks loudly." "The dog barks loudly."
    task 4 chrf "No reference here."
} >"$TOA_TMP/chrf.tasks"
run chrf "$TOA_TMP/chrf.json" "$TOA_TMP/chrf.tasks" --backend chrf --max-tasks 3
E=$TOA_TMP/chrf.events
check_eq "--backend and --max-tasks override the config" '["chrf"] 3' \
    "$(jq -r 'select(.event=="ready") | (.serves|tojson) + " " + (.credit|tostring)' "$E" | head -1)"
for id in 1 2 3; do
    check "chrf: task $id's reward equals toa_chrf" \
        same "$(answer "$E" $id .reward)" "$(answer "$E" $id .expected)"
done
check_eq "chrf: identical texts score 100" 100 "$(answer "$E" 3 .reward)"
check "chrf: a partial match scores between 0 and 100" \
    python3 -c "import sys; sys.exit(0 if 0 < $(answer "$E" 1 .reward) < 100 else 1)"
check_eq "chrf: no reference is a permanent failure" "permanent no reference" \
    "$(answer "$E" 4 '.class + " " + .reason')"

# ------------------------------------------------------------ http-reward, scripted
config "$TOA_TMP/hr.json" "{\"backend\": \"http-reward\", \"url\": \"$RS/reward\",
    \"api_key_env\": \"TOA_TEST_KEY\", \"batch_size\": 8, \"batch_wait_ms\": 2000,
    \"query_template\": \"<q>{prompt}</q><a>{response}</a>\", \"max_retries\": 2}"
for i in 1 2 3 4 5 6 7 8; do task "$i" http-reward "answer $i reward=0.$i" "ref$i"; done \
    >"$TOA_TMP/hr.tasks"
rs_reset
run hr "$TOA_TMP/hr.json" "$TOA_TMP/hr.tasks"
E=$TOA_TMP/hr.events
ok_values=0
for i in 1 2 3 4 5 6 7 8; do [ "$(answer "$E" "$i" .reward)" = "0.$i" ] && ok_values=$((ok_values + 1)); done
check_eq "http-reward: each task gets its own reward" 8 "$ok_values"
check_eq "http-reward: 8 tasks with batch_size 8 make one call" '[8]' \
    "$(rs_stats | jq -c '.sizes.reward')"
check_eq "http-reward: the query follows query_template" \
    "<q>What is 6 times 7?</q><a>answer 1 reward=0.1</a>" "$(rs_stats | jq -r '.bodies[0].query[0]')"
check_eq "http-reward: prompts and labels are sent" "What is 6 times 7? ref3" \
    "$(rs_stats | jq -r '.bodies[0].prompts[2] + " " + .bodies[0].labels[2]')"
check_eq "http-reward: the API key is sent" "Bearer $TOA_TEST_KEY" \
    "$(rs_stats | jq -r '.authorization[0]')"
check "the API key never reaches the log" \
    bash -c "! grep -q SECRET '$TOA_TMP/hr-scorer.log'"

# batch_size 4: two calls; a batch closes on wait with fewer tasks
config "$TOA_TMP/hr4.json" "{\"backend\": \"http-reward\", \"url\": \"$RS/reward\",
    \"batch_size\": 4, \"batch_wait_ms\": 2000}"
rs_reset
run hr4 "$TOA_TMP/hr4.json" "$TOA_TMP/hr.tasks"
check_eq "http-reward: 8 tasks with batch_size 4 make two calls" '[4,4]' \
    "$(rs_stats | jq -c '.sizes.reward')"
check_eq "http-reward: all 8 answered" 8 "$(count "$TOA_TMP/hr4.events" result)"
config "$TOA_TMP/hrw.json" "{\"backend\": \"http-reward\", \"url\": \"$RS/reward\",
    \"batch_size\": 16, \"batch_wait_ms\": 300}"
head -3 "$TOA_TMP/hr.tasks" >"$TOA_TMP/hrw.tasks"
rs_reset
run hrw "$TOA_TMP/hrw.json" "$TOA_TMP/hrw.tasks"
E=$TOA_TMP/hrw.events
check_eq "http-reward: a part batch closes on batch_wait_ms (one call of 3)" '[3]' \
    "$(rs_stats | jq -c '.sizes.reward')"
waited=$(jq -s '([.[] | select(.event=="result") | .t] | min) - ([.[] | select(.event=="sent") | .t] | max)' "$E")
check "http-reward: the part batch waited about batch_wait_ms ($waited ms)" \
    test "$waited" -ge 250 -a "$waited" -lt 20000

# unusable replies in batches of 2: a null entry, a short array, a 400
config "$TOA_TMP/hrbad.json" "{\"backend\": \"http-reward\", \"url\": \"$RS/reward\",
    \"batch_size\": 2, \"batch_wait_ms\": 1000, \"max_retries\": 2}"
{ task 1 http-reward "no reward given"; task 2 http-reward "reward=0.5"; } >"$TOA_TMP/hrnull.tasks"
{
    task 3 http-reward "reward=1 SHORT";  task 4 http-reward "reward=2"
    task 5 http-reward "FAIL400";         task 6 http-reward "reward=5"
} >"$TOA_TMP/hrbad.tasks"
rs_reset
run hrnull "$TOA_TMP/hrbad.json" "$TOA_TMP/hrnull.tasks" --harness --reissue-transient --
E=$TOA_TMP/hrnull.events
# attempt CLASS of every failure of TASK, in order
failures () { jq -r "select(.event==\"failure\" and .task==$2) | \"\\(.attempt) \\(.class)\"" "$1" | tr '\n' ' ' | sed 's/ $//'; }
check_eq "a null reward fails its task: transient on attempt 1, permanent on 2" \
    "1 transient 2 permanent" "$(failures "$E" 1)"
check_eq "its batch neighbour still gets its reward" 0.5 "$(answer "$E" 2 .reward)"
run hrbad "$TOA_TMP/hrbad.json" "$TOA_TMP/hrbad.tasks"
E=$TOA_TMP/hrbad.events
check_eq "a short rewards array gives neither task a reward (no zeros)" 0 \
    "$(jq -s '[.[] | select(.event=="result" and (.task==3 or .task==4))] | length' "$E")"
check_eq "a short rewards array fails both tasks as transient" "transient transient" \
    "$(answer "$E" 3 .class) $(answer "$E" 4 .class)"
check "a short array's failure says why" grep -q \
    '"reason":"gave up after 3 attempts: HTTP 200 with an unusable reply: reply has 1 rewards for 2 queries"' "$E"
check_eq "HTTP 400 on a batch: the bad task alone fails, permanently, with its status" \
    "permanent 400" "$(answer "$E" 5 '"\(.class) \(.http_status)"')"
check_eq "HTTP 400 on a batch: its neighbour is scored alone" 5 "$(answer "$E" 6 .reward)"
check_eq "HTTP 400 on a batch: one call of 2, then one call each" "2 1 1" \
    "$(rs_stats | jq -r '[.bodies[] | select(.query | tostring | contains("FAIL400") or contains("reward=5")) | .query | length] | map(tostring) | join(" ")')"
check_eq "every task gets a reward or a failure" true \
    "$(jq -r 'select(.event=="done") | .all_answered' "$E")"

# HTTP 500 and garbage 200s: retried max_retries times, then transient
config "$TOA_TMP/hr500.json" "{\"backend\": \"http-reward\", \"url\": \"$RS/reward\",
    \"batch_size\": 1, \"batch_wait_ms\": 0, \"max_retries\": 2}"
{ task 1 http-reward "FAIL500"; task 2 http-reward "GARBAGE"; } >"$TOA_TMP/hr500.tasks"
rs_reset
run hr500 "$TOA_TMP/hr500.json" "$TOA_TMP/hr500.tasks"
E=$TOA_TMP/hr500.events
check_eq "HTTP 500: a transient failure with status 500" "transient 500" \
    "$(answer "$E" 1 '"\(.class) \(.http_status)"')"
check_eq "HTTP 500: 1 + max_retries calls" 3 \
    "$(rs_stats | jq '[.bodies[] | select(.query[0] | contains("FAIL500"))] | length')"
check_eq "garbage 200: retried, then a transient failure" "transient 3" \
    "$(answer "$E" 2 .class) $(rs_stats | jq '[.bodies[] | select(.query[0] | contains("GARBAGE"))] | length')"
check "garbage 200: the failure says the reply is not JSON" grep -q 'unusable reply: reply is not JSON' "$E"

# ------------------------------------------------------------ http-reward, toa-simllm
config "$TOA_TMP/sr.json" "{\"backend\": \"http-reward\", \"url\": \"$SIM/reward\",
    \"batch_size\": 8, \"batch_wait_ms\": 2000}"
for i in 1 2 3 4; do task "$i" http-reward "6 times 7: #### 42" "42"; done >"$TOA_TMP/sr.tasks"
for i in 5 6 7 8; do task "$i" http-reward "6 times 7: #### 41" "42"; done >>"$TOA_TMP/sr.tasks"
sim_reset
run sr "$TOA_TMP/sr.json" "$TOA_TMP/sr.tasks"
E=$TOA_TMP/sr.events
check_eq "simllm /reward: right answers score 1, wrong -1" "1 1 1 1 -1 -1 -1 -1" \
    "$(for i in 1 2 3 4 5 6 7 8; do answer "$E" $i .reward; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "simllm /stats: 8 tasks with batch_size 8 are one reward call" 1 "$(sim_calls reward)"
config "$TOA_TMP/sr4.json" "{\"backend\": \"http-reward\", \"url\": \"$SIM/reward\",
    \"batch_size\": 4, \"batch_wait_ms\": 2000}"
sim_reset
run sr4 "$TOA_TMP/sr4.json" "$TOA_TMP/sr.tasks"
check_eq "simllm /stats: batch_size 4 makes two reward calls" 2 "$(sim_calls reward)"
check_eq "simllm: all 8 answered with batch_size 4" 8 "$(count "$TOA_TMP/sr4.events" result)"

# ------------------------------------------------------------ vllm-classify / vllm-pooling
for backend in vllm-classify vllm-pooling; do
    path=${backend#vllm-}
    config "$TOA_TMP/$path.json" "{\"backend\": \"$backend\", \"url\": \"$RS/\",
        \"model_id\": \"Skywork-Reward\", \"batch_size\": 4, \"batch_wait_ms\": 2000}"
    {
        task 1 "$backend" "reward=2.5"; task 2 "$backend" "reward=-1.25"
        task 3 "$backend" "reward=0.75 TOKENS"; task 4 "$backend" "reward=3 SHORT"
    } >"$TOA_TMP/$path.tasks"
    rs_reset
    run "$path" "$TOA_TMP/$path.json" "$TOA_TMP/$path.tasks"
    E=$TOA_TMP/$path.events
    # the server answers in reverse order and drops the last entry (SHORT)
    check_eq "$backend: rewards matched by index" "2.5 -1.25 0.75" \
        "$(for i in 1 2 3; do answer "$E" $i .reward; done | tr '\n' ' ' | sed 's/ $//')"
    check_eq "$backend: the entry missing from a short reply fails its task" transient \
        "$(answer "$E" 4 .class)"
    check_eq "$backend: one call to /$path with the model" "1 Skywork-Reward" \
        "$(rs_stats | jq -r "\"\(.calls.$path) \(.bodies[0].model)\"")"
done
# against toa-simllm: classify's probs[0] is (pooling + 1) / 2 for the same text
for backend in vllm-classify vllm-pooling; do
    path=${backend#vllm-}
    config "$TOA_TMP/s$path.json" "{\"backend\": \"$backend\", \"url\": \"$SIM\",
        \"model_id\": \"sim-rm\", \"batch_size\": 3, \"batch_wait_ms\": 2000}"
    {
        task 1 "$backend" "Paris is the capital of France."
        task 2 "$backend" "I do not know."
        task 3 "$backend" "#### 42"
    } >"$TOA_TMP/s$path.tasks"
    sim_reset
    run "s$path" "$TOA_TMP/s$path.json" "$TOA_TMP/s$path.tasks"
    check_eq "simllm /$path: one call for 3 tasks" 1 "$(sim_calls "$path")"
done
agree=0
for i in 1 2 3; do
    c=$(answer "$TOA_TMP/sclassify.events" $i .reward)
    p=$(answer "$TOA_TMP/spooling.events" $i .reward)
    python3 -c "import sys; sys.exit(0 if abs($c - ($p + 1) / 2) < 1e-9 else 1)" && agree=$((agree + 1))
done
check_eq "simllm: classify and pooling rewards agree for every task" 3 "$agree"

# ------------------------------------------------------------ llm-judge
config "$TOA_TMP/judge.json" "{\"backend\": \"llm-judge\", \"url\": \"$RS/v1\",
    \"model_id\": \"judge-model\", \"api_key_env\": \"TOA_TEST_KEY\", \"batch_size\": 8}"
{
    task 1 llm-judge "judge-reply:Good answer. Rating: [[7]]"
    task 2 llm-judge "judge-reply:7.5/10"
    task 3 llm-judge "judge-reply:**Score:** 9"
    task 4 llm-judge "judge-reply:I like it a lot."
    task 5 llm-judge "judge-reply:Rating: [[12]]"
} >"$TOA_TMP/judge.tasks"
rs_reset
run judge "$TOA_TMP/judge.json" "$TOA_TMP/judge.tasks" --harness --reissue-transient --
E=$TOA_TMP/judge.events
check_eq "llm-judge: [[7]] scores 7" 7 "$(answer "$E" 1 .reward)"
check_eq "llm-judge: 7.5/10 scores 7.5" 7.5 "$(answer "$E" 2 .reward)"
check_eq "llm-judge: **Score:** 9 scores 9" 9 "$(answer "$E" 3 .reward)"
check_eq "llm-judge: an unparsable reply is transient on attempt 1" "1 transient" \
    "$(jq -r 'select(.event=="failure" and .task==4) | "\(.attempt) \(.class)"' "$E" | head -1)"
check_eq "llm-judge: ... and permanent on attempt 2, never a zero" "2 permanent 0" \
    "$(jq -r 'select(.event=="failure" and .task==4) | "\(.attempt) \(.class)"' "$E" | tail -1) $(jq -s '[.[] | select(.event=="result" and .task==4)] | length' "$E")"
check "llm-judge: the failure says why" grep -q '"reason":"judge: no rating found' "$E"
check_eq "llm-judge: a rating above the scale fails" permanent "$(answer "$E" 5 .class)"
check_eq "llm-judge: one request per task attempt (no batching)" 7 \
    "$(rs_stats | jq '.calls.chat')"
check_eq "llm-judge: the judge model and key are used" "judge-model Bearer $TOA_TEST_KEY" \
    "$(rs_stats | jq -r '"\(.bodies[0].model) \(.authorization[0])"')"
check "llm-judge: the judge template carries the question and the response" \
    bash -c "curl -s '$RS/stats' | jq -r '.bodies[0].messages[0].content' | grep -q 'What is 6 times 7?' && curl -s '$RS/stats' | jq -r '.bodies[0].messages[0].content' | grep -q 'scale of 1 to 10'"
check "llm-judge: the API key never reaches the log" \
    bash -c "! grep -q SECRET '$TOA_TMP/judge-scorer.log'"
# toa-simllm's judge: many in flight, ratings 1..10
config "$TOA_TMP/sjudge.json" "{\"backend\": \"llm-judge\", \"url\": \"$SIM/v1\",
    \"model_id\": \"sim-judge\"}"
for i in $(seq 1 12); do task "$i" llm-judge "Answer number $i: 42."; done >"$TOA_TMP/sjudge.tasks"
sim_reset
run sjudge "$TOA_TMP/sjudge.json" "$TOA_TMP/sjudge.tasks"
E=$TOA_TMP/sjudge.events
check_eq "simllm judge: 12 tasks get whole ratings in 1..10" 12 \
    "$(jq -s '[.[] | select(.event=="result" and .reward >= 1 and .reward <= 10 and (.reward | floor) == .reward)] | length' "$E")"
check_eq "simllm judge: 12 chat requests" 12 "$(curl -s "$SIM/stats" | jq '.endpoints.chat_completions')"
check "simllm judge: several requests in flight at once" \
    test "$(curl -s "$SIM/stats" | jq '.models["sim-judge"].max_in_flight')" -gt 1

# ------------------------------------------------------------ SIGTERM drain
# SIGTERM 1 s after the tasks were sent (time for a loaded scorer to read
# them), while the first batch waits 6 s for its reply (2.5 s was once too
# little with two suites on 2 cores: the reply came before the SIGTERM).
config "$TOA_TMP/drain.json" "{\"backend\": \"http-reward\", \"url\": \"$RS/reward\",
    \"batch_size\": 4, \"batch_wait_ms\": 20000}"
{
    for i in 1 2 3 4; do task "$i" http-reward "reward=1.$i SLEEP=6000"; done
    task 5 http-reward "reward=2"
} >"$TOA_TMP/drain.tasks"
rs_reset
run drain "$TOA_TMP/drain.json" "$TOA_TMP/drain.tasks" --harness --stop-early 1000 --
E=$TOA_TMP/drain.events
check "drain: SIGTERM came while the batch was in flight" \
    test "$(jq -s '[.[] | select(.event=="stopping") | .t][0] < [.[] | select(.event=="result") | .t][0]' "$E")" = true
check_eq "drain: the in-flight batch and the waiting task are answered" 5 "$(count "$E" result)"
check_eq "drain: the waiting task was sent at once, not after batch_wait_ms" '[4,1]' \
    "$(rs_stats | jq -c '.sizes.reward')"
check "drain: DISCONNECT after the results" \
    test "$(jq -s '[.[] | select(.event=="disconnect") | .t][0] >= ([.[] | select(.event=="result") | .t] | max)' "$E")" = true
check_eq "drain: exit status 0" 0 "$SCORER_STATUS"

# ------------------------------------------------------------ broker restart
config "$TOA_TMP/rc.json" '{"backend": "math-verify"}'
EP=$(jq -r .broker.worker_endpoint "$TOA_TMP/rc.json")
for i in 1 2 3; do task "$i" math-verify "#### $i" "$i"; done >"$TOA_TMP/rc.tasks"
"$SCORER" --config "$TOA_TMP/rc.json" $FAST 2>"$TOA_TMP/rc-scorer.log" &
SCORER_PID=$!
TOA_PIDS+=("$SCORER_PID")
# the first broker sees READY and dies at once (no heartbeats, no goodbye)
"$HARNESS" --endpoint "$EP" --readies 1 --heartbeat-ms 0 --run-ms 60000 >"$TOA_TMP/rc1.events" 2>&1
check_eq "restart: the first broker got READY" 1 "$(count "$TOA_TMP/rc1.events" ready)"
sleep 1
"$HARNESS" --endpoint "$EP" --tasks "$TOA_TMP/rc.tasks" --heartbeat-ms 200 --run-ms 60000 \
    --exit-when-done >"$TOA_TMP/rc2.events" 2>&1
E=$TOA_TMP/rc2.events
check "restart: the scorer says READY to the new broker" test "$(count "$E" ready)" -ge 1
check_eq "restart: the new broker's tasks are scored" "1 1 1" \
    "$(for i in 1 2 3; do answer "$E" $i .reward; done | tr '\n' ' ' | sed 's/ $//')"
check "restart: the scorer noticed the silent broker" grep -q "lost the broker" \
    "$TOA_TMP/rc-scorer.log"
kill -TERM "$SCORER_PID"
wait "$SCORER_PID"
check_eq "restart: the scorer still stops cleanly" 0 $?

toa_done
