#!/usr/bin/env bash
# `tactus eval` through the real binary:
#   kinds     every evaluator kind passes on the good evaluation and fails on
#             the bad one (evals.tac); thresholds decide the exit status
#   datasets  dataset files in .jsonl, .json and .csv, relative to the file
#   baseline  --save, then --baseline: regressed and improved cases (Newcombe),
#             the whole (paired case bootstrap, equal to the reference),
#             renamed, added and removed cases; --fail-on-regression's exit
#   progress  on a terminal (script(1) gives one), a live progress line:
#             runs done of all, the pass rate so far, elapsed, ETA
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
assert len(kinds) == 16, kinds
assert [c["name"] for c in good["cases"]] == ["jsonl_cat", "jsonl_cat_again", "inline_cat"], good["cases"]
assert all(e["passed"] == e["total"] == 6 for e in good["evaluators"]), good["evaluators"]
assert good["passed"] and all(t["met"] for t in good["thresholds"]), good["thresholds"]
assert {e["name"].split("(")[0] for e in bad["evaluators"]} == kinds - {"equals_expected"} | {"equals_expected"}
assert all(e["passed"] == 0 and e["total"] == 1 for e in bad["evaluators"]), bad["evaluators"]
assert not bad["passed"] and bad["thresholds"][0] == {"name": "min_success_rate", "limit": 0.5, "value": 0, "met": False}
schema = [e for e in bad["evaluators"] if e["name"] == "json_schema"][0]
assert schema["failed"] == 1, schema
reason = bad["cases"][0]["failures"][0]["reason"]
assert len(good["thresholds"]) == 7 and all(t["met"] for t in good["thresholds"]), good["thresholds"]
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
baseline)
    mkdir -p "$tmp/p"
    # Runs differ by their random seed, fixed per file path (as given), case
    # name and run number: run from the file's folder as "e.tac", so every
    # run of this test draws the same numbers (a temporary folder's path
    # made the outcome random, and "new_name" once looked regressed).
    ev_here() { (cd "$tmp/p" && NO_COLOR=1 "$tactus" eval "$@"); }
    version() { # VERSION CASES...
        printf 'Procedure {\n  input = {p = field.number{required = true}, tag = field.string{}},\n'
        printf '  function(input) return {ok = math.random() < input.p} end,\n}\n'
        printf 'Evaluation({\n  runs = 20,\n  dataset = {\n'
        shift
        for c in "$@"; do printf '    %s,\n' "$c"; done
        printf '  },\n  evaluators = {field.equals_expected{}},\n  thresholds = {min_success_rate = 0.1},\n})\n'
    }
    a='{name = "steady", inputs = {p = 1}, expected_output = {ok = true}}'
    version 1 "$a" '{name = "slipping", inputs = {p = 1, tag = "s"}, expected_output = {ok = true}}' \
        '{name = "old_name", inputs = {p = 0.9, tag = "r"}, expected_output = {ok = true}}' \
        '{name = "dropped", inputs = {p = 0.5, tag = "d"}, expected_output = {ok = true}}' >"$tmp/p/e.tac"
    ev_here --mock --no-sandbox --save "$tmp/before.json" e.tac >/dev/null 2>&1 ||
        fail "the first version must pass"
    # Version 2: "slipping" now fails most runs; "old_name" is renamed
    # (same inputs); "dropped" is gone; "fresh" is new.
    version 2 "$a" '{name = "slipping", inputs = {p = 0.1, tag = "s"}, expected_output = {ok = true}}' \
        '{name = "new_name", inputs = {p = 0.9, tag = "r"}, expected_output = {ok = true}}' \
        '{name = "fresh", inputs = {p = 0.7, tag = "f"}, expected_output = {ok = true}}' >"$tmp/p/e.tac"
    ev_here --mock --no-sandbox --baseline "$tmp/before.json" --format json \
        e.tac >"$tmp/without.json" 2>/dev/null || fail "without --fail-on-regression the thresholds decide"
    ev_here --mock --no-sandbox --baseline "$tmp/before.json" --fail-on-regression \
        --format json e.tac >"$tmp/after.json" 2>/dev/null
    [ $? = 1 ] || fail "a significant drop with --fail-on-regression must exit 1"
    ev_here --mock --no-sandbox --baseline "$tmp/before.json" --fail-on-regression \
        e.tac >"$tmp/after.txt" 2>/dev/null
    grep -q "REGRESSED" "$tmp/after.txt" && grep -q "renamed: old_name -> new_name" "$tmp/after.txt" ||
        fail "the pretty report does not say it: $(cat "$tmp/after.txt")"
    python3 - "$tmp/before.json" "$tmp/after.json" "$root/tests/unit" <<'PY' || fail "wrong comparison"
