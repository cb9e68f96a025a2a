#!/usr/bin/env bash
# Attack: a model provider (here a loopback fake, as a compromised or
# careless server would) streams the key it received back, ONE CHARACTER
# PER SSE CHUNK, so no single delta holds the key. Two keys: the OpenAI key
# (a secret-named variable) and a provider configured in the user's
# trusted config with `api_key_env: ACME_KEY` (a name that does not look
# secret). A third agent gets the key back inside a tool call's arguments,
# one character per chunk; a fourth as a property NAME of a tool call's
# arguments; a fifth in text streamed after twenty tool calls of the same
# answer (every stream held at once). The procedure prints, logs, writes
# and returns what it got, and logs its message history.
# Every byte the runtime received (its stdin, through tee), stdout, stderr
# (where tokens are streamed), --json, the journal db and its -wal, the
# audit log and every file the run wrote is searched: each key may appear
# only in the requests the provider received.
#   redaction.sh TACTUS FAKE_OPENAI_PY [MODE]
#   MODE: no-sandbox (default) | docker | {test,eval}-{no-sandbox,docker}
# docker: the same run in the Docker sandbox. The runtime's stdin is not
#   captured there (it runs in a FROM-scratch image, no tee); everything
#   else is searched as above.
# test-*: the procedure is a scenario of `tactus test` (no --mock: its
#   agents call the provider through the broker), reported in JSON and
#   pretty; a last step fails on purpose so that the report quotes the
#   output. eval-*: a case of `tactus eval`, one evaluator failing on
#   purpose so that its reason quotes the output. Both keep no journal;
#   in Docker their writes go to the pooled container's scratch folder,
#   emptied after the run, so only the reports and outputs hold what the
#   procedure saw (and must hold it redacted).
set -u
tactus=$1 fake=$2 mode=${3:-no-sandbox}
how=run
case "$mode" in test-* | eval-*) how=${mode%%-*} ;; esac
sandbox=(--no-sandbox)
case "$mode" in
*docker)
    sandbox=()
    docker info >/dev/null 2>&1 || { echo "redaction $mode: FAIL: no Docker daemon answers" >&2; exit 1; } ;;
esac
runtime=$(dirname "$tactus")/tactus-runtime
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "redaction $mode: FAIL: $*" >&2; exit 1; }

rnd() { head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
openai_key="sk-canary-openai-$(rnd)"
acme_key="acme-canary-$(rnd)"
source "$(dirname "$0")/../integration/fake_openai.sh"
start_fake_openai "$fake" "$work" || fail "the loopback server did not start: $(cat "$work/srv.out")"

# The user's own (trusted) configuration names the providers and the key variable.
mkdir -p "$work/home/.config/tactus" "$work/proj"
cat > "$work/home/.config/tactus/config.yml" <<YML
providers:
  openai:
    base_url: http://127.0.0.1:$port/v1
    max_retries: 0
  acme:
    base_url: http://127.0.0.1:$port/v1
    api_key_env: ACME_KEY
    max_retries: 0
YML
cat > "$work/proj/leak.tac" <<'TAC'
a = Agent { model = "openai/key-stream", system_prompt = "Hi." }
b = Agent { model = "acme/key-stream", system_prompt = "Hi." }
lookup = Tool {
    description = "Look something up",
    input = { q = field.string{} },
    function(args) File.write("tool-args.txt", args.q) return {seen = args.q} end,
}
c = Agent { model = "acme/key-tool", system_prompt = "Use the tool.", tools = {lookup} }
anything = Tool {
    description = "Takes any arguments",
    function(args) local n = 0 for k in pairs(args) do n = n + 1 File.write("arg-name.txt", k) end return {n = n} end,
}
d = Agent { model = "acme/key-as-name", system_prompt = "Use the tool.", tools = {anything} }
quiet = Tool { description = "Does nothing", input = { q = field.string{} }, function(args) return {ok = true} end }
e = Agent { model = "openai/key-many-calls", system_prompt = "Use the tool.", tools = {quiet} }
Procedure { function()
    local ra = a({message = "hello"})
    local rb = b({message = "hello"})
    local rc = c({message = "look it up"})
    pcall(d, {message = "name it"})
    pcall(e, {message = "many"})
    Log.info("history", {h = Json.encode(MessageHistory.get())})
    local both = tostring(ra.output) .. " | " .. tostring(rb.output) .. " | " .. tostring(rc.output)
    print("got: " .. both)
    Log.info("answered", {text = both})
    File.write("answer.txt", both)
    return {answer = both}
end }
Specifications([[
Feature: keys
  Scenario: streamed back
    When the procedure runs
    Then the procedure should complete successfully
    And the output answer should match pattern "\[REDACTED\]"
    And the output answer should be the report quotes the output here
]])
Evaluation({ dataset = {{name = "streamed", inputs = {}}}, evaluators = {
    field.contains{field = "answer", value = "[REDACTED]"},
    field.contains{field = "answer", value = "the report quotes the output here"},
} })
TAC
cat > "$work/wrap.sh" <<WRAP
#!/bin/sh
exec /usr/bin/tee -a "$work/stdin.bin" | "$runtime"
WRAP
chmod +x "$work/wrap.sh"

export HOME=$work/home XDG_CONFIG_HOME= OPENAI_API_KEY=$openai_key ACME_KEY=$acme_key
export TACTUS_STORE=$work/store/journal.db TACTUS_RUNTIME=$work/wrap.sh
case "$mode" in
*docker)
    # The image is built from the real runtime; the project belongs to the
    # container's user (nobody) when we are root.
    unset TACTUS_RUNTIME
    chown -R 65534:65534 "$work/proj" ;;
