#!/usr/bin/env bash
# test_deploy.sh - the deployment files: deploy/docker-compose.yml is a valid
# compose file naming the services a fleet needs, publishes the broker on
# 127.0.0.1 only, gives Redis a password and turns CURVE on; every program
# accepts deploy/compose.json (the fleet config the compose file mounts) with
# the keys deploy/compose-keys makes; deploy/fleet's managed Redis has a
# password and listens on loopback (issue 12, attack 7).
source "$(dirname "$0")/../lib.sh"
DEPLOY=$TOA_ROOT/deploy
export TOA_REDIS_PASSWORD=test-only-password

if command -v docker-compose >/dev/null; then
    check "docker-compose accepts deploy/docker-compose.yml" \
        docker-compose -f "$DEPLOY/docker-compose.yml" config -q
    services=$(docker-compose -f "$DEPLOY/docker-compose.yml" config --services | sort | tr '\n' ' ')
    check_eq "the compose file runs redis, simllm, broker, worker, scorer" \
        "broker redis scorer simllm worker " "$services"
    docker-compose -f "$DEPLOY/docker-compose.yml" config >"$TOA_TMP/compose.yml" 2>/dev/null
    check_eq "the only published port is the broker's, on 127.0.0.1" "- 127.0.0.1:5555:5555/tcp" \
        "$(grep -A1 '^    ports:' "$TOA_TMP/compose.yml" | grep -- '- ' | sed 's/^ *//' | tr '\n' ' ' | sed 's/ $//')"
    check "Redis gets a password (from TOA_REDIS_PASSWORD, on its standard input)" \
        grep -q 'requirepass.*TOA_REDIS_PASSWORD.*redis-server -' "$TOA_TMP/compose.yml"
    (unset TOA_REDIS_PASSWORD; docker-compose -f "$DEPLOY/docker-compose.yml" config -q) >"$TOA_TMP/nopass.log" 2>&1
    check "without TOA_REDIS_PASSWORD the compose file is refused, saying so" \
        grep -q "set TOA_REDIS_PASSWORD" "$TOA_TMP/nopass.log"
else
    not_ok "docker-compose is installed (deploy/install-deps.sh installs it)"
fi
check_eq "compose.json turns CURVE on with keys from the mounted directory" "/etc/toa/keys/broker.key" \
    "$(jq -r .curve.broker_key "$DEPLOY/compose.json")"

# The keys compose mounts, made into a directory of the test's own.
KEYS=$TOA_TMP/keys
check "deploy/compose-keys makes the broker, peer and client keys" \
    bash -c "\"$DEPLOY/compose-keys\" \"$KEYS\" >/dev/null"
check_eq "... secret halves mode 600" "600 600 600" \
    "$(stat -c %a "$KEYS/broker.key_secret" "$KEYS/peer.key_secret" "$KEYS/client.key_secret" | tr '\n' ' ' | sed 's/ $//')"
check "... the peer and client keys are listed" test -f "$KEYS/peers/peer.key" -a -f "$KEYS/clients/client.key"
keyed=(--set "curve.broker_key=$KEYS/broker.key" --set "curve.peer_key=$KEYS/peer.key"
       --set "curve.client_key=$KEYS/client.key" --set "curve.peer_keys_dir=$KEYS/peers"
       --set "curve.client_keys_dir=$KEYS/clients")

# A program that accepts its config keeps running; a bad config exits 2 at once.
runs_with_config () {   # PROGRAM ARGS...
    timeout 1 "$@" >"$TOA_TMP/run.log" 2>&1
    [ $? -eq 124 ]
}
for program in toa-worker toa-scorer; do
    check "$program accepts deploy/compose.json" runs_with_config "$TOA_BIN/$program" \
        --config "$DEPLOY/compose.json" --set broker.worker_endpoint=tcp://127.0.0.1:9 "${keyed[@]}"
