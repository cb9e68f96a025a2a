#!/usr/bin/env bash
# Durable test 6: tenancy. A run of tenant A is invisible to tenant B:
# `tactus runs`, `approvals`, `show` with --tenant B (or TACTUS_TENANT=B) do
# not see it, and `tactus approve --tenant B` / `resume --tenant B` fail and
# change nothing. Tenant A then answers and resumes it as usual.
#   tenancy.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc gate

t run --json --no-sandbox --tenant acme "$proc"
expect_rc 3 "tenant acme: run"
run=$(jv 'd["run_id"]')
# A run of tenant globex, so that B's lists are not simply empty.
t run --json --no-sandbox --tenant globex "$proc" --input release=9
expect_rc 3 "tenant globex: run"
brun=$(jv 'd["run_id"]')

# Tenant A sees its run and request.
t runs --tenant acme --json
check "[r['run_id'] for r in d] == ['$run']" "acme: runs lists its run only"
t approvals --tenant acme --json
check "[r['request_id'] for r in d] == ['$run.1']" "acme: approvals lists its request only"
t show "$run" --tenant acme --json
expect_rc 0 "acme: show"
check "d['tenant'] == 'acme'" "acme: show names the tenant"

# Tenant B sees none of it, by option and by environment.
for how in option env; do
    if [ $how = option ]; then B=(--tenant globex); else B=(); export TACTUS_TENANT=globex; fi
    t runs "${B[@]}" --json
    expect_rc 0 "globex ($how): runs"
    check "[r['run_id'] for r in d] == ['$brun']" "globex ($how): runs does not list acme's run"
    for s in waiting running completed failed; do
        t runs "${B[@]}" --status $s --json
        check "'$run' not in [r['run_id'] for r in d]" "globex ($how): runs --status $s"
    done
    t approvals "${B[@]}" --json
    check "[r['request_id'] for r in d] == ['$brun.1']" "globex ($how): approvals does not list acme's request"
    t show "$run" "${B[@]}" --json
    expect_rc 2 "globex ($how): show of acme's run"
    [ ! -s "$work/out" ] || fail "globex ($how): show printed something on stdout"
    contains "no run $run" "$work/err" "globex ($how): show"
    t approve "$run" 1 "${B[@]}"
    expect_rc 2 "globex ($how): approve of acme's request (refused: no such run)"
    t approve "$run" "$run.1" "${B[@]}" --deny --json
    expect_rc 2 "globex ($how): approve --deny of acme's request (refused: no such run)"
    [ ! -s "$work/out" ] || fail "globex ($how): approve printed a document"
    t resume "$run" "${B[@]}" --no-sandbox --json
    expect_rc 2 "globex ($how): resume of acme's run (refused: no such run)"
    unset TACTUS_TENANT
done
# The default tenant sees nothing of either.
t runs --json
check 'd == []' "default tenant: no runs"
t approvals --json
check 'd == []' "default tenant: no requests"

# Nothing changed for A: still pending, then answered by A.
t approvals --tenant acme --json
check "[r['request_id'] for r in d] == ['$run.1']" "acme: the request is still pending"
t show "$run" --tenant acme --json
check "d['status'] == 'waiting' and len(d['effects']) == 1" "acme: the run is untouched"
TACTUS_TENANT=acme "$tactus" approve "$run" 1 --store "$store" >"$work/out" 2>"$work/err"
rc=$?
expect_rc 0 "acme (env): approve"
t resume "$run" --tenant acme --no-sandbox --json
expect_rc 0 "acme: resume"
check "d['status'] == 'completed' and d['output'] == {'path': 'approved', 'approved': True}" "acme: completed"
t runs --tenant globex --status completed --json
check 'd == []' "globex: acme's completed run is not listed"
t approvals --tenant globex --json
check "[r['request_id'] for r in d] == ['$brun.1']" "globex: its own request is untouched"
note "ok (runs $run, $brun)"
