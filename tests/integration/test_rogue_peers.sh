#!/usr/bin/env bash
# test_rogue_peers.sh - the attacks of issue 12 that come from the worker
# side, now refused, each against the real toa-broker with a real
# redis-server over real ZeroMQ; tests/harness/broker_peers plays the client,
# an honest worker + scorer and the attackers. Each job's results stay
# intact: every input id exactly once, the full budget, nothing forged.
#   2  forged answers (task ids sniffed from an honest worker, and their
#      neighbours), from an unregistered sender and from a registered peer
#      that holds no lease: dropped and counted, no model marked down;
#   3  a rogue worker announcing credit 100000 that takes tasks and never
#      answers: its credit is capped, its tasks are taken back long before
#      the lease would end, and the job completes;
#   4  an LLM judge whose reply holds runs of 31 to 45 digits (the judge
#      parser looped forever): the real toa-scorer answers, the job ends;
#   5  50 peers whose ready lists 100000 names, with huge credit and
#      heartbeat: refused past broker.max_peers, lists cut to the configured
#      models, credit and heartbeat capped, the broker's memory back to
#      where it was once they are read, a job still runs;
#   6  a model endpoint that echoes the Authorization header in its error
#      body (tests/integration/rogue/hostile_server.py), with the real
#      toa-worker: the API key is in no log, no failure reason, no result.
source "$(dirname "$0")/../lib.sh"

BROKER=$TOA_BIN/toa-broker
WORKER=$TOA_BIN/toa-worker
SCORER=$TOA_BIN/toa-scorer
PEERS=$(toa_harness broker_peers)
HERE=$(cd "$(dirname "$0")/rogue" && pwd)
toa_require "$BROKER" "$WORKER" "$SCORER" "$PEERS"
T=$TOA_TMP

toa_start_redis || { not_ok "redis-server starts"; toa_done; }
HPORT=$(toa_free_port)
toa_start hostile python3 "$HERE/hostile_server.py" "$HPORT" >/dev/null
toa_wait_port "$HPORT" 30 || { not_ok "the hostile server starts"; toa_done; }
CPORT=$(toa_free_port)
WPORT=$(toa_free_port)
CLIENT_EP=tcp://127.0.0.1:$CPORT
WORKER_EP=tcp://127.0.0.1:$WPORT
export TOA_ROGUE_KEY="rogue-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
H=http://127.0.0.1:$HPORT/v1

# The fleet: m-a and m-b are served by the harness worker; m-key and
# m-plain by the real toa-worker against the hostile server (with the key);
# the reward is an LLM judge on the hostile server. Leases last 30 s; a
# peer holding tasks for 5% of that (1.5 s) without answering loses them.
cat >"$T/fleet.json" <<JSON
{"broker": {"client_endpoint": "$CLIENT_EP", "worker_endpoint": "$WORKER_EP",
            "heartbeat_ms": 200, "task_timeout_ms": 30000, "stall_fraction": 0.05,
            "max_peers": 10},
 "redis": {"url": "$REDIS_URL"},
 "models": [
   {"name": "m-a", "base_url": "http://127.0.0.1:9/v1"},
   {"name": "m-b", "base_url": "http://127.0.0.1:9/v1"},
   {"name": "m-key", "model_id": "echo-auth", "base_url": "$H", "api_key_env": "TOA_ROGUE_KEY",
    "max_retries": 0},
   {"name": "m-plain", "model_id": "echo-plain", "base_url": "$H",
    "api_key_env": "TOA_ROGUE_KEY", "max_retries": 0}],
 "reward": {"backend": "llm-judge", "url": "$H", "model_id": "digits", "max_retries": 0},
 "worker": {"max_tasks": 8, "heartbeat_ms": 200},
 "scorer": {"max_tasks": 8}}
JSON

"$BROKER" --config "$T/fleet.json" --model-down-ms 1000 --model-down-fail-ms 1500 \
    >"$T/broker.log" 2>&1 &
BROKER_PID=$!
TOA_PIDS+=("$BROKER_PID")
toa_wait_port "$CPORT" 30 && toa_wait_port "$WPORT" 30 || { not_ok "the broker starts"; toa_done; }
ok "the broker starts with the fleet config"

