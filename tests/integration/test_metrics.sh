#!/usr/bin/env bash
# test_metrics.sh - the broker's Prometheus endpoint over a real fleet
# (deploy/fleet: redis, toa-simllm, toa-broker, 2 workers, a scorer; the 21
# example math prompts, TOA, 3 models x 2 samples): /metrics answers in the
# text format with # HELP and # TYPE for every family and Prometheus naming;
# during the job prompts are active and tasks in flight; afterwards the
# generation counter grew by exactly the responses in the results file, the
# scores by the scored responses, the workers' reported HTTP attempts match
# the generations, one model's server errors (500, 429) show as attempts and
# retries by outcome, every peer is listed with its credit; the Grafana
# dashboard parses and every query names a metric the broker serves; a bad
# metrics_listen is refused.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PROM="python3 $HERE/metrics/prom.py"
PROMPTS=$TOA_ROOT/examples/prompts-math.jsonl
DASHBOARD=$TOA_ROOT/deploy/grafana-dashboard.json
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-broker" "$TOA_BIN/toa-worker" "$TOA_BIN/toa-scorer"

export TOA_RUN_DIR=$TOA_TMP/run
CONFIG=$TOA_TMP/fleet.json
METRICS_PORT=$(toa_free_port)
python3 "$HERE/e2e/make_config.py" "$TOA_TMP/base.json" "$PROMPTS" "$TOA_RUN_DIR" 150 >/dev/null
# sim-gamma's server fails some requests (500, 429): workers retry them
jq --arg listen "127.0.0.1:$METRICS_PORT" '.broker.metrics_listen = $listen
    | .method.samples = 2
    | .simllm.models[2].faults = {"http_500": 0.15, "http_429": 0.1, "retry_after_s": 0}' \
    "$TOA_TMP/base.json" >"$CONFIG"
fleet_down () { "$TOA_ROOT/deploy/fleet" down "$CONFIG" >/dev/null 2>&1; }
trap 'fleet_down; toa_cleanup' EXIT
if ! "$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/fleet-up.log" 2>&1; then
    cat "$TOA_TMP/fleet-up.log"; not_ok "fleet up"; toa_done
fi
URL=http://127.0.0.1:$METRICS_PORT/metrics
scrape () { curl -sf --max-time 5 "$URL" -o "$1"; }

# 1. Before the job: the page, its format, the fleet.
check "GET /metrics answers 200" scrape "$TOA_TMP/before.txt"
check "text format: HELP and TYPE for every family, Prometheus naming" \
    $PROM check "$TOA_TMP/before.txt"
content_type=$(curl -sf -o /dev/null -w '%{content_type}' "$URL")
check_eq "content type of the text format" "text/plain; version=0.0.4; charset=utf-8" "$content_type"
check_eq "another path is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/")"
families=$($PROM families "$TOA_TMP/before.txt")
for want in "toa_generations_total counter" "toa_scores_total counter" \
    "toa_task_duration_seconds histogram" "toa_redis_round_trip_seconds histogram" \
    "toa_jobs gauge" "toa_prompts_active gauge" "toa_prompts_queued gauge" \
    "toa_tasks_queued gauge" "toa_tasks_in_flight gauge" "toa_peers gauge" \
    "toa_peer_credit gauge" "toa_model_up gauge" "toa_results_waiting gauge" \
    "toa_task_failures_total counter" "toa_task_retries_total counter" \
    "toa_upstream_attempts_total counter" "toa_upstream_retries_total counter" \
    "toa_upstream_in_flight gauge" "toa_redis_errors_total counter"; do
    check "family $want" grep -qx "$want" <<<"$families"
done
check_eq "2 workers connected" 2 "$($PROM sum "$TOA_TMP/before.txt" toa_peers kind=worker)"
check_eq "1 scorer connected" 1 "$($PROM sum "$TOA_TMP/before.txt" toa_peers kind=scorer)"
check_eq "credit of the workers (2 x 64)" 128 "$($PROM sum "$TOA_TMP/before.txt" toa_peer_credit kind=worker)"
gen0=$($PROM sum "$TOA_TMP/before.txt" toa_generations_total outcome=ok)
score0=$($PROM sum "$TOA_TMP/before.txt" toa_scores_total outcome=ok)

# 2. During the job: prompts active, tasks in flight.
OUT=$TOA_TMP/results.jsonl
"$TOA_BIN/toa" submit --config "$CONFIG" --input "$PROMPTS" --output "$OUT" --quiet \
    >"$TOA_TMP/submit.log" 2>&1 &
submit=$!
i=0
while kill -0 "$submit" 2>/dev/null && [ $i -lt 600 ]; do
    i=$((i + 1))
    scrape "$TOA_TMP/during-$i.txt"
    sleep 0.02
done
wait "$submit"
check_eq "the job finishes (toa submit exits 0)" 0 "$?"
seen_active=0 seen_flight=0 seen_running=0 during=
for page in "$TOA_TMP"/during-*.txt; do
    [ -s "$page" ] || continue
    [ "$($PROM sum "$page" toa_prompts_active)" -gt 0 ] || continue
    seen_active=1 during=$page
    [ "$($PROM sum "$page" toa_tasks_in_flight)" -gt 0 ] && seen_flight=1
    [ "$($PROM sum "$page" toa_jobs state=running)" = 1 ] && seen_running=1
    [ $seen_flight = 1 ] && [ $seen_running = 1 ] && break
