#!/usr/bin/env bash
# profile_broker.sh - the broker under callgrind on a fixed job: the fleet of
# bench_cost.sh (zero latency, 2 workers, math-verify scorer, Redis with its
# append-only file) with toa-broker run by valgrind --tool=callgrind, one job
# of METHOD (default toa) on PROMPTS (default 200) x 3 models x 4 samples.
# Prints instructions per generation and the top entries by self cost
# (instruction counts do not depend on the machine's load), and appends the
# count to bench/results.json.
#   usage: tests/bench/profile_broker.sh [METHOD] [PROMPTS] [TOP]
# BENCH_PROFILE_PROGRAM=toa-worker (or toa-scorer) profiles that program
# instead (a worker alone serves the job then).
# Not run by make bench (it takes a minute); keeps its callgrind.out in
# build/bench/ (BENCH_PROFILE_OUT to change).
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
METHOD=${1:-toa} PROMPTS=${2:-200} TOP=${3:-15}
command -v valgrind >/dev/null || { echo "profile_broker: valgrind is missing; skipped"; exit 0; }
PROGRAM=${BENCH_PROFILE_PROGRAM:-toa-broker}
OUT=${BENCH_PROFILE_OUT:-$TOA_ROOT/build/bench/callgrind.${PROGRAM#toa-}.$METHOD.out}
mkdir -p "$(dirname "$OUT")"
# A bin folder whose toa-broker runs under callgrind (deploy/fleet takes TOA_BIN).
mkdir -p "$TOA_TMP/bin"
for program in "$TOA_BIN"/*; do ln -sf "$program" "$TOA_TMP/bin/"; done
rm -f "$TOA_TMP/bin/$PROGRAM"
cat >"$TOA_TMP/bin/$PROGRAM" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$OUT.\$\$ "$TOA_BIN/$PROGRAM" "\$@"
EOF
chmod +x "$TOA_TMP/bin/$PROGRAM"
CONFIG=$TOA_TMP/profile.json INPUT=$TOA_TMP/prompts.jsonl
python3 "$BENCH_DIR/fleet_config.py" "$CONFIG" "$INPUT" "$TOA_RUN_DIR" --prompts "$PROMPTS" \
    --workers "$([ "$PROGRAM" = toa-worker ] && echo 1 || echo 2)" \
    >/dev/null
# Heartbeats of a slow broker: peers wait 3 intervals before they give up.
tmp=$(mktemp); jq '.broker.heartbeat_ms = 5000' "$CONFIG" >"$tmp" && mv "$tmp" "$CONFIG"
TOA_BIN=$TOA_TMP/bin bench_up "$CONFIG" || exit 1
trap 'TOA_BIN=$TOA_TMP/bin bench_down "$CONFIG"; toa_cleanup' EXIT
"$TOA_BIN/toa" submit --config "$CONFIG" --input "$INPUT" --output "$TOA_TMP/out.jsonl" \
    --method "$METHOD" --samples 4 --quiet --timeout 120 >"$TOA_TMP/submit.log" 2>&1 \
    || { echo "profile_broker: the job failed:"; cat "$TOA_TMP/submit.log"; }
# The broker does every generation of the job, whatever the client saw.
gens=$((PROMPTS * 12))
TOA_BIN=$TOA_TMP/bin bench_down "$CONFIG"
trap toa_cleanup EXIT
first=$(ls -t "$OUT".* 2>/dev/null | tail -1)
[ -n "$first" ] && mv "$first" "$OUT" && rm -f "$OUT".*
total=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "${PROGRAM#toa-}, $METHOD, $PROMPTS prompts: $gens generations; $total instructions" \
     "= $(( total / gens )) per generation (startup and idle polls included)"
[ -n "$total" ] && bench_record "$(jq -nc --arg program "${PROGRAM#toa-}" --arg method "$METHOD" \
    --argjson prompts "$PROMPTS" --argjson generations "$gens" --argjson instructions "$total" \
    '{bench: "profile_broker", program: $program, method: $method, prompts: $prompts,
      generations: $generations, instructions: $instructions,
      instructions_per_generation: ($instructions / $generations | floor)}')"
callgrind_annotate --threshold=100 "$OUT" 2>/dev/null \
    | grep -E "^ *[0-9,]+ +\(" | grep -v "PROGRAM TOTALS" | head -n "$TOP"
