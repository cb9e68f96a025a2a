#!/usr/bin/env bash
# tactus mcp serve: procedures as MCP tools, each call a journaled run,
# over stdio and Streamable HTTP, with a client of our own (serve_client.py,
# the spec's wire format by hand) and the official TypeScript SDK's client.
#   serve.sh TACTUS stdio|http|sdk-stdio|sdk-http
source "$(dirname "$0")/lib.sh"
case_=${2:?case}
cat >"$proj/greet.tac" <<'TAC'
Procedure {
  description = "Greets a person by name",
  input = { name = field.string{required = true, description = "who to greet"}, times = field.integer{default = 1} },
  output = { greeting = field.string{required = true} },
  function(input)
    return {greeting = string.rep("Hello, " .. input.name .. "! ", input.times)}
  end
}
TAC
cat >"$proj/deploy.tac" <<'TAC'
Procedure {
  input = { service = field.string{required = true} },
  function(input)
    local ok = Human.approve({message = "Deploy " .. input.service .. "?"})
    return ok and ("deployed " .. input.service) or "not deployed"
  end
}
TAC
cat >"$proj/other.tac" <<'TAC'
Procedure { function() return Human.approve({message = "Other?"}) and "other done" or "no" end }
TAC
case $case_ in
stdio | http)
    "$python" "$here/serve_client.py" "$case_" "$tactus" "$TACTUS_STORE" "$proj" >"$work/out" 2>"$work/err" ||
        fail "our client over $case_"
    note "$(grep -c '^ok:' "$work/out") checks of our client over $case_ passed"
    ;;
sdk-stdio)
    node "$here/npm/sdk-client.mjs" stdio "$tactus" "$TACTUS_STORE" "$proj/greet.tac" "$proj/deploy.tac" \
        >"$work/out" 2>"$work/err" || fail "the SDK's client over stdio"
    ;;
sdk-http)
    (cd "$proj" && exec "$tactus" mcp serve --no-sandbox --store "$TACTUS_STORE" --http 127.0.0.1:0 greet.tac deploy.tac) \
        >"$work/serve.out" 2>"$work/serve.err" &
    pids_to_stop+=($!)
    for _ in $(seq 100); do grep -q "^listening port" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's/^listening port //p' "$work/serve.out")
    [ -n "$port" ] || fail "tactus mcp serve --http did not listen"
    node "$here/npm/sdk-client.mjs" http "http://127.0.0.1:$port/mcp" >"$work/out" 2>"$work/err" ||
        fail "the SDK's client over HTTP"
    ;;
*) fail "unknown case $case_" ;;
esac
if [ "${case_#sdk-}" != "$case_" ]; then
    [ "$(json 'd["tools"]')" = "['deploy', 'greet', 'tactus_resume']" ] || fail "the SDK's tools/list"
    [ "$(json 'd["greet"]')" = "{'greeting': 'Hello, Grace! '}" ] || fail "the SDK's call and its structuredContent"
    [ "$(json 'd["waiting"]')" = waiting ] || fail "a waiting run through the SDK"
    [ "$(json 'd["bad"]')" = True ] || fail "a bad call through the SDK is isError"
    [ "$(json 'd["server"]["name"]')" = tactus ] || fail "serverInfo"
    note "the official SDK's client: tools, a structured result it validated, a waiting run, an error"
fi
note "ok"
