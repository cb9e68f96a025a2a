#!/usr/bin/env bash
# A misbehaving MCP server over Streamable HTTP (misbehave_http.py), as a
# user's configuration would declare it: each misbehaviour is a typed error
# in the run at the call's line, nothing of it reaches the run but that
# error; a redirect is never followed (it could leave the configured host:
# the planted listener it points at gets no connection); an event stream is
# read (progress, then the response).
# Its headers carry a ${secret:...}: the server gets it, the run sees it
# redacted (headers).
#   http.sh TACTUS CASE     CASE: redirect hang oversize malformed status500 sse headers
source "$(dirname "$0")/lib.sh"
case_=${2:?case}

# The listener a redirect points at: records every connection it gets.
conns=$work/connections
"$python" -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    open(sys.argv[1], "ab").write(b"CONNECTION\n")
    c.close()
' "$conns" >"$work/listener.port" 2>/dev/null &
pids_to_stop+=($!)
for _ in $(seq 50); do [ -s "$work/listener.port" ] && break; sleep 0.1; done
lport=$(cat "$work/listener.port")
MCP_LOG=$work/server-log.jsonl "$python" "$here/misbehave_http.py" "$case_" \
    "http://127.0.0.1:$lport/elsewhere" >"$work/server.port" 2>"$work/server.err" &
pids_to_stop+=($!)
for _ in $(seq 50); do [ -s "$work/server.port" ] && break; sleep 0.1; done
sport=$(cat "$work/server.port")
[ -n "$sport" ] && [ -n "$lport" ] || fail "the test servers did not start"
export MCP_HTTP_TOKEN=tok-http-header-secret-0005
cat >"$config" <<YML
mcp_servers:
  bad:
    url: "http://127.0.0.1:$sport/mcp"
    allow_hosts: ["127.0.0.1"]
    headers: { Authorization: "Bearer \${secret:MCP_HTTP_TOKEN}" }
    timeout: 2
    max_message: 1m
YML
printf 'Procedure {\n  function()\n    local r = mcp.bad.echo({text = "hello"}); return r\n  end\n}\n' >"$proj/p.tac"
started=$(date +%s%N)
t run --no-sandbox p.tac --json --verbose --timeout 30
ms=$(( ($(date +%s%N) - started) / 1000000 ))
error_is() {
    [ "$(json 'd["status"]')" = failed ] || fail "the run did not fail"
    json 'd["error"]["message"]' | grep -qF -- "$1" || fail "the error is not $1: $(json 'd["error"]["message"]')"
    [ "$(json 'd["error"]["line"]')" = 3 ] || fail "the error is not at the call's line"
}
case $case_ in
redirect)
    error_is "McpHttpError: MCP server bad at http://127.0.0.1:$sport/mcp answered HTTP 307"
    [ ! -s "$conns" ] || fail "the redirect was followed"
    ;;
hang)
    error_is "Timeout: MCP server bad did not answer within 2.0 s"
    [ "$ms" -lt 10000 ] || fail "the timeout took $ms ms"
    grep -q '"notifications/cancelled"' "$work/server-log.jsonl" || fail "the call was not cancelled at the server"
    ;;
oversize)
    error_is "McpResultTooLarge: MCP server bad sent a message over 1048576 bytes"
    [ "$(stat -c %s "$work/out")" -lt 100000 ] || fail "the oversize answer reached the run"
    ;;
malformed)
    error_is "McpProtocolError: MCP server bad sent malformed JSON"
    ;;
status500)
    error_is "McpHttpError: MCP server bad at http://127.0.0.1:$sport/mcp answered HTTP 500: internal error"
    ;;
headers)
    # The header's secret reaches the server, and nothing else.
    grep -qF "Authorization: Bearer $MCP_HTTP_TOKEN" "$work/server-log.jsonl" || fail "the server did not get its header"
    [ "$(json 'd["output"]')" = "you sent Bearer [REDACTED]" ] || fail "the echoed header: $(json 'd["output"]')"
    ! grep -rqF -- "$MCP_HTTP_TOKEN" "$work/out" "$work/err" "$work/data" || fail "the header's secret leaked"
    ;;
sse)
    [ "$(json 'd["output"]')" = hello ] || fail "the response after an event stream: $(cat "$work/out")"
    err_has "progress: bad.echo 1/1: halfway"
    ;;
*) fail "unknown case $case_" ;;
esac
note "ok"
