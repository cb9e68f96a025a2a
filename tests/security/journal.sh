#!/usr/bin/env bash
# Security tests of the journal (docs/security.md, area journal): a user or
# a local attacker who can write the journal edits it with the sqlite3 CLI
# (or psql, with TACTUS_TEST_BACKEND=pg) between a suspend and the resume. Every edit must make `tactus resume`
# (and `tactus approve`) refuse with a message naming the run, the row and
# what failed, exit 2, and run nothing: the host tool that appends a line
# per effect (tests/durable/append.py) appends nothing, and no effect row is
# added. A changed .tac source is refused unless --allow-changed-source,
# which is journaled. Also: the journal key is private (a 0644 key is refused), every
# journal file is 0600 under umask 000, and budgets count across resumes.
#   journal.sh TACTUS FAKE_OPENAI_PY
source "$(dirname "$0")/../durable/lib.sh" "$1"
fake=${2:?usage: journal.sh TACTUS FAKE_OPENAI_PY}
secdir=$(cd "$(dirname "$0")" && pwd)
# The attacker's edits, on either store (TACTUS_TEST_BACKEND=pg: psql).
if [ "${TACTUS_TEST_BACKEND:-sqlite}" = pg ]; then
    sql() { pg_sql "$store" "$1" >/dev/null || fail "psql: $1"; }
    n_effects() { pg_sql "$store" "SELECT COUNT(*) FROM effects WHERE run_id = '$1'"; }
else
    command -v sqlite3 >/dev/null || fail "the sqlite3 CLI is needed"
    sql() { sqlite3 "$store" "$1" || fail "sqlite3: $1"; }
    n_effects() { sqlite3 "$store" "SELECT COUNT(*) FROM effects WHERE run_id = '$1'"; }
fi

# gate: a fresh run of journal/gate.tac, suspended at its approval
# (effect 2); sets $run.
mkdir -p "$work/proc/.tactus" "$work/lines"
cat >"$work/proc/.tactus/config.yml" <<YML
sandbox:
  enabled: false
host_tools:
  append_line:
    command: ["$python_exe", "$here/append.py", "$work/lines"]
    timeout: 20
YML
trust_proc
cp "$secdir/journal/gate.tac" "$work/proc/gate.tac"
proc=$work/proc/gate.tac
gate() {
    t run --json --no-sandbox "$proc"
    expect_rc 3 "$1: tactus run (suspending)"
    run=$(jv 'd["run_id"]')
}
# refused WHAT MESSAGE: the resume of $run exits 2 with MESSAGE, nothing ran.
refused() {
    local before lines_before
    before=$(n_effects "$run")
    lines_before=$(lines_of "$run" | wc -l)
    t resume "$run" --no-sandbox
    expect_rc 2 "$1: tactus resume"
    contains "tactus resume: $store: run $run: $2" "$work/err" "$1"
    [ "$(n_effects "$run")" = "$before" ] || fail "$1: the refused resume recorded effects"
    [ "$(lines_of "$run" | wc -l)" = "$lines_before" ] || fail "$1: a host tool ran"
    lines_of "$run" | grep -q SHIPPED && fail "$1: the release shipped"
    note "$1: refused"
}
advice="it was changed outside tactus, so the run cannot be trusted and is not resumed"

# 1. The key: made on first use, 32 bytes, 0600, in a 0700 folder.
gate key
key=$XDG_DATA_HOME/tactus/journal.key
[ "$(stat -c %a "$key")" = 600 ] || fail "the key is $(stat -c %a "$key"), not 600"
[ "$(stat -c %s "$key")" = 32 ] || fail "the key is not 32 bytes"
[ "$(stat -c %a "$XDG_DATA_HOME/tactus")" = 700 ] || fail "the key's folder is not 700"
chmod 644 "$key"
t resume "$run" --no-sandbox
expect_rc 1 "a 0644 key (refused before anything runs; exit 1 as for any journal that cannot be opened)"
contains "$key: the journal key is readable or writable by group or others (mode 0644); it must be private to you: chmod 600 $key" "$work/err" "0644 key"
chmod 600 "$key"
note "a 0644 key is refused"

