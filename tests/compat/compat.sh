#!/usr/bin/env bash
# Files written for the original Tactus run here (issue #18,
# docs/compatibility.md). Each case runs the real binary:
#   legacy     the v0.10 files (tests/compat/legacy) check with TAC901
#              warnings only, and pass tactus test --mock
#   fix        tactus check --fix rewrites them to the current DSL: no
#              TAC901 left, every scenario has the same result as before
#   run        the README-style hello world, and its --fix rewrite, under
#              tactus run --no-sandbox against the loopback provider
#              (tests/integration/fake_openai.py): the same output
#   current    the current-DSL files (tests/compat/current) pass
#   failures   a procedure that raises: pretty, JSON and JUnit reports give
#              its message, .tac line and traceback
#   params     tactus test --param KEY=VALUE types and applies inputs
#   compat.sh TACTUS CASE
set -u
tactus=$1 case=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "compat $case: FAIL: $*" >&2; exit 1; }
export NO_COLOR=1
cp -r "$here/legacy" "$work/legacy"
cp -r "$here/current" "$work/current"

# The statuses of every scenario, one per line ("feature / scenario: status").
statuses() { # JSON report
    python3 -c '
import json, sys
for f in json.load(open(sys.argv[1]))["features"]:
    for s in f["scenarios"]:
        print("%s / %s: %s" % (f["name"], s["name"], s["status"]))' "$1"
}

# Starts the loopback provider; sets $port.
start_provider() {
    mkfifo "$work/srv.in"
    python3 "$here/../integration/fake_openai.py" < "$work/srv.in" > "$work/srv.out" 2>&1 &
    srv_pid=$!
    exec 9>"$work/srv.in"
    for _ in $(seq 1 50); do grep -q '^PORT ' "$work/srv.out" && break; sleep 0.1; done
    port=$(awk '/^PORT /{print $2; exit}' "$work/srv.out")
    [ -n "$port" ] || fail "the loopback provider did not start: $(cat "$work/srv.out")"
}

case $case in
legacy)
    "$tactus" check --format json "$work/legacy" > "$work/check.json" 2>/dev/null
    python3 - "$work/check.json" <<'PY' || fail "the v0.10 files must check with TAC901 (and one TAC602) warnings only"
import json, sys
d = json.load(open(sys.argv[1]))["diagnostics"]
bad = [x for x in d if x["severity"] == "error" or x["code"] not in ("TAC901", "TAC602")]
assert not bad, bad
assert sum(x["code"] == "TAC901" for x in d) >= 30, len(d)
print("compat legacy: %d TAC901 warnings, no error" % sum(x["code"] == "TAC901" for x in d))
PY
    "$tactus" test --mock --no-sandbox "$work/legacy" > "$work/out" 2>&1 || fail "a v0.10 scenario failed: $(cat "$work/out")"
    tail -1 "$work/out"
    ;;
