#!/usr/bin/env bash
# test_curve.sh - CURVE with ZAP between real processes on 127.0.0.1:
# `toa keygen` files and modes; a fleet (redis-server, toa-simllm,
# toa-broker, toa-worker, toa-scorer) with CURVE on runs a job to the end;
# the broker admits only listed keys, and only on their own endpoint (a
# worker's key cannot submit, a client's key cannot serve); a client or a
# worker without CURVE gets nothing; a world-readable secret is refused;
# without CURVE the broker refuses an address other machines can reach
# unless broker.insecure says so; nor /metrics on a non-loopback address.
source "$(dirname "$0")/../lib.sh"
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-broker" "$TOA_BIN/toa-worker" \
    "$TOA_BIN/toa-scorer" "$TOA_BIN/toa-simllm"
T=$TOA_TMP
K=$T/keys
DATA=$TOA_ROOT/examples/prompts-math.jsonl

# 1. keygen.
for name in broker worker scorer alice rogue bob admin; do
    "$TOA_BIN/toa" keygen "$name" --dir "$K" >"$T/keygen-$name.log" 2>&1 \
        || not_ok "toa keygen $name"
done
check_eq "keygen: the secret file is mode 600" 600 "$(stat -c %a "$K/alice.key_secret")"
check_eq "keygen: the key directory it made is mode 700" 700 "$(stat -c %a "$K")"
check "keygen: the public file holds the public key it printed" \
    grep -qF "$(sed -n 's/^public key: //p' "$T/keygen-alice.log")" "$K/alice.key"
check "keygen: the public file holds no secret key" bash -c "! grep -q secret-key '$K/alice.key'"
"$TOA_BIN/toa" keygen alice --dir "$K" >"$T/keygen-again.log" 2>&1
check_eq "keygen: an existing pair is never overwritten (exit 1)" 1 $?
check "... and it says so" grep -q "already exists" "$T/keygen-again.log"
mkdir -p "$K/peers" "$K/clients"
cp "$K/worker.key" "$K/scorer.key" "$K/peers/"
cp "$K/alice.key" "$K/bob.key" "$K/admin.key" "$K/clients/"
mkdir -p "$K/admins" && cp "$K/admin.key" "$K/admins/"

toa_start_redis || { not_ok "redis-server starts"; toa_done; }
CPORT=$(toa_free_port) WPORT=$(toa_free_port) SPORT=$(toa_free_port)
CONFIG=$T/fleet.json
jq -n --arg c "tcp://127.0.0.1:$CPORT" --arg w "tcp://127.0.0.1:$WPORT" \
    --arg r "$REDIS_URL" --arg s "http://127.0.0.1:$SPORT/v1" --arg l "127.0.0.1:$SPORT" \
    --arg k "$K" --arg data "$DATA" '{
  broker: {client_endpoint: $c, worker_endpoint: $w, heartbeat_ms: 200,
           max_prompts_per_client: 30},
  redis: {url: $r},
  models: [{name: "sim-a", base_url: $s, simulated: true},
           {name: "sim-b", base_url: $s, simulated: true},
           {name: "sim-slow", base_url: $s, simulated: true}],
  reward: {backend: "math-verify"},
  method: {name: "best-of-n", samples: 2},
  worker: {heartbeat_ms: 200},
  simllm: {listen: $l, data_files: [$data],
           models: [{model_id: "sim-a", latency_ms: 5}, {model_id: "sim-b", latency_ms: 5},
                    {model_id: "sim-slow", latency_ms: 250, slots: 2}]},
  curve: {broker_key: ($k + "/broker.key"), peer_key: ($k + "/worker.key"),
          client_key: ($k + "/alice.key"), peer_keys_dir: ($k + "/peers"),
          client_keys_dir: ($k + "/clients"), admin_keys_dir: ($k + "/admins")}
}' >"$CONFIG"
# Jobs that run to the end use the fast models; a job that must still run
# while its client is stopped (2b, 2c) uses sim-slow: its 42 generations
# take some 5 s, two at a time, so the client is stopped long before the end
# however late the test gets to it.
FAST=(--set "models=$(jq -c '[.models[] | select(.name != "sim-slow")]' "$CONFIG")")
SLOW=(--set "models=$(jq -c '[.models[] | select(.name == "sim-slow")]' "$CONFIG")")