esac
cd "$work/proj" || fail "no project folder"
# reports_fail_on_purpose: tactus test/eval, in JSON and pretty, exit 1.
reports_fail_on_purpose() {
    local fmt rc
    for fmt in json plain; do
        "$tactus" "$how" "${sandbox[@]}" $([ $fmt = json ] && echo --format json) leak.tac \
            >"$work/$fmt.out" 2>"$work/$fmt.err"
        rc=$?
        [ $rc -eq 1 ] || fail "tactus $how ($fmt): exit $rc, expected 1: $(cat "$work/$fmt.err" "$work/$fmt.out")"
    done
}
case "$how" in
run)
    # Once with --json (the result), once plain (tokens streamed on stderr).
    "$tactus" run "${sandbox[@]}" --json leak.tac >"$work/json.out" 2>"$work/json.err"
    [ $? -eq 0 ] || fail "run --json failed: $(cat "$work/json.err" "$work/json.out")"
    "$tactus" run "${sandbox[@]}" leak.tac >"$work/plain.out" 2>"$work/plain.err"
    [ $? -eq 0 ] || fail "run failed: $(cat "$work/plain.err")"
    [ "$(grep -o 'REDACTED' "$work/json.out" | wc -l)" -ge 2 ] ||
        fail "the streamed keys were not redacted in --json: $(cat "$work/json.out")"
    grep -q 'Your key is \[REDACTED\] - keep it safe' "$work/plain.err" ||
        fail "stderr does not show the redacted stream: $(cat "$work/plain.err")"
    ls "$work/store"/journal.db* >/dev/null 2>&1 || fail "no journal was written" ;;
test)
    # Exit 1: the last step fails on purpose, and its error quotes the output.
    reports_fail_on_purpose
    python3 -c '
import json, sys
steps = json.load(open(sys.argv[1]))["features"][0]["scenarios"][0]["steps"]
assert [s["status"] for s in steps] == ["passed", "passed", "passed", "failed"], steps
assert "[REDACTED]" in steps[3]["error"], steps[3]
' "$work/json.out" || fail "the report does not show the redacted answer as expected: $(cat "$work/json.out")"
    grep -qF '[REDACTED]' "$work/plain.out" "$work/plain.err" ||
        fail "the pretty report does not quote the redacted output: $(cat "$work/plain.out" "$work/plain.err")" ;;
eval)
    # Exit 1: the second evaluator fails on purpose, its reason quotes the output.
    reports_fail_on_purpose
    python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["evaluations"][0]
assert [e["passed"] for e in ev["evaluators"]] == [1, 0], ev["evaluators"]
assert "[REDACTED]" in ev["cases"][0]["failures"][0]["reason"], ev["cases"][0]
' "$work/json.out" || fail "the report does not show the redacted answer as expected: $(cat "$work/json.out")" ;;
esac

# The attack happened: both keys reached the provider and came back redacted.
grep -q "$openai_key" "$work/requests.jsonl" || fail "the provider never received the OpenAI key"
grep -q "$acme_key" "$work/requests.jsonl" || fail "the provider never received ACME_KEY"
case "$mode" in
*docker)
    case "$how" in
    run) files=(tool-args.txt arg-name.txt) ;;
    *) files=() ;; # written in the pooled container's scratch folder, gone
    esac ;;
*)
    files=(tool-args.txt arg-name.txt)
    [ -s "$work/stdin.bin" ] || fail "nothing captured from the runtime's input" ;;
esac
for f in "${files[@]}"; do
    grep -q 'REDACTED' "$work/proj/$f" 2>/dev/null ||
        fail "the key streamed in a tool call did not reach the tool redacted ($f): $(cat "$work/proj/$f" 2>&1)"
done

for key in "$openai_key" "$acme_key"; do
    leaks=$(grep -rl --binary-files=text -F "$key" "$work" | grep -v -e '/requests.jsonl$' -e '/srv.out$' || true)
    [ -z "$leaks" ] || fail "the key ${key%%-*}... leaked into: $leaks"
    # A key split in two still leaks: look for each half too (journal pages, deltas).
    half=${key:0:$(( ${#key} / 2 + 2 ))}
    leaks=$(grep -rl --binary-files=text -F "$half" "$work" | grep -v -e '/requests.jsonl$' -e '/srv.out$' || true)
    [ -z "$leaks" ] || fail "most of a key leaked into: $leaks"
done
n=$(find "$work" -type f | wc -l)
case "$mode" in
*docker)
    ! grep -q 'Container isolation disabled' "$work/json.err" "$work/plain.err" || fail "the run was not sandboxed"
    searched="in Docker" ;;
*) searched="$(wc -c <"$work/stdin.bin") runtime input bytes" ;;
esac
echo "redaction $mode: ok (keys streamed one character per chunk under tactus $how; $n files, $searched searched)"