HONEST_PID=$(toa_start honest "$PEERS" worker --endpoint "$WORKER_EP" --models m-a,m-b \
    --backends fake --credit 4 --delay-ms 150 --heartbeat-ms 200 --broker-silence-ms 5000 \
    --run-ms 900000)

# settings FILE MODELS SAMPLES BACKEND: best-of-n job settings.
settings () {
    echo "{\"models\": $2, \"method\": {\"name\": \"best-of-n\", \"samples\": $3}," \
         "\"sampling\": {\"seed\": 5}, \"reward\": {\"backend\": \"$4\"}}" >"$1"
}
# prompts FILE N: N prompts, ids q1..qN.
prompts () {
    : >"$1"
    for i in $(seq "$2"); do echo "{\"id\": \"q$i\", \"instruction\": \"Say $i\"}" >>"$1"; done
}
# client NAME JOB SETTINGS PROMPTS TIMEOUT_MS: runs a job to the end.
client () {
    "$PEERS" client --endpoint "$CLIENT_EP" --job "$2" --method best-of-n --settings "$3" \
        --prompts "$4" --out "$T/$1.jsonl" --timeout-ms "$5" >"$T/$1.events" 2>&1
}
# intact NAME N RESPONSES: N results, each id once, RESPONSES scored responses
# each, no failures, nothing forged (text or reward).
intact () {
    python3 - "$T/$1.jsonl" "$2" "$3" <<'PY'
import json, sys
path, n, responses = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = [json.loads(l) for l in open(path)]
ids = sorted(l["id"] for l in lines)
assert ids == sorted("q%d" % i for i in range(1, n + 1)), ids
for l in lines:
    assert len(l["responses"]) == responses, l["responses"]
    assert all(isinstance(r, (int, float)) and -1 <= r <= 1 for r in l["rewards"]), l["rewards"]
    assert all("FORGED" not in t for t in l["responses"]), l["responses"]
    assert "failures" not in l, l["failures"]
    assert l["best_reward"] == max(l["rewards"])
PY
}
event_count () { grep -c "\"event\":\"$2\"" "$T/$1" 2>/dev/null; }
last_stat () { grep 'stats:' "$T/broker.log" | tail -1 | grep -o " $1=[0-9]*" | cut -d= -f2; }

# --- 2: forged answers ----------------------------------------------------------
prompts "$T/p8.jsonl" 8
settings "$T/ab.json" '["m-a", "m-b"]' 2 fake
FORGE1=$(toa_start forge-anon "$PEERS" forge --endpoint "$WORKER_EP" --events "$T/honest.log" \
    --run-ms 12000)
FORGE2=$(toa_start forge-peer "$PEERS" forge --endpoint "$WORKER_EP" --events "$T/honest.log" \
    --ready --models m-forged --heartbeat-ms 200 --run-ms 12000)
sleep 0.5
client forged job-forged "$T/ab.json" "$T/p8.jsonl" 60000
check_eq "2: the job under forged answers runs to the end" 0 $?
check "2: 8 results, each id once, 4 scored responses each, nothing forged, no failures" \
    intact forged 8 4
both_forged () {
    grep -q '"event":"forged"' "$T/forge-anon.log" && grep -q '"event":"forged"' "$T/forge-peer.log"
}
toa_wait_until 60 both_forged || not_ok "2: both forgers finish"
# event FILE NAME JQ: JQ applied to the NAME events of $T/FILE.
event () { jq -r "select(.event==\"$2\") | $3" "$T/$1"; }
check "2: the unregistered forger sent forgeries for sniffed task ids" \
    test "$(event forge-anon.log forged .messages)" -gt 0
check "2: the registered forger sent forgeries too" \
    test "$(event forge-peer.log forged .messages)" -gt 0
check "2: the unregistered forger was told to disconnect" \
    grep -q '"event":"disconnect","reason":"unknown peer: send ready first"' "$T/forge-anon.log"
check "2: a registered peer announcing an unconfigured model serves nothing" \
    grep -q 'worker harness-worker ready: serves \[\], credit' "$T/broker.log"
# (the stats line comes every 5 s: wait for one that counts them)
foreign_counted () { [ "$(last_stat foreign)" -gt 0 ]; }
check "2: the broker counted answers from peers without the lease (foreign)" \
    toa_wait_until 30 foreign_counted
check "2: no forged 503 took a model down" bash -c "! grep -q 'is down' '$T/broker.log'"