# 2. The fleet with CURVE on runs a job.
toa_start simllm "$TOA_BIN/toa-simllm" --config "$CONFIG" >/dev/null
toa_start broker "$TOA_BIN/toa-broker" --config "$CONFIG" >/dev/null
toa_wait_port "$CPORT" 30 && toa_wait_port "$SPORT" 30 || not_ok "broker and simllm listen"
check "the broker says CURVE is on" grep -q "CURVE on" "$T/broker.log"
toa_start worker "$TOA_BIN/toa-worker" --config "$CONFIG" >/dev/null
toa_start scorer "$TOA_BIN/toa-scorer" --config "$CONFIG" --set "curve.peer_key=$K/scorer.key" >/dev/null
check "a job runs to the end over CURVE (exit 0)" \
    "$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$T/out.jsonl" --quiet \
    "${FAST[@]}" 2>"$T/submit.log"
check_eq "every prompt's result once" "$(jq -r .id "$DATA" | sort | tr '\n' ' ')" \
    "$(jq -r .id "$T/out.jsonl" | sort | tr '\n' ' ')"

pubkey () { sed -n 's/^public key: //p' "$T/keygen-$1.log"; }
# refused ENDPOINT NAME: the broker logged a refusal of NAME's key on ENDPOINT.
refused () { grep "refused a connection to the $1 endpoint" "$T/broker.log" | grep -qF "$(pubkey "$2")"; }

# 2b. Jobs belong to their submitter (attack 1). Alice's client stops (SIGSTOP)
# with results unwritten; bob, another listed client, tries to take the job.
"$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$T/alice.jsonl" --job alice-1 "${SLOW[@]}" \
    --quiet >"$T/alice.log" 2>&1 &
ALICE=$!
TOA_PIDS+=("$ALICE")
toa_wait_until 60 test -s "$T/alice.jsonl" || not_ok "alice's job writes a result"
kill -STOP "$ALICE"
for name in bob admin; do   # a config per client host: its own key
    jq --arg k "$K/$name.key" '.curve.client_key = $k' "$CONFIG" >"$T/$name.json"
done
cp "$CONFIG" "$T/alice.json"
as_client () {   # NAME COMMAND ARGS...: runs toa with NAME's key
    local name=$1 command=$2; shift 2
    "$TOA_BIN/toa" "$command" "$@" --config "$T/$name.json" --timeout 5
}
/usr/bin/python3 "$(dirname "$0")/curve/intruder.py" "tcp://127.0.0.1:$CPORT" "$K/broker.key" "$K/bob.key" \
    alice-1 >"$T/intruder.log" 2>&1
cat "$T/intruder.log" | sed 's/^/# intruder: /'
check "another client's status of every job leaves the job out" grep -q "^status-all jobs .* target 0" "$T/intruder.log"
check_eq "another client's status of the job: refused (403)" "status-job 403" "$(grep ^status-job "$T/intruder.log")"
check_eq "another client's attach: refused (403)" "attach 403" "$(grep ^attach "$T/intruder.log")"
check_eq "another client's result-ack: refused (403)" "result-ack 403" "$(grep ^result-ack "$T/intruder.log")"
check_eq "another client's cancel: refused (403)" "cancel 403" "$(grep ^cancel "$T/intruder.log")"
check "the broker logs such refusals at most once a second (1 to 3 lines for those 4)" \
    bash -c "n=\$(grep -c 'not its owner' '$T/broker.log'); [ \$n -ge 1 ] && [ \$n -lt 4 ]"
