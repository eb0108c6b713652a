#!/usr/bin/env bash
# test_deploy.sh - the container deployment files: deploy/docker-compose.yml
# is a valid compose file naming the services a fleet needs, and every
# program accepts deploy/compose.json (the fleet config the compose file mounts).
source "$(dirname "$0")/../lib.sh"
DEPLOY=$TOA_ROOT/deploy

if command -v docker-compose >/dev/null; then
    check "docker-compose accepts deploy/docker-compose.yml" \
        docker-compose -f "$DEPLOY/docker-compose.yml" config -q
    services=$(docker-compose -f "$DEPLOY/docker-compose.yml" config --services | sort | tr '\n' ' ')
    check_eq "the compose file runs redis, simllm, broker, worker, scorer" \
        "broker redis scorer simllm worker " "$services"
else
    not_ok "docker-compose is installed (deploy/install-deps.sh installs it)"
fi

# A program that accepts its config keeps running; a bad config exits 2 at once.
runs_with_config () {   # PROGRAM ARGS...
    timeout 1 "$@" >"$TOA_TMP/run.log" 2>&1
    [ $? -eq 124 ]
}
for program in toa-worker toa-scorer; do
    check "$program accepts deploy/compose.json" runs_with_config "$TOA_BIN/$program" \
        --config "$DEPLOY/compose.json" --set broker.worker_endpoint=tcp://127.0.0.1:9
done
REDIS_FREE=$(toa_free_port)
check "toa-broker accepts deploy/compose.json" runs_with_config "$TOA_BIN/toa-broker" \
    --config "$DEPLOY/compose.json" --redis "redis://127.0.0.1:$REDIS_FREE/0" \
    --client-endpoint "tcp://127.0.0.1:$(toa_free_port)" --worker-endpoint "tcp://127.0.0.1:$(toa_free_port)"
check "toa-simllm accepts deploy/compose.json (data file path aside)" runs_with_config \
    "$TOA_BIN/toa-simllm" --config "$DEPLOY/compose.json" --listen "127.0.0.1:$(toa_free_port)" \
    --set "simllm.data_files[0]=$TOA_ROOT/examples/prompts-math.jsonl"
toa_done
