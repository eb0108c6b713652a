#!/usr/bin/env bash
# test_second_client.sh - a second client, tests/clients/toa_client.py
# (Python, python3-zmq and python3-msgpack, written from proto/README.md and
# docs/jobs.md alone), against the real fleet (deploy/fleet: redis-server,
# toa-simllm, toa-broker, 2 workers, a scorer):
#  1. it submits, streamed in chunks, with minimal settings (models,
#     reward backend, seed) and follows the job to "done"; its output equals
#     `toa submit`'s for the same prompts (the defaults it left out are toa
#     submit's); bad lines in different chunks are all reported;
#  2. submitted in one message and killed with SIGKILL mid-job, it
#     attaches again (asking again while the broker answers 423: the dead
#     client's hold lasts until the broker notices) and ends with every
#     prompt exactly once;
#  3. it cancels a running job (the submitting client sees "cancelled");
#  4. status of a done job; a job id that exists is refused (error 409).
source "$(dirname "$0")/../lib.sh"
CLIENT="/usr/bin/python3 $TOA_ROOT/tests/clients/toa_client.py"
PROMPTS=$TOA_ROOT/examples/prompts-math.jsonl
toa_require "$TOA_BIN/toa" "$TOA_BIN/toa-broker"
if ! /usr/bin/python3 -c 'import zmq, msgpack' 2>/dev/null; then
    echo "ok - skipped: /usr/bin/python3 lacks zmq or msgpack (deploy/install-deps.sh installs python3-zmq python3-msgpack) # SKIP"
    toa_done
fi

export TOA_RUN_DIR=$TOA_TMP/run
CONFIG=$TOA_TMP/fleet.json
PYTHONPATH=$TOA_ROOT/tests/integration/e2e python3 - "$CONFIG" "$PROMPTS" "$TOA_RUN_DIR" <<'EOF'
import json, sys
from fleet import fleet_config
out, data, run = sys.argv[1:4]
skills = {"sim-alpha": 0.45, "sim-beta": 0.55, "sim-gamma": 0.35}
config = fleet_config(run, [data],
                      {m: {"latency_ms": 40, "slots": 16, "math_skill": s}
                       for m, s in skills.items()},
                      broker={"max_active_prompts": 4})
config.update({
    "reward": {"backend": "math-verify"},
    "sampling": {"seed": 5},
    "method": {"name": "toa", "samples": 2},
    "worker": {"count": 2},
    "scorer": {"count": 1},
})
json.dump(config, open(out, "w"), indent=1)
EOF
fleet_down () { "$TOA_ROOT/deploy/fleet" down "$CONFIG" >/dev/null 2>&1; }
trap 'fleet_down; toa_cleanup' EXIT
if ! "$TOA_ROOT/deploy/fleet" up "$CONFIG" >"$TOA_TMP/fleet-up.log" 2>&1; then
    cat "$TOA_TMP/fleet-up.log"; not_ok "fleet up"; toa_done
fi
ENDPOINT=$(jq -r '.broker.client_endpoint' "$CONFIG")
py () { $CLIENT "$@" --endpoint "$ENDPOINT" --heartbeat-ms 500; }
# The settings another client sends: only what it must, plus what the
# config sets (samples, seed); everything else is left to the broker.
jq -n '{models: ["sim-alpha", "sim-beta", "sim-gamma"], method: {name: "toa", samples: 2},
        sampling: {seed: 5}, reward: {backend: "math-verify"}}' >"$TOA_TMP/settings.json"
# once FILE: every id of PROMPTS-like input INPUT appears exactly once in FILE.
once () {
    [ "$(jq -r '.id | tojson' "$2" | sort)" = "$(jq -r '.id | tojson' "$1" | sort)" ]
}
# same A B: the two result files hold the same lines, whatever their order.
same () { [ "$(jq -cS . "$1" | sort)" = "$(jq -cS . "$2" | sort)" ]; }

# 1. Submit and follow; compare with toa submit.
"$TOA_BIN/toa" submit --config "$CONFIG" --input "$PROMPTS" --output "$TOA_TMP/toa.jsonl" --quiet
check_eq "toa submit exits 0" 0 $?
py submit --settings "$TOA_TMP/settings.json" --method toa --input "$PROMPTS" \
    --output "$TOA_TMP/py.jsonl" --job py-one --chunk-lines 2 >"$TOA_TMP/py.out" 2>"$TOA_TMP/py.err"
check_eq "toa_client.py submit (streamed: 11 chunks of 2 lines, 4 in flight) exits 0" 0 $?
check "toa_client.py prints the job id at accept" grep -q '^job py-one: 21 prompts$' "$TOA_TMP/py.out"
check_eq "toa_client.py: 21 result lines" 21 "$(wc -l <"$TOA_TMP/py.jsonl")"
check "toa_client.py: every prompt exactly once" once "$PROMPTS" "$TOA_TMP/py.jsonl"
check "toa_client.py's results equal toa submit's (same prompts, defaults left out)" \
    same "$TOA_TMP/toa.jsonl" "$TOA_TMP/py.jsonl"
