#!/usr/bin/env bash
# test_budget.sh - early stop and the job-wide budget over the real fleet
# (deploy/fleet: redis, toa-simllm, toa-broker, 2 workers, a scorer; three
# simulated models, math-verify) on examples/prompts-math.jsonl (21 prompts):
#   1. a job-wide budget with early stop off gives exactly the results of the
#      fixed budget, for every method; TOA with 3 parallel expansions;
#   2. early stop (toa submit --stop-at-reward 1) with a fixed budget: each
#      result says how many generations it used, the client's last line and
#      `toa status` report the unspent budget;
#   3. job-wide budget with early stop, every method (6 a prompt: two waves
#      of the three models): the job never spends more than budget x
#      prompts, no prompt more than max_per_prompt, and unsolved prompts got
#      what solved ones saved;
#   4. the same with the broker killed (kill -9) mid-job and started again:
#      the job still finishes within budget x prompts.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-broker" "$TOA_BIN/toa-worker" "$TOA_BIN/toa-scorer" \
    "$TOA_BIN/toa-simllm"
DATA=$TOA_ROOT/examples/prompts-math.jsonl
N=$(grep -c . "$DATA")

CONFIG="" RUN=""
fleet () { TOA_RUN_DIR=$RUN "$TOA_ROOT/deploy/fleet" "$@" "$CONFIG"; }
fleet_down () { [ -n "$CONFIG" ] && fleet down >>"$RUN.fleet.log" 2>&1; CONFIG=""; }
trap 'fleet_down; toa_cleanup' EXIT

# start NAME LATENCY_MS: a fleet of its own.
start () {
    RUN=$TOA_TMP/$1
    CONFIG=$TOA_TMP/$1.json
    python3 "$HERE/e2e/make_config.py" "$CONFIG" "$DATA" "$RUN" "$2" >/dev/null
    if ! fleet up >"$RUN.fleet.log" 2>&1; then
        cat "$RUN.fleet.log"; not_ok "$1: fleet up"; fleet_down; return 1
    fi
}
submit () { timeout 300 "$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" "$@"; }
# The search of a result: what it generated and how it scored (TOA and
# seq-refine are sequential: in order; best-of-n and ensemble start all at
# once and list responses as they come back: as a set).
search () { jq -cS '{id, responses, actions, rewards, tree}' "$1" | sort; }
search_set () { jq -cS '{id, r: [.responses, .actions, .rewards] | transpose | sort}' "$1" | sort; }
total () { jq -s '[.[].generations] | add' "$1"; }

# --- 1. job-wide budget, early stop off: exactly the fixed budget's results ---
if start plain 0; then
    # PRS and MoA build on responses in the order they come back, which
    # differs from run to run (two fixed runs differ too): the unit tests
    # (test_broker_budget) check them with a fixed order; here their counts.
    for method in toa best-of-n ensemble prs seq-refine moa; do
        submit --quiet --method $method --samples 2 --output "$TOA_TMP/fixed-$method.jsonl"
        submit --quiet --method $method --samples 2 --set method.budget=6 \
            --output "$TOA_TMP/pooled-$method.jsonl"
        case $method in
            toa|seq-refine) view=search ;;
            best-of-n|ensemble) view=search_set ;;
            *) view="" ;;
        esac
        [ -n "$view" ] && check "1. $method: a job-wide budget of 6 without early stop gives the fixed budget's results" \
            cmp -s <($view "$TOA_TMP/fixed-$method.jsonl") <($view "$TOA_TMP/pooled-$method.jsonl")
        check_eq "1. $method: every prompt used its 6" "$((6 * N))" "$(total "$TOA_TMP/pooled-$method.jsonl")"
    done

    # Parallel expansions: 3 out at once (which model answered first depends
    # on timing; the unit tests check the selections). Every prompt spends
    # its 6, and its tree carries real statistics only: the root was
    # visited 1 + 6 times with 6 rewards, every root child answered.
    out=$TOA_TMP/parallel.jsonl
    submit --quiet --method toa --samples 2 --set method.parallel_expansions=3 --output "$out"
    check_eq "1. toa, 3 parallel expansions: submit exits 0" 0 "$?"
    bad=$(jq -s '[.[] | select((.responses | length) != 6
        or ([.tree.nodes[] | select(.kind == "response")] | length) != 6
        or .tree.nodes[0].visits != 7 or .tree.nodes[0].n_rewards != 6
        or ([.tree.nodes[] | select(.kind == "action" and .layer == 1 and .n_rewards > 0)]
            | length) != 3)] | length' "$out")
    check_eq "1. toa, 3 parallel expansions: 6 responses a prompt, no virtual loss left in its tree" 0 "$bad"

    # --- 2. early stop, fixed budget ----------------------------------------
    out=$TOA_TMP/stop.jsonl
    submit --method toa --samples 4 --stop-at-reward 1 --output "$out" 2>"$TOA_TMP/stop.err"
    check_eq "2. early stop: submit exits 0" 0 "$?"
    bad=$(jq -s '[.[] | select(.generations != (.responses | length)
        or (.stopped_early and (.rewards | max) < 1)
        or ((.stopped_early | not) and .generations != 12)
        or (.stopped_early and .generations >= 12))] | length' "$out")
    check_eq "2. each result says how many generations it used; a stopped one reached 1" 0 "$bad"
    used=$(total "$out")
    stopped=$(jq -s '[.[] | select(.stopped_early)] | length' "$out")
    check "2. prompts stopped early ($stopped of $N) and saved generations ($used of $((12 * N)))" \
        test "$stopped" -ge 1 -a "$used" -lt $((12 * N))
    check "2. the client's last line reports the unspent budget" \
        grep -q "; $((12 * N - used)) of its budget of $((12 * N)) generations unspent" "$TOA_TMP/stop.err"
    fleet_down
