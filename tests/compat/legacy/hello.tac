-- A hello world in the style of the original README (v0.10 DSL): a
-- lowercase agent with the built-in done tool, a named main procedure with
-- plain-table schemas, the agent's capitalised global, and Tool.called.
agent("greeter", {
  provider = "openai",
  model = "done-greeting",

  system_prompt = [[
    You greet people warmly by name: {input.name}
    When you are done, call the done tool with your greeting as the reason.
  ]],

  initial_message = "Please greet the user.",

  tools = {"done"}
})

main = procedure("main", {
  input = {
    name = {
      type = "string",
      default = "World"
    }
  },

  output = {
    completed = {
      type = "boolean",
      required = true
    },
    greeting = {
      type = "string",
      required = true
    }
  },

  state = {}
}, function()
  -- the agent takes turns until it calls done
  repeat
    Greeter.turn()
  until Tool.called("done")

  return {
    completed = true,
    greeting = Tool.last_call("done").args.reason
  }
end)

specifications([[
Feature: Greeting workflow

  Scenario: The greeter greets and completes
    Given the procedure has started
    When the greeter agent takes turns
    Then the done tool should be called exactly 1 time
    And the procedure should complete successfully
    And the output completed should be True
    And the output greeting should exist
]])