# 2. A forged approval: the pending request answered in SQLite.
gate forged-approval
sql "UPDATE human_requests SET status = 'answered', answer = 'true', answered_by = 'boss' WHERE id = '$run.2'"
refused forged-approval "journal row 3 (the human request at position 2, approve) does not match its seal: its contents (or its position) were changed; $advice"
t approve "$run" 2
expect_rc 2 "forged-approval: tactus approve"
contains "run $run: journal row 3" "$work/err" "approve of a tampered run"

# 3. A denial turned into an approval.
gate flipped-denial
t approve "$run" 2 --deny
expect_rc 0 "flipped-denial: approve --deny"
sql "UPDATE human_requests SET answer = 'true' WHERE id = '$run.2'"
refused flipped-denial "journal row 3 (the human request at position 2, approve) does not match its seal"

# 4. A tool result edited.
gate edited-result
sql "UPDATE effects SET result = replace(result, 'built', 'BUILT') WHERE run_id = '$run' AND position = 0"
refused edited-result "journal row 1 (the effect at position 0, tool) does not match its seal: its contents (or its position) were changed"

# 5. An effect deleted (the tool would run again).
gate deleted-effect
sql "DELETE FROM effects WHERE run_id = '$run' AND position = 1"
refused deleted-effect "journal row 2 (the human request at position 2, approve) does not match its seal: a row before it was deleted or inserted, or rows were reordered"

# 6. The last row deleted (the approval asked again, or answered anew).
gate deleted-last
sql "DELETE FROM human_requests WHERE id = '$run.2'"
refused deleted-last "the journal holds 3 rows for the run, after row 2 (the effect at position 1, tool), and they do not match the run's seal: rows were deleted or added at the end"

# 7. Two effects swapped.
gate swapped
sql "UPDATE effects SET position = -1 WHERE run_id = '$run' AND position = 0;
     UPDATE effects SET position = 0 WHERE run_id = '$run' AND position = 1;
     UPDATE effects SET position = 1 WHERE run_id = '$run' AND position = -1"
refused swapped "journal row 1 (the effect at position 0, tool) does not match its seal: its contents (or its position) were changed"

# 8. The run's input edited.
gate edited-input
sql "UPDATE runs SET inputs = '{\"release\":\"9.9\"}' WHERE id = '$run'"
refused edited-input "journal row 0 (the run's record: procedure, source and inputs) does not match its seal"

# 9. A row inserted without a seal (an approval that was never asked).
gate inserted
sql "DELETE FROM human_requests WHERE id = '$run.2'"
sql "INSERT INTO human_requests (id, run_id, tenant, position, kind, message, request, deadline_ms, status, answer, request_hash, created_ms) SELECT '$run.2', '$run', 'default', 2, 'approve', 'x', '{}', 0, 'answered', 'true', 'h', 0"
refused inserted "journal row 3 (the human request at position 2, approve) has no seal: it was inserted outside tactus"

# 10. The .tac source changed between the suspend and the resume (only a
# comment: every request is the same): refused unless
# --allow-changed-source, and that decision is in the sealed journal.
gate changed-source
t approve "$run" 2
expect_rc 0 "changed-source: approve"
cp "$proc" "$work/gate.orig.tac"
printf -- '-- edited after the run started\n' >>"$proc"
before=$(n_effects "$run")
t resume "$run" --no-sandbox
expect_rc 2 "changed-source: resume"
contains "tactus resume: run $run: $proc changed since the run started (sha256 " "$work/err" "changed-source"
contains "put the file back, or resume with --allow-changed-source to accept the change (recorded in the run's journal)" "$work/err" "changed-source: the fix"
[ "$(n_effects "$run")" = "$before" ] || fail "changed-source: the refused resume recorded effects"
lines_of "$run" | grep -q SHIPPED && fail "changed-source: the release shipped"
t resume "$run" --no-sandbox --allow-changed-source
expect_rc 0 "changed-source: resume --allow-changed-source"
lines_of "$run" | grep -qx "SHIPPED 1.2" || fail "changed-source: the accepted resume did not complete"
t show "$run" --json
check 'd["seals"] == "ok" and [n["kind"] for n in d["notes"]] == ["allow_changed_source"] and d["notes"][0]["detail"]["old_sha256"] == d["source_sha256"]' "changed-source: show: the accepted change is journaled"
cp "$work/gate.orig.tac" "$proc"
note "changed-source: refused, then accepted with --allow-changed-source and journaled"

