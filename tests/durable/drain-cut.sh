#!/usr/bin/env bash
# A worker's drain whose grace period runs out cuts the call in flight
# (issue #21, docs/durability.md "Stopping a worker"), on both backends:
#   a. a host tool that appends its idempotency key when it starts and then
#      waits on a child process: SIGTERM with --grace 1; the worker exits
#      within grace + 1 s, the run is handed back (ready, not failed), the
#      journal has no entry for the cut call, neither the tool nor its child
#      is left running; a second worker resumes the run and finishes it
#      with the right output; the key file holds the same key twice (once
#      cut, once done: at-least-once for a host tool in flight);
#   b. a model call streaming slowly from the loopback provider: cut at the
#      end of the grace period the same way, resumed elsewhere; the provider
#      was asked twice with the same Idempotency-Key and wrote exactly one
#      answer to its end (one billed), and the journal records one model call.
#   drain-cut.sh TACTUS FAKE_OPENAI_PY
fake=${2:?usage: drain-cut.sh TACTUS FAKE_OPENAI_PY}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
grace_s=1
bound_ms=$(((grace_s + 1) * 1000))
source "$here/../integration/fake_openai.sh"
unset OPENAI_API_KEY OPENAI_BASE_URL
start_fake_openai "$fake" "$work" --slow-delay 0.3 || fail "the loopback provider did not start: $(cat "$work/srv.out")"
pids=()
cleanup_workers() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    exec 9>&- # the provider ends with its input
    wait 2>/dev/null
    rm -f "$work/hold"
    cleanup
}
trap cleanup_workers EXIT
mkdir -p "$work/proc/.tactus"
cp "$here/procs/cut-tool.tac" "$here/procs/cut-model.tac" "$work/proc/"
marker=$work/tool-child-marker
cat >"$work/proc/.tactus/config.yml" <<YML
sandbox:
  enabled: false
providers:
  fake:
    base_url: http://127.0.0.1:$port/v1
host_tools:
  slow_key:
    command: ["$python_exe", "$here/slow_key.py", "$work/keys.txt", "$work/hold", "$marker"]
    timeout: 60
YML
trust_proc
cd "$work/proc" || fail "cd"

