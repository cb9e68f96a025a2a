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
#   redaction.sh TACTUS FAKE_OPENAI_PY
set -u
tactus=$1 fake=$2
runtime=$(dirname "$tactus")/tactus-runtime
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "redaction: FAIL: $*" >&2; exit 1; }

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
TAC
cat > "$work/wrap.sh" <<WRAP
#!/bin/sh
exec /usr/bin/tee -a "$work/stdin.bin" | "$runtime"
WRAP
chmod +x "$work/wrap.sh"

export HOME=$work/home XDG_CONFIG_HOME= OPENAI_API_KEY=$openai_key ACME_KEY=$acme_key
export TACTUS_STORE=$work/store/journal.db TACTUS_RUNTIME=$work/wrap.sh
cd "$work/proj" || fail "no project folder"
# Once with --json (the result), once plain (tokens streamed on stderr).
"$tactus" run --no-sandbox --json leak.tac >"$work/json.out" 2>"$work/json.err"
[ $? -eq 0 ] || fail "run --json failed: $(cat "$work/json.err" "$work/json.out")"
"$tactus" run --no-sandbox leak.tac >"$work/plain.out" 2>"$work/plain.err"
[ $? -eq 0 ] || fail "run failed: $(cat "$work/plain.err")"

# The attack happened: both keys reached the provider and came back redacted.
grep -q "$openai_key" "$work/requests.jsonl" || fail "the provider never received the OpenAI key"
grep -q "$acme_key" "$work/requests.jsonl" || fail "the provider never received ACME_KEY"
[ "$(grep -o 'REDACTED' "$work/json.out" | wc -l)" -ge 2 ] ||
    fail "the streamed keys were not redacted in --json: $(cat "$work/json.out")"
grep -q 'Your key is \[REDACTED\] - keep it safe' "$work/plain.err" ||
    fail "stderr does not show the redacted stream: $(cat "$work/plain.err")"
grep -q 'REDACTED' "$work/proj/tool-args.txt" 2>/dev/null ||
    fail "the key streamed in tool-call arguments did not reach the tool redacted: $(cat "$work/proj/tool-args.txt" 2>&1)"
grep -q 'REDACTED' "$work/proj/arg-name.txt" 2>/dev/null ||
    fail "the key as an argument's name did not reach the tool redacted: $(cat "$work/proj/arg-name.txt" 2>&1)"
[ -s "$work/stdin.bin" ] || fail "nothing captured from the runtime's input"
ls "$work/store"/journal.db* >/dev/null 2>&1 || fail "no journal was written"

for key in "$openai_key" "$acme_key"; do
    leaks=$(grep -rl --binary-files=text -F "$key" "$work" | grep -v -e '/requests.jsonl$' -e '/srv.out$' || true)
    [ -z "$leaks" ] || fail "the key ${key%%-*}... leaked into: $leaks"
    # A key split in two still leaks: look for each half too (journal pages, deltas).
    half=${key:0:$(( ${#key} / 2 + 2 ))}
    leaks=$(grep -rl --binary-files=text -F "$half" "$work" | grep -v -e '/requests.jsonl$' -e '/srv.out$' || true)
    [ -z "$leaks" ] || fail "most of a key leaked into: $leaks"
done
n=$(find "$work" -type f | wc -l)
echo "redaction: ok (keys streamed one character per chunk; $n files, $(wc -c < "$work/stdin.bin") runtime input bytes searched)"
