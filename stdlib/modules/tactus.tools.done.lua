-- require("tactus.tools.done"): the stdlib `done` tool (inventory A.5).
-- An agent that calls it stops its tool loop after that turn.
local field = dsl.field
return dsl.tools.declare({
  description = "Signal that the task is complete",
  input = {reason = field.string{description = "Why the task is complete"}},
  function(args)
    return {status = "completed", reason = args.reason or "Task completed", tool = "done"}
  end,
}, "done", {stdlib = true, stops_agent = true})
