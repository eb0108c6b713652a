#!/usr/bin/env bash
# compose_test.sh - deploy/docker-compose.yml run for real (`make compose-test`,
# not part of `make test`): podman serves docker-compose through its
# Docker-compatible API socket; the image is built here from deploy/Dockerfile
# on a Debian base made by debootstrap (nothing is pulled from a registry);
# Redis (password from the environment), the broker (CURVE on), two workers,
# a scorer and toa-simllm run in containers on a compose network. A job of
# examples/prompts-math.jsonl goes in through the published client port with
# the client key: exit 0 and every input id exactly once in the output. The
# only published port is the broker's, on 127.0.0.1; Redis refuses a client
# without the password; a client key that is not listed is refused. Everything
# the test made (containers, network, volume, podman service) is removed at
# the end, pass or fail; the images are kept as a cache.
# Exit 0 passed, 1 failed, 77 skipped ("compose-test: SKIPPED: why") where
# podman cannot run containers here.
# Environment: TOA_DEBIAN_MIRROR (default: the first Debian mirror of
# /etc/apt/sources.list*), TOA_KEEP_TMP=1 keeps the logs.
source "$(dirname "$0")/../lib.sh"
T=$TOA_TMP
DATA=$TOA_ROOT/examples/prompts-math.jsonl
BASE=localhost/toa-base:bookworm
IMAGE=localhost/toa-compose-test:latest
PROJECT=toacomposetest
SOCK=$T/podman.sock

skip () {
    echo "compose-test: SKIPPED: $*"
    echo "ok - compose deployment with podman # SKIP $*"
    exit 77
}
# first_lines FILE: the start of an error log, on one line.
first_lines () { grep -v '^\s*$' "$1" | tail -3 | tr '\n' ' ' | head -c 400; }

toa_require "$TOA_BIN/toa"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap makes the base image; rootful podman)"
for tool in podman docker-compose debootstrap; do
    command -v "$tool" >/dev/null \
        || skip "$tool is not installed (deploy/install-deps.sh --compose installs it)"
done

# podman's settings for this test only (CONTAINERS_CONF replaces the
# system's): runc, since crun refuses hybrid cgroup hierarchies; cgroupfs and
# a file for events, as nested machines have no systemd; open files and
# processes within this shell's hard limits (podman's default of 1048576
# open files is refused where the hard limit is lower).
cap () { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
nofile=$(cap "$(ulimit -Hn)" 65536)
nproc=$(cap "$(ulimit -Hu)" 4096)
{
    echo "[containers]"
    echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
    echo "[engine]"
    command -v runc >/dev/null && echo 'runtime = "runc"'
    echo 'cgroup_manager = "cgroupfs"'
    echo 'events_logger = "file"'
} >"$T/containers.conf"
export CONTAINERS_CONF=$T/containers.conf

podman info >"$T/info.log" 2>&1 || skip "podman info failed: $(first_lines "$T/info.log")"

# The base image: Debian bookworm from the mirror apt uses, made once.
debian_mirror () {
    local uri
    [ -n "${TOA_DEBIAN_MIRROR:-}" ] && { echo "$TOA_DEBIAN_MIRROR"; return; }
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *//p' \
        | tr ' ' '\n' | grep -E '/debian/?$' | head -1)
    [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -nE 's/^deb +(\[[^]]*\] +)?([^ ]+) +[a-z-]+ .*main.*/\2/p' | grep -E '/debian/?$' | head -1)
    echo "${uri:-http://deb.debian.org/debian}"
}
if podman image exists "$BASE"; then
    ok "base image $BASE is there (made by an earlier run)"
else
    mirror=$(debian_mirror)
    echo "# making $BASE with debootstrap from $mirror (once; about a minute)"
    debootstrap --variant=minbase bookworm "$T/rootfs" "$mirror" >"$T/debootstrap.log" 2>&1 \
        || skip "debootstrap of bookworm from $mirror failed: $(first_lines "$T/debootstrap.log")"
    tar -C "$T/rootfs" -c . | podman import - "$BASE" >"$T/import.log" 2>&1 \
        || skip "podman import of the debootstrap tree failed: $(first_lines "$T/import.log")"
    rm -rf "$T/rootfs"
    ok "base image $BASE made by debootstrap from $mirror"
fi
podman run --rm "$BASE" true >"$T/run.log" 2>&1 \
    || skip "podman cannot run a container: $(first_lines "$T/run.log")"

# The toa image, from this tree (layers cached between runs).
old_image=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
echo "# building $IMAGE from deploy/Dockerfile"
if ! podman build -f "$TOA_ROOT/deploy/Dockerfile" --build-arg BASE="$BASE" -t "$IMAGE" \
        "$TOA_ROOT" >"$T/build.log" 2>&1; then
    # A container that cannot reach the mirror is this machine's limit, not a fault.
    podman run --rm "$BASE" apt-get update >"$T/apt.log" 2>&1 \
        || skip "containers cannot reach the Debian mirror: $(first_lines "$T/apt.log")"
    not_ok "podman build of deploy/Dockerfile ($(first_lines "$T/build.log"))"
    toa_done
fi
ok "image $IMAGE built from deploy/Dockerfile"
new_image=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
if [ -n "$old_image" ] && [ "$old_image" != "$new_image" ]; then
    podman rmi "$old_image" >/dev/null 2>&1
fi
# Earlier runs' compile stages (the newest stays as the cache).
podman images -q --filter label=org.toa.stage=build | tail -n +2 \
    | while read -r id; do podman rmi "$id" >/dev/null 2>&1; done

