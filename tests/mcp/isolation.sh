#!/usr/bin/env bash
# Isolation, as attacks a user could write (a .tac file, a configuration):
#   env       a server sees exactly its declared environment: none of the
#             host's keys; a ${secret:...} it is given reaches it, and is
#             redacted from what it sends back; one on its command line is
#             refused
#   limits    its own process group, rlimits, a private working folder that
#             is removed when it stops
#   denied    a tool the host excluded is never sent to the server, whatever
#             the procedure does
#   approval  a tool under requires_approval runs exactly once after a
#             person approves it, across the restart of a resume; never when
#             denied; never outside a journaled run; a misspelt or misshapen
#             requires_approval or tools filter starts nothing
#   sandbox   a procedure in the Docker sandbox reaches the server only
#             through the broker (the server is the host's child)
#   docker    isolate: docker: the server in its own container (a local image, never pulled), no network,
#             read-only root, no capabilities, only its declared variables
#   secrets   a server given a ${secret:...} says it everywhere it can (its
#             tools' descriptions, progress, a result, an isError text, its
#             stderr as it crashes) to a procedure in the Docker sandbox:
#             the value reaches neither the sandbox (its container's
#             configuration) nor the run, the journal, the audit log, the
#             terminal, `tactus mcp list` or the cache of `mcp refresh`
#   isolation.sh TACTUS CASE
source "$(dirname "$0")/lib.sh"
case_=${2:?case}
export OPENAI_API_KEY=sk-host-key-that-no-server-may-see-0001
export ANTHROPIC_API_KEY=sk-ant-host-key-no-server-may-see-0002
export AWS_SECRET_ACCESS_KEY=aws-host-secret-no-server-may-see-0003
export MCP_TEST_TOKEN=tok-given-to-the-server-only-0004

run_tac() { # run_tac LUA [run options]: a procedure around LUA, run with --json
    local body=$1
    shift
    printf 'Procedure {\n  function()\n    %s\n  end\n}\n' "$body" >"$proj/p.tac"
    t run p.tac --json "$@"
}

# The static echo server (tests/mcp/echo_server.c) in an image FROM
# scratch, as $image; removed with its containers at the end.
echo_image() {
    image=tactus-mcp-echo-test:$$
    mkdir -p "$work/image"
    cp "$(dirname "$tactus")/mcp-echo-server" "$work/image/server"
    printf 'FROM scratch\nCOPY server /server\nENTRYPOINT ["/server"]\n' >"$work/image/Dockerfile"
    docker build -q -t "$image" --label tactus.test=mcp "$work/image" >/dev/null || fail "docker build of the test server image"
    trap 'docker rm -f $(docker ps -aq --filter ancestor='"$image"') >/dev/null 2>&1; docker rmi -f '"$image"' >/dev/null 2>&1; cleanup' EXIT
}

case $case_ in
env)
    cat >"$config" <<YML
mcp_servers:
  everything:
    command: ["node", "$everything", "stdio"]
    env: { LOG_LEVEL: "warn", TOKEN: "\${secret:MCP_TEST_TOKEN}" }
YML
    run_tac 'local e = mcp.everything["get-env"]({}); return e' --no-sandbox
    expect_rc 0 "get-env"
    keys=$(json 'sorted(json.loads(d["output"]).keys())')
    [ "$keys" = "['LOG_LEVEL', 'TOKEN']" ] || fail "the server's environment is not exactly its declared one: $keys"
    [ "$(json 'json.loads(d["output"])["TOKEN"]')" = "[REDACTED]" ] ||
        fail "the secret the server echoed reached the run"
    for k in "$OPENAI_API_KEY" "$ANTHROPIC_API_KEY" "$AWS_SECRET_ACCESS_KEY" "$MCP_TEST_TOKEN"; do
        ! grep -rqF -- "$k" "$work/out" "$work/err" "$work/data" || fail "a key leaked into the run's output, journal or audit log"
    done
    note "exactly its declared environment; the secret it was given is redacted from what it says"
    # A secret on its command line (readable by any process) is refused.
    cat >"$config" <<YML
mcp_servers:
  everything:
    command: ["node", "$everything", "stdio", "--token=\${secret:MCP_TEST_TOKEN}"]
YML
    run_tac 'return mcp.everything.echo({message = "x"})' --no-sandbox
    expect_rc 1 "a secret on a server's command line"
    json 'd["error"]["message"]' | grep -qF 'mcp_servers.everything: a ${secret:...} in command or args' ||
        fail "the refusal: $(json 'd["error"]["message"]')"
    ! grep -rqF -- "$MCP_TEST_TOKEN" "$work/out" "$work/err" "$work/data" || fail "the refused secret leaked"
    note "a secret on a command line is refused"
    ;;
