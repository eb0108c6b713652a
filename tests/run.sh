#!/usr/bin/env bash
# tests/run.sh - runs every test of the project; its last line is
# "N passed, N failed, N skipped", after the names of the failed and skipped.
# Usage: tests/run.sh [--build DIR] [--bin DIR] [PATTERN]
#   unit tests: DIR/tests/test_* (cmocka), counted per test case (skip() skips);
#   integration tests: tests/integration/test_*.sh, counted per "ok"/"not ok"
#   line, "ok - what # SKIP why" counted as skipped;
#   fuzzing: every tests/fuzz target briefly, skipped when clang's libFuzzer is
#   missing.
# A test that runs no case at all fails. PATTERN keeps only tests whose name
# contains it. Exit status 0 when nothing failed and something passed.
set -u
cd "$(dirname "$0")/.."
BUILD=build BIN=bin PATTERN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) PATTERN=$1; shift ;;
    esac
done
export TOA_BIN=$PWD/$BIN
passed=0 failed=0 skipped=0 failed_names=() skipped_names=()
log_dir=$BUILD/test-logs
mkdir -p "$log_dir"

count_cmocka () {   # file with cmocka output -> "passed failed skipped"
    local p f s
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
    s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
    echo "$p $f $s"
}
and_skipped () { [ "$1" -eq 0 ] || echo ", $1 skipped"; }
# note_skips NAME WHAT...: remembers the skipped cases of test NAME.
note_skips () {
    local name=$1 what; shift
    for what in "$@"; do skipped_names+=("$name: $what"); done
}

for test in "$BUILD"/tests/test_*; do
    [ -x "$test" ] || continue
    name=$(basename "$test")
    case "$name" in *"$PATTERN"*) ;; *) continue ;; esac
    out=$log_dir/$name.log
    timeout 600 "$test" >"$out" 2>&1
    rc=$?
    read -r p f s < <(count_cmocka "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ $((p + f + s)) -eq 0 ]; then f=1; echo "  $name ran no test case" >>"$out"; fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$s" -ne 0 ]; then
        mapfile -t cases < <(sed -n 's/^\[  SKIPPED \] \([^0-9].*\)/\1/p' "$out" | sort -u)
        note_skips "$name" "${cases[@]}"
    fi
    if [ "$f" -ne 0 ]; then failed_names+=("$name"); echo "FAIL $name (log: $out)"; grep -E '^\[  (FAILED|ERROR)|Failure|error|ran no test' "$out" | head -5
    else echo "pass $name ($p$(and_skipped "$s"))"; fi
done

for script in tests/integration/test_*.sh; do
    [ -f "$script" ] || continue
    name=$(basename "$script" .sh)
    case "$name" in *"$PATTERN"*) ;; *) continue ;; esac
    out=$log_dir/$name.log
    start=$(date +%s)
    timeout 900 bash "$script" >"$out" 2>&1
    rc=$?
    s=$(grep -c '^ok .*# SKIP' "$out"); p=$(( $(grep -c '^ok ' "$out") - s )); f=$(grep -c '^not ok ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "  $name exited $rc" >>"$out"; fi
    if [ $((p + f + s)) -eq 0 ]; then f=1; echo "  $name ran no test case" >>"$out"; fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$s" -ne 0 ]; then
        mapfile -t cases < <(sed -n 's/^ok - \(.*\) # SKIP *\(.*\)/\1 (\2)/p' "$out")
        note_skips "$name" "${cases[@]}"
    fi
    if [ "$f" -ne 0 ]; then failed_names+=("$name"); echo "FAIL $name ($(( $(date +%s) - start ))s, log: $out)"; grep -E '^not ok|exited|ran no test' "$out" | head -10
    else echo "pass $name ($p$(and_skipped "$s"), $(( $(date +%s) - start ))s)"; fi
done

case "fuzz" in *"$PATTERN"*)
    if [ -x tests/fuzz/run.sh ] && [ -z "${TOA_SANITIZED:-}" ]; then
        out=$log_dir/fuzz.log
        # every fuzz target briefly; each counts as one test
        if tests/fuzz/run.sh --seconds "${TOA_FUZZ_SECONDS:-3}" >"$out" 2>&1; then
            if grep -q '^skipped' "$out"; then
                skipped=$((skipped + 1)); note_skips fuzz "$(grep -m1 '^skipped' "$out")"
                echo "skip fuzz ($(tail -1 "$out"))"
            else p=$(grep -c '^pass fuzz_' "$out"); passed=$((passed + p)); echo "pass fuzz ($p targets)"; fi
        else
            p=$(grep -c '^pass fuzz_' "$out"); passed=$((passed + p)); failed=$((failed + 1))
            failed_names+=(fuzz); echo "FAIL fuzz (log: $out)"; grep 'FAILED' "$out" | head -5
        fi
    fi ;;
esac

[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
if [ ${#skipped_names[@]} -ne 0 ]; then
    echo "skipped:"
    printf '  %s\n' "${skipped_names[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
