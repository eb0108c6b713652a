#!/usr/bin/env bash
# test_simllm.sh - toa-simllm over real HTTP (curl, and Python's http.client
# in tests/integration/simllm/client.py): response shapes, /v1/models,
# /health, 404/400 error shapes, max_tokens, stop, n, seeds, slots and
# latency, every fault kind forced and at configured rates, reward / classify
# / pooling, math accuracy per model on 100 generated problems,
# config errors, graceful stop with a request hanging. Reports throughput
# (not pass/fail).
source "$(dirname "$0")/../lib.sh"

HERE=$(cd "$(dirname "$0")/simllm" && pwd)
SIMLLM=$TOA_BIN/toa-simllm
CLIENT="python3 $HERE/client.py"
WMT=$TOA_ROOT/examples/prompts-translate.jsonl
MATH=$TOA_ROOT/examples/prompts-math.jsonl
[ -x "$SIMLLM" ] || { not_ok "$SIMLLM is built"; toa_done; }
PROBLEMS=$TOA_TMP/problems.jsonl
"$SIMLLM" --write-problems 100 >"$PROBLEMS" || { not_ok "toa-simllm --write-problems 100"; toa_done; }

# sim_start NAME CONFIG [toa-simllm options]: starts toa-simllm on a free port
# (a child of this shell, so that its exit status can be waited for), waits
# for "listening on"; sets URL and PID.
sim_start () {
    local name=$1 config=$2; shift 2
    "$SIMLLM" --config "$config" --listen 127.0.0.1:0 "$@" >"$TOA_TMP/$name.log" 2>&1 &
    PID=$!
    TOA_PIDS+=("$PID")
    URL=""
    for _ in $(seq 600); do
        URL=$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$TOA_TMP/$name.log")
        [ -n "$URL" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

# chat BODY [curl options]: POST to $URL/v1/chat/completions; the body goes to
# $TOA_TMP/body, headers to $TOA_TMP/headers; prints the HTTP status.
chat () {
    local body=$1; shift
    curl -s -o "$TOA_TMP/body" -D "$TOA_TMP/headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' "$@" -d "$body" "$URL/v1/chat/completions"
}

# jcheck "description" FILTER FILE: ok if jq's FILTER is true for FILE.
jq_true () { jq -e "$1" "$2" >/dev/null 2>&1; }
jcheck () { check "$1" jq_true "$2" "$3"; }

# body MODEL CONTENT [extra JSON members]
body () {
    jq -cn --arg m "$1" --arg c "$2" --argjson x "${3:-{\}}" \
        '{model: $m, messages: [{role: "user", content: $c}]} + $x'
}

Q1=$(head -1 "$MATH" | jq -r .instruction)
Q1_GOLD=$(head -1 "$MATH" | jq -r .gold_answer)

sim_start basic "$HERE/basic.json" --seed 11 \
    --set "simllm.data_files=[\"$MATH\", \"$WMT\"]" || { not_ok "toa-simllm starts"; toa_done; }
ok "toa-simllm starts and prints its URL ($URL)"

# --- plain endpoints
check_eq "GET /health" '{"status":"ok"}' "$(curl -s "$URL/health")"
models=$(curl -s "$URL/v1/models")
check_eq "GET /v1/models is an OpenAI list" "list 6 sim-zero model" \
    "$(echo "$models" | jq -r '[.object, (.data | length), .data[0].id, .data[0].object] | join(" ")')"

# --- a chat completion's shape
status=$(chat "$(body sim-zero "$Q1")")
check_eq "chat completion answers 200" 200 "$status"
jcheck "chat completion has id, object, model, created, one choice" \
    '(.id | startswith("chatcmpl-")) and .object == "chat.completion" and .model == "sim-zero"
     and (.created | type == "number") and (.choices | length) == 1
     and .choices[0].index == 0 and .choices[0].message.role == "assistant"
     and .choices[0].finish_reason == "stop"' "$TOA_TMP/body"
jcheck "usage numbers are consistent" \
    '.usage.prompt_tokens > 0 and .usage.completion_tokens > 0
     and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens' "$TOA_TMP/body"
jcheck "a math answer ends in '#### N'" \
    '.choices[0].message.content | test("#### -?[0-9]+$")' "$TOA_TMP/body"
check "Content-Type is application/json" grep -qi '^content-type: application/json' "$TOA_TMP/headers"

# --- errors
status=$(chat "$(body no-such-model hi)")
check_eq "unknown model: 404" 404 "$status"
jcheck "unknown model: OpenAI error shape, code model_not_found" \
    '.error.code == "model_not_found" and (.error.message | test("no-such-model"))
     and .error.type == "invalid_request_error"' "$TOA_TMP/body"
status=$(chat '{"model": "sim-zero", "messages": [')
check_eq "invalid JSON body: 400" 400 "$status"
jcheck "invalid JSON body: error shape" '.error.message | length > 0' "$TOA_TMP/body"
status=$(chat '{"model": "sim-zero"}')
check_eq "missing messages: 400" 400 "$status"
jcheck "missing messages: error names messages" '.error.message | test("messages")' "$TOA_TMP/body"
status=$(chat "$(body sim-llama hi '{"n": 2}')")
check_eq "llamacpp personality: n=2 gets 500" 500 "$status"
jcheck "llamacpp personality: llama.cpp's message" \
    '.error.message == "Only one completion choice is allowed" and .error.code == 500
     and .error.type == "server_error"' "$TOA_TMP/body"
status=$(chat "$(body sim-openai hi)" -H 'X-Sim-Fault: 429')
check_eq "openai personality: rate limit 429" 429 "$status"
check "openai personality: retry-after-ms and Retry-After headers" \
    grep -qi '^retry-after-ms: 3000' "$TOA_TMP/headers"
check "openai personality: Retry-After in seconds" grep -qi '^retry-after: 3' "$TOA_TMP/headers"

# --- max_tokens, stop, n
chat "$(body sim-zero "$Q1" '{"max_tokens": 5}')" >/dev/null
jcheck "max_tokens 5: finish_reason length, 5 completion tokens" \
    '.choices[0].finish_reason == "length" and .usage.completion_tokens == 5' "$TOA_TMP/body"
chat "$(body sim-zero "$Q1" '{"stop": ["####"], "seed": 1}')" >/dev/null
jcheck "stop ['####']: cut before it, finish_reason stop" \
    '(.choices[0].message.content | contains("####") | not)
     and (.choices[0].message.content | length > 10) and .choices[0].finish_reason == "stop"' \
    "$TOA_TMP/body"
chat "$(body sim-zero "$Q1" '{"n": 3}')" >/dev/null
jcheck "n 3: three choices indexed 0..2" '[.choices[].index] == [0, 1, 2]' "$TOA_TMP/body"

# --- seeds
texts () { jq -r '.choices[0].message.content' "$TOA_TMP/body"; }
chat "$(body sim-zero "$Q1" '{"seed": 42}')" >/dev/null; first=$(texts)
chat "$(body sim-zero "$Q1" '{"seed": 42}')" >/dev/null; second=$(texts)
check_eq "same seed, same request: same text" "$first" "$second"
differ=0
for seed in 1 2 3 4 5 6; do
    chat "$(body sim-zero "$Q1" "{\"seed\": $seed}")" >/dev/null
    [ "$(texts)" != "$first" ] && differ=$((differ + 1))
done
check "different seeds: different texts at least once ($differ of 6)" [ "$differ" -ge 1 ]

# --- translation
TR=$(head -1 "$WMT" | jq -r .instruction)
chat "$(body sim-zero "$TR" '{"seed": 3}')" >/dev/null
jcheck "a known translation answers near its reference" \
    '.choices[0].message.content | test("train|Berlin|twenty|minutes|late")' "$TOA_TMP/body"

# --- slots: 2 slots, 300 ms latency, 3 at once: the third waits one more latency
# (lower bounds only: a loaded host answers late, never early; that two ran
# at once and one queued is the server's own count, max_active and max_queued)
slots=$($CLIENT slots "$URL" sim-slots 3)
read -r t1 t2 t3 <<<"$(echo "$slots" | jq -r '.elapsed_ms | map(tostring) | join(" ")')"
check "slots: each answer holds a slot one latency ($slots)" [ "$t1" -ge 280 ] && [ "$t2" -ge 280 ]
check "slots: the third waits one more latency" [ "$t3" -ge 560 ]
stats=$(curl -s "$URL/stats")
check_eq "stats: sim-slots max_active 2, max_queued 1, slots 2" "2 1 2" \
    "$(echo "$stats" | jq -r '.models["sim-slots"] | "\(.max_active) \(.max_queued) \(.slots)"')"

# --- forced faults
chat "$(body sim-zero hi)" -H 'X-Sim-Fault: 500' >"$TOA_TMP/status"
check_eq "X-Sim-Fault 500: status" 500 "$(cat "$TOA_TMP/status")"
jcheck "X-Sim-Fault 500: OpenAI error shape" \
    '.error.type == "server_error" and (.error.message | length > 0) and has("error")' "$TOA_TMP/body"
chat "$(body sim-mixed hi)" -H 'X-Sim-Fault: 429' >"$TOA_TMP/status"
check_eq "X-Sim-Fault 429: status" 429 "$(cat "$TOA_TMP/status")"
check_eq "X-Sim-Fault 429: Retry-After is the model's retry_after_s" 2 \
    "$(sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9]*\).*/\1/p' "$TOA_TMP/headers")"
jcheck "X-Sim-Fault 429: rate_limit_exceeded" \
    '.error.code == "rate_limit_exceeded" and .error.type == "requests"
     and (.error.message | startswith("Rate limit reached"))' "$TOA_TMP/body"
chat "$(body sim-zero hi)" -H 'X-Sim-Fault: quota' >"$TOA_TMP/status"
jcheck "X-Sim-Fault quota: 429 insufficient_quota" \
    '.error.code == "insufficient_quota"' "$TOA_TMP/body"
check_eq "X-Sim-Fault quota: status 429" 429 "$(cat "$TOA_TMP/status")"
chat "$(body sim-zero hi)" -H 'X-Sim-Fault: context' >"$TOA_TMP/status"
check_eq "X-Sim-Fault context: status 400" 400 "$(cat "$TOA_TMP/status")"
jcheck "X-Sim-Fault context: OpenAI's context_length_exceeded (sim-zero's personality)" \
    '.error.code == "context_length_exceeded" and (.error.message | test("maximum context length"))' \
    "$TOA_TMP/body"
chat "$(body sim-zero "$Q1")" -H 'X-Sim-Fault: malformed' >"$TOA_TMP/status"
check_eq "X-Sim-Fault malformed: status 200" 200 "$(cat "$TOA_TMP/status")"
check "X-Sim-Fault malformed: body is not JSON" bash -c "! jq . '$TOA_TMP/body' >/dev/null 2>&1"
start=$(date +%s%N)
curl -s -m 1 -o /dev/null -H 'X-Sim-Fault: hang' -d "$(body sim-zero hi)" "$URL/v1/chat/completions"
rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
check "X-Sim-Fault hang: held past a 1 s client timeout (curl rc $rc, ${elapsed} ms)" \
    [ "$rc" -eq 28 ] && [ "$elapsed" -ge 900 ]
check_eq "server still healthy after a hang" '{"status":"ok"}' "$(curl -s -m 2 "$URL/health")"

# --- configured fault rates (http_500 0.5; 429 0.2 + malformed 0.2)
rates=$($CLIENT rates "$URL" sim-faulty 200)
n500=$(echo "$rates" | jq .["\"500\""])
check "http_500 0.5 over 200 requests: 35%..65% ($n500)" [ "$n500" -ge 70 ] && [ "$n500" -le 130 ]
check_eq "http_500 rate: the rest answer 200" 200 "$(echo "$rates" | jq '.["500"] + .ok')"
rates=$($CLIENT rates "$URL" sim-mixed 300)
check "http_429 0.2 + malformed 0.2 over 300: each 12%..28% ($rates)" \
    [ "$(echo "$rates" | jq '.["429"] >= 36 and .["429"] <= 84 and .malformed >= 36 and .malformed <= 84 and .retry_after == .["429"]')" = true ]
stats=$(curl -s "$URL/stats")
check "stats count faults by kind and requests per model" [ "$(echo "$stats" | jq \
    '.faults["500"] >= 71 and .faults["429"] >= 37 and .faults.malformed >= 37 and .faults.hang == 1
     and .faults.quota == 1 and .faults.context == 1 and .models["sim-faulty"].requests == 200
     and .endpoints.chat_completions > 500')" = true ]

# --- reward endpoints
reward=$(curl -s -H 'Content-Type: application/json' -d "$(jq -cn --arg q "$Q1" --arg g "$Q1_GOLD" \
    '{query: [($q + "\n#### " + $g), ($q + "\n#### 1"), "no known question here"],
      prompts: [$q, $q, ""], labels: [$g, $g, null]}')" "$URL/reward")
check "POST /reward: right 1.0, wrong -1.0, unknown in [-1,1] ($reward)" [ "$(echo "$reward" | jq \
    '.rewards[0] == 1 and .rewards[1] == -1 and (.rewards[2] >= -1 and .rewards[2] <= 1)')" = true ]
again=$(curl -s -d '{"query": ["no known question here"]}' "$URL/reward" | jq '.rewards[0]')
check_eq "POST /reward: hash score is deterministic" "$(echo "$reward" | jq '.rewards[2]')" "$again"
graded=$(curl -s -d "$(jq -cn --arg q "$Q1" --arg g "$Q1_GOLD" \
    '{query: [($q + "\n#### " + $g), ($q + "\n#### 1")]}')" "$URL/reward")
check "POST /reward without labels: known question graded (right > 0.5 > wrong)" \
    [ "$(echo "$graded" | jq '.rewards[0] > 0.5 and .rewards[1] < -0.5')" = true ]
classify=$(curl -s -d '{"model": "rm", "input": ["a", "b"]}' "$URL/classify")
check "POST /classify: vLLM shape ($classify)" [ "$(echo "$classify" | jq \
    '.object == "list" and (.data | length) == 2 and .data[1].index == 1
     and (.data[0].probs | length) == 1 and .data[0].probs[0] >= 0 and .data[0].probs[0] <= 1
     and .usage.prompt_tokens > 0')" = true ]
pooling=$(curl -s -d '{"model": "rm", "input": ["a", "b"]}' "$URL/pooling")
check "POST /pooling: vLLM shape" [ "$(echo "$pooling" | jq \
    '.object == "list" and (.data | length) == 2 and .data[0].object == "pooling"
     and (.data[1].data | length) == 1')" = true ]
check_eq "POST /classify without model: 400" 400 \
    "$(curl -s -o /dev/null -w '%{http_code}' -d '{"input": "a"}' "$URL/classify")"

# --- throughput at zero latency (a figure, not a test)
if command -v wrk >/dev/null; then
    rps=$(SIM_MODEL=sim-zero wrk -t 2 -c 32 -d 2s -s "$HERE/chat.lua" "$URL/v1/chat/completions" \
          2>/dev/null | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    echo "# throughput (wrk, 32 connections, zero latency): $rps req/s"
fi
load=$($CLIENT load "$URL" sim-zero 2000 32)
echo "# throughput (python client, 2000 requests, 32 connections): $(echo "$load" | jq .req_per_s) req/s"
check_eq "2000 requests over 32 connections all answered 200" 2000 "$(echo "$load" | jq .ok)"

# --- graceful stop while a request hangs
# (the hang holds 30 s, basic.json's hang_ms; the stats count the request's
# fault once the server holds it: the second hang of this run)
curl -s -m 60 -o /dev/null -H 'X-Sim-Fault: hang' -d "$(body sim-zero hi)" \
    "$URL/v1/chat/completions" &
hanging=$!
holds_one () { [ "$(curl -s -m 5 "$URL/stats" | jq '.faults.hang')" -ge 2 ]; }
toa_wait_until 30 holds_one || not_ok "the server holds the hanging request"
start=$(date +%s%N)
kill -TERM "$PID"
wait "$PID"; rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
wait "$hanging"
check_eq "SIGTERM with a hanging request: exit 0" 0 "$rc"
check "SIGTERM: stops without waiting for the 30 s hang (${elapsed} ms)" [ "$elapsed" -lt 15000 ]

# --- config errors: every error printed, exit 2
"$SIMLLM" --config "$HERE/basic.json" --set simllm.models.0.slots=0 \
    --set simllm.models.1.faults.http_500=2 >"$TOA_TMP/bad.out" 2>"$TOA_TMP/bad.err"
rc=$?
check_eq "bad config: exit 2" 2 "$rc"
check "bad config: both errors printed" bash -c \
    "grep -q 'simllm.models\[\?.0\]\?.slots' '$TOA_TMP/bad.err' && grep -q 'http_500' '$TOA_TMP/bad.err'"
"$SIMLLM" --config "$HERE/basic.json" --set 'simllm.data_files=["/nonexistent.jsonl"]' \
    >/dev/null 2>"$TOA_TMP/bad.err"
check_eq "missing data file: exit 2" 2 "$?"
check "missing data file: named in the error" grep -q '/nonexistent.jsonl' "$TOA_TMP/bad.err"
"$SIMLLM" --bogus >/dev/null 2>&1
check_eq "unknown option: exit 2" 2 "$?"
check "--help prints usage and exits 0" bash -c "'$SIMLLM' --help | grep -q -- '--config FILE'"

# --- math accuracy per model: 100 questions x 10 seeds x 3 models
sim_start accuracy "$HERE/accuracy.json" --set "simllm.data_files=[\"$PROBLEMS\"]" \
    || { not_ok "accuracy toa-simllm starts"; toa_done; }
result=$($CLIENT accuracy "$URL" "$PROBLEMS" 10 sim-weak sim-mid sim-strong)
echo "# accuracy: $result"
check_eq "accuracy run: 3000 requests, no errors" "3000 0" "$(echo "$result" | jq -r '"\(.requests) \(.errors)"')"
for pair in sim-weak:0.3 sim-mid:0.5 sim-strong:0.7; do
    model=${pair%%:*} skill=${pair##*:}
    acc=$(echo "$result" | jq ".accuracy[\"$model\"]")
    check "$model accuracy $acc within 0.06 of $skill" \
        [ "$(jq -n "($acc - $skill) | fabs < 0.06")" = true ]
done
check "different models are best on different questions ($(echo "$result" | jq -c .strict_best_questions))" \
    [ "$(echo "$result" | jq '[.strict_best_questions[] | select(. >= 3)] | length >= 2')" = true ]
check "even the weakest model is strictly best on some question" \
    [ "$(echo "$result" | jq '.strict_best_questions["sim-weak"] >= 1')" = true ]

toa_done
