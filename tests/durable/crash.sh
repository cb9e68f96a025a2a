#!/usr/bin/env bash
# Durable test 7: crash and resume. procs/crash.tac (24 effects: 15 appends
# of distinct lines through the idempotent append.py, clocks, 2 checkpoints,
# pings and a Human.approve) is killed with SIGKILL, then resumed (`tactus
# resume RUN`) until it completes, over and over. The work is fixed: every
# round is one run and exactly six attempts, and every kill lands:
#   - two attempts before the approval and two after it are killed, each
#     on the `tactus` host or on its `tactus-runtime` child (found in /proc);
#   - then one attempt runs to the approval (exit 3, answered with `tactus
#     approve`), and after the kills of the second half one completes (exit 0);
#   - $DURABLE_ROUNDS (default 13) rounds: 52 kills, 78 attempts.
# A kill is timed from a hold point, a position of an append the attempt
# has not journaled yet, where append.py waits for the test (DIR/hold): so
# the process is certainly alive when the kill comes, on a machine of any
# speed. Three kinds of kill points, drawn for each kill:
#   in-call     during the append at P, once its line is written and before
#               the tool answers (the effect is done and the host has not
#               heard of it), 0-7 ms after the tool reached that point;
#   after-call  0-29 ms after the append at P returned, with the next
#               pending append held: while the host records P, the runtime
#               goes on, the clocks, checkpoints and pings between;
#   at-start    0-29 ms after the attempt started (start-up, the replay of
#               the journal, the effects before the first held append).
# Expected outcome of each attempt: a killed host exits 137, a killed
# runtime makes the host exit 1 with one --json document ("failed", "killed
# by signal 9"); anything else fails, SIGPIPE (141) by name (README.md).
# After every round: the run completed; the append file holds line-01 ..
# line-15, each exactly once and in order; the output equals that of an
# uninterrupted run of the same procedure; the journal holds the same
# effects (position, method, fingerprint, and result except for clocks).
#
# The kill points are deterministic: bash's RANDOM seeded with
# $DURABLE_SEED (default 20261124) draws each point, delay and target (four
# draws per kill, whatever the machine). Where within its window a kill
# lands still depends on the machine's speed; every outcome must pass.
#   crash.sh TACTUS
source "$(dirname "$0")/lib.sh"
seed=${DURABLE_SEED:-20261124}
rounds=${DURABLE_ROUNDS:-13}
kills_per_half=2
RANDOM=$seed
setup_proc crash
expected=$(printf 'line-%02d\n' 1 2 3 4 5 | sed 's/$//'; printf 'line-06 (checkpoint 1)\nline-07 (checkpoint 1)\n';
    printf 'line-%02d\n' 8 9 10 11 12 13; printf 'line-14 (checkpoint 2)\nline-15\n')
approval_pos=11
# The positions of the appends before the approval (first half) and after it.
appends_first=(1 2 3 4 5 7 8)
appends_second=(12 13 14 15 16 17 20 21)
hold=$work/lines/hold

