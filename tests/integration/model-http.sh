#!/usr/bin/env bash
# Model { type = "http" }: the broker makes the call to a loopback model
# server speaking JSON; the host's configuration allow-lists where models
# live and holds the credential, which the runtime never sees (a server
# that echoes it back is redacted); a model elsewhere is refused.
#   model-http.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "model-http: FAIL: $*" >&2; exit 1; }
cat > "$work/model.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        text = (body.get("input") or {}).get("text", "")
        out = json.dumps({"output": {"label": "positive" if "love" in text else "negative",
                                     "echo": self.headers.get("Authorization")}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("PORT", s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/model.py" >"$work/model.out" 2>&1 &
srv_pid=$!
for _ in $(seq 50); do grep -q '^PORT ' "$work/model.out" && break; sleep 0.1; done
port=$(awk '/^PORT /{print $2; exit}' "$work/model.out")
[ -n "$port" ] || fail "the loopback model did not start"
mkdir -p "$work/p/.tactus"
cat >"$work/p/.tactus/config.yml" <<YML
models:
  sentiment:
    allow_hosts: ["127.0.0.1"]
    headers: { Authorization: "Bearer \${secret:MODEL_CREDENTIAL}" }
YML
export XDG_CONFIG_HOME=$work/xdg # trusted.json of this test only
"$tactus" trust "$work/p" >/dev/null || fail "tactus trust $work/p"
cat >"$work/p/m.tac" <<TAC
Model "sentiment" { type = "http", endpoint = "http://127.0.0.1:$port/predict" }
Model "elsewhere" { type = "http", endpoint = "http://192.0.2.1:$port/predict" }
Procedure {
  input = {which = field.string{default = "sentiment"}},
  function(input)
    local r = Model(input.which)({text = "I love this"})
    return r.output
  end,
}
TAC
secret=model-credential-7f3a9c
out=$(MODEL_CREDENTIAL=$secret "$tactus" run --no-sandbox --json "$work/p/m.tac" 2>"$work/err")
echo "$out" | grep -q '"label":"positive"' || fail "no prediction: $out $(cat "$work/err")"
echo "$out" | grep -q '"echo":"Bearer \[REDACTED\]"' || fail "the echoed credential was not redacted: $out"
echo "$out" | grep -q "$secret" && fail "the credential reached the runtime's result"
out=$(MODEL_CREDENTIAL=$secret "$tactus" run --no-sandbox --json "$work/p/m.tac" --input which=elsewhere 2>/dev/null)
echo "$out" | grep -q 'ToolNotAllowed.*192.0.2.1.*allow_hosts' || fail "a model on another host was not refused: $out"
echo "model-http: prediction through the broker, credential redacted, other hosts refused"
