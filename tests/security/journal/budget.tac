-- budget.tac: two model calls, an approval, two more (budgets.llm_calls 3).
helper = Agent { model = "openai/echo", system_prompt = "Echo." }
Procedure {
  function()
    helper({message = "one"})
    helper({message = "two"})
    Human.approve({message = "Go on?"})
    helper({message = "three"})
    helper({message = "four"})
    return {done = true}
  end,
}
