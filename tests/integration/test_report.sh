#!/usr/bin/env bash
# test_report.sh - `toa report`, `toa export` and `toa tree --svg` on a known
# results file (tests/data/results-toa.jsonl, made by tests/data/make_results.sh:
# TOA, 3 simulated models x 2 samples, chrF rewards (tau 10), 7 prompts, one of them
# without a reference so its 6 scorings failed). The figures checked here
# were worked out from the file independently (python, numpy's quantile rule).
source "$(dirname "$0")/../lib.sh"
DATA=$TOA_ROOT/tests/data/results-toa.jsonl
TOA=$TOA_BIN/toa
toa_require "$TOA"

# 1. toa report: text.
"$TOA" report "$DATA" >"$TOA_TMP/report.txt" 2>"$TOA_TMP/report.err"
check_eq "report exits 0" 0 "$?"
check "prompts" grep -qx "prompts: *7" "$TOA_TMP/report.txt"
check "generations per prompt" grep -q "^generations: *42 (6.00 per prompt, min 6, max 6)" "$TOA_TMP/report.txt"
check "responses and scored" grep -q "^responses: *42 (36 scored)" "$TOA_TMP/report.txt"
check "failures by stage" grep -q "^failures: *6 in 1 prompts (generation 0, scoring 6, prompt 0)" "$TOA_TMP/report.txt"
check "TOA tree depth and refinements" \
    grep -q "^TOA: *7 prompts, mean tree depth 2.00, refinements 18 of 42 actions (43%)" "$TOA_TMP/report.txt"
check "sim-alpha row: 22 responses (52%), best 5 (83%), 16 scored, quantiles, tokens" \
    grep -qE "^sim-alpha +22 +52% +5 +83% +16 +50.6 +71.8 +82.2 +100 +100 +81.1 +1745 +931$" "$TOA_TMP/report.txt"
check "sim-gamma row" \
    grep -qE "^sim-gamma +8 +19% +1 +17% +8 +49.6 +52.7 +62.7 +84.7 +100 +69.6 +469 +108$" "$TOA_TMP/report.txt"

# 2. toa report --json: the same numbers for scripts.
"$TOA" report "$DATA" --json >"$TOA_TMP/report.json"
check_eq "report --json exits 0" 0 "$?"
j () { jq -r "$1" "$TOA_TMP/report.json"; }
check_eq "json: prompts, generations, responses, scored" "7 42 42 36" \
    "$(j '"\(.prompts) \(.generations) \(.responses) \(.scored)"')"
check_eq "json: failures" "6 0 6 1" \
    "$(j '"\(.failures.total) \(.failures.generation) \(.failures.scoring) \(.failures.prompts_with_failures)"')"
check_eq "json: best shares (of 6 prompts with a best response)" "sim-alpha:5:0.8333 sim-beta:0:0 sim-gamma:1:0.1667" \
    "$(j '[.models[] | "\(.model):\(.best):\(.share_of_best * 10000 | round / 10000)"] | join(" ")')"
check_eq "json: shares of all responses" "0.5238 0.2857 0.1905" \
    "$(j '[.models[] | .share_of_responses * 10000 | round / 10000 | tostring] | join(" ")')"
check_eq "json: sim-alpha reward quantiles (numpy rule)" "16 34.581 50.6101 71.771 82.2052 100 100 100 81.0772" \
    "$(j '.models[0].rewards | [.n, .min, .p10, .p25, .p50, .p75, .p90, .max, .mean] | map(. * 10000 | round / 10000 | tostring) | join(" ")')"
check_eq "json: sim-beta median and mean" "75.3715 74.2669" \
    "$(j '.models[1].rewards | [.p50, .mean] | map(. * 10000 | round / 10000 | tostring) | join(" ")')"
check_eq "json: tokens of sim-beta" "1051 171" "$(j '.models[1] | "\(.prompt_tokens) \(.completion_tokens)"')"
check_eq "json: TOA" "2 18 0.4286" \
    "$(j '.toa | "\(.mean_tree_depth) \(.refinements) \(.refinement_share * 10000 | round / 10000)"')"

# 3. --png through gnuplot.
if command -v gnuplot >/dev/null; then
    "$TOA" report "$DATA" --png "$TOA_TMP/report.png" >/dev/null 2>"$TOA_TMP/png.err"
    check_eq "report --png exits 0" 0 "$?"
    check "report.png is a PNG" sh -c "head -c 8 '$TOA_TMP/report.png' | od -An -c | grep -q 'P   N   G'"
    check "the gnuplot script is kept beside it" test -s "$TOA_TMP/report.png.gp"
else
    echo "ok - skipped: gnuplot is not installed (deploy/install-deps.sh installs it) # SKIP"
fi
"$TOA" report "$TOA_TMP/nonexistent.jsonl" >/dev/null 2>"$TOA_TMP/missing.err"
check_eq "report of a missing file: exit 2" 2 "$?"
check "report of a missing file names it" grep -q "nonexistent.jsonl" "$TOA_TMP/missing.err"
"$TOA" report >/dev/null 2>&1
check_eq "report without a file: exit 2" 2 "$?"