ms() { date +%s%3N; }
sleep_ms() { sleep "$(printf '0.%03d' "$1")"; }
# set_hold POSITION...: the appends that wait (none: remove the file); atomic,
# so that a waiting append never reads a half-written list.
set_hold() {
    if [ $# -eq 0 ]; then
        rm -f "$hold"
    else
        echo "$*" >"$hold.tmp" && mv "$hold.tmp" "$hold"
    fi
}
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
# pending RUN POSITION...: those of the positions that RUN has not journaled
# (all of them before the run exists). Effects inside a checkpoint are
# journaled before the checkpoint itself, so this is a set, not a prefix.
pending() {
    local run=$1
    shift
    if [ -z "$run" ]; then
        echo "$*"
        return
    fi
    "$tactus" show "$run" --json --store "$store" >"$work/show.json" 2>"$work/err" || fail "show $run"
    python3 -c 'import json, sys
done = {e["position"] for e in json.load(open(sys.argv[1]))["effects"]}
print(" ".join(p for p in sys.argv[2:] if int(p) not in done))' "$work/show.json" "$@"
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
# wait_held POSITION PID WHAT: until the append at POSITION waits at its hold
# point; fails if the attempt ends first or after 30 s.
wait_held() {
    local i
    for ((i = 0; i < 15000; i++)); do
        [ -e "$work/lines/held-$1" ] && return 0
        kill -0 "$2" 2>/dev/null || fail "$3: the attempt ended before the append at position $1"
        sleep 0.002
    done
    fail "$3: the append at position $1 was not reached in 30 s"
}
# start_attempt: `tactus run` (no run yet) or `tactus resume RUN`, in the
# background; its pid in $pid.
start_attempt() {
    rm -f "$work/lines"/held-*
    if [ -z "$run" ]; then
        "$tactus" run --json --no-sandbox "$proc" --store "$store" >"$work/out" 2>"$work/err" </dev/null &
    else
        "$tactus" resume "$run" --no-sandbox --json --store "$store" >"$work/out" 2>"$work/err" </dev/null &
    fi
    pid=$!
    attempts=$((attempts + 1))
}
# learn_run: after an attempt of a round with no run id yet, the id from the
# document, else the newest run we do not know (a host killed before it
# recorded the run leaves none: the next attempt starts the round again).
learn_run() {
    [ -z "$run" ] || return 0
    run=$(python3 -c 'import json, sys
try: print(json.load(open(sys.argv[1]))["run_id"])
except Exception: pass' "$work/out")
    if [ -z "$run" ]; then
        run=$("$tactus" runs --json --store "$store" | python3 -c 'import json, sys
known = set(sys.argv[1:])
print(next((r["run_id"] for r in json.load(sys.stdin) if r["run_id"] not in known), ""))' "${!known[@]}")
    fi
    [ -n "$run" ] && known[$run]=1
    return 0
}
# killed_attempt HALF MORE: one attempt, killed at a drawn point of the
# appends of that half it has not journaled yet, leaving room for MORE kills
# in the half. A kill journals at most the appends up to the held one (a
# killed runtime's host records the effect it was performing), and the one
# after it for an after-call kill: so the point is drawn among the first
# (pending - 2 * MORE) appends, and every later kill still has one to hold.
killed_attempt() {
    local half=$1 more=$2 draw_point=$RANDOM draw_kind=$RANDOM draw_delay=$RANDOM draw_target=$RANDOM
    local -a left
    if [ "$half" = first ]; then
        read -r -a left <<<"$(pending "$run" "${appends_first[@]}")"
    else
        read -r -a left <<<"$(pending "$run" "${appends_second[@]}")"
    fi
    local span=$((${#left[@]} - 2 * more))
    [ $span -gt 0 ] || fail "round $round: ${#left[@]} appends left to hold in the $half half of $run, for $((more + 1)) kills"
    local i=$((draw_point % span))
    local at=${left[$i]} next=${left[$((i + 1))]:-} kind delay target=host rpid="" what
    case $((draw_kind % 3)) in
    0) kind=in-call ;;
    1) kind=after-call ;;
    2) kind=at-start ;;
    esac
    [ $kind = after-call ] && [ -z "$next" ] && kind=in-call # the last append: nothing to hold after it
    [ $kind = in-call ] && delay=$((draw_delay % 8)) || delay=$((draw_delay % 30))
    [ $((draw_target % 2)) -eq 0 ] && target=runtime
    what="round $round, attempt $((attempts + 1)) ($target, $kind, position $at, +$delay ms)"
    case $kind in
    in-call)
        set_hold "$at"
        start_attempt
        wait_held "$at" $pid "$what"
        ;;
    after-call)
        set_hold "$at" "$next"
        start_attempt
        wait_held "$at" $pid "$what"
        set_hold "$next"
        ;;
    at-start)
        set_hold "$at"
        start_attempt
        ;;
    esac
    sleep_ms "$delay"
    if [ $target = host ]; then
        kill -KILL $pid || fail "$what: the host was gone before the kill"
    else
        for _ in $(seq 2500); do
            rpid=$(child_named $pid tactus-runtime) && break
            kill -0 $pid 2>/dev/null || break
            sleep 0.002
        done
        [ -n "$rpid" ] || fail "$what: no tactus-runtime child to kill"
        kill -KILL "$rpid" || fail "$what: the runtime was gone before the kill"
    fi
    set_hold
    { wait $pid; } 2>/dev/null
    local rc=$?
    learn_run
    case $rc in
    137) [ $target = host ] || fail "$what: the host died of SIGKILL, but the runtime was killed" ;;
    1)
        [ $target = runtime ] || fail "$what: exit 1, but the host was killed"
        check "d['status'] == 'failed' and 'killed by signal 9' in d['error']['message']" \
            "$what: the run failed because its runtime was killed"
        ;;
    # The host ignores SIGPIPE and reports the dead runtime (README.md: fixed);
    # dying of it again is that bug come back.
    141) fail "$what: the host died of SIGPIPE (exit 141) after its runtime was killed" ;;
    *) fail "$what: exit $rc" ;;
    esac
    kills=$((kills + 1))
    [ $target = host ] && host_kills=$((host_kills + 1)) || runtime_kills=$((runtime_kills + 1))
    kinds[$kind]=$((${kinds[$kind]} + 1))
    # The append a killed host left running finishes on its own; the next
    # attempt must not meet it at a hold point.
    wait_tools
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
t run --json --no-sandbox "$proc"
expect_rc 3 "reference run (suspending at the approval)"
ref=$(jv 'd["run_id"]')
check "d['pending'][0]['request_id'] == '$ref.$approval_pos'" "reference: the approval is effect $approval_pos"
t approve "$ref" $approval_pos
expect_rc 0 "reference: approve"
t resume "$ref" --no-sandbox --json
expect_rc 0 "reference: resume"
check 'd["output"]["indexes"] == list(range(1, 16)) and d["output"]["approved"] is True and d["output"]["clock_ok"] is True' \
    "reference output"
