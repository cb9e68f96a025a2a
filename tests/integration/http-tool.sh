#!/usr/bin/env bash
# Host HTTP tools: the credential is a secret reference resolved only in the
# broker; the host must be allow-listed; a careless API that echoes the
# credential back cannot leak it to the runtime.
#   http-tool.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "http-tool: FAIL: $*" >&2; exit 1; }

# A loopback API that answers every request with what it received,
# headers included (the careless kind), and records it.
cat > "$work/api.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        rec = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        open(sys.argv[1], "a").write(json.dumps(rec) + "\n")
        out = json.dumps({"you_sent": rec}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    do_GET = do_POST = answer
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("PORT", s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/api.py" "$work/requests.jsonl" > "$work/api.out" 2>&1 &
srv_pid=$!
for _ in $(seq 1 50); do grep -q '^PORT ' "$work/api.out" && break; sleep 0.1; done
port=$(awk '/^PORT /{print $2; exit}' "$work/api.out")
[ -n "$port" ] || fail "the loopback API did not start"

proj=$work/proj
mkdir -p "$proj/.tactus"
cat > "$proj/.tactus/config.yml" <<YML
host_tools:
  weather:
    http:
      method: GET
      url: "http://127.0.0.1:$port/v1/weather?city={city}"
      headers: { Authorization: "Bearer \${secret:WEATHER_CREDENTIAL}" }
      allow_hosts: ["127.0.0.1"]
    timeout: 5
  elsewhere:
    http:
      url: "http://{host}:$port/x"
      allow_hosts: ["127.0.0.1"]
  nokey:
    http:
      url: "http://127.0.0.1:$port/y"
      headers: { X-Key: "\${secret:NOT_SET_ANYWHERE}" }
      allow_hosts: ["127.0.0.1"]
YML
export XDG_CONFIG_HOME=$work/xdg # trusted.json of this test only
"$tactus" trust "$proj" >/dev/null || fail "tactus trust $proj"
cat > "$proj/p.tac" <<'TAC'
Procedure { function()
    local r = Host.call("host.weather", {city = "Den Haag"})
    local ok1, e1 = pcall(Host.call, "host.elsewhere", {host = "localhost"})
    local ok2, e2 = pcall(Host.call, "host.nokey", {})
    return {status = r.status, path = r.body.you_sent.path,
            auth = r.body.you_sent.headers.Authorization,
            elsewhere = tostring(e1), nokey = tostring(e2)}
end }
TAC
secret="weather-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
out=$(WEATHER_CREDENTIAL=$secret TACTUS_STORE=$work/store/j.db "$tactus" run --no-sandbox --json "$proj/p.tac" 2>"$work/err")
echo "$out" | grep -q '"status":"completed"' || fail "run: $out $(cat "$work/err")"
get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['output'][sys.argv[2]])" "$out" "$1"; }
[ "$(get status)" = 200 ] || fail "status: $out"
[ "$(get path)" = "/v1/weather?city=Den%20Haag" ] || fail "the argument was not URL-encoded: $(get path)"
[ "$(get auth)" = "Bearer [REDACTED]" ] || fail "the echoed credential reached the runtime: $(get auth)"
grep -q "Bearer $secret" "$work/requests.jsonl" || fail "the API did not receive the credential"
get elsewhere | grep -q "not in allow_hosts" || fail "a host outside allow_hosts was called: $(get elsewhere)"
get nokey | grep -q "secret NOT_SET_ANYWHERE is not set on the host" || fail "missing secret: $(get nokey)"
grep -c . "$work/requests.jsonl" | grep -qx 1 || fail "the denied calls reached the network"
leaks=$(grep -rl --binary-files=text "$secret" "$work" | grep -v -e requests.jsonl -e api.out || true)
[ -z "$leaks" ] || fail "the credential leaked into: $leaks"
echo "http-tool: ok (credential resolved in the broker only, redacted from the echo; allow-list and missing-secret refusals)"
