-- chatty.tac - a run with many events for the remote-broker tests: logs,
-- a brokered host tool and a (mocked) agent turn through the broker.
local done = require("tactus.tools.done")

helper = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Answer briefly.",
  tools = {done},
}

Mocks {
  helper = {message = "pong from the broker", tool_calls = {{tool = "done", args = {reason = "ok"}}}},
}

Procedure {
  input = {tag = field.string{required = true}, events = field.integer{default = 20}},
  function(input)
    for i = 1, input.events do
      Log.info("event " .. i .. " of " .. input.tag)
    end
    local echo = Host.call("host.echo", {tag = input.tag})
    local r = helper({message = "ping " .. input.tag})
    return {tag = echo.echo.tag, answer = r.output}
  end,
}
