-- answers.tac: two requests, answered by two people, and a third left to
-- time out (durable test "answers": who decided, and when).
Procedure {
  output = {approved = field.boolean{}, name = field.string{}, late = field.boolean{}},
  function(input)
    -- A long result with multi-byte characters: `tactus show` cuts it at a
    -- character, with a visible … and the bytes left out.
    local long = Host.call("host.echo", {text = string.rep("é", 200)})
    local approved = Human.approve({message = "Ship it?"})
    local name = Human.input({message = "Release name?"})
    local late = Human.approve({message = "Answer within a second?", timeout = 1, default = false})
    return {approved = approved, name = name, late = late}
  end,
}
