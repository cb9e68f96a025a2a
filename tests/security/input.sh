#!/usr/bin/env bash
# Area "input" (docs/security.md): bad input given to a run is refused with
# a message that says exactly what is wrong and where; nothing is cut or
# "repaired" silently, and nothing runs.
#   input.sh TACTUS [MODE]      MODE: no-sandbox (default) | docker
# Each attack is what a user (or a script feeding tactus) would pass; each
# asserts the exit status, the message, and that no run was recorded in the
# journal (the run never started). Then the procedure's own Json.decode of
# the same hazards fails at its line instead of returning cut text.
# tactus eval: the same hazards in a dataset_file (its cases are the
#   inputs), each refused with FILE:LINE:COLUMN before any case runs.
# tactus test: a scenario's inputs are written in the file's own steps (no
#   JSON escapes there: "\ud800" is text), so of these hazards only the
#   number applies: an input step with a whole number from 2^53 on fails
#   at that step and the procedure does not run. Json.decode fails the
#   scenario and the evaluation case at its line.
# Not applicable to test and eval: --input/--input-json (they take no
#   inputs from the command line) and `tactus approve --value` (people are
#   answered at once, from the steps); the 60 MiB source covers all three.
# docker: everything again in the Docker sandbox (the refusals happen on the
#   host before a container starts; the run, resume and Json.decode cases
#   start one).
source "$(dirname "$0")/../durable/lib.sh" "$1"
mode=${2:-no-sandbox}
sb=(--no-sandbox)
if [ "$mode" = docker ]; then
    sb=()
    docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
fi
mkdir -p "$work/p"
cd "$work/p" || exit 1
cat >echo.tac <<'TAC'
Procedure {
  input = {
    text = field.string{required = false},
    data = field.object{required = false},
    list = field.array{required = false},
  },
  function(input)
    return {text = input.text, data = input.data, list = input.list}
  end,
}
TAC
cat >>echo.tac <<'TAC'
Specifications([[
Feature: echo
  Scenario: runs
    Then the procedure should complete successfully
]])
TAC