journal_digest "$ref" "$work/reference.json"
check 'len(d["effects"]) == 24 and d["status"] == "completed"' "reference: 24 effects" "$work/reference.json"
check_round "$ref" "reference"
note "reference run $ref; seed $seed"

# ---- rounds of kills -----------------------------------------------------------------
kills=0 host_kills=0 runtime_kills=0 attempts=0 approvals=0
declare -A known=([$ref]=1) kinds=([in-call]=0 [after-call]=0 [at-start]=0)
started=$(ms)
for ((round = 1; round <= rounds; round++)); do
    run=""
    for ((k = kills_per_half - 1; k >= 0; k--)); do killed_attempt first $k; done
    # The first half, to the approval. (A run whose every attempt so far was
    # killed before it was recorded starts here.)
    start_attempt
    { wait $pid; } 2>/dev/null
    rc=$?
    learn_run
    [ $rc -eq 3 ] || fail "round $round: the attempt to the approval ended with exit $rc, expected 3"
    check "d['status'] == 'waiting' and [p['request_id'] for p in d['pending']] == ['$run.$approval_pos']" \
        "round $round: waiting for the approval"
    t approve "$run" $approval_pos
    expect_rc 0 "round $round: approve"
    approvals=$((approvals + 1))
    for ((k = kills_per_half - 1; k >= 0; k--)); do killed_attempt second $k; done
    start_attempt
    { wait $pid; } 2>/dev/null
    rc=$?
    [ $rc -eq 0 ] || fail "round $round: the last attempt of $run ended with exit $rc, expected 0"
    check 'd["status"] == "completed"' "round $round: exit 0 but not completed"
    check_round "$run" "round $round"
done
elapsed=$(($(ms) - started))
[ $kills -eq $((rounds * 2 * kills_per_half)) ] && [ $attempts -eq $((rounds * (2 * kills_per_half + 2))) ] ||
    fail "$kills kills in $attempts attempts, expected $((rounds * 2 * kills_per_half)) in $((rounds * (2 * kills_per_half + 2)))"
[ $host_kills -ge $((kills / 3)) ] && [ $runtime_kills -ge $((kills / 3)) ] ||
    fail "seed $seed kills the host $host_kills and the runtime $runtime_kills times: a third each at least"
note "ok: $rounds rounds, $attempts attempts, $kills kills landed ($host_kills host, $runtime_kills runtime;" \
    "${kinds[in-call]} in a call, ${kinds[after-call]} after one, ${kinds[at-start]} at the start)," \
    "$approvals approvals, ${elapsed} ms; seed $seed"
