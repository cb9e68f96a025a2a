#!/usr/bin/env bash
# A runtime taken over asks for a tool approval of its own making: a
# "tool_approval" request showing a person "the exact call that would run"
# (host.deploy with arguments of its choosing) for a tool the procedure was
# never granted. Only the host makes tool approvals (from the tool's
# requires_approval): the request is refused, nothing is recorded, no
# person is asked. Run with tactus's --no-sandbox and $TACTUS_RUNTIME
# pointing at the hostile runtime (tests/durable/hostile/).
#   forged-kind.sh TACTUS
set -u
tactus=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "durable/forged-kind: FAIL: $*" >&2; cat "$work/err" >&2 2>/dev/null; exit 1; }
export TACTUS_STORE=$work/store/j.db XDG_CONFIG_HOME=$work/xdg NO_COLOR=1
mkdir -p "$work/p"
echo 'Procedure { function() return 1 end }' >"$work/p/p.tac"
TACTUS_RUNTIME=$here/hostile/forged-tool-approval.py "$tactus" run --no-sandbox --json "$work/p/p.tac" \
    >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1 (failed)"
grep -q "InvalidRequest: a human request of kind 'tool_approval' is not one the DSL asks" "$work/out" "$work/err" ||
    fail "the refusal is not the run's error: $(cat "$work/out")"
"$tactus" approvals --json >"$work/pending" 2>"$work/err" || fail "tactus approvals"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d == [] or d.get("approvals", d) == [] else 1)' \
    "$work/pending" || fail "a request was recorded: $(cat "$work/pending")"
echo "durable/forged-kind: ok (refused, nothing recorded)"
