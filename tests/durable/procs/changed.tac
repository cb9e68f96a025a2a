-- changed.tac: a model call, a tool call and a human request (durable test
-- 5). The test edits one of them between the suspend and the resume.
local done = require("tactus.tools.done")

summarizer = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Summarize the incident politely.",
  tools = {done},
  max_turns = 2,
}

Procedure {
  output = {
    published = field.boolean{required = true},
  },
  function(input)
    summarizer({message = "Summarize incident 42."})
    Host.call("host.echo", {channel = "ops-v1"})
    local ok = Human.approve({message = "Publish the summary to ops-v1?"})
    return {published = ok}
  end,
}
