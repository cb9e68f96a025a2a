-- chaos.tac: five journaled effects (tests/pg/chaos.sh): a model call, a host
-- tool, an approval, a model call, a host tool. The output is known from n.
Procedure {
  input = {n = field.number{required = true}},
  output = {
    n = field.number{required = true},
    first = field.string{required = true},
    second = field.string{required = true},
    approved = field.boolean{required = true},
  },
  function(input)
    local a = Agent { model = "fake/echo", system_prompt = "Echo." }
    local r1 = a({message = "first " .. input.n})
    Host.call("host.append_key", {step = 1})
    local ok = Human.approve({message = "Approve run " .. input.n .. "?"})
    local r2 = a({message = "second " .. input.n})
    Host.call("host.append_key", {step = 2})
    return {n = input.n, first = r1.output, second = r2.output, approved = ok}
  end,
}