limits)
    cat >"$config" <<YML
mcp_servers:
  good:
    command: ["$python", "$misbehave", "good"]
    limits: { memory: 2g, files: 64, file_size: 10m }
YML
    run_tac 'local f = mcp.good.facts({}); return f' --no-sandbox
    expect_rc 0 "facts"
    [ "$(json 'd["output"]["pid"] == d["output"]["pgid"]')" = True ] || fail "not its own process group"
    [ "$(json 'd["output"]["rlimit_as"]')" = $((2 << 30)) ] || fail "RLIMIT_AS"
    [ "$(json 'd["output"]["rlimit_nofile"]')" = 64 ] || fail "RLIMIT_NOFILE"
    [ "$(json 'd["output"]["rlimit_fsize"]')" = $((10 << 20)) ] || fail "RLIMIT_FSIZE"
    cwd=$(json 'd["output"]["cwd"]')
    case $cwd in */tactus-mcp-*) ;; *) fail "its working folder is not its own: $cwd" ;; esac
    [ ! -e "$cwd" ] || fail "its working folder $cwd outlived it"
    note "own process group, rlimits, a private working folder removed at the end"
    ;;
denied)
    cat >"$config" <<YML
mcp_servers:
  good:
    command: ["$python", "$misbehave", "good"]
    env: { MCP_LOG: "$work/server-log.jsonl", COUNTER_FILE: "$work/counter" }
    tools: { exclude: [append] }
YML
    run_tac 'local ok1, e1 = pcall(mcp.good.append, {line = "1"})
    local ts = Toolset { use = "mcp.good" }
    local names = {}
    for _, t in ipairs(ts.tools) do names[#names + 1] = t.name end
    local ok2, e2 = pcall(function() return Tool.get("good_append")({line = "2"}) end)
    return {e1 = tostring(e1), names = table.concat(names, ","), e2 = tostring(e2)}' --no-sandbox
    expect_rc 0 "denied"
    json 'd["output"]["e1"]' | grep -q "ToolNotAllowed: MCP tool append of server good is not allowed" || fail "the excluded tool was not refused"
    json 'd["output"]["names"]' | grep -q "good_append" && fail "the excluded tool was listed to the run"
    ! grep -q '"append"' "$work/server-log.jsonl" || fail "the excluded tool reached the server"
    [ ! -e "$work/counter" ] || fail "the excluded tool ran"
    note "an excluded tool is neither listed nor sent"
    # Grants are per agent, deny by default: an agent not given the
    # server's toolset cannot call its tools, whatever its model asks.
    cat >"$proj/agent.tac" <<'TAC'
local good = Toolset { use = "mcp.good" }
local done = require("tactus.tools.done")
granted = Agent { model = "mock/granted", tools = {good, done} }
other = Agent { model = "mock/other", tools = {done} }
Mocks {
  granted = { tool_calls = {{tool = "good_echo", args = {text = "granted"}}, {tool = "done", args = {}}}, message = "ok" },
  other = { tool_calls = {{tool = "good_echo", args = {text = "not granted"}}, {tool = "good_facts", args = {}},
                          {tool = "done", args = {}}}, message = "ok" },
}
Procedure { function()
  local g = granted({message = "go"})
  local o = other({message = "go"})
  return {g = g.tool_calls, o = o.tool_calls}
end }
TAC
    : >"$work/server-log.jsonl"
    t run --no-sandbox agent.tac --json
    expect_rc 0 "agents with and without the server's tools"
    [ "$(json 'd["output"]["g"][0]["result"]')" = granted ] || fail "the granted agent's call"
    json 'd["output"]["o"][0]["error"]' | grep -q "is not available to this agent" || fail "the other agent's call was not refused"
    json 'd["output"]["o"][1]["error"]' | grep -q "is not available to this agent" || fail "the other agent's second call was not refused"
    [ "$(grep -c '"tools/call"' "$work/server-log.jsonl")" = 1 ] || fail "a call of an agent without the grant reached the server"
    ! grep -q '"not granted"' "$work/server-log.jsonl" || fail "the ungranted call's arguments reached the server"
    note "an agent without the server's toolset cannot call its tools"
    ;;
approval)
    cat >"$config" <<YML
mcp_servers:
  pay:
    command: ["$python", "$misbehave", "good"]
    env: { COUNTER_FILE: "$work/counter" }
    requires_approval: [append]