as_client bob cancel alice-1 >"$T/bob-cancel.log" 2>&1
check_eq "toa cancel with another key exits 1" 1 $?
check "... saying the job belongs to another client" grep -q "belongs to another client" "$T/bob-cancel.log"
as_client bob attach alice-1 --output "$T/bob.jsonl" >"$T/bob-attach.log" 2>&1
check "toa attach with another key fails and writes nothing" \
    bash -c "! [ -s '$T/bob.jsonl' ] && grep -q 'belongs to another client' '$T/bob-attach.log'"
as_client bob status >"$T/bob-status.log" 2>&1
check "toa status with another key does not list the job" bash -c "! grep -q alice-1 '$T/bob-status.log'"
as_client admin status >"$T/admin-status.log" 2>&1
check "toa status with an admin key lists it" grep -q alice-1 "$T/admin-status.log"
as_client alice status >"$T/alice-status.log" 2>&1
check "toa status with the owner's key lists it" grep -q alice-1 "$T/alice-status.log"
kill -KILL "$ALICE" 2>/dev/null; wait "$ALICE" 2>/dev/null
as_client alice attach alice-1 --output "$T/alice.jsonl" --quiet 2>"$T/alice-attach.log"
check_eq "the owner attaches and gets the rest (exit 0)" 0 $?
check_eq "the owner's results are intact: every prompt once" "$(jq -r .id "$DATA" | sort | tr '\n' ' ')" \
    "$(jq -r .id "$T/alice.jsonl" | sort | tr '\n' ' ')"
# Limits per client key: 42 prompts is over broker.max_prompts_per_client (30).
jq -c '.id = "b-\(.id)"' "$DATA" | cat "$DATA" - >"$T/big.jsonl"
as_client bob submit --input "$T/big.jsonl" --output "$T/big.out" --quiet >"$T/big.log" 2>&1
check_eq "a batch over the client's prompt limit is refused (exit 2)" 2 $?
check "... saying which limit" grep -q "max_prompts_per_client" "$T/big.log"

# 2c. Without CURVE a job belongs to the token toa submit made (kept in
# TOA_TOKEN_DIR): a second fleet, CURVE off, on Redis database 1.
P3=$(toa_free_port) P4=$(toa_free_port)
jq --arg c "tcp://127.0.0.1:$P3" --arg w "tcp://127.0.0.1:$P4" \
    '.curve = {} | .broker.client_endpoint = $c | .broker.worker_endpoint = $w' "$CONFIG" >"$T/plain.json"
plain=(--config "$T/plain.json")
toa_start broker2 "$TOA_BIN/toa-broker" "${plain[@]}" --redis "${REDIS_URL%/0}/1" >/dev/null
toa_start worker2 "$TOA_BIN/toa-worker" "${plain[@]}" >/dev/null
toa_start scorer2 "$TOA_BIN/toa-scorer" "${plain[@]}" >/dev/null
toa_wait_port "$P3" 30 || not_ok "the broker without CURVE listens"
TOA_TOKEN_DIR=$T/alice-tokens "$TOA_BIN/toa" submit "${plain[@]}" "${SLOW[@]}" --input "$DATA" \
    --output "$T/alice2.jsonl" --job alice-2 --quiet >"$T/alice2.log" 2>&1 &
ALICE=$!
TOA_PIDS+=("$ALICE")
toa_wait_until 60 test -s "$T/alice2.jsonl" || not_ok "alice's second job writes a result"
kill -STOP "$ALICE"
check_eq "toa submit kept the job's token in a file of mode 600" 600 "$(stat -c %a "$T/alice-tokens/alice-2" 2>/dev/null)"
/usr/bin/python3 "$(dirname "$0")/curve/intruder.py" "tcp://127.0.0.1:$P3" - - alice-2 >"$T/intruder2.log" 2>&1
sed 's/^/# intruder without the token: /' "$T/intruder2.log"
check "without the token: status of every job leaves the job out" grep -q "^status-all jobs .* target 0" "$T/intruder2.log"
check_eq "without the token: status, attach, result-ack, cancel all refused (403)" \
    "status-job 403 attach 403 result-ack 403 cancel 403" "$(grep -v ^status-all "$T/intruder2.log" | tr '\n' ' ' | sed 's/ $//')"
