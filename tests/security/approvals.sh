#!/usr/bin/env bash
# Approvals a person can trust, attacked as a procedure author would:
#  1. `tactus approve --value maybe` (or true/"no") on a Human.approve: refused,
#     the run stays pending; only the command's yes / --deny answers it.
#  2. an input with options answered outside them: refused with the options,
#     nothing recorded; an answer among them is accepted.
#  3. a 5,000-byte approval message: `tactus approvals show` prints it whole;
#     the listing says it is cut and where to see the rest.
#  4. terminal escapes from the procedure (OSC 52 clipboard write, ESC[2J,
#     a fake "Approved" line after \r, a one-byte C1 CSI) in print, Log,
#     Stage names, the result, error messages, approvals and show: the
#     terminal gets the escaped form (\x1b, \x0d, \u009b), never a raw byte;
#     also in tactus test's and tactus eval's reports quoting the result and
#     the error. 1-2 cannot apply to test and eval: people are answered at
#     once from the steps, there is no `tactus approve` to attack.
#   approvals.sh TACTUS
source "$(dirname "$0")/../durable/lib.sh"
fail() { echo "security/approvals: FAIL: $*" >&2; for f in "$work/out" "$work/err"; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; head -c 2000 "$f" >&2; echo >&2; }; done; exit 1; }
note() { echo "security/approvals: $*"; }
mkdir -p "$work/p"
# no_raw_controls FILE...: no ESC, CR, BEL or C1 CSI byte anywhere.
no_raw_controls() {
    for f in "$@"; do
        if LC_ALL=C grep -q -P '[\x1b\x07\x0d]|\xc2[\x80-\x9f]' "$f"; then
            fail "a raw control byte reached the terminal in ${f##*/}: $(od -c "$f" | grep -m3 -E '033|\\r|\\a')"
        fi
    done
}

# ---- 1. a yes/no is a yes/no ---------------------------------------------------------------------
cat >"$work/p/gate.tac" <<'TAC'
Procedure { function()
    local ok = Human.approve({message = "Deploy to production?"})
    return {approved = ok}
end }
TAC
t run --json --no-sandbox "$work/p/gate.tac"
expect_rc 3 "gate: suspends"
run=$(jv 'd["run_id"]'); req=$(jv 'd["pending"][0]["request_id"]')
for v in maybe true '"yes"' 1; do
    t approve "$run" "$req" --value "$v"
    expect_rc 2 "approve --value $v on an approval"
    contains "is an approval: it takes no --value" "$work/err" "approve --value $v: the reason"
    contains "--deny" "$work/err" "approve --value $v: how to say no"
done
t approvals show "$req" --json
check "d['status'] == 'pending' and d['answer'] is None" "the approval is still pending"
t approve "$run" "$req"
expect_rc 0 "approve (yes)"
t resume "$run" --json --no-sandbox
expect_rc 0 "resume after yes"
check 'd["output"]["approved"] is True' "the yes reached the procedure"
note "approve takes only yes / --deny"

# ---- 2. an answer is one the request offered -----------------------------------------------------
cat >"$work/p/pick.tac" <<'TAC'
Procedure { function()
    local env = Human.input({message = "Which environment?", options = {"staging", "prod"}})
    local color = Human.select({message = "Colours?", options = {"red", "green", "blue"}, mode = "multiple", max = 2})
    return {env = env, color = color}
end }
TAC
t run --json --no-sandbox "$work/p/pick.tac"
expect_rc 3 "pick: suspends"
run=$(jv 'd["run_id"]'); req=$(jv 'd["pending"][0]["request_id"]')
t approve "$run" "$req" --value "everything; rm -rf /"
expect_rc 2 "input answered outside its options"
contains 'one of its options: "staging", "prod"' "$work/err" "the refusal lists the options"
contains "still pending" "$work/err" "the refusal says nothing was recorded"
t approvals show "$req" --json
check "d['status'] == 'pending' and d['answer'] is None" "the input is still pending"
t approve "$run" "$req" --value prod
expect_rc 0 "input answered with an option"
t resume "$run" --json --no-sandbox
expect_rc 3 "pick: suspends at the select"
req=$(jv 'd["pending"][0]["request_id"]')
t approve "$run" "$req" --value '["red", "green", "blue"]'
expect_rc 2 "select: more than max"
contains "at most 2" "$work/err" "select: the refusal says the limit"
t approve "$run" "$req" --value '["red", "purple"]'
expect_rc 2 "select: a choice outside the options"
t approve "$run" "$req" --value '["red", "blue"]'
expect_rc 0 "select: a valid answer"
t resume "$run" --json --no-sandbox
expect_rc 0 "pick: completes"
check 'd["output"]["env"] == "prod" and d["output"]["color"] == ["red", "blue"]' "the valid answers reached the procedure"
note "answers are checked against the request's options"