YML
    run_tac 'local a = mcp.pay.append({line = "pay invoice 42"}); return a' --no-sandbox
    expect_rc 3 "a gated call waits"
    run=$(json 'd["run_id"]')
    [ ! -e "$work/counter" ] || fail "the tool ran before the approval"
    t approvals show "$run.0"
    out_has 'Allow MCP tool pay.append with {"line":"pay invoice 42"}?'
    t approve "$run" 0
    expect_rc 0 "approve"
    t resume "$run" --no-sandbox --json
    expect_rc 0 "resume after approval"
    [ "$(wc -l <"$work/counter")" = 1 ] || fail "the approved tool did not run exactly once"
    t resume "$run" --no-sandbox --json
    [ "$(wc -l <"$work/counter")" = 1 ] || fail "a second resume ran the tool again"
    # denied: never runs
    run_tac 'local a = mcp.pay.append({line = "pay invoice 43"}); return a' --no-sandbox
    run=$(json 'd["run_id"]')
    t approve "$run" 0 --deny
    t resume "$run" --no-sandbox --json
    expect_rc 1 "resume after a denial"
    json 'd["error"]["message"]' | grep -q "ToolDenied" || fail "the denial is not ToolDenied"
    [ "$(wc -l <"$work/counter")" = 1 ] || fail "a denied tool ran"
    # an approved call's arguments cannot change on the way
    run_tac 'local a = mcp.pay.append({line = "pay invoice 44"}); return a' --no-sandbox
    run=$(json 'd["run_id"]')
    t approve "$run" 0
    sed -i 's/invoice 44/invoice 99999/' "$proj/p.tac"
    t resume "$run" --no-sandbox --allow-changed-source --json
    expect_rc 1 "an approval applied to other arguments"
    [ "$(wc -l <"$work/counter")" = 1 ] || fail "a changed call ran on an approval of another"
    # outside a journaled run (tactus mcp call) it is refused
    t mcp call pay append --args '{"line": "x"}'
    expect_rc 1 "mcp call of a gated tool"
    err_has "requires approval, which only a journaled run can ask for"
    [ "$(wc -l <"$work/counter")" = 1 ] || fail "mcp call ran a gated tool"
    note "approved: exactly once across the resume; denied or changed: never"
    # A gate or a filter that is misspelt or misshapen would hold nothing
    # back: the server is not started and the tool never runs.
    for decl in "requires_aproval: [append]|requires_aproval is not a key of it (did you mean requires_approval?)" \
        "requires_approval: append|requires_approval takes true (every tool) or a list of tool names" \
        "tools: { exclude: append }|tools.exclude takes a list of tool names" \
        "tools: { exlude: [append] }|tools.exlude is not a key of it (did you mean exclude?)"; do
        cat >"$config" <<YML
mcp_servers:
  pay:
    command: ["$python", "$misbehave", "good"]
    env: { COUNTER_FILE: "$work/counter", MCP_LOG: "$work/misdeclared.jsonl" }
    ${decl%%|*}
YML
        run_tac 'local a = mcp.pay.append({line = "pay invoice 45"}); return a' --no-sandbox
        expect_rc 1 "a misdeclared server (${decl%%|*})"
        json 'd["error"]["message"]' | grep -qF -- "mcp_servers.pay.${decl#*|}" ||
            fail "${decl%%|*}: $(json 'd["error"]["message"]')"
        [ ! -e "$work/misdeclared.jsonl" ] || fail "${decl%%|*}: the server was started"
        [ "$(wc -l <"$work/counter")" = 1 ] || fail "${decl%%|*}: the tool ran"
    done
    note "a misspelt or misshapen requires_approval or tools filter starts nothing"
    ;;
sandbox)
    cat >"$config" <<YML
mcp_servers:
  good:
    command: ["$python", "$misbehave", "good"]
YML
    run_tac 'local f = mcp.good.facts({}); return {pid = f.pid, env = f.env}' --timeout 120
    expect_rc 0 "a sandboxed run calling an MCP tool"
    pid=$(json 'd["output"]["pid"]')
    # The server ran on the host, a child of tactus (the broker), not in
    # the runtime's container (--network none: it could not reach one).
    [ "$(json '"OPENAI_API_KEY" in d["output"]["env"]')" = False ] || fail "the server saw the host's key"
    grep -q '"tool":"mcp.good.facts"' "$work/data/audit.jsonl" || fail "the call is not in the audit log"
    note "a procedure in the Docker sandbox reaches the server only through the broker (pid $pid on the host)"
    ;;
docker)
    echo_image
    cat >"$config" <<YML
mcp_servers:
  dock:
    isolate: docker
    image: "$image"
    env: { ECHO_VAR: "declared", TOKEN: "\${secret:MCP_TEST_TOKEN}" }
