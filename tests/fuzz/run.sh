#!/usr/bin/env bash
# tests/fuzz/run.sh - fuzzes every parser that reads outside bytes with
# libFuzzer (ASan + UBSan), one target per tests/fuzz/fuzz_*.c:
#   proto (wire messages), client (what a broker sends a client), openai
#   (LLM replies and errors), reward (http-reward, vllm-classify,
#   vllm-pooling replies), judge (llm-judge replies), verify (math-verify
#   and chrF inputs), input (input JSONL lines), settings (job settings),
#   redis (a prompt's state read back from Redis), retry_after (Retry-After
#   headers), sim (toa-simllm's HTTP requests), redact (excerpts of outside
#   bodies scrubbed of secrets).
# Usage: tests/fuzz/run.sh [--seconds N] [--out DIR] [TARGET...]
#   (N seconds per target, default 60; DIR default build/fuzz, below as OUT)
# Builds the libraries with clang into OUT/build (make, incremental),
# links OUT/fuzz_TARGET, seeds OUT/corpus/TARGET from
# tests/fuzz/seeds/TARGET (proto: one encoded message of every type), runs
# each target N seconds and prints one line per target: executions,
# coverage (cov: edges, ft: features) and corpus size. Exits non-zero when a
# target finds something (the input is kept as OUT/TARGET-crash-*);
# prints a line starting "skipped" and exits 0 when clang or its libFuzzer
# runtime is missing.
set -u
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=60
OUT=build/fuzz
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_TO_RUN=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        -*) echo "tests/fuzz/run.sh: unknown argument $1" >&2; exit 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
if [ ${#TARGETS[@]} -eq 0 ]; then
    for source in tests/fuzz/fuzz_*.c; do
        name=$(basename "$source" .c)
        TARGETS+=("${name#fuzz_}")
    done
fi
mkdir -p "$OUT"

CLANG=$(command -v clang || true)
if [ -z "$CLANG" ]; then echo "skipped: clang not found"; exit 0; fi
echo 'int LLVMFuzzerTestOneInput (const unsigned char *d, unsigned long n) { (void) d; (void) n; return 0; }' \
    >"$OUT/probe.c"
if ! "$CLANG" -fsanitize=fuzzer "$OUT/probe.c" -o "$OUT/probe" 2>"$OUT/probe.log"; then
    echo "skipped: clang cannot link libFuzzer (libclang-rt-dev missing?)"; exit 0
fi

# The project's libraries, instrumented (built by the Makefile's own rules).
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
COMPONENTS="client broker scorer worker peer sim proto common"
LIBS=""
for c in $COMPONENTS; do LIBS="$LIBS $OUT/build/lib/libtoa_$c.a"; done
if ! make --no-print-directory BUILD="$OUT/build" CC="$CLANG" \
        OPT="-g -O1 -fno-omit-frame-pointer" SAN="$SAN" EXTRA_CFLAGS="-Wno-error" \
        $LIBS >"$OUT/build.log" 2>&1; then
    tail -20 "$OUT/build.log"; echo "fuzz: FAILED (the libraries do not build with clang)"; exit 1
fi
PKGS="libzmq libczmq libcurl msgpack hiredis jansson libmicrohttpd"
CFLAGS="-std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. $(pkg-config --cflags $PKGS) -g -O1 -fno-omit-frame-pointer"
LDLIBS="$(pkg-config --libs $PKGS) -lm -lpthread"

# Seeds and dictionaries: proto's come from make_seeds (every message type).
cc $CFLAGS tests/fuzz/make_seeds.c proto/*.c -o "$OUT/make_seeds" $LDLIBS || exit 1
"$OUT/make_seeds" dict "$OUT/proto.dict"

# Every target is linked before any runs, so that all of them match the
# libraries (sources may change while a long run goes on).
failed=0
BUILT=()
for target in "${TARGETS[@]}"; do
    source=tests/fuzz/fuzz_$target.c
    binary=$OUT/fuzz_$target
    if [ ! -f "$source" ]; then echo "fuzz_$target: no such target ($source)"; failed=1; continue; fi
    if ! "$CLANG" $CFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
            "$source" -o "$binary" -Wl,--start-group $LIBS -Wl,--end-group $LDLIBS \
            >"$OUT/fuzz_$target.build.log" 2>&1; then
        head -20 "$OUT/fuzz_$target.build.log"
        echo "fuzz_$target: FAILED (does not build)"; failed=1; continue
    fi
    BUILT+=("$target")
done
for target in "${BUILT[@]}"; do
    binary=$OUT/fuzz_$target
    corpus=$OUT/corpus/$target
    mkdir -p "$corpus"
    if [ "$target" = proto ] || [ "$target" = client ]; then
        "$OUT/make_seeds" corpus "$corpus" >/dev/null
        dict=$OUT/proto.dict
    else
        dict=tests/fuzz/json.dict
    fi
    [ -d "tests/fuzz/seeds/$target" ] && cp -n tests/fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null
    log=$OUT/fuzz_$target.log
    "$binary" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -dict="$dict" \
        -artifact_prefix="$OUT/$target-" "$corpus" >"$log" 2>&1
    rc=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|fuzz_[a-z_]*: ' "$log" | head -5
        echo "fuzz_$target: FAILED (exit $rc), see $log and $OUT/$target-crash-*"
        failed=1
        continue
    fi
    # Keep the corpus small: only inputs that add coverage survive.
    rm -rf "$corpus.min" && mkdir -p "$corpus.min"
    if "$binary" -merge=1 "$corpus.min" "$corpus" >"$OUT/fuzz_$target.merge.log" 2>&1; then
        rm -rf "$corpus" && mv "$corpus.min" "$corpus"
    else
        rm -rf "$corpus.min"
    fi
    echo "pass fuzz_$target: ${SECONDS_TO_RUN} s, ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus $(ls "$corpus" | wc -l)"
done
[ "$failed" -eq 0 ] && echo "fuzz: ok" || echo "fuzz: FAILED"
exit "$failed"
