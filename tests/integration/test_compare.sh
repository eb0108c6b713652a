#!/usr/bin/env bash
# test_compare.sh - every method over the real fleet (deploy/fleet: redis,
# toa-simllm, toa-broker, 2 workers, a scorer; three simulated models,
# math-verify) on 3 generated math problems at a tiny budget: each finishes with
# samples x models scored responses in the shape the method promises; then
# `toa compare` end to end (3 prompts, budgets 1 and 2, every method): a CSV
# row per method and budget, generations as budgeted, a PNG; bad flags send
# nothing; Ctrl-C cancels the running job.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-simllm"
DATA=$TOA_TMP/problems.jsonl
"$TOA_BIN/toa-simllm" --write-problems 100 >"$DATA" || { not_ok "toa-simllm --write-problems 100"; toa_done; }
head -3 "$DATA" >"$TOA_TMP/prompts.jsonl"
PROMPTS=$TOA_TMP/prompts.jsonl

export TOA_RUN_DIR=$TOA_TMP/run
CONFIG=$TOA_TMP/fleet.json
read -r -a MODELS <<<"$(python3 "$HERE/e2e/make_config.py" "$CONFIG" "$DATA" "$TOA_RUN_DIR")"
fleet_down () { "$TOA_ROOT/deploy/fleet" down "$CONFIG" >/dev/null 2>&1; }
trap 'fleet_down; toa_cleanup' EXIT
if ! "$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/fleet-up.log" 2>&1; then
    cat "$TOA_TMP/fleet-up.log"; not_ok "fleet up"; toa_done
fi

# 1. Every method, 3 models x 2 samples = 6 scored responses a prompt.
for method in toa best-of-n ensemble prs seq-refine moa; do
    out=$TOA_TMP/$method.jsonl
    check "$method: submit exits 0" "$TOA_BIN/toa" submit --config "$CONFIG" --input "$PROMPTS" \
        --output "$out" --method "$method" --samples 2 --quiet
    check "$method: every prompt once, 6 scored responses, all result fields" \
        python3 "$HERE/e2e/check_results.py" "$PROMPTS" "$out" 6 "$method"
done
# Shapes, from the actions (model/depth) in generation order.
shape () { jq -r '[.actions[] | "\(.model)/\(.depth)"] | join(" ")' "$TOA_TMP/$1.jsonl"; }
prs_bad=$(shape prs | awk -v m="${MODELS[0]}" '{
    for (i = 1; i <= NF; i++) { split($i, a, "/");
        if (a[1] != m || (i <= 3 && a[2] != 0) || (i > 3 && a[2] < 1)) bad++ } }
    END { print bad + 0 }')
check_eq "prs: all of the first model; 3 answers, then 3 refinements" 0 "$prs_bad"
seq_bad=$(shape seq-refine | awk '{
    for (i = 1; i <= NF; i++) { split($i, a, "/"); if (a[2] != (i - 1) % 3) bad++ } }
    END { print bad + 0 }')
check_eq "seq-refine: 2 rounds, depths 0 1 2 in each" 0 "$seq_bad"
seq_models=$(shape seq-refine | awk '{
    for (r = 0; r < 2; r++) { for (i = 1; i <= 3; i++) { split($(r * 3 + i), a, "/"); n[a[1]] = 1 }
        if (length(n) != 3) bad++; delete n } } END { print bad + 0 }')
check_eq "seq-refine: every model once a round" 0 "$seq_models"
moa_bad=$(shape moa | awk '{
    for (i = 1; i <= NF; i++) { split($i, a, "/"); if (a[2] != (i > 3 ? 1 : 0)) bad++ } }
    END { print bad + 0 }')
