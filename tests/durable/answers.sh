#!/usr/bin/env bash
# Who decided, and when (issue 17): `tactus approve --as NAME` (default: the
# OS user name, not "cli") is recorded with the time; `tactus show` (text and
# JSON) and `tactus audit` say who answered each request and when;
# `tactus approvals` marks a request whose timeout has passed; `show` cuts
# a long result at a character, with a visible … and the bytes left out.
#   answers.sh TACTUS
source "$(dirname "$0")/lib.sh" "$1"
setup_proc answers
me=$(id -un)

t run --json "$proc"
expect_rc 3 "first run: waits"
run=$(jv 'd["run_id"]')
t approvals --json
req1=$(jv 'd[0]["request_id"]')
t approve "$run" "$req1" --as alice
expect_rc 0 "approve --as alice"
t resume "$run" --json
expect_rc 3 "second run: waits for the name"
t approvals --json
req2=$(jv 'd[0]["request_id"]')
t approve "$run" "$req2" --value '"Tide"'
expect_rc 0 "approve (default answerer)"
t resume "$run" --json
expect_rc 3 "third run: waits for the late one"
sleep 1.5

# approvals: the late request's timeout has passed.
t approvals
expect_rc 0 "approvals"
contains "TIMED OUT" "$work/out" "approvals marks a request past its timeout"
contains "applies the default, false" "$work/out" "approvals says what the default will be"
t approvals --json
check 'd[0]["timed_out"] is True' "approvals --json: timed_out"

# show --json: who and when, for each request.
t show "$run" --json
expect_rc 0 "show --json"
check 'd["requests"][0]["answered_by"] == "alice"' "show --json: the first request was answered by alice"
check "d[\"requests\"][1][\"answered_by\"] == \"$me\"" "show --json: the second by the OS user ($me), not cli"
check 'all(r["answered_ms"] >= r["created_ms"] > 0 for r in d["requests"][:2])' "show --json: when"
check 'd["requests"][2]["status"] == "pending" and d["requests"][2]["timed_out"] is True' "show --json: the late one"

# show (text): the same, and the long result cut visibly.
t show "$run"
expect_rc 0 "show"
contains "answered true by alice at " "$work/out" "show: who approved, and when"
contains "answered \"Tide\" by $me at " "$work/out" "show: who answered the input"
contains "pending: TIMED OUT" "$work/out" "show: the late request"
grep -q "… ([0-9]* more bytes; tactus show --json has it all)" "$work/out" || fail "show: a cut result says so"
python3 - "$work/out" <<'PY' || fail "show: a result cut inside a character"
import sys
sys.stdin = None
open(sys.argv[1], encoding="utf-8", errors="strict").read()
PY

# audit: who answered each request.
t audit "$run"
expect_rc 0 "audit"
contains "human.answer" "$work/out" "audit lists the answers"
grep -qF "$req1" "$work/out" && grep "$req1" "$work/out" | grep -q "approved .*by alice" || fail "audit: alice's approval"
grep "$req2" "$work/out" | grep -q "answered .*by $me" || fail "audit: the input's answerer"
t audit "$run" --json
check "[r['by'] for r in d if r['method'] == 'human.answer'] == ['alice', '$me']" "audit --json: by"

# The late one: resumed after its timeout, the default applies; show says so.
t resume "$run" --json
expect_rc 0 "the last resume completes"
check 'd["output"]["late"] is False' "the default of the late request"
t show "$run"
contains "timed out: false by timeout" "$work/out" "show: the timed-out request"
note "ok"
