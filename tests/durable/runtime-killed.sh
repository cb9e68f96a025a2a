#!/usr/bin/env bash
# Durable test: the runtime dies (SIGKILL) while the host performs one of
# its effects (a slow host tool). The host must record the effect, then
# report the failed run like any other: exit 1, one --json document with
# status "failed" naming the signal, and the run listed as failed; a resume
# then completes without performing the effect again.
#   runtime-killed.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc slow-tool

"$tactus" run --json --no-sandbox "$proc" --store "$store" >"$work/out" 2>"$work/err" </dev/null &
pid=$!
rpid=
for _ in $(seq 100); do
    rpid=$(child_named $pid tactus-runtime) && child_named $pid python3 >/dev/null && break
    sleep 0.02
done
[ -n "$rpid" ] || fail "no tactus-runtime child found"
kill -KILL "$rpid"
{ wait $pid; } 2>/dev/null
host_rc=$?
cp "$work/out" "$work/run.json"
run=$("$tactus" runs --json --store "$store" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
[ "$(lines_of "$run")" = slow ] || fail "the slow tool did not complete its effect"
t show "$run" --json
check 'len(d["effects"]) == 1 and d["effects"][0]["result"]["data"]["result"]["text"] == "slow"' \
    "the effect the host performed is recorded"
[ "$host_rc" -eq 1 ] || fail "tactus run exited $host_rc after its runtime was killed, expected 1 (141 is SIGPIPE: the host wrote to the dead runtime's pipe)"
t show "$run" --json
check 'd["status"] == "failed"' "the run is recorded as failed"
check 'd["status"] == "failed" and "signal 9" in d["error"]["message"]' \
    "the --json document reports the killed runtime" "$work/run.json"
t resume "$run" --no-sandbox --json
expect_rc 0 "resume"
[ "$(lines_of "$run" | tr '\n' ' ')" = "slow after " ] || fail "lines after the resume: $(lines_of "$run")"
note "ok (run $run)"