done
check_eq "a scrape during the job sees prompts active" 1 "$seen_active"
check_eq "a scrape during the job sees tasks in flight" 1 "$seen_flight"
check_eq "a scrape during the job sees it running" 1 "$seen_running"
check "the page during the job is well formed" $PROM check "${during:-/dev/null}"

# 3. After: counters agree with the results file.
responses=$(jq -s '[.[].responses | length] | add' "$OUT")
scored=$(jq -s '[.[].rewards[] | select(. != null)] | length' "$OUT")
check_eq "21 prompts x 6 responses in the results" 126 "$responses"
# workers report every heartbeat (500 ms): wait for their last figures
for _ in $(seq 300); do
    scrape "$TOA_TMP/after.txt"
    [ "$($PROM sum "$TOA_TMP/after.txt" toa_upstream_attempts_total kind=worker outcome=ok)" \
        -ge "$responses" ] && break
    sleep 0.1
done
gen1=$($PROM sum "$TOA_TMP/after.txt" toa_generations_total outcome=ok)
score1=$($PROM sum "$TOA_TMP/after.txt" toa_scores_total outcome=ok)
check_eq "toa_generations_total{outcome=ok} grew by the responses in the results" \
    "$responses" "$((gen1 - gen0))"
check_eq "toa_scores_total{outcome=ok} grew by the scored responses" "$scored" "$((score1 - score0))"
check_eq "generation latency histogram: one observation per generation task" "$responses" \
    "$($PROM sum "$TOA_TMP/after.txt" toa_task_duration_seconds_count kind=generation)"
check_eq "workers' HTTP attempts (reported in heartbeats): one per generation" "$responses" \
    "$($PROM sum "$TOA_TMP/after.txt" toa_upstream_attempts_total kind=worker outcome=ok)"
per_model=$(for m in sim-alpha sim-beta sim-gamma; do
    $PROM sum "$TOA_TMP/after.txt" toa_generations_total model=$m outcome=ok; done | tr '\n' ' ')
expect_model=$(for m in sim-alpha sim-beta sim-gamma; do
    jq -s --arg m "$m" '[.[].actions[] | select(.model == $m)] | length' "$OUT"; done | tr '\n' ' ')
check_eq "generations per model agree with the results" "$expect_model" "$per_model"
check "completion tokens counted" test "$($PROM sum "$TOA_TMP/after.txt" toa_generation_tokens_total type=completion)" -gt 0
check "redis round trips observed" test "$($PROM sum "$TOA_TMP/after.txt" toa_redis_round_trip_seconds_count)" -gt 0
check_eq "no results waiting once the client acknowledged them" 0 \
    "$($PROM sum "$TOA_TMP/after.txt" toa_results_waiting)"
check_eq "the job, done and acknowledged, is no longer held" 0 \
    "$($PROM sum "$TOA_TMP/after.txt" toa_jobs)"
check_eq "every model up" 3 "$($PROM sum "$TOA_TMP/after.txt" toa_model_up)"
A=$TOA_TMP/after.txt
check "sim-gamma's 500s counted as 5xx attempts (reported by workers)" \
    test "$($PROM sum "$A" toa_upstream_attempts_total kind=worker target=sim-gamma outcome=5xx)" -gt 0
check "sim-gamma's 429s counted" \
    test "$($PROM sum "$A" toa_upstream_attempts_total kind=worker target=sim-gamma outcome=429)" -gt 0
check "the workers retried them (retries by outcome)" \
    test "$($PROM sum "$A" toa_upstream_retries_total kind=worker outcome=5xx)" -gt 0
check_eq "no failed attempts at the healthy models" 0 \
    "$(( $($PROM sum "$A" toa_upstream_attempts_total target=sim-alpha) + $($PROM sum "$A" toa_upstream_attempts_total target=sim-beta) - $($PROM sum "$A" toa_upstream_attempts_total target=sim-alpha outcome=ok) - $($PROM sum "$A" toa_upstream_attempts_total target=sim-beta outcome=ok) ))"
check_eq "generation answers that were failures = generation task-failures" \
    "$($PROM sum "$A" toa_task_failures_total kind=generation)" \
    "$(( $($PROM sum "$A" toa_generations_total) - gen1 ))"
check "the page after the job is well formed" $PROM check "$TOA_TMP/after.txt"

# 4. The Grafana dashboard.
check "deploy/grafana-dashboard.json parses" jq empty "$DASHBOARD"
check "every dashboard query names a metric the broker serves" \
    $PROM dashboard "$TOA_TMP/after.txt" "$DASHBOARD"

# 5. A bad metrics_listen is a config error (exit 2, says where).
"$TOA_BIN/toa-broker" --config "$CONFIG" --set broker.metrics_listen=nope \
    >"$TOA_TMP/bad.log" 2>&1
check_eq "bad metrics_listen: exit 2" 2 "$?"
check "bad metrics_listen: the message names the field" grep -q "metrics_listen" "$TOA_TMP/bad.log"
toa_done