done
REDIS_FREE=$(toa_free_port)
check "toa-broker accepts deploy/compose.json (CURVE on, any address)" runs_with_config \
    "$TOA_BIN/toa-broker" --config "$DEPLOY/compose.json" --redis "redis://127.0.0.1:$REDIS_FREE/0" \
    --client-endpoint "tcp://0.0.0.0:$(toa_free_port)" --worker-endpoint "tcp://0.0.0.0:$(toa_free_port)" \
    "${keyed[@]}"
check "toa-simllm accepts deploy/compose.json (data file path aside)" runs_with_config \
    "$TOA_BIN/toa-simllm" --config "$DEPLOY/compose.json" --listen "127.0.0.1:$(toa_free_port)" \
    --set "simllm.data_files[0]=$TOA_ROOT/examples/prompts-math.jsonl"

# deploy/fleet gives its managed Redis a password and keeps it on loopback.
FLEET_RUN=$TOA_TMP/run
RPORT=$(toa_free_port)
jq -n --arg r "redis://127.0.0.1:$RPORT/0" --arg d "$TOA_TMP/redis-data" \
    --arg c "tcp://127.0.0.1:$(toa_free_port)" --arg w "tcp://127.0.0.1:$(toa_free_port)" \
    '{broker: {client_endpoint: $c, worker_endpoint: $w},
      redis: {url: $r, managed: true, data_dir: $d},
      worker: {count: 0}, scorer: {count: 0}}' >"$TOA_TMP/fleet.json"
fleet () { TOA_RUN_DIR=$FLEET_RUN "$DEPLOY/fleet" "$1" "$TOA_TMP/fleet.json"; }
trap 'fleet down >/dev/null 2>&1; toa_cleanup' EXIT
if fleet up >"$TOA_TMP/fleet-up.log" 2>&1; then
    ok "fleet up with a managed Redis"
    PASS_FILE=$FLEET_RUN/redis.password
    check_eq "fleet generated a Redis password file, mode 600" 600 "$(stat -c %a "$PASS_FILE" 2>/dev/null)"
    check "Redis refuses a client without the password" \
        bash -c "redis-cli -p $RPORT ping 2>&1 | grep -q NOAUTH"
    check_eq "Redis answers with the password" PONG \
        "$(REDISCLI_AUTH=$(cat "$PASS_FILE") redis-cli -p "$RPORT" ping 2>/dev/null)"
    check_eq "Redis listens on loopback only" "bind 127.0.0.1" \
        "$(REDISCLI_AUTH=$(cat "$PASS_FILE") redis-cli -p "$RPORT" config get bind 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
    redis_args=$(ps -o args= -p "$(cat "$FLEET_RUN/redis.pid")")
    check "the password is not on Redis's command line (ps shows it to every user)" \
        test -n "$redis_args" -a "${redis_args#*$(cat "$PASS_FILE")}" = "$redis_args"
    check "the password is in no log" bash -c "! grep -rqF '$(cat "$PASS_FILE")' $FLEET_RUN/*.log"
    check "the broker reads the password file and connects" \
        toa_wait_log "$FLEET_RUN/broker.log" "redis: connected" 60
    fleet down >/dev/null 2>&1
    fleet up >"$TOA_TMP/fleet-up2.log" 2>&1
    check "a restarted fleet keeps the password (its Redis data needs no new one)" \
        bash -c "! grep -q 'generated a password' '$TOA_TMP/fleet-up2.log' && REDISCLI_AUTH=\$(cat '$PASS_FILE') redis-cli -p $RPORT ping | grep -q PONG"
    fleet down >/dev/null 2>&1
else
    cat "$TOA_TMP/fleet-up.log"; not_ok "fleet up with a managed Redis"
fi
jq '.redis.url = "redis://10.1.2.3:6379/0"' "$TOA_TMP/fleet.json" >"$TOA_TMP/remote.json"
TOA_RUN_DIR=$TOA_TMP/run2 "$DEPLOY/fleet" up "$TOA_TMP/remote.json" >"$TOA_TMP/remote.log" 2>&1
check_eq "fleet refuses a managed Redis on an address other machines reach (exit 2)" 2 $?
check "... and says why" grep -q "a managed Redis listens on loopback only" "$TOA_TMP/remote.log"
toa_done
