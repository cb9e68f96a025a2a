#!/usr/bin/env bash
# Durable test 7: crash and resume. procs/crash.tac (24 effects: 15 appends
# of distinct lines through the idempotent append.py, clocks, 2 checkpoints,
# pings and a Human.approve) is killed with SIGKILL at random points, then
# resumed (`tactus resume RUN`) until it completes, over and over:
#   - a round is one run, from `tactus run` to completion; each attempt
#     (the run, then each resume) is killed after a random delay, either the
#     `tactus` host process or its `tactus-runtime` child (found in /proc);
#   - the approval is answered (`tactus approve`) whenever an attempt ends
#     waiting for it;
#   - rounds go on until at least $DURABLE_KILLS (50) kills have landed, at
#     least a third of them on each of the host and the runtime.
# After every round: the run completed; the append file holds line-01 ..
# line-15, each exactly once and in order; the output equals that of an
# uninterrupted run of the same procedure; the journal holds the same
# effects (position, method, fingerprint, and result except for clocks).
#
# Kill points are deterministic: bash's RANDOM seeded with $DURABLE_SEED
# (default 20261124) draws each delay, uniform in [5 ms, 5 ms + W), where W
# is the wall time of the uninterrupted run's first invocation, and the
# target (host or runtime). The moment a delay lands on still depends on
# the machine's speed; every outcome must pass.
#   crash.sh TACTUS
source "$(dirname "$0")/lib.sh"
seed=${DURABLE_SEED:-20261124}
min_kills=${DURABLE_KILLS:-50}
max_rounds=${DURABLE_MAX_ROUNDS:-60}
RANDOM=$seed
setup_proc crash
expected=$(printf 'line-%02d\n' 1 2 3 4 5 | sed 's/$//'; printf 'line-06 (checkpoint 1)\nline-07 (checkpoint 1)\n';
    printf 'line-%02d\n' 8 9 10 11 12 13; printf 'line-14 (checkpoint 2)\nline-15\n')
approval_pos=11

ms() { date +%s%3N; }
# The journal of a run, without what legitimately differs between two runs
# (clock values, timings): one JSON document per run.
journal_digest() { # RUN OUTFILE
    "$tactus" show "$1" --json --store "$store" >"$work/show.json" 2>"$work/err" || fail "show $1"
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
eff = [[e["position"], e["request"]["method"], e["fingerprint"],
        None if e["request"]["method"] == "clock.now" else e["result"]] for e in d["effects"]]
json.dump({"status": d["status"], "output": d["output"], "effects": eff}, open(sys.argv[2], "w"), sort_keys=True)' \
        "$work/show.json" "$2"
}
# Waits until no append tool of this test is left running (a killed host
# leaves its tool running: the tool is not the host's to stop).
wait_tools() {
    for _ in $(seq 200); do
        running_with_arg "$work/lines" || return 0
        sleep 0.05
    done
    fail "an append tool is still running after 10 s"
}
# check_round RUN WHAT: the run completed exactly like the reference.
check_round() {
    wait_tools
    local got
    got=$(lines_of "$1")
    [ "$got" = "$expected" ] || fail "$2: the append file of $1 is not line-01..line-15 once each in order:
$(cat "$work/lines/$1.txt")"
    journal_digest "$1" "$work/digest.json"
    check 'd == o' "$2: the journal and output of $1 differ from the uninterrupted run's" "$work/digest.json" "$work/reference.json"
}

# ---- the uninterrupted reference run -------------------------------------------------
t0=$(ms)
t run --json --no-sandbox "$proc"
window=$(($(ms) - t0))
expect_rc 3 "reference run (suspending at the approval)"
ref=$(jv 'd["run_id"]')
check "d['pending'][0]['request_id'] == '$ref.$approval_pos'" "reference: the approval is effect $approval_pos"
t approve "$ref" $approval_pos
expect_rc 0 "reference: approve"
t resume "$ref" --no-sandbox --json
expect_rc 0 "reference: resume"
cp "$work/out" "$work/reference.out.json"
check 'd["output"]["indexes"] == list(range(1, 16)) and d["output"]["approved"] is True and d["output"]["clock_ok"] is True' \
    "reference output"
journal_digest "$ref" "$work/reference.json"
check 'len(d["effects"]) == 24 and d["status"] == "completed"' "reference: 24 effects" "$work/reference.json"
check_round "$ref" "reference"
note "reference run $ref: first invocation ${window} ms; seed $seed"