fix)
    "$tactus" test --mock --no-sandbox --format json "$work/legacy" > "$work/before.json" 2>/dev/null \
        || fail "the v0.10 files do not pass before the rewrite"
    "$tactus" check --fix "$work/legacy" > "$work/fix.out" 2> "$work/fix.err"
    grep -q "rewritten to the current DSL" "$work/fix.err" || fail "nothing rewritten: $(cat "$work/fix.err")"
    grep -q "TAC901" "$work/fix.out" && fail "v0.10 forms remain after --fix: $(cat "$work/fix.out")"
    for f in "$work"/legacy/*.tac; do
        grep -qE '^(agent|procedure|tool|toolset|model|stages|step|specifications)\(' "$f" \
            && fail "$(basename "$f") still has a lowercase declaration"
    done
    "$tactus" check --fix "$work/legacy" > /dev/null 2> "$work/again.err"
    grep -q "rewritten" "$work/again.err" && fail "a second --fix changed the files again: $(cat "$work/again.err")"
    "$tactus" test --mock --no-sandbox --format json "$work/legacy" > "$work/after.json" 2>/dev/null \
        || fail "the rewritten files do not pass: $(cat "$work/after.json")"
    diff <(statuses "$work/before.json") <(statuses "$work/after.json") \
        || fail "the rewrite changed what the scenarios give"
    echo "compat fix: $(statuses "$work/after.json" | wc -l) scenarios give the same results after check --fix"
    ;;
run)
    start_provider
    proj=$work/proj
    mkdir -p "$proj/.tactus"
    printf 'providers:\n  openai:\n    base_url: http://127.0.0.1:%s/v1\n    max_retries: 0\n' "$port" \
        > "$proj/.tactus/config.yml"
    export XDG_CONFIG_HOME=$work/xdg OPENAI_API_KEY=sk-compat-test TACTUS_STORE=$work/store/journal.db
    "$tactus" trust "$proj" > /dev/null || fail "tactus trust"
    cp "$work/legacy/hello.tac" "$proj/hello.tac"
    "$tactus" run --no-sandbox --json --input name=Ada "$proj/hello.tac" > "$work/v010.json" 2> "$work/v010.err" \
        || fail "the v0.10 hello world did not run: $(cat "$work/v010.err")"
    cp "$proj/hello.tac" "$proj/hello-fixed.tac"
    "$tactus" check --fix "$proj/hello-fixed.tac" > /dev/null 2>&1
    grep -q '^greeter = Agent {' "$proj/hello-fixed.tac" || fail "--fix did not rewrite the agent"
    "$tactus" trust "$proj" > /dev/null || fail "tactus trust (again)"
    "$tactus" run --no-sandbox --json --input name=Ada "$proj/hello-fixed.tac" > "$work/fixed.json" 2> "$work/fixed.err" \
        || fail "the rewritten hello world did not run: $(cat "$work/fixed.err")"
    python3 - "$work/v010.json" "$work/fixed.json" "$work/srv.out" <<'PY' || fail "the two runs differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["status"] == b["status"] == "completed", (a, b)
assert a["output"] == b["output"] == {"completed": True, "greeting": "Hello, Ada!"}, (a["output"], b["output"])
print("compat run: v0.10 and rewritten hello world both completed with", json.dumps(a["output"], sort_keys=True))
PY
    # The provider saw v0.10's defaults: the done tool offered, the named model.
    python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/_requests" % sys.argv[1]).read().decode())' \
        "$port" > "$work/requests.json" || fail "cannot read the provider's requests"
    python3 - "$work/requests.json" <<'PY' || fail "the provider did not get what v0.10 sends"
import json, sys
reqs = [r["body"] for r in json.load(open(sys.argv[1])) if r.get("body")]
assert len(reqs) == 2, len(reqs)   # one turn per run: the done call ends the agent's loop
for body in reqs:
    assert body["model"] == "done-greeting", body["model"]
    assert [t["function"]["name"] for t in body["tools"]] == ["done"], body["tools"]
    assert "by name: Ada" in body["messages"][0]["content"], body["messages"][0]
PY
    ;;
current)
    "$tactus" check "$work/current" > "$work/check.out" 2>&1
    grep -E "error\[|TAC901" "$work/check.out" && fail "the current-DSL files have findings: $(cat "$work/check.out")"
    "$tactus" test --mock --no-sandbox "$work/current" --scenario "The agent asks through the toolset's tool" \
        > "$work/a.out" 2>&1 || fail "$(cat "$work/a.out")"
    "$tactus" test --mock --no-sandbox "$work/current/misc.tac" "$work/current/toolsets.tac" > "$work/out" 2>&1 \
        || fail "a current-DSL scenario failed: $(cat "$work/out")"
    # The undeclared key was dropped with a warning naming it and its line.
    "$tactus" run --mock --no-sandbox "$work/current/misc.tac" > "$work/run.json" 2> "$work/run.err" \
        || fail "misc.tac did not run: $(cat "$work/run.err")"
    grep -q '"debug"' "$work/run.json" && fail "the undeclared key was kept: $(cat "$work/run.json")"
    grep -q "^\[warn:45\] procedure 'main' returned key 'debug', which its output schema does not declare" \
        "$work/run.err" || fail "no warning about the dropped key: $(cat "$work/run.err")"
    [ -f "$work/current/reports/2026/q1.csv" ] || fail "csv.write did not create its folders"
    tail -1 "$work/out"
    ;;
failures)
    f=$work/current/failing.tac
    "$tactus" test --no-sandbox "$f" --scenario "The order has no lines" > "$work/pretty" 2>/dev/null && fail "the scenario passed"
    grep -q "Error: $f:4: attempt to index a nil value (field 'lines')" "$work/pretty" \
        || fail "pretty: no error line: $(cat "$work/pretty")"
    grep -q "$f:4: in upvalue 'parse'" "$work/pretty" || fail "pretty: no traceback: $(cat "$work/pretty")"
    grep -q "$f:11: in function <line 10>" "$work/pretty" || fail "pretty: traceback lacks the caller: $(cat "$work/pretty")"
    "$tactus" test --no-sandbox --format json "$f" > "$work/r.json" 2>/dev/null
    "$tactus" test --no-sandbox --format junit "$f" > "$work/r.xml" 2>/dev/null
    python3 - "$work/r.json" "$work/r.xml" "$f" <<'PY' || fail "the JSON or JUnit report lacks the error"
import json, sys, xml.etree.ElementTree as ET
doc, f = json.load(open(sys.argv[1])), sys.argv[3]
sc = {s["name"]: s for s in doc["features"][0]["scenarios"]}
e = sc["The order has no lines"]["error"]
assert e["message"] == "attempt to index a nil value (field 'lines')" and e["file"] == f and e["line"] == 4, e
assert e["traceback"].split("\n") == [f + ":4: in upvalue 'parse'", f + ":11: in function <line 10>"], e
assert sc["Failing is expected here"]["status"] == "passed" and "error" not in sc["Failing is expected here"]
fails = ET.parse(sys.argv[2]).getroot().findall("testsuite/testcase/failure")
assert len(fails) == 2, len(fails)
first = fails[0]
assert first.get("type") == "ProcedureError", first.attrib
assert first.get("message") == f + ":4: attempt to index a nil value (field 'lines')", first.get("message")
assert (f + ":4: in upvalue 'parse'") in first.text and "noticed by " + f + ":20:10" in first.text, first.text
print("compat failures: message, .tac line and traceback in pretty, JSON and JUnit")
PY
    ;;
params)
    f=$work/current/failing.tac
    "$tactus" test --no-sandbox --param who=Bo "$f" --scenario "Inputs from --param" > "$work/out" 2>&1 \
        || fail "--param who=Bo was not applied: $(cat "$work/out")"
    "$tactus" test --no-sandbox --param whom=Bo "$f" > "$work/out" 2>&1 && fail "an unknown --param was accepted"
    grep -q "failing.tac: unknown input 'whom'; the procedure declares: who" "$work/out" \
        || fail "no message for an unknown --param: $(cat "$work/out")"
    "$tactus" test --no-sandbox --param who "$f" > "$work/out" 2>&1 && fail "--param without = was accepted"
    grep -q -- "--param takes KEY=VALUE, not 'who'" "$work/out" || fail "no message for --param who: $(cat "$work/out")"
    echo "compat params: --param typed, applied, and refused when unknown or malformed"
    ;;
*)
    fail "unknown case"
    ;;
esac
