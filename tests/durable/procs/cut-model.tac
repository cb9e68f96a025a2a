-- cut-model.tac: one model call still streaming when the worker's grace
-- period ends (durable test drain-cut): the answer is abandoned, not
-- recorded, and asked again by the worker that resumes the run.
Procedure {
  function(input)
    local a = Agent { model = "fake/slow", system_prompt = "Echo." }
    local r = a({message = "one two three four five six seven eight nine ten eleven twelve"})
    return r.output
  end,
}