TOA_TOKEN_DIR=$T/bob-tokens "$TOA_BIN/toa" cancel alice-2 "${plain[@]}" >"$T/bob-cancel2.log" 2>&1
check_eq "toa cancel from another user's token directory exits 1" 1 $?
TOA_TOKEN_DIR=$T/alice-tokens "$TOA_BIN/toa" status alice-2 "${plain[@]}" >"$T/alice2-status.log" 2>&1
check "toa status with the token lists the job" grep -q alice-2 "$T/alice2-status.log"
TOA_TOKEN_DIR=$T/alice-tokens "$TOA_BIN/toa" status "${plain[@]}" >"$T/alice-all.log" 2>"$T/alice-all.err"
check "toa status without a job id (no CURVE) says to name the job" \
    grep -q "without CURVE name the job" "$T/alice-all.err"
kill -KILL "$ALICE" 2>/dev/null; wait "$ALICE" 2>/dev/null
TOA_TOKEN_DIR=$T/alice-tokens "$TOA_BIN/toa" attach alice-2 "${plain[@]}" --output "$T/alice2.jsonl" \
    --quiet 2>"$T/alice2-attach.log"
check_eq "the token's holder attaches and gets the rest (exit 0)" 0 $?
check_eq "... every prompt once" "$(jq -r .id "$DATA" | sort | tr '\n' ' ')" \
    "$(jq -r .id "$T/alice2.jsonl" | sort | tr '\n' ' ')"

# 3. Clients the broker does not admit get no answer at all (exit 3).
submit_as () {   # NAME KEY-OVERRIDE...: a short submit; prints its exit status
    "$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$T/$1.jsonl" \
        --timeout 2 --quiet "${@:2}" >"$T/$1.log" 2>&1
    echo $?
}
check_eq "a client with an unlisted key gets no answer (exit 3)" 3 \
    "$(submit_as rogue-client --set "curve.client_key=$K/rogue.key")"
check_eq "a worker's key is refused on the client endpoint (exit 3)" 3 \
    "$(submit_as worker-as-client --set "curve.client_key=$K/worker.key")"
check_eq "a client without CURVE gets no answer (exit 3)" 3 \
    "$(submit_as plain-client --set curve.broker_key=null)"
check "none of them wrote a result" bash -c "! [ -s '$T/rogue-client.jsonl' ] && ! [ -s '$T/worker-as-client.jsonl' ] && ! [ -s '$T/plain-client.jsonl' ]"
check "the broker logged the refused key and the endpoint" refused clients rogue

# 4. Peers the broker does not admit never register; they say why.
# Each refused key is logged once on each endpoint (again after a minute),
# so a key that keeps retrying cannot hide another's: wait for each in the
# broker's log itself.
toa_start rogue-worker "$TOA_BIN/toa-worker" --config "$CONFIG" --set "curve.peer_key=$K/rogue.key" >/dev/null
toa_start client-as-worker "$TOA_BIN/toa-worker" --config "$CONFIG" --set "curve.peer_key=$K/alice.key" >/dev/null
check "the broker refused the unlisted worker key on the peer endpoint" toa_wait_until 60 refused peers rogue
check "the broker refused the client's key on the peer endpoint" toa_wait_until 60 refused peers alice
check "a refused worker says what to check" toa_wait_log "$T/rogue-worker.log" "curve.peer_keys_dir" 60
# The rogue worker has retried by now (its hint comes after a refusal and a
# silence); its key is still logged once on the peers endpoint.
check_eq "a key that keeps retrying is logged once, not every retry" 1 \
    "$(grep "refused a connection to the peers endpoint" "$T/broker.log" | grep -cF "$(pubkey rogue)")"