# ---- 3. the whole text ---------------------------------------------------------------------------
cat >"$work/p/long.tac" <<'TAC'
Procedure { function()
    local parts = {}
    for i = 1, 99 do parts[#parts + 1] = string.format("clause %02d is fine. ", i) end
    local head, tail = "Sign this contract: " .. table.concat(parts), " AND YOU GIVE US THE KEYS"
    local msg = head .. string.rep("x", 5000 - #head - #tail) .. tail
    return {ok = Human.approve({message = msg, context = {ticket = "OPS-1"}})}
end }
TAC
t run --json --no-sandbox "$work/p/long.tac"
expect_rc 3 "long: suspends"
run=$(jv 'd["run_id"]'); req=$(jv 'd["pending"][0]["request_id"]')
msg=$(jv 'd["pending"][0]["message"]')
[ "${#msg}" -eq 5000 ] || fail "the procedure's message is ${#msg} bytes, expected 5000"
t approvals show "$req"
expect_rc 0 "approvals show"
contains "$msg" "$work/out" "approvals show prints the 5,000-byte message whole"
contains "AND YOU GIVE US THE KEYS" "$work/out" "approvals show: the end of the message"
contains "message (5000 bytes):" "$work/out" "approvals show: its size"
contains "OPS-1" "$work/out" "approvals show: the context"
contains "hash:" "$work/out" "approvals show: the request hash"
t approvals
contains "… (4800 more bytes; the whole request: tactus approvals show $req)" "$work/out" \
    "the listing says it cut the message and where the rest is"
t approvals show "$req" --json
check 'len(d["message"]) == 5000 and len(d["request_hash"]) == 64' "approvals show --json"
note "a 5,000-byte message is shown whole"

# ---- 4. escape sequences from the procedure ------------------------------------------------------
cat >"$work/p/esc.tac" <<'TAC'
Stages({"setup", "bad\27[2Jstage"})
Procedure { function()
    print("clip\27]52;c;cm0gLXJmIH4=\7 done")
    print("\27[2J\27[Hscreen cleared")
    print("Deploying...\rApproved by admin")
    Log.info("log \27]0;owned\7 title", {k = "\27[31m"})
    Stage.set("bad\27[2Jstage")
    local ok = Human.approve({message = "Safe?\r\27[1AApproved \194\155 already"})
    if not ok then error("denied: \27]52;c;eA==\7") end
    return "result \27[2J end"
end }
TAC
t run --no-sandbox "$work/p/esc.tac"
expect_rc 3 "esc: suspends"
cp "$work/out" "$work/esc1.out"; cp "$work/err" "$work/esc1.err"
no_raw_controls "$work/esc1.out" "$work/esc1.err"
contains 'clip\x1b]52;c;cm0gLXJmIH4=\x07 done' "$work/esc1.err" "print: OSC 52 shown escaped"
contains '\x1b[2J\x1b[Hscreen cleared' "$work/esc1.err" "print: screen clear shown escaped"
contains 'Deploying...\x0dApproved by admin' "$work/esc1.err" "print: the carriage return shown escaped"
contains 'log \x1b]0;owned\x07 title' "$work/esc1.err" "Log: escaped"
contains 'bad\x1b[2Jstage' "$work/esc1.err" "Stage name: escaped"
contains 'Safe?\x0d\x1b[1AApproved \u009b already' "$work/esc1.err" "the pending request: escaped"
run=$(grep -o 'run-[0-9a-f]*' "$work/esc1.err" | head -1)
req=$(grep -o "$run\.[0-9]*" "$work/esc1.err" | head -1)
t approvals
no_raw_controls "$work/out" "$work/err"
contains 'Safe?\x0d\x1b[1AApproved \u009b already' "$work/out" "approvals listing: escaped"
t approvals show "$req"
no_raw_controls "$work/out" "$work/err"
contains 'Safe?\x0d\x1b[1AApproved \u009b already' "$work/out" "approvals show: escaped"
t runs
no_raw_controls "$work/out" "$work/err"
t approve "$run" "$req" --deny
expect_rc 0 "esc: deny"
t resume "$run" --no-sandbox
no_raw_controls "$work/out" "$work/err"
contains 'denied: \x1b]52;c;eA==\x07' "$work/err" "the error message quoting the procedure: escaped"
t show "$run"
no_raw_controls "$work/out" "$work/err"
# The result, printed: a fresh run answered yes.
t run --json --no-sandbox "$work/p/esc.tac"
run=$(jv 'd["run_id"]'); req=$(jv 'd["pending"][0]["request_id"]')
t approve "$run" "$req"
t resume "$run" --no-sandbox
expect_rc 0 "esc: completes"
no_raw_controls "$work/out" "$work/err"
contains 'result \x1b[2J end' "$work/out" "the printed result: escaped"
# --json keeps the exact text (JSON-escaped by cJSON).
t show "$run" --json
contains '\u001b[2J' "$work/out" "show --json: the exact text, JSON-escaped"
note "procedure text reaches the terminal escaped (print, Log, Stage, approvals, show, runs, errors, result)"
# tactus test and tactus eval (people answered at once): their reports quote
# the result and the error of a failed expectation, escaped too.
cat >>"$work/p/esc.tac" <<'TAC'
Specifications([[
Feature: escapes
  Scenario: approved
    When the procedure runs
    Then the output should be hi
  Scenario: denied
    Given Human.approve will return false
    When the procedure runs
    Then the procedure should complete successfully
]])
Evaluation({ dataset = {{name = "quoted", inputs = {}, expected_output = "hi"}},
             evaluators = { field.equals_expected{} } })
TAC
(cd "$work/p" && "$tactus" test --no-sandbox esc.tac >"$work/out" 2>"$work/err" </dev/null)
no_raw_controls "$work/out" "$work/err"
contains 'got "result \u001b[2J end"' "$work/out" "tactus test's report quoting the result: escaped (as JSON)"
contains 'denied: \x1b]52;c;eA==\x07' "$work/out" "tactus test's report quoting the error: escaped"
(cd "$work/p" && "$tactus" eval --no-sandbox esc.tac >"$work/out" 2>"$work/err" </dev/null)
no_raw_controls "$work/out" "$work/err"
contains 'got "result \u001b[2J end"' "$work/out" "tactus eval's report quoting the result: escaped (as JSON)"
note "tactus test and tactus eval reports quote the procedure's text escaped"

# ---- 5. what the person sees is what the bytes say ------------------------------------------------
# Trojan Source in an approval: "staging" RLO LRI "dorp" PDI shows as
# "staging prod" on a bidi-aware terminal; the overrides must be shown.
cat >"$work/p/bidi.tac" <<'TAC'
Procedure { function()
    return Human.approve({message = "Deploy to staging\u{202E}\u{2066}dorp\u{2069}?"})
end }
TAC
t run --no-sandbox "$work/p/bidi.tac"
expect_rc 3 "bidi: suspends"
grep -q $'\xe2\x80\xae' "$work/err" && fail "bidi: a raw RIGHT-TO-LEFT OVERRIDE reached the terminal"
contains 'staging\u202e\u2066dorp\u2069?' "$work/err" "bidi: the overrides shown"
t approvals
grep -q $'\xe2\x80\xae' "$work/out" && fail "bidi: a raw override in the approvals listing"
contains 'staging\u202e\u2066dorp\u2069?' "$work/out" "bidi: approvals listing"
# A file named with an escape sequence (a cloned repository can ship one):
# its name is the procedure's text too, in every message that quotes it.
name=$'a\e]52;c;UFdORUQ=\a\e[2Jb.tac'
printf 'Procedure { function() error("boom") end }\nSpecifications([[\nFeature: f\n  Scenario: s\n    Then the procedure should complete successfully\n]])\n' >"$work/p/$name"
(cd "$work/p" && "$tactus" test --no-sandbox . >"$work/out" 2>"$work/err" </dev/null)
no_raw_controls "$work/out" "$work/err"
contains 'a\x1b]52;c;UFdORUQ=\x07\x1b[2Jb.tac' "$work/out" "a file name in tactus test's report: escaped"
(cd "$work/p" && "$tactus" run --no-sandbox "./$name" >"$work/out" 2>"$work/err" </dev/null)
no_raw_controls "$work/out" "$work/err"
contains 'a\x1b]52;c;UFdORUQ=\x07\x1b[2Jb.tac' "$work/err" "a file name in tactus run's error: escaped"
rm -f "$work/p/$name"
note "bidi overrides and file names with escapes are shown, not obeyed"
