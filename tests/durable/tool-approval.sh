#!/usr/bin/env bash
# A host tool with requires_approval: the run suspends before the call; the
# approval is bound to the tool and its arguments; approved, the tool runs
# once; denied, the procedure sees ToolDenied and the tool never runs.
#   tool-approval.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "durable/tool-approval: FAIL: $*" >&2; exit 1; }
export TACTUS_STORE=$work/store/j.db
export XDG_CONFIG_HOME=$work/xdg # trusted.json of this test only
mkdir -p "$work/p/.tactus"
cat > "$work/append.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
open(sys.argv[1], "a").write(d["args"]["line"] + "\n")
print(json.dumps({"ok": True}))
PY
cat > "$work/p/.tactus/config.yml" <<YML
host_tools:
  deploy:
    command: ["python3", "$work/append.py", "$work/deployed.txt"]
    requires_approval: true
YML
"$tactus" trust "$work/p" >/dev/null || { echo "tool-approval: tactus trust failed" >&2; exit 1; }
cat > "$work/p/p.tac" <<'TAC'
Procedure { function()
    local ok, err = pcall(Host.call, "host.deploy", {line = "v2 to production"})
    return {deployed = ok, err = ok and "" or tostring(err)}
end }
TAC
j() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$1" "$2"; }
for answer in approve deny; do
    rm -f "$work/deployed.txt"
    out=$("$tactus" run --no-sandbox --json "$work/p/p.tac"); code=$?
    [ $code -eq 3 ] || fail "$answer: exit $code (expected 3, waiting): $out"
    [ ! -e "$work/deployed.txt" ] || fail "$answer: the tool ran before approval"
    run=$(j "$out" 'd["run_id"]')
    [ "$(j "$out" 'd["pending"][0]["kind"]')" = tool_approval ] || fail "$answer: pending: $out"
    j "$out" 'd["pending"][0]["message"]' | grep -q 'Allow host tool host.deploy with {"line":"v2 to production"}' || fail "message: $out"
    req=$(j "$out" 'd["pending"][0]["request_id"]')
    if [ $answer = approve ]; then "$tactus" approve "$run" "$req" >/dev/null; else "$tactus" approve --deny "$run" "$req" >/dev/null; fi
    code=$?
    [ $code -eq 0 ] || fail "$answer: tactus approve exit $code (expected 0)"
    out=$("$tactus" resume --no-sandbox --json "$run"); code=$?
    [ $code -eq 0 ] || fail "$answer: resume exit $code: $out"
    if [ $answer = approve ]; then
        [ "$(j "$out" 'd["output"]["deployed"]')" = True ] || fail "approve: $out"
        [ "$(cat "$work/deployed.txt")" = "v2 to production" ] || fail "approve: the tool did not run exactly once"
    else
        [ "$(j "$out" 'd["output"]["deployed"]')" = False ] || fail "deny: $out"
        j "$out" 'd["output"]["err"]' | grep -q "ToolDenied" || fail "deny: $out"
        [ ! -e "$work/deployed.txt" ] || fail "deny: the tool ran"
    fi
done
echo "durable/tool-approval: ok (suspends before the call; approved runs once; denied never runs)"
