#!/usr/bin/env bash
# `tactus eval` refuses what it cannot use, before any run: each case below
# exits 2 with a message that says where (file:line:column when there is
# one), what was expected and how to fix it, and leaves no report behind:
# the -o, --html and --save files are not created, one that existed is left
# as it was, and no temporary file remains.
#   bad-input.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "evals bad-input: FAIL: $*" >&2; exit 1; }
cd "$work" || exit 1

proc='Procedure {
  input = {name = field.string{required = true}},
  function(input) return {greeting = "Hello, " .. input.name} end,
}'
# eval_file NAME EVALUATION_BODY: NAME.tac with the procedure and one Evaluation.
eval_file() {
    printf '%s\n\nEvaluation({\n%s\n})\n' "$proc" "$2" >"$1.tac"
}
checked=0
# expect NAME WANT ARGS...: exit 2, WANT (a grep -E pattern) on stderr, no report.
expect() {
    local name=$1 want=$2
    shift 2
    rm -rf out && mkdir out && echo "the old report" >out/old.txt
    NO_COLOR=1 "$tactus" eval --mock --no-sandbox -o out/old.txt --html out/page.html \
        --save out/saved.json "$@" >stdout.txt 2>stderr.txt
    local code=$?
    [ $code = 2 ] || fail "$name: exit $code, not 2: $(cat stderr.txt)"
    grep -Eq "$want" stderr.txt || fail "$name: expected /$want/ in: $(cat stderr.txt)"
    [ "$(cat out/old.txt)" = "the old report" ] || fail "$name: the old report was replaced"
    [ "$(ls -A out)" = "old.txt" ] || fail "$name: files were left behind: $(ls -A out)"
    [ -s stdout.txt ] && fail "$name: something was written on stdout: $(cat stdout.txt)"
    checked=$((checked + 1))
}

# A dataset file that is neither JSON nor CSV.
printf 'name: ada\n' >cases.yaml
eval_file yaml '  dataset_file = "cases.yaml",
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect dataset-yaml 'yaml\.tac:7:18: dataset_file must be \.jsonl .*\.json .*\.csv .*not .cases\.yaml.' yaml.tac
# A .json dataset that is not JSON: where it breaks.
printf '[\n  {"name": "ada", "inputs": {"name": "Ada"}},\n  {"name": "bob", "inputs": {"name": Bob}}\n]\n' >broken.json
eval_file broken '  dataset_file = "broken.json",
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect dataset-broken-json 'broken\.json:3:38: not JSON' broken.tac
# A CSV dataset that is binary, and one without an inputs column.
printf 'name,inputs\nada,"{""name"": ""Ada\xff""}"\n' >binary.csv
eval_file binary '  dataset_file = "binary.csv",
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect dataset-binary 'binary\.csv:2:[0-9]+: not a text file' binary.tac
printf 'name,expected_output\nada,hi\n' >noinputs.csv
eval_file noinputscsv '  dataset_file = "noinputs.csv",
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect dataset-csv-no-inputs 'noinputs\.csv:1:1: the header has no .inputs. column' noinputscsv.tac
# A case without inputs: in the file (the checker, TAC809) and in a dataset file.
eval_file noinputs '  dataset = {{name = "nobody", expected_output = {greeting = "Hello"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect case-without-inputs 'noinputs\.tac:7:14: error\[TAC809\]: evaluation case .nobody. has no inputs' noinputs.tac
printf '{"name": "ada", "inputs": {"name": "Ada"}}\n{"name": "nobody"}\n' >cases.jsonl
eval_file noinputsfile '  dataset_file = "cases.jsonl",
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect case-without-inputs-file 'cases\.jsonl:2:1: case .nobody. has no inputs; give its inputs as an object' noinputsfile.tac
# A threshold of the wrong type (TAC810) and one misspelt (TAC806).
eval_file threshold '  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},
  thresholds = {min_success_rate = "high"},'
expect threshold-type 'threshold\.tac:9:36: error\[TAC810\]: min_success_rate is a share of runs from 0 to 1' threshold.tac
eval_file misspelt '  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},
  thresholds = {max_cost = 0.1},'
expect threshold-unknown "misspelt\.tac:9:17: error\[TAC806\]: unknown threshold 'max_cost' \(did you mean 'max_cost_per_run'\?\)" misspelt.tac
# runs = 0 (TAC807), and too many runs through --runs.
eval_file zero '  runs = 0,
  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect runs-zero 'zero\.tac:7:10: error\[TAC807\]: runs is how many times each case runs: a whole number from 1 to 1000, not 0' zero.tac
eval_file many '  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect runs-too-many 'many\.tac:6:12: 2000 runs per case \(--runs\) is more than the 1000 allowed' --runs 2000 many.tac
# k > runs: in the file (TAC808), and once --runs lowers runs below a k.
eval_file kfile '  runs = 2,
  pass_k = {1, 3},
  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect k-above-runs 'kfile\.tac:8:16: error\[TAC808\]: pass_k asks for k = 3, but each case runs 2 times' kfile.tac
eval_file kcli '  runs = 5,
  pass_k = {1, 3},
  thresholds = {min_pass_k = {k = 3, value = 0.5}},
  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
expect k-above-runs-cli 'kcli\.tac:8:16: pass_k asks for k = 3, but each case runs 2 times \(--runs\)' --runs 2 kcli.tac
# A baseline from another tool, and one that is not JSON.
eval_file good '  dataset = {{name = "ada", inputs = {name = "Ada"}}},
  evaluators = {field.contains{field = "greeting", value = "Hello"}},'
cat >spec.tac <<'TAC'
Procedure { function() return {ok = true} end }
Specifications([[
Feature: f
  Scenario: s
    When the procedure runs
    Then the procedure should complete successfully
]])
TAC
"$tactus" test --mock --no-sandbox --format json spec.tac >test-report.json 2>/dev/null
expect baseline-other-tool 'test-report\.json:1:1: not a tactus eval result: it has no "tool": "tactus eval" \(it looks like a tactus test report\); give a file written by tactus eval --save FILE' \
    --baseline test-report.json good.tac
printf '{"tool": "tactus eval",\n "schema_version": 2,\n "evaluations": [}\n' >broken-base.json
expect baseline-not-json 'broken-base\.json:3:18: the baseline is not JSON' --baseline broken-base.json good.tac
printf '{"tool": "tactus eval", "schema_version": 99, "evaluations": []}\n' >future.json
expect baseline-version "future\.json:1:1: the baseline's schema_version is not one it knows" --baseline future.json good.tac
# Options: a report folder that does not exist, an alpha out of range.
expect html-folder 'tactus eval: --html nowhere/page\.html: the folder nowhere does not exist' --html nowhere/page.html good.tac
expect alpha 'tactus eval: --alpha takes a significance level between 0 and 0\.5' --alpha 2 good.tac
expect fail-on-regression-alone 'tactus eval: --fail-on-regression needs --baseline FILE' --fail-on-regression good.tac

# The same good file does run, and writes all three reports.
NO_COLOR=1 "$tactus" eval --mock --no-sandbox -o out/report.txt --html out/page.html --save out/saved.json good.tac 2>/dev/null ||
    fail "the good file does not pass"
[ -s out/report.txt ] && [ -s out/page.html ] && [ -s out/saved.json ] || fail "reports missing: $(ls out)"
[ "$(ls -A out | grep -c tmp)" = 0 ] || fail "a temporary file remains: $(ls -A out)"
echo "evals bad-input: $checked bad inputs refused with exit 2, where and why, nothing written"
