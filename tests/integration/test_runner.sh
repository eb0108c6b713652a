#!/usr/bin/env bash
# test_runner.sh - tests/run.sh's accounting, on a copy of it in a scratch
# tree with made-up tests: cmocka cases passed, failed and skipped; an
# integration script's "ok - ... # SKIP why" counted as skipped, not passed;
# a test that runs no case at all fails; the last line is
# "N passed, N failed, N skipped" with the skipped ones named above it. And
# no test reads the data beside the repository: a clone has none.
source "$(dirname "$0")/../lib.sh"
T=$TOA_TMP/tree
mkdir -p "$T/tests/integration" "$T/build/tests"
cp "$TOA_ROOT/tests/run.sh" "$T/tests/run.sh"

# fake_unit NAME CASES...: a cmocka binary with one case per word: ok, fail or skip.
fake_unit () {
    local name=$1 body="" list="" i=0 kind; shift
    for kind in "$@"; do
        i=$((i + 1))
        case "$kind" in
            ok) body+="static void c$i (void **s) { (void) s; }"$'\n' ;;
            fail) body+="static void c$i (void **s) { (void) s; fail_msg (\"broken\"); }"$'\n' ;;
            skip) body+="static void c$i (void **s) { (void) s; skip (); }"$'\n' ;;
        esac
        list+="cmocka_unit_test (c$i), "
    done
    cat >"$T/$name.c" <<EOF
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
$body
int main (void) {
    const struct CMUnitTest tests[] = { $list };
    return _cmocka_run_group_tests ("$name", tests, sizeof tests / sizeof tests[0] - ${EMPTY:-0},
                                    NULL, NULL);
}
EOF
    cc -o "$T/build/tests/$name" "$T/$name.c" -lcmocka
}
# fake_script NAME LINES: an integration script printing LINES.
fake_script () {
    printf '#!/usr/bin/env bash\nprintf "%%s\\n" %s\n' "$2" >"$T/tests/integration/$1.sh"
}
# run: tests/run.sh in the scratch tree (no fuzzing: the pattern "test_").
run () { (cd "$T" && TOA_FUZZ_SECONDS=1 bash tests/run.sh test_ >"$TOA_TMP/run.out" 2>&1); echo $?; }

fake_unit test_alpha ok ok skip
fake_script test_beta "'ok - one' 'ok - two # SKIP no frobnicator here'"
rc=$(run)
check_eq "passes and skips: exit 0" 0 "$rc"
check_eq "the last line counts 3 passed, 0 failed, 2 skipped" "3 passed, 0 failed, 2 skipped" \
    "$(tail -1 "$TOA_TMP/run.out")"
check "the skipped cmocka case is named" grep -qx '  test_alpha: c3' "$TOA_TMP/run.out"
check "the skipped script case is named with its reason" \
    grep -qx '  test_beta: two (no frobnicator here)' "$TOA_TMP/run.out"

fake_unit test_gamma ok fail
rc=$(run)
check_eq "a failed case: exit 1" 1 "$rc"
check_eq "... counted" "4 passed, 1 failed, 2 skipped" "$(tail -1 "$TOA_TMP/run.out")"
check "... and named" grep -q '^failed: test_gamma' "$TOA_TMP/run.out"
rm "$T/build/tests/test_gamma"

EMPTY=1 fake_unit test_delta ok
rc=$(run)
check_eq "a test binary that runs 0 cases: exit 1" 1 "$rc"
check "... named as failed, ran no test case" grep -q '^FAIL test_delta' "$TOA_TMP/run.out"
rm "$T/build/tests/test_delta"

fake_script test_epsilon "'# nothing to see'"
rc=$(run)
check_eq "a script that prints no ok/not ok line: exit 1" 1 "$rc"
check "... named as failed" grep -q '^failed: test_epsilon' "$TOA_TMP/run.out"
rm "$T/tests/integration/test_epsilon.sh"

rm "$T/build/tests/test_alpha"
fake_script test_beta "'ok - all # SKIP nothing here'"
rc=$(run)
check_eq "only skips: exit 1 (nothing passed)" 1 "$rc"
check_eq "... 0 passed, 0 failed, 1 skipped" "0 passed, 0 failed, 1 skipped" "$(tail -1 "$TOA_TMP/run.out")"

outside=$(cd "$TOA_ROOT" && grep -rlIE 'TOA_SHA[R]ED|\.\./sha[r]ed' tests/unit tests/harness \
    tests/integration tests/clients tests/data 2>/dev/null | tr '\n' ' ')
check_eq "no unit or integration test names the data folder beside the repository" "" "$outside"
toa_done
