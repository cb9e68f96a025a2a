#!/usr/bin/env bash
# `tactus eval` through the real binary:
#   kinds     every evaluator kind passes on the good evaluation and fails on
#             the bad one (evals.tac); thresholds decide the exit status
#   datasets  dataset files in .jsonl, .json and .csv, relative to the file
#   sandbox   the examples' evaluations in the Docker sandbox (the default)
#   evals.sh TACTUS CASE
set -u
tactus=$1 case=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "evals $case: $*" >&2; exit 1; }
case $case in
kinds)
    NO_COLOR=1 "$tactus" eval --mock --no-sandbox --format json "$here/evals.tac" >"$tmp/e.json" 2>/dev/null
    [ $? = 1 ] || fail "expected exit 1 (the bad evaluation misses its threshold)"
    python3 - "$tmp/e.json" <<'PY' || fail "wrong verdicts"
import json, sys
good, bad = json.load(open(sys.argv[1]))["evaluations"]
kinds = {e["name"].split("(")[0] for e in good["evaluators"]}
assert len(kinds) == 14, kinds
assert [c["name"] for c in good["cases"]] == ["jsonl_cat", "jsonl_cat_again", "inline_cat"], good["cases"]
assert all(e["passed"] == e["total"] == 6 for e in good["evaluators"]), good["evaluators"]
assert good["passed"] and all(t["met"] for t in good["thresholds"]), good["thresholds"]
assert {e["name"].split("(")[0] for e in bad["evaluators"]} == kinds - {"equals_expected"} | {"equals_expected"}
assert all(e["passed"] == 0 and e["total"] == 1 for e in bad["evaluators"]), bad["evaluators"]
assert not bad["passed"] and bad["thresholds"][0] == {"name": "min_success_rate", "limit": 0.5, "value": 0, "met": False}
print("evals kinds: %d evaluator kinds, each passing and failing" % len(kinds))
PY
    ;;
datasets)
    NO_COLOR=1 "$tactus" eval --no-sandbox --format json "$here/datasets.tac" >"$tmp/d.json" 2>/dev/null \
        || fail "the dataset evaluations must pass"
    python3 - "$tmp/d.json" <<'PY' || fail "wrong cases"
import json, sys
d = json.load(open(sys.argv[1]))
names = [[c["name"] for c in e["cases"]] for e in d["evaluations"]]
assert names == [["json_one_two", "json_default_b"], ["csv_quoted", "csv_negative"]], names
print("evals datasets: .json and .csv cases loaded and passing (.jsonl: kinds)")
PY
    ;;
sandbox)
    cp -r "$root/examples" "$tmp/ex"
    chown -R 65534:65534 "$tmp/ex"
    NO_COLOR=1 "$tactus" eval --mock "$tmp/ex" >"$tmp/s.txt" 2>&1 || { cat "$tmp/s.txt"; fail "an evaluation failed in the sandbox"; }
    grep -c "✓ min_success_rate" "$tmp/s.txt" | grep -qx 3 || fail "expected 3 evaluations: $(cat "$tmp/s.txt")"
    echo "evals sandbox: 3 evaluations met their thresholds in the sandbox"
    ;;
*) fail "unknown case" ;;
esac