check_eq "the job is done for the broker too" done \
    "$(py status --job py-one | jq -r .state)"
py submit --settings "$TOA_TMP/settings.json" --method toa --input "$PROMPTS" \
    --output "$TOA_TMP/again.jsonl" --job py-one >/dev/null 2>"$TOA_TMP/again.err"
check_eq "submit of an existing job id: exit 1" 1 $?
check "... with the broker's error 409" grep -q 'error 409' "$TOA_TMP/again.err"
printf '{"id": 1, "instruction": "a"}\nnot json\n{"id": 3, "instruction": "b"}\n{"id": 1, "instruction": "c"}\n' \
    >"$TOA_TMP/bad.jsonl"
py submit --settings "$TOA_TMP/settings.json" --method toa --input "$TOA_TMP/bad.jsonl" \
    --output "$TOA_TMP/bad.out" --chunk-lines 1 >/dev/null 2>"$TOA_TMP/bad.err"
check_eq "a streamed batch with bad lines in different chunks: rejected (exit 2)" 2 $?
check "... line 2 (not JSON) reported" grep -q 'bad.jsonl:2: ' "$TOA_TMP/bad.err"
check "... line 4 (an id of another chunk) reported" grep -q 'bad.jsonl:4: .*duplicate' "$TOA_TMP/bad.err"

# 2. SIGKILL mid-job, then attach.
for i in 1 2 3; do
    jq -c --arg i "$i" '.id = "\($i)-\(.id)"' "$PROMPTS"
done >"$TOA_TMP/many.jsonl"
# (exec: $! is the Python process itself, not a subshell around it)
(exec $CLIENT submit --endpoint "$ENDPOINT" --heartbeat-ms 500 --settings "$TOA_TMP/settings.json" \
    --method toa --input "$TOA_TMP/many.jsonl" --output "$TOA_TMP/kill.jsonl" --job py-kill \
    --single-message >/dev/null 2>&1) &
pid=$!
five_results () { [ "$(cat "$TOA_TMP/kill.jsonl" 2>/dev/null | wc -l)" -ge 5 ]; }
toa_wait_until 60 five_results
kill -KILL "$pid"; wait "$pid" 2>/dev/null
check "the killed client is gone" bash -c "! kill -0 $pid 2>/dev/null"
before=$(wc -l <"$TOA_TMP/kill.jsonl")
echo "# $before of 63 results stored before SIGKILL"
check "killed before the end (5 to 62 results stored)" test "$before" -ge 5 -a "$before" -lt 63
py attach --job py-kill --output "$TOA_TMP/kill.jsonl" >/dev/null 2>"$TOA_TMP/attach.err"
check_eq "toa_client.py attach after SIGKILL exits 0" 0 $?
check "after SIGKILL + attach: every prompt exactly once" once "$TOA_TMP/many.jsonl" "$TOA_TMP/kill.jsonl"


# 3. Cancel a running job.
py submit --settings "$TOA_TMP/settings.json" --method toa --input "$TOA_TMP/many.jsonl" \
    --output "$TOA_TMP/cancel.jsonl" --job py-cancel >/dev/null 2>"$TOA_TMP/cancelled.err" &
pid=$!
toa_wait_until 60 test -s "$TOA_TMP/cancel.jsonl"
check_eq "toa_client.py cancel: the broker says cancelled" "py-cancel: cancelled" \
    "$(py cancel --job py-cancel 2>&1)"
wait "$pid"
check_eq "the submitting client hears it and exits 3" 3 $?
check "... saying the job was cancelled" grep -q 'was cancelled' "$TOA_TMP/cancelled.err"
py status --job py-cancel >/dev/null 2>&1
check_eq "a cancelled job is gone (status: error)" 1 $?

# 4. Without CURVE every job has an owner: a submit without a token is refused.
answer=$(/usr/bin/python3 - "$ENDPOINT" <<'PY'
import sys, msgpack, zmq
s = zmq.Context.instance().socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(sys.argv[1])
s.send(msgpack.packb({"v": 1, "cmd": "submit", "job": "py-nobody", "method": "toa",
                      "settings": "{}", "prompts": [{"line": 1, "text": '{"id": 1, "instruction": "hi"}'}]}))
if s.poll(10000):
    m = msgpack.unpackb(s.recv(), raw=False)
    print(m.get("cmd"), m.get("code"), m.get("message"))
PY
)
check "a submit without a token is refused (400, says token)" \
    eval '[[ "$answer" == "error 400 "*token* ]]'
py status --job py-nobody >/dev/null 2>&1
check_eq "... and no job was made" 1 $?
toa_done