# worker LOG ARGS...: a worker in the background, its pid in $wpid.
worker() {
    local log=$1
    shift
    "$tactus" worker --no-sandbox --poll 100 --store "$store" "$@" >>"$work/$log" 2>&1 </dev/null &
    wpid=$!
    pids+=("$wpid")
}
# state RUN: the run's queue state.
state() {
    "$tactus" queue --json --store "$store" | python3 -c 'import json, sys
print(next((q["state"] for q in json.load(sys.stdin) if q["run_id"] == sys.argv[1]), ""))' "$1"
}
# wait_for SECONDS COMMAND...: until the command succeeds (0.05 s steps).
wait_for() {
    local n=$(($1 * 20))
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
    return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# term_and_time PID LOG: SIGTERM, waits for the exit; sets took_ms, fails
# unless it exited 0 within grace + 1 s.
term_and_time() {
    local t0 status
    t0=$(now_ms)
    kill -TERM "$1"
    wait "$1"
    status=$?
    took_ms=$(($(now_ms) - t0))
    [ "$status" -eq 0 ] || fail "the worker exited $status after SIGTERM"
    [ "$took_ms" -le "$bound_ms" ] ||
        fail "the worker took $took_ms ms to exit after SIGTERM with --grace $grace_s (bound: $bound_ms ms): $(tail -n 5 "$work/$2")"
}
# handed_back RUN LOG: the worker said so; the run is claimable and not failed.
handed_back() {
    grep -q "run $1 (epoch 1): handed back" "$work/$2" || fail "run $1 was not handed back: $(tail -n 5 "$work/$2")"
    [ "$(state "$1")" = ready ] || fail "run $1 after the hand-back: queue state '$(state "$1")', expected ready"
    t show "$1" --json
    expect_rc 0 "show $1"
    check "d['status'] != 'failed'" "run $1 was marked failed by the cut"
}
# resumed RUN LOG KIND OUTPUT: a second worker finishes the run (epoch 2),
# with OUTPUT, its journal holding the once-cut effect of KIND once.
resumed() {
    worker "$2" --exit-when-idle
    wait "$wpid" || fail "the second worker: exit $?"
    grep -q "run $1 (epoch 2): done" "$work/$2" || fail "the second worker did not finish run $1: $(tail -n 5 "$work/$2")"
    t show "$1" --json
    check "d['status'] == 'completed'" "the resumed run did not complete"
    check "d['output'] == '$4'" "the resumed run's output"
    check "d['seals'] == 'ok'" "the resumed run's journal: its seals do not hold (a half-written row?)"
    [ "$(effects "$1" "$3")" = 1 ] || fail "the resumed run's journal does not hold its $3 effect once"
}
# effects RUN KIND: how many effects of KIND the journal holds for the run.
effects() {
    t show "$1" --json
    jv "len([e for e in d.get('effects', []) if e.get('kind') == '$2'])"
}

# a. A host tool cut at the end of the grace period.
touch "$work/hold"
run=$("$tactus" submit "$work/proc/cut-tool.tac" --input name=a --store "$store" 2>"$work/err") || fail "submit: $(cat "$work/err")"
worker a1.log --grace "$grace_s"
w=$wpid
wait_for 30 running_with_arg "$marker.child" || fail "the tool's child never started: $(tail -n 5 "$work/a1.log")"
[ "$(wc -l <"$work/keys.txt")" -eq 1 ] || fail "the tool did not append its key once"
key=$(cat "$work/keys.txt")
[ "${key%.*}" = "$run" ] || fail "the tool's key '$key' is not of run $run"
term_and_time "$w" a1.log
tool_ms=$took_ms
handed_back "$run" a1.log
[ "$(effects "$run" tool)" = 0 ] || fail "the journal holds an entry for the cut tool call: $(cat "$work/out")"
running_with_arg "$marker" && fail "the cut host tool is still running"
running_with_arg "$marker.child" && fail "the cut host tool's child process is still running (an orphan)"
rm -f "$work/hold"
resumed "$run" a2.log tool "a $key"
[ "$(sort -u "$work/keys.txt")" = "$key" ] && [ "$(wc -l <"$work/keys.txt")" -eq 2 ] ||
    fail "the key file should hold $key twice (cut, then done): $(cat "$work/keys.txt")"
note "a. host tool: the worker exited $tool_ms ms after SIGTERM (--grace $grace_s), the tool and its child killed, nothing journaled; resumed at epoch 2, key $key twice (at-least-once)"

# b. A model call cut at the end of the grace period.
run=$("$tactus" submit "$work/proc/cut-model.tac" --store "$store" 2>"$work/err") || fail "submit: $(cat "$work/err")"
worker b1.log --grace "$grace_s"
w=$wpid
asked() { grep -c "\"idempotency-key\": \"$run\." "$work/requests.jsonl" 2>/dev/null; }
asked_once() { [ "$(asked)" = 1 ]; }
wait_for 30 asked_once || fail "the model call never reached the provider: $(tail -n 5 "$work/b1.log")"
term_and_time "$w" b1.log
model_ms=$took_ms
handed_back "$run" b1.log
[ "$(effects "$run" llm)" = 0 ] || fail "the journal holds an entry for the cut model call: $(cat "$work/out")"
resumed "$run" b2.log llm "one two three four five six seven eight nine ten eleven twelve"
[ "$(asked)" = 2 ] || fail "the provider was asked $(asked) times for run $run, expected 2 (cut, then done)"
keys=$(grep "\"idempotency-key\": \"$run\." "$work/requests.jsonl" | python3 -c 'import json, sys
print(" ".join(sorted({json.loads(l)["headers"]["idempotency-key"] for l in sys.stdin})))')
[ "$(echo "$keys" | wc -w)" = 1 ] || fail "the model call was asked again under another key: $keys"
billed=$(python3 -c 'import json, sys, urllib.request
done = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_completed" % sys.argv[1]))
print(sum(1 for c in done if c["idempotency_key"] == sys.argv[2]))' "$port" "$keys")
[ "$billed" = 1 ] || fail "the provider wrote $billed complete answers for $keys, expected 1 (the cut one is not billed)"
note "b. model call: the worker exited $model_ms ms after SIGTERM (--grace $grace_s), nothing journaled; resumed at epoch 2, asked twice under $keys, one complete answer billed"
note "ok"
