-- A file with nothing to report.
local done = require("tactus.tools.done")

greeter = Agent {
    model = "openai/gpt-4o-mini",
    system_prompt = "Greet {input.name} warmly.",
    tools = {done},
}

Procedure {
    input = {name = field.string{required = true}},
    output = {greeting = field.string{required = true}},
    function(input)
        local r = greeter({message = "Say hello to " .. input.name})
        return {greeting = r.output}
    end,
}

Specifications([[
Feature: Greeting
  Scenario: greets by name
    Given the input name is "Ada"
    And the agent "greeter" responds with "Hello, Ada!"
    When the procedure runs
    Then the output greeting should be "Hello, Ada!"
]])
