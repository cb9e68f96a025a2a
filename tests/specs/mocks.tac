-- mocks.tac - every mock kind of `tactus test --mock` (inventory C.3):
-- tool mocks (returns, temporal, conditional with exact/contains/
-- startswith/endswith, error), model mocks, agent mocks (tool_calls,
-- message, data, temporal turns), the default mock agent, and the mock
-- answers to people. Checked by mocks.sh.

local done = require("tactus.tools.done")

price = Tool {
  description = "Price of an item",
  input = {item = field.string{required = true}},
  function(args) return {price = 1, source = "real"} end,
}

stock = Tool {
  description = "Stock level, which changes call by call",
  function(args) return {level = -1} end,
}

route = Tool {
  description = "Route a ticket",
  input = {queue = field.string{required = true}},
  function(args) return "real:" .. args.queue end,
}

broken = Tool {
  description = "Always mocked with an error",
  function(args) return "never" end,
}

side_effect = Tool {
  description = "Sets state when it really runs",
  input = {note = field.string{}},
  function(args)
    State.set("side_effect_ran", true)
    return {ok = true}
  end,
}

Model "sentiment" {
  type = "mock",
  value = {label = "neutral"},
}

planner = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Plan.",
  tools = {side_effect, done},
}

scorer = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Score.",
  output = {score = field.integer{required = true}, label = field.string{}},
}

chatter = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Chat.",
  tools = {done},
}

Mocks {
  price = {returns = {price = 9.5, source = "mock"}},
  stock = {temporal = {{level = 3}, {level = 2}, {level = 0}}},
  route = {
    conditional = {
      {when = {queue = "billing"}, returns = "exact"},
      {when = {queue = "contains:ship"}, returns = "contains"},
      {when = {queue = "startswith:acc"}, returns = "startswith"},
      {when = {queue = "endswith:ops"}, returns = "endswith"},
    },
  },
  broken = {error = "the mocked service is down"},
  sentiment = {conditional = {{when = {text = "contains:great"}, returns = {label = "positive"}}}},
  planner = {
    tool_calls = {{tool = "side_effect", args = {note = "planned"}}, {tool = "done", args = {reason = "planned it"}}},
    message = "Plan ready.",
  },
  scorer = {temporal = {{data = {score = 3, label = "low"}}, {data = {score = 9, label = "high"}}}},
}

Procedure {
  function()
    local levels = {}
    for i = 1, 4 do levels[i] = stock().level end
    local routes = {}
    for _, q in ipairs({"billing", "shipping", "accounts", "devops", "other"}) do
      routes[#routes + 1] = route({queue = q})
    end
    local ok, err = pcall(broken)
    local plan = planner({message = "plan"})
    local first, second = scorer({message = "one"}), scorer({message = "two"})
    local chat = chatter({message = "hi"})
    return {
      price = price({item = "tea"}),
      levels = table.concat(levels, ","),
      routes = table.concat(routes, ","),
      broken = ok and "no error" or tostring(err),
      sentiment_great = Model("sentiment")({text = "a great day"}).output.label,
      sentiment_other = Model("sentiment")({text = "a day"}).output.label,
      plan = plan.output,
      side_effect_result = side_effect.last_result(),
      side_effect_ran = State.get("side_effect_ran") == true,
      done_reason = done.last_call().args.reason,
      scores = first.output.score .. "," .. second.output.score,
      label = second.output.label,
      chat = chat.output,
      approved = Human.approve({message = "ok?"}),
      typed = Human.input({message = "type"}),
      review = Human.review({message = "look"}).decision,
    }
  end,
}

Specifications([[
Feature: Every mock kind

  Scenario: The file's mocks and the mock answers
    When the procedure runs
    Then the output price should be {"price": 9.5, "source": "mock"}
    And the output levels should be "3,2,0,0"
    And the output routes should be "exact,contains,startswith,endswith,real:other"
    And the output broken should match pattern "the mocked service is down"
    And the output sentiment_great should be "positive"
    And the output sentiment_other should be "neutral"
    And the output plan should be "Plan ready."
    And the output side_effect_result should be {"tool": "side_effect", "args": {"note": "planned"}}
    And the output side_effect_ran should be false
    And the side_effect tool should be called with note=planned
    And the output done_reason should be "Mock greeting from chatter"
    And the output scores should be "3,9"
    And the output label should be "high"
    And the output chat should be ""
    And the output approved should be true
    And the output typed should be "test input"
    And the output review should be "Approve"
    And the done tool should be called exactly 2 times

  Scenario: A scenario's mocks win over the file's
    Given the tool "price" returns {"price": 1.25}
    And the agent "planner" responds with "Other plan."
    When the procedure runs
    Then the output price should be {"price": 1.25}
    And the output plan should be "Other plan."
    And the side_effect tool should not be called
]])
