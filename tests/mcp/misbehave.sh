#!/usr/bin/env bash
# A misbehaving MCP server (misbehave.py), as a user's configuration would
# declare it: each misbehaviour is a typed error in the run, at the call's
# line, nothing of the server's reaches the run but that error, and no
# process of the server is left behind (no zombie, no grandchild).
#   misbehave.sh TACTUS CASE
# CASE: malformed oversize hang crash version changing paginate pinger spawner
#       interrupt (Ctrl-C during a call that hangs: cancelled at the server)
#       older (a server that answers an older version the client speaks)
#       lazy (a run that declares the server's tools and never calls them
#       does not start it)
#       shaped (structuredContent against the tool's own outputSchema)
source "$(dirname "$0")/lib.sh"
case_=${2:?case}
mark=tactus-mcp-misbehave-$$-$RANDOM
cat >"$config" <<YML
mcp_servers:
  bad:
    command: ["$python", "$misbehave", "$case_", "$mark"]
    env: { MCP_LOG: "$work/server-log.jsonl", COUNTER_FILE: "$work/counter" }
    timeout: 2
    max_message: 1m
YML

# call LUA: a procedure that makes the call, run to its end (--json).
call() {
    cat >"$proj/p.tac" <<TAC
Procedure {
  function()
    $1
  end
}
TAC
    t run --no-sandbox p.tac --json --timeout 30
}
error_is() {
    [ "$(json 'd["status"]')" = failed ] || fail "the run did not fail"
    json 'd["error"]["message"]' | grep -qF -- "$1" || fail "the error is not $1: $(json 'd["error"]["message"]')"
    [ "$(json 'd["error"]["line"]')" = 3 ] || fail "the error is not at the call's line"
}
no_leftovers() {
    sleep 0.3
    local left
    left=$(procs_with "$mark")
    [ -z "$left" ] || fail "processes of the server are left: $(ps -o pid,stat,args -p "${left//$'\n'/,}")"
}

case $case_ in
malformed)
    call 'local r = mcp.bad.echo({text = "x"}); return r'
    error_is "McpProtocolError: MCP server bad sent malformed JSON"
    ;;
oversize)
    call 'local r = mcp.bad.echo({text = "x"}); return r'
    error_is "McpResultTooLarge: MCP server bad sent a message over 1048576 bytes"
    [ "$(stat -c %s "$work/out")" -lt 100000 ] || fail "the oversize answer reached the run"
    ;;
hang)
    started=$(date +%s%N)
    call 'local r = mcp.bad.echo({text = "x"}); return r'
    ms=$(( ($(date +%s%N) - started) / 1000000 ))
    error_is "Timeout: MCP server bad did not answer within 2.0 s"
    [ "$ms" -lt 8000 ] || fail "the timeout took $ms ms"
    grep -q '"notifications/cancelled"' "$work/server-log.jsonl" || fail "the call was not cancelled at the server"
    ;;
crash)
    # During the run (a Sleep after the crash), the crashed server is no
    # zombie of tactus.
    cat >"$proj/p.tac" <<'TAC'
Procedure {
  function()
    local ok, err = pcall(mcp.bad.echo, {text = "x"})
    Sleep(2)
    error(err, 0)
  end
}
TAC
    (cd "$proj" && exec "$tactus" run --no-sandbox p.tac --json) >"$work/out" 2>"$work/err" &
    run_pid=$!
    sleep 1.2
    zombies=$(ps -o pid=,stat= --ppid "$run_pid" | awk '$2 ~ /^Z/')
    wait "$run_pid"
    rc=$?
    [ -z "$zombies" ] || fail "a zombie child of tactus during the run: $zombies"
    [ "$(json 'd["status"]')" = failed ] || fail "the run did not fail"
    json 'd["error"]["message"]' | grep -qF "McpServerExited: MCP server bad ended during the call: it exited with status 3; its stderr: misbehave: crashing" ||
        fail "the crash's error: $(json 'd["error"]["message"]')"
    ;;
