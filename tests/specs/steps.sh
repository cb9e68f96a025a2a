#!/usr/bin/env bash
# Every built-in step of `tactus test`, through the real binary: each one
# passes somewhere and fails somewhere (steps.tac, scalar.tac), and each
# failing scenario fails exactly at its last step, with the earlier steps
# passed. The step library is read from docs/specifications.md, so a step
# added there without a test here fails this test.
#   steps.sh TACTUS
set -u
tactus=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
NO_COLOR=1 "$tactus" test --mock --no-sandbox --format json "$here/steps.tac" "$here/scalar.tac" \
    >"$out" 2>/dev/null
code=$?
if [ "$code" != 1 ]; then
    echo "steps: expected exit 1 (the failing feature fails), got $code" >&2
    exit 1
fi
python3 - "$out" "$here/../../docs/specifications.md" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
library = re.findall(r"^\| (\d+) \| `(.+?)` \|", open(sys.argv[2]).read(), re.M)
library = {int(n): t.replace("\\|", "|") for n, t in library}
passed, failed, shaped, problems = set(), set(), set(), []
similar = {"passed": set(), "failed": set()}
for feature in doc["features"]:
    for sc in feature["scenarios"]:
        steps = sc["steps"]
        expect_fail = feature["name"].startswith("Every built-in step fails") or sc["name"].startswith("fails ")
        for i, st in enumerate(steps):
            if st["status"] == "passed":
                passed.add(st["step"])
                if "similar to" in st["text"]:
                    similar["passed"].add(("%" in st["text"], st["text"].split()[1]))
            elif st["status"] == "failed":
                failed.add(st["step"])
                if "similar to" in st["text"]:
                    similar["failed"].add(("%" in st["text"], st["text"].split()[1]))
        statuses = [s["status"] for s in steps]
        if expect_fail and sc["status"] == "failed":
            shaped.update(s["step"] for s in steps[:-1] if s["status"] == "passed")
        if expect_fail:
            if sc["status"] != "failed" or statuses[-1] != "failed" or any(s != "passed" for s in statuses[:-1]):
                problems.append("%s: expected to fail at its last step, got %s" % (sc["name"], statuses))
        elif sc["status"] != "passed":
            problems.append("%s: expected to pass, got %s" % (sc["name"], [(s["text"], s.get("error")) for s in steps if s["status"] != "passed"]))
# 18 is a no-op and 31/41 only start the run: they cannot fail.
# 42-45 are matched by 7 and 14 first (registration order) and judged as
# similarity steps there: covered by the "similar to" texts below.
cannot_fail = {18, 31, 41}
# Setup steps fail only on malformed values; their failing test is a
# scenario they shape that then fails where the setup shows ("takes effect").
setup = {6, 28, 29, 30, 32, 33, 34, 35} | set(range(46, 57))
shadowed = {42, 43, 44, 45}
for n, t in sorted(library.items()):
    if n in shadowed:
        continue
    if t not in passed:
        problems.append("step %d '%s' never passes" % (n, t))
    if n in setup and t not in failed and t not in shaped:
        problems.append("step %d '%s' never shapes a failing scenario" % (n, t))
    elif n not in setup and n not in cannot_fail and t not in failed:
        problems.append("step %d '%s' never fails" % (n, t))
for kind in ("passed", "failed"):
    for form in [(False, "output"), (True, "output"), (False, "state"), (True, "state")]:
        if form not in similar[kind]:
            problems.append("no %s 'the %s ... similar to'%s step" % (kind, form[1], " with %" if form[0] else ""))
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print("steps: %d built-in steps, each passing and failing (%d scenarios)" % (len(library), sum(len(f["scenarios"]) for f in doc["features"])))
PY
