#!/usr/bin/env bash
# Durable test 1: suspend -> approve -> resume takes the approved path.
# Checks the --json document of every step, the exit codes (3 then 0) and
# the run's status in `tactus runs --status` before and after.
#   approve.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc gate

# 1. The run suspends at the approval: exit 3, status waiting, one pending request.
t run --json --no-sandbox "$proc"
expect_rc 3 "tactus run (suspending)"
check 'd["status"] == "waiting" and d["output"] is None and d["error"] is None' "run --json: waiting"
run=$(jv 'd["run_id"]')
[[ $run == run-* ]] || fail "run id '$run'"
check 'len(d["pending"]) == 1' "run --json: one pending request"
check "d['pending'][0]['request_id'] == '$run.1' and d['pending'][0]['run_id'] == '$run'" \
    "run --json: the request id is RUN.POSITION (position 1)"
check 'd["pending"][0]["kind"] == "approve" and d["pending"][0]["message"] == "Ship release 1.2?"' \
    "run --json: kind and message of the pending request"
check 'd["pending"][0]["default"] is False and d["pending"][0]["deadline_ms"] > 0' \
    "run --json: default and deadline of the pending request"
cp "$work/out" "$work/run.json"

# Without --json: the request and how to answer it, on stderr.
t run --no-sandbox "$proc"
expect_rc 3 "tactus run (text)"
contains "waiting for a person" "$work/err" "text output"
contains "approve: Ship release 1.2?" "$work/err" "text output"
contains "tactus approve" "$work/err" "text output"
contains "tactus resume" "$work/err" "text output"
other=$(grep -o 'run-[0-9a-f]*' "$work/err" | head -1)

# 2. Listed as waiting, not as completed; its request is pending.
t runs --status waiting --json
expect_rc 0 "runs --status waiting"
check "'$run' in [r['run_id'] for r in d] and all(r['status'] == 'waiting' for r in d)" \
    "runs --status waiting lists the run"
check "[r for r in d if r['run_id'] == '$run'][0]['procedure'] == '$proc'" "runs: the procedure path"
t runs --status completed --json
expect_rc 0 "runs --status completed"
check "'$run' not in [r['run_id'] for r in d]" "runs --status completed does not list a waiting run"
t runs --status bogus
expect_rc 2 "runs --status bogus"
t approvals --json
expect_rc 0 "approvals --json"
check "'$run.1' in [r['request_id'] for r in d]" "approvals lists the request"
t approvals
contains "$run.1" "$work/out" "approvals (text)"
t show "$run" --json
expect_rc 0 "show --json (waiting)"
check "d['status'] == 'waiting' and d['run_id'] == '$run' and d['tenant'] == 'default'" "show: waiting"
check '[e["position"] for e in d["effects"]] == [0] and d["effects"][0]["request"]["method"] == "tool.call"' \
    "show: only the ping is recorded while waiting"

# 3. Approve by position, as a named person.
t approve "$run" 1 --as alice --json
expect_rc 0 "approve --json"
check "d == {'request_id': '$run.1', 'run_id': '$run', 'answer': True, 'by': 'alice'}" "approve --json document"
t approvals --json
check "'$run.1' not in [r['request_id'] for r in d]" "an answered request is no longer pending"
t approve "$run" 1
expect_rc 2 "answering an answered request again (refused: answered already)"
# The run is still waiting until it is resumed.
t runs --status waiting --json
check "'$run' in [r['run_id'] for r in d]" "still waiting before the resume"

# 4. Resume: completes on the approved path, exit 0.
t resume "$run" --no-sandbox --json
expect_rc 0 "resume --json"
check "d == {'run_id': '$run', 'status': 'completed', 'output': {'path': 'approved', 'approved': True}, 'error': None, 'pending': [], 'usage': {'calls': 0, 'tokens': 0, 'prompt_tokens': 0, 'completion_tokens': 0, 'cost_usd': 0}}" \
    "resume --json document"

# 5. Listed as completed, no longer as waiting.
t runs --status completed --json
check "'$run' in [r['run_id'] for r in d]" "runs --status completed lists the run"
t runs --status waiting --json
check "'$run' not in [r['run_id'] for r in d] and '$other' in [r['run_id'] for r in d]" \
    "runs --status waiting: only the other (still waiting) run"
t show "$run" --json
expect_rc 0 "show --json (completed)"
check "d['status'] == 'completed' and d['output'] == {'path': 'approved', 'approved': True}" "show: completed"
check '[[e["position"], e["request"]["method"]] for e in d["effects"]] == [[0, "tool.call"], [1, "human.request"], [2, "tool.call"]]' \
    "show: three effects in order"
check 'd["effects"][1]["result"]["data"] == {"value": True, "timed_out": False}' "show: the answer"
check 'd["effects"][2]["request"]["params"]["args"] == {"step": "approved"}' "show: the approved branch ran"
t show "$run"
expect_rc 0 "show (text)"
contains "run $run (completed)" "$work/out" "show (text)"

# A completed run is not resumed again.
t resume "$run" --no-sandbox --json
expect_rc 2 "resume of a completed run"
contains "has completed" "$work/err" "resume of a completed run"
note "ok (run $run)"