# Keys: the compose set, and a client key that is not listed.
"$TOA_ROOT/deploy/compose-keys" "$T/keys" >/dev/null
"$TOA_BIN/toa" keygen stranger --dir "$T/stranger" >/dev/null

# podman's Docker-compatible API for docker-compose, on a socket of our own.
toa_start podman-service podman system service --time=0 "unix://$SOCK" >/dev/null
export DOCKER_HOST=unix://$SOCK
for _ in $(seq 300); do
    curl -s --max-time 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK && break
    sleep 0.1
done
curl -s --max-time 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK \
    || skip "podman system service did not answer on $SOCK: $(first_lines "$T/podman-service.log")"

export COMPOSE_PROJECT_NAME=$PROJECT COMPOSE_FILE=$TOA_ROOT/deploy/docker-compose.yml
export TOA_IMAGE=$IMAGE TOA_REDIS_IMAGE=$IMAGE TOA_KEYS_DIR=$T/keys
export TOA_REDIS_PASSWORD
TOA_REDIS_PASSWORD=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
PORT=$(toa_free_port)
export TOA_CLIENT_PORT=$PORT
unset TOA_PUBLISH_ADDR
compose () { timeout 300 docker-compose "$@"; }
teardown () {
    compose down -v --remove-orphans -t 5 >>"$T/down.log" 2>&1
}
trap 'teardown; toa_cleanup' EXIT
teardown   # what a killed earlier run may have left

if ! compose up -d --no-build --scale worker=2 >"$T/up.log" 2>&1; then
    not_ok "docker-compose up ($(first_lines "$T/up.log"))"
    compose logs --no-color >"$T/compose.log" 2>&1
    toa_done
fi
ok "docker-compose up: redis, simllm, broker, 2 workers, scorer"

# The broker has both workers and the scorer.
ready=""
for _ in $(seq 240); do
    compose logs --no-color broker >"$T/broker.log" 2>&1
    if [ "$(grep -c 'worker .* ready: serves' "$T/broker.log")" -ge 2 ] \
        && grep -q 'scorer .* ready: serves' "$T/broker.log"; then ready=1; break; fi
    sleep 0.5
done
check "the broker (CURVE on) has 2 workers and a scorer" test -n "$ready"
check "the broker says CURVE is on" grep -q 'CURVE on' "$T/broker.log"

submit () {   # submit CLIENT_KEY OUTPUT [options]: a job of $DATA
    local key=$1 out=$2; shift 2
    "$TOA_BIN/toa" submit --config "$TOA_ROOT/deploy/compose.json" \
        --endpoint "tcp://127.0.0.1:$PORT" \
        --set "curve.broker_key=$T/keys/broker.key" --set "curve.client_key=$key" \
        --input "$DATA" --output "$out" "$@"
}
start=$(date +%s%N)
submit "$T/keys/client.key" "$T/out.jsonl" --give-up 300 >"$T/submit.log" 2>&1
rc=$?
echo "# $(tail -1 "$T/submit.log") (toa submit took $(( ($(date +%s%N) - start) / 1000000 )) ms)"
check_eq "toa submit through the published port exits 0" 0 "$rc"
check_eq "every input id exactly once in the output" \
    "$(jq -r .id "$DATA" | sort)" "$(jq -r .id "$T/out.jsonl" 2>/dev/null | sort)"
all_answered () { jq -e -s 'length > 0 and all(.[]; (.best_response // "") != "")' "$1" >/dev/null; }
check "every result has a best response" all_answered "$T/out.jsonl"

# Published ports: the broker's client port only, on 127.0.0.1 only.
ports=$(podman ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Ports}}' \
    | grep -v '^$' | tr '\n' ' ' | sed 's/ $//')
check_eq "the only published port is the broker's client port, on 127.0.0.1" \
    "127.0.0.1:$PORT->5555/tcp" "$ports"
listening=$(ss -Hltn "sport = :$PORT" | awk '{print $4}' | sort -u | tr '\n' ' ' | sed 's/ $//')
check_eq "port $PORT listens on 127.0.0.1 only (ss)" "127.0.0.1:$PORT" "$listening"

# Redis has the password from the environment.
redis=$(podman ps -q --filter "label=com.docker.compose.project=$PROJECT" \
    --filter label=com.docker.compose.service=redis)
check "Redis refuses a client without the password" \
    bash -c "podman exec $redis redis-cli ping 2>&1 | grep -q NOAUTH"
check "Redis answers with TOA_REDIS_PASSWORD" \
    bash -c "podman exec -e REDISCLI_AUTH='$TOA_REDIS_PASSWORD' $redis redis-cli ping | grep -q PONG"

# A client whose key is not in deploy/keys/clients gets nothing.
submit "$T/stranger/stranger.key" "$T/stranger.jsonl" --timeout 5 --give-up 15 \
    >"$T/stranger.log" 2>&1
rc=$?
check "a client key that is not listed is refused (exit $rc, no results)" \
    test "$rc" -ne 0 -a ! -s "$T/stranger.jsonl"
refused=""
for _ in $(seq 60); do
    compose logs --no-color broker 2>/dev/null | grep -q 'zap: refused a connection to the clients endpoint' \
        && { refused=1; break; }
    sleep 0.5
done
check "the broker logs the refused client key" test -n "$refused"
[ "$TOA_FAILED" -eq 0 ] || compose logs --no-color >"$T/compose.log" 2>&1

teardown
left=$(podman ps -a -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
check_eq "docker-compose down removed every container" 0 "$left"
check "and the network and the Redis volume" \
    bash -c "! podman network exists ${PROJECT}_default && ! podman volume exists ${PROJECT}_redis-data"
toa_done
