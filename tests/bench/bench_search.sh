#!/usr/bin/env bash
# bench_search.sh - one MCTS selection's cost against the tree's size:
# tests/bench/search_cost.c on TOA trees of 100, 1,000 and 10,000 responses
# (3 models; the default width, models x samples / 3, and width 3 for deep
# trees): CPU ns per selection and per select + apply, nodes descended and
# children scored per selection, and instructions per selection under
# callgrind (load-independent). The cost follows depth and branching, not
# the number of responses (per-depth counts; nothing recounts a layer).
# Appends the figures to bench/results.json. Never fails on speed.
set -u
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
PROGRAM=$(dirname "$TOA_BIN")/build/bench/search_cost
[ -x "$PROGRAM" ] || PROGRAM=$TOA_ROOT/build/bench/search_cost
[ -x "$PROGRAM" ] || (cd "$TOA_ROOT" && make -s build/bench/search_cost >/dev/null 2>&1)
[ -x "$PROGRAM" ] || { echo "bench_search: $PROGRAM is not built; skipped"; exit 0; }
K=2000
echo "bench_search: $(bench_load); $K selections per tree"
for width in 0 3; do
    for n in 100 1000 10000; do
        line=$("$PROGRAM" "$n" "$K" "$width") || { echo "search_cost $n failed"; continue; }
        instructions=null
        if command -v valgrind >/dev/null; then
            valgrind --tool=callgrind --toggle-collect=s_measure_selects \
                --callgrind-out-file="$TOA_TMP/cg.out" "$PROGRAM" "$n" "$K" "$width" \
                >/dev/null 2>"$TOA_TMP/cg.log"
            total=$(awk '/I *refs:/ {gsub(",", "", $NF); print $NF}' "$TOA_TMP/cg.log")
            [ -n "$total" ] && instructions=$(( total / K ))
        fi
        echo "$line" | jq -r --argjson i "$instructions" '"responses \(.responses) (width \(.width), \(.nodes) nodes, depth \(.depth)): \(.select_ns) ns and \($i) instructions per selection, \(.select_apply_ns) ns per select + apply; \(.steps_per_select) nodes descended, \(.candidates_per_select) children scored per selection"'
        bench_record "$(echo "$line" | jq -c --argjson i "$instructions" \
            '{bench: "search"} + . + {instructions_per_select: $i}')"
    done
done