YML
    run_tac 'local e = mcp.dock.env({}); Sleep(4); return e' --no-sandbox &
    bg=$!
    sleep 2
    cid=$(docker ps -q --filter ancestor="$image")
    [ -n "$cid" ] || { wait $bg; fail "no container of the server during the run"; }
    insp=$(docker inspect -f '{{.HostConfig.NetworkMode}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.Config.User}}' "$cid")
    wait $bg
    rc=$?
    expect_rc 0 "a server under isolate: docker"
    [ "$insp" = "none true [ALL] 65534:65534" ] || fail "the container's isolation: $insp"
    json 'd["output"]' | grep -q "^ECHO_VAR=declared" || fail "its declared variable"
    json 'd["output"]' | grep -q "^TOKEN=\[REDACTED\]" || fail "its secret, redacted in what comes back"
    ! json 'd["output"]' | grep -q "OPENAI\|ANTHROPIC\|AWS_SECRET" || fail "a host key reached the container"
    sleep 1
    [ -z "$(docker ps -aq --filter ancestor="$image")" ] || fail "the server's container outlived the run"
    note "isolate: docker: no network, read-only root, no capabilities, nobody, only its variables; removed after"
    # An image that is not built here is an error, never a download.
    missing=tactus-mcp-not-built-here-$$:latest
    cat >"$config" <<YML
mcp_servers:
  dock:
    isolate: docker
    image: "$missing"
YML
    run_tac 'local e = mcp.dock.env({}); return e' --no-sandbox
    expect_rc 1 "a server whose image is not here"
    json 'd["error"]["message"]' | grep -qF "MCP server dock" || fail "the missing image's error: $(json 'd["error"]["message"]')"
    json 'd["error"]["message"]' | grep -qiF "no such image" || fail "the error does not say the image is missing: $(json 'd["error"]["message"]')"
    [ -z "$(docker images -q "$missing" 2>/dev/null)" ] || fail "an image was pulled"
    note "an image that is not built here is an error, not a pull"
    ;;
secrets)
    cat >"$config" <<YML
mcp_servers:
  leak:
    command: ["$python", "$misbehave", "leaky"]
    env: { TOKEN: "\${secret:MCP_TEST_TOKEN}" }
YML
    run_tac 'local ts = Toolset { use = "mcp.leak" }
    local descs = {}
    for _, t in ipairs(ts.tools) do descs[#descs + 1] = t.description or "" end
    local r = mcp.leak.echo({text = "x"})
    local _, e1 = pcall(mcp.leak.fail, {})
    local _, e2 = pcall(mcp.leak.crash, {})
    Sleep(3)
    return {descs = table.concat(descs, "|"), r = r, e1 = tostring(e1), e2 = tostring(e2)}' --verbose --timeout 120 &
    bg=$!
    # The runtime's container, while the run sleeps: found by its workspace.
    cid=
    for _ in $(seq 60); do
        for c in $(docker ps -q --filter name=tactus-run-); do
            docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$c" 2>/dev/null | grep -qF "$proj" && cid=$c
        done
        [ -n "$cid" ] && break
        sleep 0.1
    done
    insp=
    [ -n "$cid" ] && insp=$(docker inspect "$cid" 2>/dev/null)
    wait $bg
    rc=$?
    expect_rc 0 "a sandboxed run with a leaky server"
    [ -n "$insp" ] || fail "the run's container was not found during the run"
    [[ "$insp" != *"$MCP_TEST_TOKEN"* ]] || fail "the server's secret is in the sandbox's container"
    [ "$(json 'd["output"]["r"]["token"]')" = "[REDACTED]" ] || fail "a result's structuredContent: $(json 'd["output"]["r"]')"
    json 'd["output"]["descs"]' | grep -qF "(token [REDACTED])" || fail "the tools' descriptions"
    json 'd["output"]["e1"]' | grep -qF "failed with token [REDACTED]" || fail "an isError text: $(json 'd["output"]["e1"]')"
    json 'd["output"]["e2"]' | grep -qF "my token is [REDACTED]" || fail "a crash's stderr: $(json 'd["output"]["e2"]')"
    err_has "progress: leak.echo 1/2: using [REDACTED]"
    t mcp list
    out_has "(token [REDACTED])"
    t mcp refresh
    expect_rc 0 "mcp refresh"
    grep -qF "[REDACTED]" "$proj/.tactus/mcp-tools.json" || fail "the cache lacks the redacted descriptions"
    ! grep -rqF -- "$MCP_TEST_TOKEN" "$work/out" "$work/err" "$work/data" "$proj" ||
        fail "the server's secret leaked into output, journal, audit log or the cache"
    note "a leaky server's secret reaches neither the sandbox nor anything the run or the user sees"
    ;;
*) fail "unknown case $case_" ;;
esac
note "ok"
