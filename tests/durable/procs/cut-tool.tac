-- cut-tool.tac: one host tool that is still running when the worker's
-- grace period ends (durable test drain-cut): the call is cut, not
-- recorded, and made again by the worker that resumes the run.
Procedure {
  input = {name = field.string{default = "t"}},
  function(input)
    local r = Host.call("host.slow_key", {name = input.name})
    return input.name .. " " .. r.key
  end,
}
