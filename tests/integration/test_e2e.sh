#!/usr/bin/env bash
# test_e2e.sh - the whole fleet with real processes (deploy/fleet: redis-server,
# toa-simllm, toa-broker, 2 x toa-worker, toa-scorer) and the real client:
# TOA on 100 generated math problems (toa-simllm --write-problems) with three
# simulated models and math-verify; the same budget spent by one model alone;
# bad input files; Ctrl-C then attach.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-simllm"
DATA=$TOA_TMP/problems.jsonl
"$TOA_BIN/toa-simllm" --write-problems 100 >"$DATA" || { not_ok "toa-simllm --write-problems 100"; toa_done; }

export TOA_RUN_DIR=$TOA_TMP/run
CONFIG=$TOA_TMP/fleet.json
MODELS=$(python3 "$HERE/e2e/make_config.py" "$CONFIG" "$DATA" "$TOA_RUN_DIR")
fleet_down () { "$TOA_ROOT/deploy/fleet" down "$CONFIG" >/dev/null 2>&1; }
trap 'fleet_down; toa_cleanup' EXIT
if ! "$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/fleet-up.log" 2>&1; then
    cat "$TOA_TMP/fleet-up.log"; not_ok "fleet up"; toa_done
fi
ok "deploy/fleet up starts redis, simllm, broker, 2 workers, a scorer"
REDIS_PORT=$(jq -r '.redis.url' "$CONFIG" | sed 's|.*:\([0-9]*\)/.*|\1|')
"$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/fleet-again.log" 2>&1
check_eq "fleet up on a running fleet exits 0" 0 $?
check_eq "fleet up on a running fleet starts nothing (6 already running)" 6 "$(grep -c 'already running' "$TOA_TMP/fleet-again.log")"
TOA_RUN_DIR=$TOA_TMP/other "$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/fleet-other.log" 2>&1
check_eq "fleet up refuses ports another fleet holds" 1 $?
check "... and says which port is in use" grep -q 'already in use' "$TOA_TMP/fleet-other.log"
# deploy/fleet gave the managed Redis a password.
rcli () { REDISCLI_AUTH=$(cat "$TOA_RUN_DIR/redis.password") redis-cli -p "$REDIS_PORT" "$@"; }
redis_keys () { rcli --scan --pattern 'toa:*' | sort; }

# 1. TOA, 3 models x 3 samples, on 100 prompts.
check "toa submit: TOA on 100 prompts exits 0" \
    "$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$TOA_TMP/toa.jsonl" --quiet
check "every prompt once, 9 scored responses each, all result fields" \
    python3 "$HERE/e2e/check_results.py" "$DATA" "$TOA_TMP/toa.jsonl" 9 toa
# a done job keeps only its hash (state done, with an expiry) for attach and status
check_eq "Redis holds only the hash of a done job" "toa:job:{*}" "$(redis_keys | sed 's/{.*}/{*}/')"
check_eq "the done job's hash says done" done \
    "$(rcli hget "$(redis_keys | head -1)" state)"

# 2. The same budget (9 generations) from each model alone.
best_single=0 best_single_model=""
for model in $MODELS; do
    "$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$TOA_TMP/single-$model.jsonl" \
        --method best-of-n --samples 9 --set "models=[{\"name\":\"$model\",\"base_url\":\"$(jq -r '.models[0].base_url' "$CONFIG")\",\"simulated\":true}]" \
        --quiet || not_ok "best-of-n with $model alone"
    share=$(jq -s 'map(select(.best_reward >= 1)) | length' "$TOA_TMP/single-$model.jsonl")
    echo "# best-of-9 with $model alone: best correct on $share of 100 prompts"
    if [ "$share" -gt "$best_single" ]; then best_single=$share; best_single_model=$model; fi
done
toa_share=$(jq -s 'map(select(.best_reward >= 1)) | length' "$TOA_TMP/toa.jsonl")
echo "# TOA (3 models x 3 samples): best correct on $toa_share of 100 prompts"
check "TOA's best is correct more often ($toa_share) than the best single model's ($best_single_model: $best_single) at 9 generations" \
    test "$toa_share" -gt "$best_single"

# 3. Bad input files: an error naming the line, and no trace in Redis.
before=$(redis_keys)
printf '{"id": 1, "instruction": "a"}\nnot json\n' >"$TOA_TMP/bad-json.jsonl"
printf '{"instruction": "a"}\n' >"$TOA_TMP/bad-noid.jsonl"
printf '{"id": 1, "instruction": "a"}\n{"id": 1, "instruction": "b"}\n' >"$TOA_TMP/bad-dup.jsonl"
printf '{"id": 1, "text": "a"}\n' >"$TOA_TMP/bad-noprompt.jsonl"
: >"$TOA_TMP/bad-empty.jsonl"
for bad in json:2 noid:1 dup:2 noprompt:1 empty:; do
    name=${bad%%:*} line=${bad#*:}
    "$TOA_BIN/toa" submit --config "$CONFIG" --input "$TOA_TMP/bad-$name.jsonl" \
        --output "$TOA_TMP/bad-$name.out" --quiet 2>"$TOA_TMP/bad-$name.err"
    rc=$?
    check_eq "bad input ($name): exit 2" 2 "$rc"
    check "bad input ($name): error names the file${line:+ and line $line}" \
        grep -q "bad-$name.jsonl${line:+:$line}" "$TOA_TMP/bad-$name.err"
done
check_eq "bad inputs leave no trace in Redis" "$before" "$(redis_keys)"

# 4. Ctrl-C, then attach: every prompt exactly once.
"$TOA_BIN/toa" submit --config "$CONFIG" --input "$DATA" --output "$TOA_TMP/detach.jsonl" \
    --job e2e-detach --quiet --set simllm.models[0].latency_ms=0 >"$TOA_TMP/detach.log" 2>&1 &
client=$!
toa_wait_until 60 test -s "$TOA_TMP/detach.jsonl" || not_ok "the job writes a result before Ctrl-C"
kill -INT "$client"; wait "$client"; rc=$?
check_eq "Ctrl-C detaches (exit 130)" 130 "$rc"
got=$(wc -l <"$TOA_TMP/detach.jsonl")
echo "# $got results before Ctrl-C"
check "toa attach resumes and exits 0" \
    "$TOA_BIN/toa" attach e2e-detach --config "$CONFIG" --output "$TOA_TMP/detach.jsonl" --quiet
check "after detach + attach: every prompt exactly once, complete" \
    python3 "$HERE/e2e/check_results.py" "$DATA" "$TOA_TMP/detach.jsonl" 9 toa

check "deploy/fleet down stops everything" "$TOA_ROOT/deploy/fleet" down "$CONFIG"
toa_done
