#!/usr/bin/env bash
# The reference server @modelcontextprotocol/server-everything (npm), over
# stdio or Streamable HTTP, through the broker: listing, tools with
# arguments, structured output, progress as the run's events, isError as a
# ToolError, and (HTTP) a session the server forgot, initialized again.
#   everything.sh TACTUS stdio|http
source "$(dirname "$0")/lib.sh"
transport=${2:?stdio or http}

if [ "$transport" = http ]; then
    port=$(free_port)
    start_http() {
        (cd "$work" && PORT=$port exec node "$everything" streamableHttp) >>"$work/server.log" 2>&1 &
        server_pid=$!
        pids_to_stop+=("$server_pid")
        wait_port "$port" || fail "server-everything did not listen on $port"
    }
    start_http
    cat >"$config" <<YML
mcp_servers:
  everything:
    url: "http://127.0.0.1:$port/mcp"
    allow_hosts: ["127.0.0.1"]
    timeout: 20
YML
else
    cat >"$config" <<YML
mcp_servers:
  everything:
    command: ["node", "$everything", "stdio"]
    env: { LOG_LEVEL: "warn" }
    timeout: 20
YML
fi

# tactus mcp list: the server's tools, named SERVER_TOOL.
t mcp list
expect_rc 0 "mcp list"
out_has "everything: started (protocol 2025-11-25"
out_has "everything_get-sum"
out_has "everything_trigger-long-running-operation"
t mcp list --json
expect_rc 0 "mcp list --json"
[ "$(json 'd[0]["status"]')" = started ] || fail "mcp list --json: not started"

# tactus mcp call: arguments in, the text out; an isError result fails.
t mcp call everything get-sum --args '{"a": 2, "b": 40}'
expect_rc 0 "mcp call get-sum"
out_has "The sum of 2 and 40 is 42."
t mcp call everything get-sum --args '{"a": "two"}'
expect_rc 1 "mcp call with bad arguments"
err_has "ToolError: MCP tool everything.get-sum failed"
err_has "Input validation error"

# A procedure: arguments, structured output (an object), progress, errors.
cat >"$proj/use.tac" <<'TAC'
Procedure {
  output = { sum = field.string{}, weather = field.object{}, long = field.string{}, error = field.string{} },
  function()
    local sum = mcp.everything["get-sum"]({a = 1.5, b = 2})
    local weather = mcp.everything["get-structured-content"]({location = "Chicago"})
    local long = mcp.everything["trigger-long-running-operation"]({duration = 1, steps = 3})
    local ok, err = pcall(mcp.everything["get-sum"], {a = "x", b = 1})
    return {sum = sum, weather = weather, long = long, error = tostring(err)}
  end
}
TAC
t run --no-sandbox use.tac --json --verbose
expect_rc 0 "run use.tac"
[ "$(json 'd["output"]["sum"]')" = "The sum of 1.5 and 2 is 3.5." ] || fail "get-sum's text"
[ "$(json 'sorted(d["output"]["weather"])')" = "['conditions', 'humidity', 'temperature']" ] ||
    fail "get-structured-content: its structuredContent as a table"
json 'd["output"]["long"]' | grep -q "Long running operation completed" || fail "the long operation"
json 'd["output"]["error"]' | grep -q "ToolError: MCP tool everything.get-sum failed" || fail "isError as ToolError"
err_has "progress: everything.trigger-long-running-operation 1/3"
err_has "progress: everything.trigger-long-running-operation 3/3"
[ "$(json 'd["usage"]["tool_calls"]')" = 4 ] || fail "four tool calls counted"
note "tools with arguments, structured output, progress and errors over $transport"

if [ "$transport" = http ]; then
    # The server restarts between two calls of one run: our session is
    # unknown to the new one (HTTP 404), and the client initializes again.
    cat >"$proj/session.tac" <<'TAC'
Procedure {
  function()
    local a = mcp.everything.echo({message = "before"})
    Sleep(6)
    local b = mcp.everything.echo({message = "after"})
    return a .. " / " .. b
  end
}
TAC
    (cd "$proj" && "$tactus" run --no-sandbox session.tac --json) >"$work/out" 2>"$work/err" &
    run_pid=$!
    # The first call done (its audit record), the server restarts while the
    # run sleeps: not a fixed delay, which a loaded machine can outlast.
    for _ in $(seq 200); do
        grep -qs '"tool":"mcp.everything.echo"' "$work/data/audit.jsonl" && break
        sleep 0.05
    done
    grep -qs '"tool":"mcp.everything.echo"' "$work/data/audit.jsonl" || fail "the first call was not made in 10 s"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null
    start_http
    wait "$run_pid"
    rc=$?
    expect_rc 0 "a run across a server restart"
    [ "$(json 'd["output"]')" = "Echo: before / Echo: after" ] || fail "the second call after re-initialization"
    note "an expired session is initialized again"
fi
note "ok"