# 4. toa export --dpo: the paper's rule (of 6 scored: rank 2), worst, rank:K.
dpo () { jq -rc '"\(.chosen_rating * 10000 | round / 10000):\(.rejected_rating * 10000 | round / 10000):\(.rejected_model)"' "$1" | tr '\n' ' '; }
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/paper.jsonl" --sft "$TOA_TMP/sft.jsonl" 2>"$TOA_TMP/export.err"
check_eq "export (paper's rule) exits 0" 0 "$?"
check_eq "paper's rule: rank 2 of 6; 3 pairs (3 prompts tie at the top)" \
    "100:78.225:sim-alpha 82.1232:79.541:sim-gamma 100:84.0143:sim-beta " "$(dpo "$TOA_TMP/paper.jsonl")"
check "the counts say 3 ties and 1 prompt without a scored response" \
    grep -q "no pair: 3 ties.*skipped: 1 without a scored response" "$TOA_TMP/export.err"
check_eq "SFT: one line per prompt with a scored response" 6 "$(wc -l <"$TOA_TMP/sft.jsonl")"
check_eq "DPO lines carry TRL's conversational fields and the ratings" \
    "chosen,chosen_model,chosen_rating,prompt,rejected,rejected_model,rejected_rating" \
    "$(head -1 "$TOA_TMP/paper.jsonl" | jq -r 'keys | join(",")')"
check_eq "chosen and rejected are assistant messages" "assistant assistant" \
    "$(head -1 "$TOA_TMP/paper.jsonl" | jq -r '"\(.chosen[0].role) \(.rejected[0].role)"')"
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/worst.jsonl" --rejected worst 2>/dev/null
check_eq "--rejected worst: 6 pairs, the lowest reward each" \
    "100:34.581:sim-alpha 100:53.5497:sim-gamma 82.1232:48.6786:sim-alpha 100:50.2147:sim-gamma 100:42.4058:sim-beta 100:48.1687:sim-gamma " \
    "$(dpo "$TOA_TMP/worst.jsonl")"
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/rank4.jsonl" --rejected rank:4 2>/dev/null
check_eq "--rejected rank:4" \
    "100:71.6369:sim-gamma 100:63.5427:sim-alpha 82.1232:66.4998:sim-beta 100:81.6577:sim-beta 100:82.2872:sim-alpha 100:80.7423:sim-alpha " \
    "$(dpo "$TOA_TMP/rank4.jsonl")"
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/margin.jsonl" --rejected worst --min-margin 50 2>/dev/null
check_eq "--min-margin 50 with worst: the 3 pairs more than 50 apart" 3 "$(wc -l <"$TOA_TMP/margin.jsonl")"
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/bad.jsonl" --rejected rank:1 2>/dev/null
check_eq "--rejected rank:1 is a usage error" 2 "$?"
check "nothing written for a usage error" test ! -e "$TOA_TMP/bad.jsonl"
"$TOA" export --help | grep -q "ceil(N x 30/160)"
check_eq "--help states the paper's rule" 0 "$?"

# 5. Export file safety: no overwrite without --force, no symlink followed.
echo "precious" >"$TOA_TMP/target.txt"
ln -s "$TOA_TMP/target.txt" "$TOA_TMP/link.jsonl"
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/paper.jsonl" 2>"$TOA_TMP/exists.err"
check_eq "an existing output is refused (exit 2)" 2 "$?"
check "the refusal says --force" grep -q -- "--force" "$TOA_TMP/exists.err"
"$TOA" export --input "$DATA" --dpo "$TOA_TMP/link.jsonl" --force 2>/dev/null
check_eq "--force replaces a symlink itself" "precious" "$(cat "$TOA_TMP/target.txt")"
check "the symlink became a regular file with the pairs" test -f "$TOA_TMP/link.jsonl" -a ! -L "$TOA_TMP/link.jsonl"
check "no temporary file left" sh -c "! ls '$TOA_TMP'/*.tmp.* >/dev/null 2>&1"

# 6. toa tree --svg through Graphviz's dot.
if command -v dot >/dev/null; then
    "$TOA" tree --input "$DATA" --id de-en-1 --svg "$TOA_TMP/tree.svg" 2>"$TOA_TMP/tree.err"
    check_eq "tree --svg exits 0" 0 "$?"
    check "tree.svg is an SVG" grep -q "<svg" "$TOA_TMP/tree.svg"
    check "the SVG shows the models" grep -q "sim&#45;alpha answer" "$TOA_TMP/tree.svg"
else
    echo "ok - skipped: Graphviz's dot is not installed (deploy/install-deps.sh installs it) # SKIP"
fi
PATH=/nonexistent "$TOA" tree --input "$DATA" --id de-en-1 --svg "$TOA_TMP/none.svg" 2>"$TOA_TMP/nodot.err"
check_eq "tree --svg without dot: exit 1" 1 "$?"
check "tree --svg without dot says to install graphviz" grep -q "install graphviz" "$TOA_TMP/nodot.err"
toa_done
