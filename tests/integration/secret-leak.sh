#!/usr/bin/env bash
# Secrets stay on the host: set a recognisable key, run procedures that use
# the provider (a tool loop, and a server that quotes the key back in its
# error), and grep every byte the runtime received (its stdin, captured by
# a wrapper), everything tactus printed, the journal, the audit log and
# every file the run wrote. The key must appear only in the requests the
# provider received.
#   secret-leak.sh TACTUS FAKE_OPENAI_PY
set -u
tactus=$1 fake=$2
runtime=$(dirname "$tactus")/tactus-runtime
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "secret-leak: FAIL: $*" >&2; exit 1; }

secret="sk-tactus-canary-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkfifo "$work/srv.in"
python3 "$fake" --log "$work/requests.jsonl" < "$work/srv.in" > "$work/srv.out" 2>&1 &
srv_pid=$!
exec 9>"$work/srv.in" # keeps the server's stdin open until we exit
for _ in $(seq 1 50); do grep -q '^PORT ' "$work/srv.out" && break; sleep 0.1; done
port=$(awk '/^PORT /{print $2; exit}' "$work/srv.out")
[ -n "$port" ] || fail "the loopback server did not start: $(cat "$work/srv.out")"

proj=$work/proj
mkdir -p "$proj/.tactus"
printf 'providers:\n  openai:\n    base_url: http://127.0.0.1:%s/v1\n    max_retries: 0\n' "$port" > "$proj/.tactus/config.yml"
export XDG_CONFIG_HOME=$work/xdg # trusted.json of this test only
"$tactus" trust "$proj" >/dev/null || fail "tactus trust $proj"
cat > "$proj/loop.tac" <<'TAC'
lookup = Tool {
    description = "Look something up",
    input = { q = field.string{} },
    function(args) return {found = "tide tables"} end,
}
helper = Agent { model = "openai/tools", system_prompt = "Help.", tools = {lookup} }
Procedure { function()
    local r = helper({message = "find tides"})
    Log.info("answered", {text = r.output})
    File.write("answer.txt", tostring(r.output))
    return {answer = r.output}
end }
TAC
cat > "$proj/echo.tac" <<'TAC'
careless = Agent { model = "openai/auth-echo", system_prompt = "Hi." }
Procedure { function()
    local ok, err = pcall(careless, {message = "hello"})
    File.write("error.txt", tostring(err))
    return {ok = ok, err = tostring(err)}
end }
TAC
# Every byte the runtime receives goes through tee into stdin.bin.
cat > "$work/wrap.sh" <<WRAP
#!/bin/sh
exec /usr/bin/tee -a "$work/stdin.bin" | "$runtime"
WRAP
chmod +x "$work/wrap.sh"

export OPENAI_API_KEY=$secret TACTUS_STORE=$work/store/journal.db TACTUS_RUNTIME=$work/wrap.sh
for p in loop echo; do
    "$tactus" run --no-sandbox --json "$proj/$p.tac" >"$work/$p.out" 2>"$work/$p.err"
    code=$?
    [ $code -le 1 ] || fail "$p.tac: exit $code: $(cat "$work/$p.err")"
done
grep -q '"status":"completed"' "$work/loop.out" || fail "the tool loop did not complete: $(cat "$work/loop.out")"
grep -q 'REDACTED' "$work/echo.out" || fail "the quoted key was not redacted: $(cat "$work/echo.out")"
[ -s "$work/stdin.bin" ] || fail "nothing captured from the runtime's input"

# The provider got the key (so the test proves something)...
grep -q "$secret" "$work/requests.jsonl" || fail "the provider never received the key"
# ...and nothing else anywhere holds it.
leaks=$(grep -rl --binary-files=text "$secret" "$work" | grep -v -e '/requests.jsonl$' -e '/srv.out$' || true)
[ -z "$leaks" ] || fail "the key leaked into: $leaks"
n=$(find "$work" -type f | wc -l)
echo "secret-leak: ok (key only in the provider's requests; $n files and $(wc -c < "$work/stdin.bin") runtime input bytes searched)"