# ---- rounds of kills -----------------------------------------------------------------
kills=0 host_kills=0 runtime_kills=0 attempts=0 rounds=0 approvals=0
declare -A known=([$ref]=1)
started=$(ms)
while [ $kills -lt "$min_kills" ] || [ $host_kills -lt $((min_kills / 3)) ] ||
    [ $runtime_kills -lt $((min_kills / 3)) ]; do
    rounds=$((rounds + 1))
    [ $rounds -le "$max_rounds" ] || fail "$kills kills after $max_rounds rounds ($host_kills host, $runtime_kills runtime)"
    run="" tries=0
    while :; do
        tries=$((tries + 1)) attempts=$((attempts + 1))
        [ $tries -le 100 ] || fail "round $rounds: run $run did not complete after 100 attempts"
        [ $attempts -le 2000 ] || fail "2000 attempts in all: giving up"
        if [ -z "$run" ]; then
            "$tactus" run --json --no-sandbox "$proc" --store "$store" >"$work/out" 2>"$work/err" </dev/null &
        else
            "$tactus" resume "$run" --no-sandbox --json --store "$store" >"$work/out" 2>"$work/err" </dev/null &
        fi
        pid=$!
        delay=$((5 + RANDOM % window))
        target=host
        [ $((RANDOM % 2)) -eq 0 ] && target=runtime
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        killed=none
        if [ $target = host ]; then
            kill -KILL $pid 2>/dev/null && killed=host
        else
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                rpid=$(child_named $pid tactus-runtime) && break
                kill -0 $pid 2>/dev/null || break
                sleep 0.01
            done
            [ -n "${rpid:-}" ] && kill -KILL "$rpid" 2>/dev/null && killed=runtime
            rpid=
        fi
        { wait $pid; } 2>/dev/null
        rc=$?
        if [ -z "$run" ]; then
            # The run id: from the document, else the newest run we do not know yet
            # (a host killed before it recorded the run leaves none: start again).
            run=$(python3 -c 'import json, sys
try: print(json.load(open(sys.argv[1]))["run_id"])
except Exception: pass' "$work/out")
            if [ -z "$run" ]; then
                run=$("$tactus" runs --json --store "$store" | python3 -c 'import json, sys
known = set(sys.argv[1:])
print(next((r["run_id"] for r in json.load(sys.stdin) if r["run_id"] not in known), ""))' "${!known[@]}")
            fi
            [ -n "$run" ] && known[$run]=1
        fi
        case $rc in
        0)
            check 'd["status"] == "completed"' "round $rounds: exit 0 but not completed"
            break
            ;;
        3)
            check "d['status'] == 'waiting' and [p['request_id'] for p in d['pending']] == ['$run.$approval_pos']" \
                "round $rounds: waiting for the approval"
            t approve "$run" $approval_pos
            expect_rc 0 "round $rounds: approve"
            approvals=$((approvals + 1))
            ;;
        137)
            [ $killed = host ] || fail "round $rounds: the host died of SIGKILL, not killed by the test"
            kills=$((kills + 1)) host_kills=$((host_kills + 1))
            ;;
        1)
            [ $killed = runtime ] || fail "round $rounds: attempt $tries failed (exit $rc) with no runtime kill"
            check "d['status'] == 'failed' and 'killed by signal 9' in d['error']['message']" \
                "round $rounds: the run failed because its runtime was killed"
            kills=$((kills + 1)) runtime_kills=$((runtime_kills + 1))
            ;;
        141)
            # The host ignores SIGPIPE and reports the dead runtime (README.md: fixed);
            # dying of it again is that bug come back.
            fail "round $rounds: the host died of SIGPIPE (exit 141) after its runtime was killed"
            ;;
        2)
            # The host was killed after it recorded the completion, before it exited:
            # resuming a completed run is refused. (Only after a kill.)
            if [ -z "$run" ] || ! grep -q "has completed" "$work/err"; then
                fail "round $rounds: resume of $run: exit 2"
            fi
            break
            ;;
        *) fail "round $rounds: attempt $tries ended with exit $rc (killed: $killed)" ;;
        esac
        [ -n "$run" ] || tries=0 # nothing was recorded: a fresh start of this round
    done
    check_round "$run" "round $rounds"
done
elapsed=$(($(ms) - started))
note "ok: $rounds rounds, $attempts attempts, $kills kills landed ($host_kills host, $runtime_kills runtime)," \
    "$approvals approvals, ${elapsed} ms; seed $seed"