check_eq "moa: a layer of answers, then a layer of aggregations" 0 "$moa_bad"
for method in best-of-n ensemble; do
    bad=$(shape $method | awk '{ for (i = 1; i <= NF; i++) { split($i, a, "/"); n[a[1]]++;
        if (a[2] != 0) bad++ } for (m in n) if (n[m] != 2) bad++; delete n } END { print bad + 0 }')
    check_eq "$method: every model twice, all answers" 0 "$bad"
done

# 2. toa compare: 3 prompts, budgets 1 and 2, every method.
DIR=$TOA_TMP/compare
check "toa compare exits 0" "$TOA_BIN/toa" compare --config "$CONFIG" --input "$PROMPTS" \
    --budgets 1,2 --methods all --output-dir "$DIR" >"$TOA_TMP/compare.out" 2>"$TOA_TMP/compare.err"
rows=$(tail -n +2 "$DIR/compare.csv" | cut -d, -f1,2 | sort | tr '\n' ' ')
check_eq "compare.csv: one row per method and budget" \
    "best-of-n,1 best-of-n,2 ensemble,1 ensemble,2 moa,1 moa,2 prs,1 prs,2 seq-refine,1 seq-refine,2 toa,1 toa,2 " \
    "$rows"
bad=$(tail -n +2 "$DIR/compare.csv" | awk -F, '$3 != 3 || $4 != 3 * $2 || $5 != "best_correct_share" \
    || $6 < 0 || $6 > 1 || $10 != 0 || $12 != 0 { bad++ } END { print bad + 0 }')
check_eq "compare.csv: 3 prompts, 3 x budget generations each, all scored, every run ok" 0 "$bad"
check_eq "the table has a line per run" 12 "$(grep -cE '^(toa|best-of-n|ensemble|prs|seq-refine|moa) ' "$TOA_TMP/compare.out")"
check "compare.png is a PNG" sh -c "head -c 8 '$DIR/compare.png' | od -An -c | grep -q 'P   N   G'"
check "the results of each run are kept" test -s "$DIR/moa-2.jsonl"
check "a run's results pass the result checks" \
    python3 "$HERE/e2e/check_results.py" "$PROMPTS" "$DIR/seq-refine-2.jsonl" 6 seq-refine

# 3. Bad flags: exit 2 before anything is sent or written.
"$TOA_BIN/toa" compare --config "$CONFIG" --input "$PROMPTS" --budgets 1,x \
    --output-dir "$TOA_TMP/bad" 2>"$TOA_TMP/bad.err"
check_eq "bad --budgets: exit 2" 2 "$?"
"$TOA_BIN/toa" compare --config "$CONFIG" --input "$PROMPTS" --methods toa,nope \
    --output-dir "$TOA_TMP/bad" 2>>"$TOA_TMP/bad.err"
check_eq "unknown method: exit 2" 2 "$?"
check "the errors say why" grep -q "unknown method 'nope'" "$TOA_TMP/bad.err"
check "nothing written" test ! -e "$TOA_TMP/bad"

# 4. Ctrl-C during a run: exit 130, and the job is cancelled, not left
#    running on the fleet (a long run: 100 prompts, 192 chained generations).
"$TOA_BIN/toa" compare --config "$CONFIG" --input "$DATA" --budgets 64 --methods seq-refine \
    --output-dir "$TOA_TMP/interrupted" >/dev/null 2>"$TOA_TMP/interrupted.err" &
client=$!
toa_wait_log "$TOA_TMP/interrupted.err" submitted 60 || not_ok "compare submits its run"
sleep 0.3   # (the job runs a little: not a synchronisation)
kill -INT "$client"; wait "$client"
check_eq "Ctrl-C: exit 130" 130 "$?"
check "Ctrl-C: compare cancels the job" grep -q "cancelling job compare-" "$TOA_TMP/interrupted.err"
check_eq "no job left on the broker" "[]" "$("$TOA_BIN/toa" status --config "$CONFIG" --json | jq -c .jobs)"

check "deploy/fleet down stops everything" "$TOA_ROOT/deploy/fleet" down "$CONFIG"
toa_done