interrupt)
    printf 'Procedure {\n  function()\n    local r = mcp.bad.echo({text = "x"}); return r\n  end\n}\n' >"$proj/p.tac"
    (cd "$proj" && exec "$tactus" run --no-sandbox p.tac --json) >"$work/out" 2>"$work/err" </dev/null &
    run_pid=$!
    for _ in $(seq 50); do grep -q '"tools/call"' "$work/server-log.jsonl" 2>/dev/null && break; sleep 0.05; done
    grep -q '"tools/call"' "$work/server-log.jsonl" || fail "the call did not reach the server"
    kill -INT "$run_pid"
    wait "$run_pid"
    rc=$?
    expect_rc 1 "an interrupted run"
    json 'd["error"]["message"]' | grep -qF "interrupted" || fail "the run's error: $(json 'd["error"]["message"]')"
    grep '"notifications/cancelled"' "$work/server-log.jsonl" | grep -q '"reason": "the run was interrupted"' ||
        fail "the interrupted call was not cancelled at the server"
    ;;
older)
    call 'return mcp.bad.echo({text = "old"})'
    [ "$(json 'd["output"]')" = old ] || fail "a call to a 2024-11-05 server"
    t mcp list
    expect_rc 0 "mcp list of a 2024-11-05 server"
    out_has "bad: started (protocol 2024-11-05"
    ;;
lazy)
    cat >"$proj/p.tac" <<'TAC'
local bad = Toolset { use = "mcp.bad" }
helper = Agent { model = "openai/gpt-4o-mini", tools = {bad} }
Procedure { function(input) if input.go then return helper({message = "x"}).output end return "unused" end }
TAC
    t run --no-sandbox p.tac --json
    [ "$(json 'd["output"]')" = unused ] || fail "the run that does not use the server"
    [ ! -e "$work/server-log.jsonl" ] || fail "the server was started by a run that never used it"
    call 'local a = mcp.bad.echo({text = "one"}); local b = mcp.bad.echo({text = "two"}); return a .. b'
    [ "$(json 'd["output"]')" = onetwo ] || fail "two calls"
    [ "$(grep -c '"initialize"' "$work/server-log.jsonl")" = 1 ] || fail "the server was started more than once in a run"
    ;;
shaped)
    call 'return mcp.bad.shaped({how = "ok"})'
    [ "$(json 'd["output"]["n"]')" = 1 ] || fail "a result that fits its outputSchema"
    for how in missing absent wrong; do
        call "local r = mcp.bad.shaped({how = \"$how\"}); return r"
        case $how in
        missing) error_is "McpProtocolError: MCP tool bad.shaped answered against its own schema: it declares an outputSchema but sent no structuredContent" ;;
        absent) error_is "its structuredContent lacks 'n', which its outputSchema requires" ;;
        wrong) error_is "its structuredContent's 'n' is not of type number" ;;
        esac
    done
    ;;
version)
    call 'local r = mcp.bad.echo({text = "x"}); return r'
    error_is "McpVersionError: MCP server bad speaks protocol version 1999-01-01, which tactus does not"
    ! grep -q '"tools/' "$work/server-log.jsonl" || fail "a request went on after the version was refused"
    ;;
changing)
    call 'local a = mcp.bad.echo({text = "one"}); local b = mcp.bad.echo({text = "two"}); return b'
    error_is "McpToolsChanged: MCP server bad changed its tools during the run: echo has another input schema now"
    [ "$(grep -c '"tools/call"' "$work/server-log.jsonl")" = 1 ] || fail "the second call reached the server"
    ;;
paginate)
    call 'return {echo = mcp.bad.echo({text = "paged"}), n = #(Toolset { use = "mcp.bad" }).tools}'
    [ "$(json 'd["status"]')" = completed ] || fail "the run failed"
    [ "$(json 'd["output"]["n"]')" = 5 ] || fail "tools over five pages: $(json 'd["output"]["n"]')"
    [ "$(grep -c '"tools/list"' "$work/server-log.jsonl")" = 5 ] || fail "five pages asked"
    ;;
pinger)
    call 'return mcp.bad.echo({text = "pong"})'
    [ "$(json 'd["output"]')" = pong ] || fail "the server's ping was not answered"
    ;;
spawner)
    call 'local r = mcp.bad.echo({text = "x"}); return r'
    [ "$(json 'd["output"]')" = x ] || fail "the spawner's call"
    ;;
*) fail "unknown case $case_" ;;
esac
no_leftovers
note "ok"