fi

# --- 3. job-wide budget with early stop, every method ------------------------
if start pooled 0; then
    for method in toa best-of-n ensemble prs seq-refine moa; do
        out=$TOA_TMP/job-$method.jsonl
        submit --quiet --method $method --samples 2 --set method.budget=6 \
            --set method.max_per_prompt=15 --stop-at-reward 1 --output "$out" --job "budget-$method"
        check_eq "3. $method: submit exits 0" 0 "$?"
        check_eq "3. $method: every prompt once" "$N" "$(jq -s 'map(.id) | unique | length' "$out")"
        used=$(total "$out")
        check "3. $method: the job spent $used <= 6 x $N generations" test "$used" -le $((6 * N))
        bad=$(jq -s '[.[] | select(.generations != (.responses | length) or .generations > 15
            or .allowance > 15 or .generations > .allowance)] | length' "$out")
        check_eq "3. $method: no prompt above max_per_prompt 15 or its allowance" 0 "$bad"
        more=$(jq -s '[.[] | select(.allowance > 6)] | length' "$out")
        check "3. $method: unsolved prompts got saved generations ($more above their share)" \
            test "$more" -ge 1
    done
    fleet_down
fi

# --- 4. a broker killed mid-job keeps the job within its budget -------------
if start restart 150; then
    out=$TOA_TMP/restart.jsonl
    submit --quiet --method toa --samples 2 --set method.budget=6 --set method.max_per_prompt=18 \
        --stop-at-reward 1 --output "$out" --job budget-restart &
    client=$!
    # Kill once some prompts finished (spare exists) and others still search.
    four_done () { [ -f "$out" ] && [ "$(grep -c . "$out")" -ge 4 ]; }
    toa_wait_until 120 four_done
    before=$(grep -c . "$out" 2>/dev/null || echo 0)
    pid=$(cat "$RUN/broker.pid")
    kill -9 "$pid"
    for i in $(seq 100); do
        case "$(ps -o stat= -p "$pid" 2>/dev/null)" in ""|Z*) break ;; esac
        sleep 0.1
    done
    mv "$RUN/broker.log" "$RUN/broker.log.1"
    check "4. fleet up starts the broker again" fleet up >>"$RUN.fleet.log" 2>&1
    wait "$client"
    check_eq "4. the client exits 0 through the broker restart" 0 "$?"
    check "4. the broker was killed mid-job ($before of $N results before)" \
        test "$before" -ge 1 -a "$before" -lt "$N"
    check "4. the restarted broker reloaded the job" grep -q "job budget-restart: reloaded" \
        "$RUN/broker.log"
    check_eq "4. every prompt once" "$N" "$(jq -s 'map(.id) | unique | length' "$out")"
    used=$(total "$out")
    check "4. across the restart the job spent $used <= 6 x $N generations" test "$used" -le $((6 * N))
    bad=$(jq -s '[.[] | select(.generations != (.responses | length) or .generations > 18)] | length' "$out")
    check_eq "4. each prompt's generations are its responses, none above 18" 0 "$bad"
    fleet_down
fi
toa_done