check_eq "refused workers never registered (only the worker and the scorer did)" 2 \
    "$(grep -c ' ready: serves' "$T/broker.log")"
check "the admitted fleet still runs a job" \
    "$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$T/out2.jsonl" --quiet \
    "${FAST[@]}" 2>"$T/submit2.log"
check_eq "... every prompt once" "$(wc -l <"$DATA")" "$(wc -l <"$T/out2.jsonl")"

# 5. Bad key files: clear errors before anything connects.
cp "$K/rogue.key" "$T/open.key"; cp "$K/rogue.key_secret" "$T/open.key_secret"
chmod 644 "$T/open.key_secret"
timeout 5 "$TOA_BIN/toa-worker" --config "$CONFIG" --set "curve.peer_key=$T/open.key" >"$T/open.log" 2>&1
rc=$?
check "a world-readable secret key is refused (exit non-zero)" test "$rc" -ne 0 -a "$rc" -ne 124
check "... saying why and how to fix it" grep -q "readable by others.*chmod 600" "$T/open.log"
timeout 5 "$TOA_BIN/toa-worker" --config "$CONFIG" --set curve.peer_key=null >"$T/nokey.log" 2>&1
check "a worker with CURVE on and no key of its own is refused, naming the field" \
    grep -q "curve.peer_key: required" "$T/nokey.log"
timeout 5 "$TOA_BIN/toa-broker" --config "$CONFIG" --set curve.peer_keys_dir=null \
    --client-endpoint "tcp://127.0.0.1:$(toa_free_port)" --worker-endpoint "tcp://127.0.0.1:$(toa_free_port)" \
    >"$T/nodir.log" 2>&1
check "a broker with CURVE on and no peer key directory does not start" \
    grep -q "curve.peer_keys_dir and curve.client_keys_dir are required" "$T/nodir.log"

# 6. Without CURVE: only loopback, unless the config says insecure.
P1=$(toa_free_port) P2=$(toa_free_port)
timeout 5 "$TOA_BIN/toa-broker" --config "$CONFIG" --set curve.broker_key=null \
    --client-endpoint "tcp://0.0.0.0:$P1" --worker-endpoint "tcp://127.0.0.1:$P2" >"$T/open-broker.log" 2>&1
rc=$?
check "without CURVE the broker refuses to bind 0.0.0.0 (exit non-zero)" test "$rc" -ne 0 -a "$rc" -ne 124
check "... and says why and what to set" \
    grep -q "broker.client_endpoint tcp://0.0.0.0:$P1 can be reached from other machines and CURVE is off.*broker.insecure" "$T/open-broker.log"
# /metrics is plain HTTP: CURVE on or off, loopback only unless insecure.
P3=$(toa_free_port)
timeout 5 "$TOA_BIN/toa-broker" --config "$CONFIG" --metrics-listen "0.0.0.0:$P3" \
    --client-endpoint "tcp://127.0.0.1:$P1" --worker-endpoint "tcp://127.0.0.1:$P2" >"$T/open-metrics.log" 2>&1
rc=$?
check "with CURVE on the broker refuses metrics_listen 0.0.0.0 (exit non-zero)" test "$rc" -ne 0 -a "$rc" -ne 124
check "... and says why and what to set" \
    grep -q "broker.metrics_listen 0.0.0.0:$P3 can be reached from other machines and /metrics has no authentication.*broker.insecure" "$T/open-metrics.log"
timeout 2 "$TOA_BIN/toa-broker" --config "$CONFIG" --set curve.broker_key=null --set broker.insecure=true \
    --client-endpoint "tcp://0.0.0.0:$P1" --worker-endpoint "tcp://127.0.0.1:$P2" \
    --metrics-listen "0.0.0.0:$P3" >"$T/insecure-broker.log" 2>&1
check_eq "with broker.insecure true it binds 0.0.0.0 (ZeroMQ and /metrics) and runs (until timeout)" 124 $?
toa_done
