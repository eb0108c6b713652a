#!/usr/bin/env bash
# deploy/demo.sh - the demo behind `make demo`: starts the fleet of
# examples/sim.json (Redis, a simulated LLM server with three models, the
# broker, workers and a math-verify scorer), runs TOA on the example math
# prompts, prints a summary, stops the fleet and says where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${TOA_DEMO_CONFIG:-examples/sim.json}
input=${TOA_DEMO_INPUT:-examples/prompts-math.jsonl}
out_dir=${TOA_DEMO_OUT:-demo-output}
mkdir -p "$out_dir"
results=$out_dir/results.jsonl
rm -f "$results"

export TOA_RUN_DIR=${TOA_RUN_DIR:-$PWD/run/demo}
deploy/fleet down "$config" >/dev/null 2>&1 || true
trap 'deploy/fleet down "$config" >/dev/null 2>&1 || true' EXIT
deploy/fleet up "$config"

start=$(date +%s.%N)
bin/toa submit --config "$config" --input "$input" --output "$results"
end=$(date +%s.%N)

echo
echo "== toa demo summary =="
jq -s --arg wall "$(awk "BEGIN {print $end - $start}")" '
  (length) as $n
  | (map(.responses | length) | add) as $gens
  | (map(select(.best_reward != null and .best_reward >= 1)) | length) as $correct
  | "prompts:            \($n)",
    "generations:        \($gens) (\($gens / $n) per prompt)",
    "best is correct:    \($correct) of \($n) (\((100 * $correct / $n) | floor)%)",
    "wall time:          \($wall | tonumber | . * 10 | round / 10) s",
    "best response by model:",
    (group_by(.best_model)[] | "  \(.[0].best_model): \(length) (\((100 * length / $n) | floor)%)")
' -r "$results"
echo
echo "results: $results   (logs: $TOA_RUN_DIR)"
echo "export SFT/DPO sets: bin/toa export --input $results --sft $out_dir/sft.jsonl --dpo $out_dir/dpo.jsonl"