# --- 2b: a registered peer answering tasks that do not exist -----------------
# The broker's "dropped an answer" line is logged at most once a second,
# saying how many were not; the stats count every one.
unknown_lines () { grep -c 'dropped an answer for an unknown task' "$T/broker.log"; }
lines_before=$(unknown_lines)
"$PEERS" stray --endpoint "$WORKER_EP" --count 2000 --heartbeat-ms 200 --run-ms 4000 \
    >"$T/stray.log" 2>&1
stray_sent=$(event stray.log stray .sent)
stray_counted () { [ "$(last_stat dropped_results)" -ge "${stray_sent:-1}" ]; }
check "2b: the broker counted every stray answer (dropped_results >= $stray_sent)" \
    toa_wait_until 30 stray_counted
stray_lines=$(( $(unknown_lines) - lines_before ))
check "2b: $stray_sent answers for tasks that do not exist made a few log lines ($stray_lines), not one each" \
    test "$stray_lines" -ge 1 -a "$stray_lines" -le 15
check "2b: ... which say how many were not logged" \
    grep -Eq 'dropped an answer for an unknown task .*\(and [0-9]+ such answers not logged since the last\)' \
    "$T/broker.log"

# --- 3: a rogue worker that takes tasks and sits on them ---------------------------
ROGUE_PID=$(toa_start rogue "$PEERS" worker --endpoint "$WORKER_EP" --models m-a,m-b \
    --credit 100000 --never-answer --heartbeat-ms 200 --broker-silence-ms 60000 --run-ms 60000)
toa_wait_log "$T/broker.log" 'ready: serves \[m-a m-b\], credit 8,' 60 || not_ok "3: the rogue registers"
client stall job-stall "$T/ab.json" "$T/p8.jsonl" 60000
check_eq "3: the job runs to the end with a rogue worker holding tasks" 0 $?
check "3: 8 results, each id once, 4 scored responses each" intact stall 8 4
check "3: the rogue's credit 100000 was capped at worker.max_tasks (8)" \
    grep -q 'ready: serves \[m-a m-b\], credit 8,' "$T/broker.log"
check "3: the rogue was sent tasks" test "$(event_count rogue.log gen)" -gt 0
check "3: the broker took the rogue's tasks back and halved its credit" \
    grep -Eq 'answered nothing for [0-9]+ ms while holding tasks; [0-9]+ of them go to other peers, its credit is now 4' \
    "$T/broker.log"
check "3: no task waited for its 30 s lease" \
    bash -c "! grep -q 'no answer from .* within 30000 ms' '$T/broker.log'"
check_eq "3: the rogue never saw more tasks than the capped credit" 0 \
    "$(event_count rogue.log violation)"
kill "$ROGUE_PID" 2>/dev/null

# --- 5: unbounded peer state ----------------------------------------------------
rss () { ps -o rss= -p "$BROKER_PID" | tr -d ' '; }
RSS_BEFORE=$(rss)
# 1000 serves names each: under the decoder's cap (TOA_PROTO_MAX_SERVES, 1024)
FLOOD=$(toa_start flood "$PEERS" flood --endpoint "$WORKER_EP" --peers 50 --serves 1000 \
    --credit 1000000000 --heartbeat-ms 9000000000000000000 --run-ms 6000)
toa_wait_log "$T/flood.log" '"event":"flooded"' 60 || not_ok "5: the flood is sent"
sleep 2
RSS_DURING=$(rss)
check "5: the broker runs a job while 50 flooding peers are connected" \
    client flood-job job-flood "$T/ab.json" "$T/p8.jsonl" 60000
check "5: 8 results, each id once, 4 scored responses each" intact flood-job 8 4
toa_wait_log "$T/flood.log" '"event":"flood-end"' 60 || not_ok "5: the flood ends"
check "5: peers past broker.max_peers were told to disconnect (10 peers at most)" \
    test "$(event flood.log flood-end .refused)" -ge 40
check "5: and told why" test "$(event flood.log flood-end .reason)" = \
    "too many peers (broker.max_peers is 10)"
check "5: a flooding peer keeps no serves names (none is a configured model), credit 8, heartbeat 60 s" \
    grep -q 'worker flood ready: serves \[\], credit 8, heartbeat 60000 ms' "$T/broker.log"
