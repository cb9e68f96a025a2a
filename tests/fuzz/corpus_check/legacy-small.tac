-- v0.10 forms: TAC901 on each, and one code action rewriting them all
agent("greeter", { provider = "openai", system_prompt = "Greet {input.name}." })

main = procedure("main", {
  params = { name = {type = "string", default = "World"} },
}, function()
  return Greeter.turn().output
end)

stages("greeting", "done")
