-- Toolsets as in the current original: an inline Toolset's tools are
-- <toolset>_<tool> (what the model sees and the journal records); steps,
-- mocks and Tool.get take the short name while it is unambiguous; an agent
-- is granted a toolset by its name; step arguments may be a quoted Python
-- dict.
Toolset "hitl_approval" {
  description = "Ask a person",
  tools = {
    {
      name = "ask_approval",
      description = "Ask a person to approve a release",
      input = { message = field.string{required = true} },
      handler = function(args)
        return {approved = Human.approve({message = args.message})}
      end,
    },
  },
}

releaser = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Ask for approval before releasing.",
  tools = {"hitl_approval", "done"},
  tool_choice = "required",
}

Procedure {
  output = {
    asked = field.string{required = true},
    tool_name = field.string{required = true},
    short_name = field.string{required = true},
  },
  function()
    releaser({message = "Release 2.0"})
    local tool = Tool.get("ask_approval")
    return {
      asked = Tool.last_call("hitl_approval_ask_approval").args.message,
      tool_name = tool.name,
      short_name = tool.short_name,
    }
  end,
}

Mocks {
  ask_approval = { returns = {approved = true} },
}

Specifications([[
Feature: Toolsets named as the original names them

  Scenario: The agent asks through the toolset's tool
    Given the agent "releaser" calls tool "ask_approval" with args "{'message': 'Ship 2.0?', 'urgent': True, 'ticket': None}"
    And the agent "releaser" calls tool "done" with args {"reason": "asked"}
    When the procedure runs
    Then the procedure should complete successfully
    And the hitl_approval_ask_approval tool should be called exactly 1 time
    And the ask_approval tool should be called with message=Ship 2.0?
    And the output asked should be "Ship 2.0?"
    And the output tool_name should be "hitl_approval_ask_approval"
    And the output short_name should be "ask_approval"
]])