check "5: the broker said what it cut" \
    grep -q 'worker flood asked for more than the broker allows: serves names not kept credit capped heartbeat clamped' \
    "$T/broker.log"
sleep 1.5
RSS_AFTER=$(rss)
echo "# broker RSS: ${RSS_BEFORE} kB before, ${RSS_DURING} kB while 50 peers sent readies of 1000 names, ${RSS_AFTER} kB after"
if [ -n "${TOA_SANITIZED:-}" ]; then
    ok "5: the flood left no trace in broker memory # SKIP ASan's allocator keeps freed memory in quarantine"
else
    check "5: the flood left no trace in broker memory (${RSS_BEFORE} kB before, ${RSS_AFTER} kB after)" \
        test "$RSS_AFTER" -lt $((RSS_BEFORE + 20000))
fi

# A ready with more serves names than the decoder takes is a bad message:
# refused before any name is kept, the peer told why.
"$PEERS" flood --endpoint "$WORKER_EP" --peers 1 --serves 1025 --heartbeat-ms 200 --run-ms 3000 \
    >"$T/overcap.log" 2>&1
check_eq "5: a ready of 1025 serves names is refused at decoding, saying where" \
    "bad message: array too long at serves" "$(event overcap.log flood-end .reason)"

# --- 4: the judge parser on runs of digits --------------------------------------
SCORER_PID=$(toa_start scorer "$SCORER" --config "$T/fleet.json" --retry-base-ms 50 \
    --retry-max-ms 100)
prompts "$T/p3.jsonl" 3
settings "$T/judge.json" '["m-a"]' 2 llm-judge
client judge job-judge "$T/judge.json" "$T/p3.jsonl" 60000
check_eq "4: a job judged by a server replying runs of digits runs to the end" 0 $?
check "4: each response's scoring failed with the judge's reason, each id once" \
    python3 - "$T/judge.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(l["id"] for l in lines) == ["q1", "q2", "q3"], lines
for l in lines:
    assert len(l["responses"]) == 2 and l["rewards"] == [None, None], l["rewards"]
    assert len(l["failures"]) == 2 and all("judge" in f["reason"] for f in l["failures"]), l
PY
check "4: the scorer is still running" kill -0 "$SCORER_PID"
kill "$SCORER_PID" 2>/dev/null

# --- 6: an endpoint that echoes the Authorization header ----------------------------
REAL_PID=$(toa_start real-worker "$WORKER" --config "$T/fleet.json" --model m-key \
    --model m-plain --retry-base-ms 50 --retry-max-ms 100 --name real-worker)
toa_wait_log "$T/broker.log" 'worker real-worker ready' 60 || not_ok "6: the real worker registers"
prompts "$T/p2.jsonl" 2
settings "$T/echo.json" '["m-key", "m-plain"]' 1 fake
client echo job-echo "$T/echo.json" "$T/p2.jsonl" 60000
check_eq "6: the job against the echoing endpoint runs to the end" 0 $?
check "6: each prompt's two generations failed with the server's (scrubbed) words" \
    python3 - "$T/echo.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(l["id"] for l in lines) == ["q1", "q2"], lines
for l in lines:
    reasons = sorted(f["reason"] for f in l["failures"])
    assert len(reasons) == 2, reasons
    assert any("Incorrect API key provided: Bearer (hidden)" in r for r in reasons), reasons
    assert any("Authorization: Bearer (hidden)" in r for r in reasons), reasons
PY
kill -TERM "$REAL_PID" 2>/dev/null
sleep 0.5
check "6: the key reached the server (the test means something)" \
    bash -c "curl -s -X POST -H 'Authorization: Bearer probe-$$' -d '{\"model\":\"echo-auth\"}' $H/chat/completions | grep -q probe-$$"
for file in broker.log real-worker.log echo.jsonl echo.events honest.log; do
    check "6: the API key is not in $file" bash -c "! grep -qF \"\$TOA_ROGUE_KEY\" '$T/$file'"
done

kill -TERM "$BROKER_PID"
wait "$BROKER_PID"
check_eq "the broker stops cleanly" 0 $?
check "the final stats line counts taken-back tasks (stalled)" test "$(last_stat stalled)" -gt 0
check "the final stats line counts refused peers" test "$(last_stat refused_peers)" -ge 40
toa_done
