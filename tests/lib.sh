# tests/lib.sh - shared helpers for integration tests (sourced, bash).
# Each test script prints TAP-style lines ("ok - what", "not ok - what");
# tests/run.sh counts them. Every process a test starts is stopped on exit.
#
# Environment: TOA_BIN (programs, default bin), TOA_SHARED (../shared: the
# public data sets, for benchmarks only; no test may need it),
# TOA_TMP (a fresh directory per script, removed on success).

set -u
TOA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOA_BIN=${TOA_BIN:-$TOA_ROOT/bin}
case "$TOA_BIN" in /*) ;; *) TOA_BIN=$TOA_ROOT/$TOA_BIN ;; esac
TOA_SHARED=${TOA_SHARED:-$(cd "$TOA_ROOT/../shared" 2>/dev/null && pwd)}
TOA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/toa-test.XXXXXX")
TOA_PIDS=()
# Job tokens (client/tokens.c) go to the test's own folder, not the user's home.
export TOA_TOKEN_DIR=$TOA_TMP/tokens
TOA_FAILED=0

toa_cleanup () {
    local pid
    # toa_start may run in a command substitution (a subshell): its pids are
    # kept in a file as well as in TOA_PIDS.
    if [ -f "$TOA_TMP/.pids" ]; then
        while read -r pid; do TOA_PIDS+=("$pid"); done <"$TOA_TMP/.pids"
    fi
    for pid in "${TOA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${TOA_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    if [ "$TOA_FAILED" -eq 0 ] && [ -z "${TOA_KEEP_TMP:-}" ]; then rm -rf "$TOA_TMP"
    else echo "# logs kept in $TOA_TMP" >&2; fi
}
trap toa_cleanup EXIT

ok ()     { echo "ok - $*"; }
not_ok () { echo "not ok - $*"; TOA_FAILED=1; }
# check "description" command...: ok if the command succeeds.
check () { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
# check_eq "description" expected actual
check_eq () {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# A free TCP port on 127.0.0.1 (asks the kernel, then releases it).
toa_free_port () {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# toa_wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT.
toa_wait_port () {
    local port=$1 seconds=${2:-30} i
    for i in $(seq $((seconds * 20))); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# toa_wait_until SECONDS COMMAND...: polls COMMAND (every 0.1 s) until it
# succeeds; fails after SECONDS. The way to wait for something another
# process does: never a fixed sleep, and wait for the very condition the
# next check asserts (a broker's log line, not the peer's that precedes it).
# On a loaded 2-core host a program can take seconds to start: give 30 s or
# more to anything that follows a process start.
toa_wait_until () {
    local seconds=$1 end; shift
    end=$(( $(date +%s) + seconds ))
    while ! "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# toa_wait_log FILE PATTERN [SECONDS]: waits (30 s by default) until FILE
# has a line matching the extended regular expression PATTERN.
toa_wait_log () {
    toa_wait_until "${3:-30}" grep -Eqs -- "$2" "$1"
}

# toa_start NAME CMD...: start a program in the background, log to $TOA_TMP/NAME.log,
# remember its pid (echoed).
toa_start () {
    local name=$1; shift
    "$@" >"$TOA_TMP/$name.log" 2>&1 &
    local pid=$!
    TOA_PIDS+=("$pid")
    echo "$pid" >>"$TOA_TMP/.pids"
    echo "$pid"
}

# toa_start_redis: start a private redis-server; sets REDIS_PORT and REDIS_URL.
toa_start_redis () {
    REDIS_PORT=$(toa_free_port)
    mkdir -p "$TOA_TMP/redis"
    REDIS_PID=$(toa_start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
        --dir "$TOA_TMP/redis" --save '' --appendonly "${1:-no}" --appendfsync everysec \
        --daemonize no)
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    toa_wait_port "$REDIS_PORT" 30
}

# toa_done: exit status for the script.
toa_done () { exit "$TOA_FAILED"; }

# toa_harness NAME: path of the test harness program NAME (tests/harness/NAME.c),
# beside $TOA_BIN's build (build/asan/harness for build/asan/bin) or in
# build/harness, built there if missing.
toa_harness () {
    local path
    path=$(dirname "$TOA_BIN")/harness/$1
    [ -x "$path" ] || path=$TOA_ROOT/build/harness/$1
    [ -x "$path" ] || (cd "$TOA_ROOT" && make -s "build/harness/$1" >/dev/null 2>&1)
    echo "$path"
}

# toa_require PROGRAM...: ends the script with a failure unless every
# PROGRAM is an executable file.
toa_require () {
    local program
    for program in "$@"; do
        if [ ! -x "$program" ]; then not_ok "$program is built"; toa_done; fi
    done
}
