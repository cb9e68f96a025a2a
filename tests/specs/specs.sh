#!/usr/bin/env bash
# `tactus test` as a whole, through the real binary:
#   determinism  the same files give byte-identical JSON run after run, and
#                serially (-j 1) or in parallel (-j 2)
#   junit        the JUnit report is well-formed XML with the right counts
#   runs         --runs N reports success rate, consistency and flaky
#   examples     every example passes under --mock (no sandbox; the docker
#                label runs them in the sandbox)
#   specs.sh TACTUS CASE
set -u
tactus=$1 case=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "specs $case: $*" >&2; exit 1; }
# A private copy of the examples: 13-sandbox-safe writes a report beside
# itself, and tests running at the same time must not share that file.
cp -r "$root/examples" "$tmp/examples"
files=("$tmp/examples" "$here/steps.tac" "$here/scalar.tac" "$here/mocks.tac")

case $case in
determinism)
    for j in 1 2; do
        for k in a b; do
            NO_COLOR=1 "$tactus" test --mock --no-sandbox -j $j --format json "${files[@]}" \
                >"$tmp/j$j$k.json" 2>/dev/null
            [ $? = 1 ] || fail "expected exit 1 (steps.tac has a failing feature)"
        done
    done
    cmp "$tmp/j1a.json" "$tmp/j1b.json" || fail "two serial runs differ"
    cmp "$tmp/j1a.json" "$tmp/j2a.json" || fail "serial and parallel runs differ"
    cmp "$tmp/j2a.json" "$tmp/j2b.json" || fail "two parallel runs differ"
    n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["scenarios"])' "$tmp/j1a.json")
    echo "specs determinism: $n scenarios, 4 runs (-j 1 and -j 2) byte-identical"
    ;;
junit)
    NO_COLOR=1 "$tactus" test --mock --no-sandbox --format junit --output "$tmp/r.xml" "${files[@]}" 2>/dev/null
    [ $? = 1 ] || fail "expected exit 1"
    NO_COLOR=1 "$tactus" test --mock --no-sandbox --format json "${files[@]}" >"$tmp/r.json" 2>/dev/null
    python3 - "$tmp/r.xml" "$tmp/r.json" <<'PY' || fail "JUnit report does not match the JSON one"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
doc = json.load(open(sys.argv[2]))
assert root.tag == "testsuites", root.tag
cases = root.findall("testsuite/testcase")
assert int(root.get("tests")) == len(cases) == doc["summary"]["scenarios"], (root.get("tests"), len(cases))
assert int(root.get("failures")) == doc["summary"]["failed"] == len(root.findall("testsuite/testcase/failure"))
for f in root.findall("testsuite/testcase/failure"):
    assert f.get("message") and ":" in f.text, f.text
print("specs junit: %d testcases, %s failures, well-formed" % (len(cases), root.get("failures")))
PY
    ;;
runs)
    cp "$here/flaky.tac" "$tmp/"
    NO_COLOR=1 "$tactus" test --no-sandbox --runs 4 -j 1 --format json "$tmp/flaky.tac" >"$tmp/f.json" 2>/dev/null
    [ $? = 1 ] || fail "a flaky scenario must fail the command"
    python3 - "$tmp/f.json" <<'PY' || fail "wrong consistency figures"
import json, sys
sc = json.load(open(sys.argv[1]))["features"][0]["scenarios"][0]
k = sc["consistency"]
iv = k.pop("interval")
assert k == {"runs": 4, "passed": 2, "success_rate": 0.5, "consistency": 0.5, "flaky": True}, k
# The Wilson interval of 2/4 at 95%, computed independently
# (tests/unit/evstats_reference.py): 0.1500389891521495 to 0.8499610108478505.
assert iv["method"] == "wilson" and iv["confidence"] == 0.95, iv
assert abs(iv["low"] - 0.1500389891521495) < 1e-9 and abs(iv["high"] - 0.8499610108478505) < 1e-9, iv
PY
    NO_COLOR=1 "$tactus" test --mock --no-sandbox --runs 3 "$tmp/examples/01-hello.tac" >"$tmp/p.txt" 2>/dev/null \
        || fail "a steady scenario must pass every run"
    # 3/3: the Wilson interval at 95% is 43.85% to 100%.
    grep -q "Success rate: 100.0% (3/3; 95% interval 43.9%-100.0%)  Consistency: 100.0%" "$tmp/p.txt" || fail "no success rate line: $(cat "$tmp/p.txt")"
    echo "specs runs: flaky detected (2/4, consistency 0.5); steady 3/3"
    ;;
examples)
    NO_COLOR=1 "$tactus" test --mock --no-sandbox "$tmp/examples" >"$tmp/e.txt" 2>&1 || { cat "$tmp/e.txt"; fail "an example failed"; }
    tail -1 "$tmp/e.txt"
    ;;
examples-sandbox)
    # The container runs as the folder's owner, or nobody for a root-owned
    # folder: give the copy to nobody, as a user's own folder would be theirs.
    cp -r "$tmp/examples" "$tmp/ex"
    chown -R 65534:65534 "$tmp/ex"
    NO_COLOR=1 "$tactus" test --mock "$tmp/ex" >"$tmp/e.txt" 2>&1 || { cat "$tmp/e.txt"; fail "an example failed in the sandbox"; }
    tail -1 "$tmp/e.txt"
    ;;
*) fail "unknown case" ;;
esac
