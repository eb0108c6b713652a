#!/usr/bin/env bash
# tests/fuzz/run.sh - fuzzes the proto decoder with libFuzzer (ASan + UBSan).
# Usage: tests/fuzz/run.sh [--seconds N]   (default 60)
# Builds build/fuzz/fuzz_proto from tests/fuzz/fuzz_proto.c, proto/*.c and
# common/*.c, writes a seed corpus (one encoded message of every type) and a
# dictionary of keys with build/fuzz/make_seeds, then fuzzes for N seconds.
# Exits non-zero when the fuzzer finds a crash (the input is kept in
# build/fuzz/crash-*); prints a line starting "skipped" and exits 0 when
# clang or its libFuzzer runtime is missing.
set -u
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=60
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_TO_RUN=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "tests/fuzz/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
OUT=build/fuzz
mkdir -p "$OUT/corpus"

CLANG=$(command -v clang || true)
if [ -z "$CLANG" ]; then echo "skipped: clang not found"; exit 0; fi
echo 'int LLVMFuzzerTestOneInput (const unsigned char *d, unsigned long n) { (void) d; (void) n; return 0; }' \
    >"$OUT/probe.c"
if ! "$CLANG" -fsanitize=fuzzer "$OUT/probe.c" -o "$OUT/probe" 2>"$OUT/probe.log"; then
    echo "skipped: clang cannot link libFuzzer (libclang-rt-dev missing?)"; exit 0
fi

# The same packages as the Makefile, since common/*.c is compiled in whole.
PKGS="libzmq msgpack libczmq libcurl hiredis jansson libmicrohttpd"
CFLAGS="-std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. $(pkg-config --cflags $PKGS) -g -O1 -fno-omit-frame-pointer"
LIBS="$(pkg-config --libs $PKGS) -lm -lpthread"
set -e
"$CLANG" $CFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    tests/fuzz/fuzz_proto.c proto/*.c common/*.c -o "$OUT/fuzz_proto" $LIBS
cc $CFLAGS tests/fuzz/make_seeds.c proto/*.c -o "$OUT/make_seeds" $LIBS
"$OUT/make_seeds" corpus "$OUT/corpus"
"$OUT/make_seeds" dict "$OUT/proto.dict"
set +e

echo "fuzzing the proto decoder for $SECONDS_TO_RUN s (corpus $OUT/corpus)"
"$OUT/fuzz_proto" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=1024 \
    -timeout=10 -print_final_stats=1 -dict="$OUT/proto.dict" \
    -artifact_prefix="$OUT/" "$OUT/corpus" >"$OUT/fuzz.log" 2>&1
rc=$?
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$OUT/fuzz.log" | tail -2
grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$OUT/fuzz.log"
if [ "$rc" -ne 0 ]; then
    tail -40 "$OUT/fuzz.log"
    echo "fuzz: FAILED (exit $rc), see $OUT/fuzz.log and $OUT/crash-*"
    exit 1
fi
# Keep the corpus small: only inputs that add coverage survive to the next run.
rm -rf "$OUT/corpus.min" && mkdir -p "$OUT/corpus.min"
if "$OUT/fuzz_proto" -merge=1 "$OUT/corpus.min" "$OUT/corpus" >"$OUT/merge.log" 2>&1; then
    rm -rf "$OUT/corpus" && mv "$OUT/corpus.min" "$OUT/corpus"
fi
echo "fuzz: ok, $(ls "$OUT/corpus" | wc -l) inputs in the corpus"