# 10b. Accepted, a changed request still fails closed, and the message
# names the first differing JSON path, cutting long values with a note.
cat >"$work/proc/long.tac" <<'TAC'
Procedure { function()
  Host.call("host.append_line", {text = string.rep("a", 300) .. "-v1"})
  Human.approve({message = "Go on?"})
  return {}
end }
TAC
t run --json --no-sandbox "$work/proc/long.tac"
expect_rc 3 "long: tactus run (suspending)"
run=$(jv 'd["run_id"]')
sed -i 's/-v1/-v2/' "$work/proc/long.tac"
t resume "$run" --no-sandbox --allow-changed-source
expect_rc 1 "long: the resume of a changed request"
a38=$(printf 'a%.0s' $(seq 1 38))
contains "replay diverged at effect 0 (line 2): the tool request is not the one recorded in run $run: 'args.text' was …$a38-v1\", now …$a38-v2\" (values cut at 160 bytes around the first difference; tactus show RUN --json has the whole request)" "$work/err" "long: the diff message"
note "long: the first differing path, values cut with a note"

# 11. The untouched control: approved, the resume completes and ships.
gate control
t approve "$run" 2
expect_rc 0 "control: approve"
t resume "$run" --no-sandbox
expect_rc 0 "control: resume"
lines_of "$run" | grep -qx "SHIPPED 1.2" || fail "control: the approved run did not ship"
t show "$run" --json
check 'd["seals"] == "ok" and d["notes"] == []' "control: show: seals ok, no notes"
note "control: an untouched journal resumes"

# 12. umask 000: every file of a new store is 0600, its folders 0700.
(
    umask 000
    export TACTUS_STORE=$work/fresh/store/journal.db XDG_DATA_HOME=$work/fresh/data
    "$tactus" run --json --no-sandbox "$proc" --store "$TACTUS_STORE" >"$work/out" 2>"$work/err" </dev/null
    echo $? >"$work/rc"
)
[ "$(cat "$work/rc")" = 3 ] || fail "umask 000: tactus run exited $(cat "$work/rc")"
found=$(find "$work/fresh" -type f | wc -l)
[ "$found" -ge 3 ] || fail "umask 000: expected the journal, its WAL and the key, found $found files"
bad=$(find "$work/fresh" \( -type f ! -perm 600 \) -o \( -type d ! -path "$work/fresh" ! -perm 700 \))
[ -z "$bad" ] || fail "umask 000: not private: $(for f in $bad; do stat -c '%a %n' "$f"; done)"
note "umask 000: $found files, all 0600, folders 0700"

# 13. Budgets count the whole run: llm_calls 3, two calls, a suspend, the
# resume makes the third and is refused the fourth.
mkfifo "$work/srv.in"
python3 "$fake" --log "$work/requests.jsonl" <"$work/srv.in" >"$work/srv.out" 2>&1 &
srv_pid=$!
exec 9>"$work/srv.in"
trap 'kill $srv_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do grep -q '^PORT ' "$work/srv.out" && break; sleep 0.1; done
port=$(awk '/^PORT /{print $2; exit}' "$work/srv.out")
[ -n "$port" ] || fail "the loopback model server did not start"
mkdir -p "$work/llm/.tactus"
cp "$secdir/journal/budget.tac" "$work/llm/budget.tac"
printf 'sandbox:\n  enabled: false\nproviders:\n  openai:\n    base_url: http://127.0.0.1:%s/v1\n    max_retries: 0\nbudgets:\n  llm_calls: 3\n' "$port" >"$work/llm/.tactus/config.yml"
"$tactus" trust "$work/llm" >/dev/null || fail "tactus trust $work/llm"
export OPENAI_API_KEY=test-key
t run --json --no-sandbox "$work/llm/budget.tac"
expect_rc 3 "budget: tactus run (suspending after two calls)"
run=$(jv 'd["run_id"]')
t approve "$run" "$(jv 'd["pending"][0]["request_id"]')"
expect_rc 0 "budget: approve"
t resume "$run" --no-sandbox --json
expect_rc 1 "budget: the resume (the fourth call is over budget)"
contains "LLM call budget exceeded (limit 3 calls, budgets.llm_calls)" "$work/out" "budget"
calls=$(grep -c '' "$work/requests.jsonl")
[ "$calls" = 3 ] || fail "budget: the provider got $calls calls, expected 3"
note "budget: 3 calls over a suspend and a resume, the 4th refused"
echo "security/journal: PASS"
