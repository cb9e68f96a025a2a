#!/usr/bin/env bash
# Durable test 3: a request with `timeout = 1` and `default = false` that
# nobody answers: a resume after the deadline applies the default and
# journals it as timed out (the effect result has "timed_out": true).
#   timeout.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc timeout

t run --json --no-sandbox "$proc"
expect_rc 3 "tactus run (suspending)"
run=$(jv 'd["run_id"]')
check "d['pending'][0]['request_id'] == '$run.0' and d['pending'][0]['default'] is False" \
    "pending request with its default"
deadline=$(jv 'd["pending"][0]["deadline_ms"]')
now=$(date +%s%3N)
# The deadline is about one second from the request.
[ $((deadline - now)) -le 1100 ] || fail "deadline $deadline is more than 1.1 s after $now"

# A resume before the deadline (if we are still before it) keeps waiting.
if [ $(($(date +%s%3N) + 300)) -lt "$deadline" ]; then
    t resume "$run" --no-sandbox --json
    expect_rc 3 "resume before the deadline"
    check 'd["status"] == "waiting"' "still waiting before the deadline"
fi

# Past the deadline, without an answer.
while [ "$(date +%s%3N)" -le $((deadline + 200)) ]; do sleep 0.1; done
t approvals --json
check "'$run.0' in [r['request_id'] for r in d]" "the request is still listed before the resume"
t resume "$run" --no-sandbox --json
expect_rc 0 "resume after the deadline"
check "d['status'] == 'completed' and d['output'] == {'value': False, 'timed_out': True, 'after': 'false'}" \
    "the default applied, and the procedure saw timed_out"

t show "$run" --json
e0='d["effects"][0]'
check "${e0}['request']['method'] == 'human.request' and ${e0}['result']['data'] == {'value': False, 'timed_out': True}" \
    "show: the effect result has timed_out true and the default value"
check "${e0}['request']['params']['timeout'] == 1 and ${e0}['request']['params']['default'] is False" \
    "show: the request as made"
t approvals --json
check "'$run.0' not in [r['request_id'] for r in d]" "a timed-out request is no longer pending"
t approve "$run" 0
expect_rc 2 "answering a timed-out request (refused: timed_out already)"
contains "timed_out" "$work/err" "approve of a timed-out request names its status"
note "ok (run $run)"