import json, sys
sys.path.insert(0, sys.argv[3])
import evstats_reference as ref
before = {c["name"]: c for c in json.load(open(sys.argv[1]))["evaluations"][0]["cases"]}
doc = json.load(open(sys.argv[2]))
ev = doc["evaluations"][0]
now = {c["name"]: c for c in ev["cases"]}
cmp = ev["comparison"]
assert doc["regressed"] and doc["fail_on_regression"] and not doc["passed"] and ev["passed"], doc
assert cmp["regressed_cases"] == ["slipping"], cmp["regressed_cases"]
assert cmp["renamed_cases"] == [{"from": "old_name", "to": "new_name"}], cmp["renamed_cases"]
assert cmp["added_cases"] == ["fresh"] and cmp["removed_cases"] == ["dropped"], cmp
cases = {c["name"]: c for c in cmp["cases"]}
assert set(cases) == {"steady", "slipping", "new_name"} and cases["new_name"]["baseline_name"] == "old_name"
close = lambda a, b: abs(a - b) < 1e-9
for name, base in (("steady", "steady"), ("slipping", "slipping"), ("new_name", "old_name")):
    n, b = now[name], before[base]
    lo, hi = ref.newcombe(n["passed"], n["counted_runs"], b["passed"], b["counted_runs"], "0.95")
    iv = cases[name]["interval"]
    assert iv["method"] == "newcombe" and close(iv["low"], float(lo)) and close(iv["high"], float(hi)), (name, iv, lo, hi)
pairs = [((now[n]["passed"], now[n]["counted_runs"]), (before[b]["passed"], before[b]["counted_runs"]))
         for n, b in (("steady", "steady"), ("slipping", "slipping"), ("new_name", "old_name"))]
lo, hi, p = ref.bootstrap_paired([a for a, _ in pairs], [b for _, b in pairs], 0.95)
w = cmp["whole"]
assert w["compared_cases"] == 3 and w["interval"]["method"] == "paired_case_bootstrap", w
assert close(w["interval"]["low"], lo) and close(w["interval"]["high"], hi) and close(w["p_drop"], p), (w, lo, hi, p)
print("evals baseline: slipping regressed (Newcombe), whole [%.3f, %.3f] (paired case bootstrap, "
      "as the reference), old_name -> new_name renamed, fresh added, dropped removed; exit 1"
      % (w["interval"]["low"], w["interval"]["high"]))
PY
    # The same cases again: no regression, exit 0, the rename still said.
    ev_here --mock --no-sandbox --save "$tmp/again.json" e.tac >/dev/null 2>&1
    ev_here --mock --no-sandbox --baseline "$tmp/again.json" --fail-on-regression \
        e.tac >"$tmp/same.txt" 2>/dev/null || fail "no regression must exit 0: $(cat "$tmp/same.txt")"
    ;;
progress)
    command -v script >/dev/null || fail "script(1) is missing (util-linux)"
    mkdir -p "$tmp/p"
    printf 'Procedure { function() return {ok = true} end }\nEvaluation({ runs = 200, dataset = {{name = "a", inputs = {}}}, evaluators = {field.equals_expected{}} })\n' >"$tmp/p/e.tac"
    env -u NO_COLOR script -qec "$tactus eval --mock --no-sandbox -j 1 $tmp/p/e.tac" /dev/null >"$tmp/tty.txt" 2>&1 ||
        fail "the evaluation failed: $(cat "$tmp/tty.txt")"
    grep -aqE $'\r\033\\[Ktactus eval: [0-9]+/200 runs, 100\\.0% passing, [0-9.]+ s elapsed, ETA [0-9.]+ s' "$tmp/tty.txt" ||
        fail "no live progress line: $(od -c "$tmp/tty.txt" | head -20)"
    # Not a terminal: no line rewriting.
    "$tactus" eval --mock --no-sandbox -j 1 "$tmp/p/e.tac" >/dev/null 2>"$tmp/err.txt"
    grep -q $'\033' "$tmp/err.txt" && fail "escape sequences written to a file"
    echo "evals progress: a live line on a terminal, none in a file"
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