# no_run WHAT: the journal holds no run but the $runs_made this test made
# on purpose (the refused one never started).
runs_made=0
no_run() {
    local n
    n=$("$tactus" runs --json --store "$store" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
    [ "$n" = "$runs_made" ] || fail "$1: $n runs recorded, expected $runs_made"
}
# refused WHAT MESSAGE ARGS...: `tactus run ARGS` exits 2 with MESSAGE, nothing ran.
refused() {
    local what=$1 msg=$2
    shift 2
    t run "${sb[@]}" "$@"
    expect_rc 2 "$what"
    contains "$msg" "$work/err" "$what"
    grep -q '"text"' "$work/out" && fail "$what: the procedure ran"
    no_run "$what"
    note "$what: refused"
}

refused "lone surrogate in --input-json" \
    "tactus run: --input-json: line 1, column 10: a lone UTF-16 surrogate (\\ud800-\\udbff must be followed by \\udc00-\\udfff)" \
    echo.tac --input-json '{"text":"\ud800x"}'
refused "low surrogate alone" \
    "tactus run: --input-json: line 1, column 11: a lone UTF-16 surrogate (\\udc00-\\udfff without a high half before it)" \
    echo.tac --input-json '{"text":"a\udc00"}'
refused "NUL inside a JSON string" \
    "tactus run: --input-json: line 1, column 12: a NUL character (\\u0000) in a string; Tactus strings cannot hold it" \
    echo.tac --input-json '{"text":"ab\u0000cd"}'
deep=$(python3 -c 'print("{\"data\":{\"a\":" + "[" * 1000 + "]" * 1000 + "}}")')
refused "1,000-deep JSON" \
    "tactus run: --input-json: line 1, column 212: arrays and objects nested more than 200 deep; flatten the data" \
    echo.tac --input-json "$deep"
refused "broken JSON in a typed object input" \
    "tactus run: input 'data' is declared object; give a JSON object like '{\"k\": 1}' (line 1, column 7: invalid JSON (near '}'))" \
    echo.tac --input 'data={"a": }'
refused "NUL in a typed array input" \
    "tactus run: input 'list' is declared array; its JSON is not usable: line 1, column 3: a NUL character (\\u0000)" \
    echo.tac --input 'list=["\u0000"]'
refused "invalid UTF-8 in --input" \
    "tactus run: --input text: byte 2 of the value (0xED) is not UTF-8; inputs are text" \
    echo.tac --input text=$'a\xed\xa0\x80b'

refused "a whole number past 2^53 (it would arrive as ...992)" \
    "tactus run: --input-json: line 1, column 16: a whole number beyond +-9007199254740991 (2^53 - 1), which would arrive as another number" \
    echo.tac --input-json '{"data":{"id": 9007199254740993}}'
refused "a number past a double's range (it would arrive as nil)" \
    "tactus run: --input-json: line 1, column 9: a number beyond a double's range" \
    echo.tac --input-json '{"data":1e400}'
refused "a key twice (one value would be lost)" \
    "tactus run: --input-json: the key \"text\" appears twice in one object" \
    echo.tac --input-json '{"text":"a","text":"b"}'

# A surrogate pair (an emoji) and an escaped backslash before u0000 are fine.
t run "${sb[@]}" --json echo.tac --input-json '{"text":"\ud83d\ude00 \\u0000"}'
expect_rc 0 "a surrogate pair"
runs_made=1
[ "$(jv 'd["output"]["text"]')" = '😀 \u0000' ] || fail "a surrogate pair: got $(jv 'd["output"]["text"]')"
note "a surrogate pair and an escaped \\u0000: accepted whole"

# A 60 MiB source: run and test refuse it before anything starts.
head -c $((60 * 1024 * 1024)) /dev/zero | tr '\0' '-' >big.tac
printf '\nProcedure { function() return "ran" end }\n' >>big.tac
for cmd in run test eval; do
    # test and eval keep no journal: no --store for them.
    if [ "$cmd" = run ]; then t run "${sb[@]}" big.tac; else
        "$tactus" "$cmd" "${sb[@]}" big.tac >"$work/out" 2>"$work/err" </dev/null
        rc=$?
    fi
    expect_rc 2 "60 MiB source ($cmd)"
    contains "tactus $cmd: big.tac is 60.0 MiB; a procedure that runs may be at most 8 MiB" "$work/err" "60 MiB source ($cmd)"
    grep -q ran "$work/out" && fail "60 MiB source ($cmd): it ran"
done
no_run "60 MiB source"
note "60 MiB source: refused by run, test and eval"
rm -f big.tac

# An answer that starts like JSON and is not: refused, the request stays pending.
cat >ask.tac <<'TAC'
Procedure {
  function()
    return Human.input({message = "Data?"})
  end,
}
TAC
t run "${sb[@]}" --json ask.tac
expect_rc 3 "ask: suspends"
run=$(jv 'd["run_id"]') req=$(jv 'd["pending"][0]["request_id"]')
t approve "$run" "$req" --value '{"a": "\ud800"}'
expect_rc 2 "answer with a lone surrogate"
contains "tactus approve: --value: line 1, column 8: a lone UTF-16 surrogate" "$work/err" "answer"
t approvals --json
[ "$(jv 'len(d)')" = 1 ] || fail "answer: the request is no longer pending"
note "an answer with a lone surrogate: refused, still pending"

# The procedure's own Json.decode: an error at its line, never cut text.
cat >decode.tac <<'TAC'
Procedure {
  function()
    local s = Json.decode('"ab\\u0000cd"')
    return {len = #s}
  end,
}
TAC
t run "${sb[@]}" --json decode.tac
expect_rc 1 "Json.decode of a NUL"
[ "$(jv 'd["error"]["line"]')" = 3 ] || fail "Json.decode of a NUL: line $(jv 'd["error"]["line"]')"
contains 'Json.decode: line 1, column 4: a NUL character (\\u0000) in a string' "$work/out" "Json.decode of a NUL"
note "Json.decode of a NUL: fails at decode.tac:3"

# tactus test and tactus eval of the same Json.decode: the scenario and the
# case fail with the procedure's error at its line.
cat >>decode.tac <<'TAC'
Specifications([[
Feature: decode
  Scenario: a NUL
    When the procedure runs
    Then the procedure should fail
    And the stop reason should contain a NUL character (\u0000) in a string
]])
Evaluation({ dataset = {{name = "nul", inputs = {}}}, evaluators = { field.equals_expected{} } })
TAC
"$tactus" test "${sb[@]}" --format json decode.tac >"$work/out" 2>"$work/err" </dev/null
rc=$?
expect_rc 0 "tactus test of Json.decode of a NUL"
check 'd["summary"]["passed"] == 1' "tactus test of Json.decode of a NUL: the scenario did not see the failure"
"$tactus" eval "${sb[@]}" --format json decode.tac >"$work/out" 2>"$work/err" </dev/null
rc=$?
expect_rc 1 "tactus eval of Json.decode of a NUL"
reason=$(jv 'd["evaluations"][0]["cases"][0]["failures"][0]["reason"]')
grep -qF 'the run failed at decode.tac:3: ' <<<"$reason" && grep -qF 'Json.decode: line 1, column 4: a NUL character (\u0000) in a string' <<<"$reason" ||
    fail "tactus eval of Json.decode of a NUL: the reason does not say where and what: $reason"
note "Json.decode of a NUL under test and eval: fails at decode.tac:3"

# tactus eval: the hazards in a dataset file. The procedure would leave
# ran.txt behind (beside it with --no-sandbox): it must not run at all.
cat >cases.tac <<'TAC'
Procedure {
  input = { text = field.string{required = false}, data = field.object{required = false} },
  function(input)
    File.write("ran.txt", "ran")
    return {text = input.text}
  end,
}
Evaluation({ dataset_file = "cases.jsonl", evaluators = { field.equals_expected{} } })
TAC
# dataset_refused WHAT LINE MESSAGE: cases.jsonl holds LINE; eval exits 2 with MESSAGE.
dataset_refused() {
    printf '%s\n' "$2" >cases.jsonl
    "$tactus" eval "${sb[@]}" cases.tac >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    expect_rc 2 "dataset: $1"
    contains "$3" "$work/err" "dataset: $1"
    [ ! -e ran.txt ] || fail "dataset: $1: a case ran"
    note "dataset: $1: refused"
}
dataset_refused "lone surrogate" '{"name":"a","inputs":{"text":"\ud800x"}}' \
    'cases.jsonl:1:31: not JSON: a lone UTF-16 surrogate (\ud800-\udbff must be followed by \udc00-\udfff)'
dataset_refused "NUL inside a string" '{"name":"a","inputs":{"text":"ab\u0000cd"}}' \
    'cases.jsonl:1:33: not JSON: a NUL character (\u0000) in a string; Tactus strings cannot hold it'
dataset_refused "1,000-deep JSON" "$(python3 -c 'print("{\"name\":\"a\",\"inputs\":{\"data\":{\"a\":" + "[" * 1000 + "]" * 1000 + "}}}")')" \
    'cases.jsonl:1:232: not JSON: arrays and objects nested more than 200 deep; flatten the data'
dataset_refused "a whole number past 2^53" '{"name":"a","inputs":{"data":{"id": 9007199254740993}}}' \
    'cases.jsonl:1:37: not JSON: a whole number beyond +-9007199254740991 (2^53 - 1), which would arrive as another number'
dataset_refused "a number past a double's range" '{"name":"a","inputs":{"data":1e400}}' \
    "cases.jsonl:1:30: not JSON: a number beyond a double's range"
dataset_refused "a key twice" '{"name":"a","inputs":{"text":"a","text":"b"}}' \
    'cases.jsonl:1: not JSON: the key "text" appears twice in one object; one of its values would be lost'
dataset_refused "invalid UTF-8" $'{"name":"a","inputs":{"text":"a\xed\xa0\x80b"}}' \
    'cases.jsonl:1:32: not a text file (bytes that are not UTF-8)'

# tactus test: a whole number past 2^53 in an input step (alone, in a list).
cat >steps.tac <<'TAC'
Procedure {
  input = { n = field.number{required = false}, list = field.array{required = false} },
  function(input)
    File.write("ran.txt", "ran")
    return {n = input.n}
  end,
}
Specifications([[
Feature: numbers
  Scenario: alone
    Given the input n is 9007199254740993
    When the procedure runs
    Then the procedure should complete successfully
  Scenario: in a list
    Given the input list is [1, 9007199254740993]
    When the procedure runs
    Then the procedure should complete successfully
]])
TAC
"$tactus" test "${sb[@]}" --format json steps.tac >"$work/out" 2>"$work/err" </dev/null
rc=$?
expect_rc 1 "input steps past 2^53"
check 'd["summary"]["failed"] == 2' "input steps past 2^53: both scenarios must fail"
for i in 0 1; do
    err=$(jv "d['features'][0]['scenarios'][$i]['steps'][0].get('error', '')")
    grep -qF "a whole number beyond +-9007199254740991 (2^53 - 1), which would arrive as another number" <<<"$err" ||
        fail "input steps past 2^53: scenario $i did not fail at its input step: $err"
done
[ ! -e ran.txt ] || fail "input steps past 2^53: the procedure ran"
note "input steps past 2^53: each scenario fails at its Given step, nothing ran"
echo "security/input $mode: PASS"
