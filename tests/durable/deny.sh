#!/usr/bin/env bash
# Durable test 2: `tactus approve --deny` (by full request id) takes the
# other branch on resume.
#   deny.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc gate

t run --json --no-sandbox "$proc" --input release=2.0
expect_rc 3 "tactus run (suspending)"
run=$(jv 'd["run_id"]')
req=$(jv 'd["pending"][0]["request_id"]')
[ "$req" = "$run.1" ] || fail "request id '$req', expected $run.1"
check 'd["pending"][0]["message"] == "Ship release 2.0?"' "the input reached the request"

# A request of another run is refused.
t approve run-0000000000000000 "$req" --deny
expect_rc 2 "approve with a request of another run"
# A request that does not exist.
t approve "$run" 7 --deny
expect_rc 2 "approve of a position with no request"

t approve "$run" "$req" --deny --as bob --json
expect_rc 0 "approve --deny --json"
check "d == {'request_id': '$req', 'run_id': '$run', 'answer': False, 'by': 'bob'}" "approve --deny document"

t resume "$run" --no-sandbox --json
expect_rc 0 "resume after a denial"
check "d['status'] == 'completed' and d['output'] == {'path': 'denied', 'approved': False}" \
    "resume --json: the denied branch"
t show "$run" --json
check 'd["inputs"] == {"release": "2.0"}' "show: the recorded inputs"
check 'd["effects"][1]["result"]["data"] == {"value": False, "timed_out": False}' "show: the denial"
check 'd["effects"][2]["request"]["params"]["args"] == {"step": "denied"} and len(d["effects"]) == 3' \
    "show: the denied branch ran, and only it"
t runs --status completed --json
check "'$run' in [r['run_id'] for r in d]" "runs --status completed lists the run"
note "ok (run $run)"
