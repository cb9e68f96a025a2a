#!/usr/bin/env bash
# Durable test 4: Step.checkpoint(fn) runs fn exactly once across a
# suspend/resume. Counted two ways: a Log line that fn emits (log lines are
# not journaled, so a second run of fn would print it again), and the lines
# the append tool wrote.
#   checkpoint.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc checkpoint
marker=CHECKPOINT-FUNCTION-RAN

t run --no-sandbox "$proc"
expect_rc 3 "tactus run (suspending)"
[ "$(grep -c "$marker" "$work/err")" -eq 1 ] || fail "the checkpointed function did not run exactly once in the first run"
run=$(grep -o 'run-[0-9a-f]*' "$work/err" | head -1)
[ -n "$run" ] || fail "no run id on stderr"
[ "$(lines_of "$run")" = "inside the checkpoint" ] || fail "append file after the first run: $(lines_of "$run")"

t show "$run" --json
# 0: checkpoint, 1: append (inside), 2: clock (inside); the request (3) is pending.
check '[e["request"]["method"] for e in d["effects"]] == ["checkpoint", "tool.call", "clock.now"]' \
    "show: the checkpoint and the effects of its function"
check 'd["effects"][0]["result"]["data"]["cached"] is True and d["effects"][0]["result"]["data"]["result"]["quote"] == 42.5' \
    "show: the checkpoint's result is recorded"
check 'd["effects"][0]["result"]["data"]["end_position"] == 3' "show: where the function ended"
cp "$work/out" "$work/show1.json"
t approvals --json
check "[r['request_id'] for r in d] == ['$run.3'] and d[0]['message'] == 'Use quote 42.5?'" "the pending request"

# A resume while it is still pending: waits again, fn does not run.
t resume "$run" --no-sandbox
expect_rc 3 "resume with no answer"
! grep -q "$marker" "$work/err" || fail "the checkpointed function ran again on a resume with no answer"

t approve "$run" 3
expect_rc 0 "approve"
t resume "$run" --no-sandbox --json --verbose
expect_rc 0 "resume after the answer"
! grep -q "$marker" "$work/err" || fail "the checkpointed function ran again on resume"
check 'd["status"] == "completed" and d["output"] == {"quote": 42.5, "appended": 2, "approved": True}' \
    "resume --json output" "$work/out"
[ "$(lines_of "$run" | tr '\n' '|')" = "inside the checkpoint|after the approval|" ] ||
    fail "append file: $(lines_of "$run" | tr '\n' '|')"

t show "$run" --json
check '[e["request"]["method"] for e in d["effects"]] == ["checkpoint", "tool.call", "clock.now", "human.request", "tool.call"]' \
    "show: the positions of the function were skipped on resume, not re-recorded"
check 'd["effects"][:3] == o["effects"]' "show: the first three effects were not rewritten" "$work/out" "$work/show1.json"
check 'd["effects"][4]["request"]["params"]["args"] == {"text": "after the approval"}' "show: the last append"
note "ok (run $run)"
