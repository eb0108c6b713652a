#!/usr/bin/env bash
# tests/data/make_results.sh - makes tests/data/results-toa.jsonl, the known
# results file that test_report.sh checks `toa report` and `toa export`
# against (not run by the suite: its output is committed). A real fleet
# (deploy/fleet: toa-simllm with three models, seed 7, chrF against the
# reference translation, tau 10 for its 0..100 scale) runs TOA with 2
# samples per model on the first 6 example translation prompts plus one
# prompt without a reference (its scorings fail for good: failures in the
# result). Usage: tests/data/make_results.sh (from the repository root,
# after make).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'deploy/fleet down "$tmp/fleet.json" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
head -6 examples/prompts-translate.jsonl >"$tmp/prompts.jsonl"
echo '{"id": "no-reference", "instruction": "Translate to English: Guten Morgen."}' \
    >>"$tmp/prompts.jsonl"
export TOA_RUN_DIR=$tmp/run
python3 tests/integration/e2e/make_config.py "$tmp/base.json" examples/prompts-translate.jsonl \
    "$TOA_RUN_DIR" --reward chrf --tau 10 >/dev/null
jq '.method.samples = 2 | .broker.max_active_prompts = 1' "$tmp/base.json" >"$tmp/fleet.json"
deploy/fleet up "$tmp/fleet.json" >/dev/null
bin/toa submit --config "$tmp/fleet.json" --input "$tmp/prompts.jsonl" \
    --output tests/data/results-toa.jsonl --quiet
