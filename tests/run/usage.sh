#!/usr/bin/env bash
# What a run used (issue 17), against a loopback OpenAI-compatible server:
#   - `tactus run` ends with one line on stderr: model calls, tokens, cost,
#     duration, tool calls; --json carries the same as `usage`;
#   - -v shows each brokered call as it ends (model or tool, tokens, latency);
#   - a stream that carries no usage gives tokens "unknown" (null in JSON,
#     in the audit log too), never 0;
#   - a public endpoint without its key fails before sending, with an
#     AuthError naming the variable; a custom base_url may go without a key.
#   usage.sh TACTUS FAKE_OPENAI_PY
set -u
tactus=$1 fake=$2
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-usage.XXXXXX")
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() {
    echo "run/usage: FAIL: $*" >&2
    for f in "$work/out" "$work/err"; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; head -c 3000 "$f" >&2; echo >&2; }; done
    exit 1
}
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg TACTUS_STORE=$work/store/journal.db NO_COLOR=1
mkdir -p "$HOME" "$XDG_CONFIG_HOME/tactus" "$work/store"
unset OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL FAKE_API_KEY

source "$(dirname "$0")/../integration/fake_openai.sh"
start_fake_openai "$fake" "$work" || fail "the loopback server did not start"
# The user's own configuration: a custom provider without a key, and prices.
cat >"$XDG_CONFIG_HOME/tactus/config.yml" <<YML
providers:
  fake:
    base_url: http://127.0.0.1:$port/v1
prices:
  fake/echo: {input: 1.0, output: 2.0}
YML
mkdir -p "$work/proj"
cat >"$work/proj/p.tac" <<'TAC'
Procedure {
  input = {model = field.string{required = true}},
  output = {reply = field.string{}},
  function(input)
    local a = Agent { model = input.model, system_prompt = "Echo." }
    local r = a({message = "one two three"})
    Host.call("host.echo", {x = 1})
    return {reply = r.output}
  end,
}
TAC
t() { "$tactus" "$@" >"$work/out" 2>"$work/err" </dev/null; rc=$?; }

# 1. usage reported: the closing line, --json, -v.
t run --no-sandbox -v "$work/proj/p.tac" -i model=fake/echo
[ "$rc" -eq 0 ] || fail "run (echo): exit $rc"
last=$(tail -n 1 "$work/err")
echo "$last" | grep -Eq '^completed in [0-9.]+ m?s \(run run-[0-9a-f]+\): 1 model call, [1-9][0-9]* tokens \([0-9]+ in, [0-9]+ out\), \$0\.[0-9]{6}; 1 tool call$' ||
    fail "the closing line: $last"
grep -Eq '^\[call\] model fake/echo: [1-9][0-9]* tokens \([0-9]+ in, [0-9]+ out\), \$0\.[0-9]+, [0-9]+ ms$' "$work/err" ||
    fail "-v: no line for the model call"
grep -Eq '^\[call\] tool host\.echo: ok, [0-9]+ ms$' "$work/err" || fail "-v: no line for the tool call"
t run --no-sandbox --json "$work/proj/p.tac" -i model=fake/echo
[ "$rc" -eq 0 ] || fail "run --json (echo): exit $rc"
python3 - "$work/out" <<'PY' || fail "--json usage"
import json, sys
u = json.load(open(sys.argv[1]))["usage"]
assert u["model_calls"] == 1 and u["tool_calls"] == 1, u
assert u["tokens"] == u["prompt_tokens"] + u["completion_tokens"] > 0, u
assert abs(u["cost_usd"] - (u["prompt_tokens"] * 1.0 + u["completion_tokens"] * 2.0) / 1e6) < 1e-12, u
assert u["duration_ms"] >= 0, u
PY
[ ! -s "$work/err" ] || fail "--json wrote to stderr: $(cat "$work/err")"

# 2. a stream without usage: tokens unknown, never 0.
t run --no-sandbox -v "$work/proj/p.tac" -i model=fake/no-usage
[ "$rc" -eq 0 ] || fail "run (no-usage): exit $rc"
tail -n 1 "$work/err" | grep -q ': 1 model call, tokens unknown (1 call reported no usage; 0 from the others), cost unknown; 1 tool call$' ||
    fail "the closing line without usage: $(tail -n 1 "$work/err")"
grep -q '^\[call\] model fake/no-usage: tokens unknown (the provider reported no usage), [0-9]* ms$' "$work/err" ||
    fail "-v without usage"
t run --no-sandbox --json "$work/proj/p.tac" -i model=fake/no-usage
run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/out")
python3 - "$work/out" <<'PY' || fail "--json usage without usage"
import json, sys
u = json.load(open(sys.argv[1]))["usage"]
assert u["tokens"] is None and u["cost_usd"] is None and u["calls_without_usage"] == 1, u
PY
t audit "$run" --json
python3 - "$work/out" <<'PY' || fail "audit: the call without usage"
import json, sys
r = [x for x in json.load(open(sys.argv[1])) if x["method"] == "llm.chat"][0]
assert r["tokens"] is None and r["tokens_unknown"] is True and r["cost_usd"] is None, r
PY
t audit "$run"
grep "llm.chat" "$work/out" | grep -q "unknown tokens" || fail "audit (text): $(cat "$work/out")"

# 3. a public endpoint without its key: an AuthError naming the variable,
#    before anything is sent (the server is not the public endpoint, so a
#    request that went out would have failed otherwise; none may be logged).
: >"$work/requests.jsonl"
for m in openai/gpt-4o-mini anthropic/claude-3-5-haiku-latest; do
    t run --no-sandbox --json "$work/proj/p.tac" -i model=$m
    [ "$rc" -eq 1 ] || fail "$m without a key: exit $rc"
    var=OPENAI_API_KEY
    [ "${m%%/*}" = anthropic ] && var=ANTHROPIC_API_KEY
    python3 - "$work/out" "$var" <<'PY' || fail "$m without a key: $(cat "$work/out")"
import json, sys
e = json.load(open(sys.argv[1]))["error"]["message"]
assert "AuthError" in e and sys.argv[2] in e and "not set" in e, e
PY
done
[ ! -s "$work/requests.jsonl" ] || fail "a request went out"
echo "run/usage: ok"
