-- checkpoint.tac: a checkpointed function with a side effect, then a human
-- request (durable test 4). The function must run exactly once across the
-- suspend and the resume.
Procedure {
  output = {
    quote = field.number{required = true},
    appended = field.integer{required = true},
    approved = field.boolean{required = true},
  },
  function(input)
    local q = Step.checkpoint(function()
      Log.info("CHECKPOINT-FUNCTION-RAN")
      local r = Host.call("host.append_line", {text = "inside the checkpoint"})
      local t = os.time()
      return {quote = 42.5, index = r.index, at = t}
    end)
    local ok = Human.approve({message = "Use quote " .. q.quote .. "?"})
    local after = Host.call("host.append_line", {text = "after the approval"})
    return {quote = q.quote, appended = after.index, approved = ok}
  end,
}
