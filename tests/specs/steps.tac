-- steps.tac - every built-in step of `tactus test`, passing (feature 1) and
-- failing (feature 2: each scenario must fail at its last step, and only
-- there). Checked by steps.sh through the real binary.

local done = require("tactus.tools.done")

lookup = Tool {
  description = "Look a record up",
  input = {id = field.string{required = true}},
  function(args) return {found = true, id = args.id} end,
}

notify = Tool {
  description = "Notify a team",
  input = {to = field.string{}},
  function(args) return {sent = true} end,
}

weather_api = Tool {
  description = "A dependency in the v0.10 sense: mocked by 'the weather_api returns ...'",
  input = {path = field.string{}},
  function(args) return "real weather" end,
}

unused = Tool {
  description = "Never called",
  function(args) return {} end,
}

helper = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "You help with {input.topic}.",
  tools = {lookup, done},
}

Stages({"start", "middle", "end"})

Procedure {
  input = {
    topic = field.string{default = "cats"},
    count = field.integer{default = 2},
    items = field.array{default = {}},
    fail = field.integer{default = 0},
  },
  -- `nothing` is declared (a step naming an undeclared key is a check
  -- error, TAC705) and never set: the steps about it fail when run.
  state = {nothing = field.string{}},
  function(input)
    if input.fail == 1 then error("boom: a failure was asked for") end
    Stage.set("start")
    local found
    for i = 1, input.count do
      found = lookup({id = "id-" .. i}).found
      Iterations.increment()
    end
    Stage.set("middle")
    State.set("topic", input.topic)
    State.set("score", 42)
    State.set("enabled", true)
    local r = helper({message = "Please help with " .. input.topic})
    notify({to = "team"})
    local weather = weather_api({path = "/today"})
    local approved = Human.approve({message = "Ship it?"})
    local name = Human.input({message = "Your name?"})
    local review = Human.review({message = "Review this"})
    Stage.set("end")
    if input.topic == "stop" then Stop.request("stopped on request: topic", true) end
    return {
      greeting = "Hello, " .. input.topic .. "!",
      count = input.count,
      items = #input.items,
      first_item = input.items[1],
      answer = r.output,
      flag = true,
      found = found,
      weather = weather,
      approved = approved,
      name = name,
      review = review,
    }
  end,
}

Step("the greeting is checked by Lua", function(ctx)
  assert(ctx.output.greeting:find("^Hello"), "no greeting")
end)

Step("the topic is set before the run", function(ctx)
  State.set("preset", "yes")
end)

Step("the rows are seen", function(ctx)
  assert(#ctx.table == 2 and ctx.table[2].name == "b", "rows: " .. #ctx.table)
end)

Step("this custom step fails", function(ctx)
  error("failing on purpose")
end)

Specifications([[
@steps
Feature: Every built-in step passes

  Scenario: Tools, state, output, stages and people
    Given the procedure has started
    And the input topic is "dogs"
    And the input count is 3
    And the input items is [1, 2, 3]
    And the agent "helper" responds with "Found it."
    And the agent "helper" calls tool "lookup" with args {"id": "from-agent"}
    And the agent "helper" calls tool "done" with args {'reason': 'finished'}
    And Human.approve will return true
    And Human.input will return 'Ada'
    And Human.review will return {"decision": "Approve", "notes": "ok"}
    And the topic is set before the run
    When the procedure runs
    Then the lookup tool should be called
    And the lookup tool should be called at least 2 times
    And the lookup tool should be called exactly 4 times
    And the lookup tool should be called with id=id-1
    And the lookup tool should be called with id matching pattern "^from-"
    And the unused tool should not be called
    And the state topic should be "dogs"
    And the state score should be 42
    And the state enabled should be true
    And the state preset should be "yes"
    And the state topic should exist
    And the state should contain score
    And the state topic should match pattern "^d.g"
    And the state topic should be similar to "dog"
    And the state topic should be similar to "cats" with 20% similarity
    And the output greeting should be "Hello, dogs!"
    And the output count should be 3
    And the output items should be 3
    And the output flag should be true
    And the output greeting should not be "Hello, cats!"
    And the output greeting should exist
    And the output should contain answer
    And the output greeting should match pattern "dogs!$"
    And the output greeting should be similar to "Hello dogs"
    And the output greeting should be similar to "Hi, dogs" with 50% similarity
    And the output answer should be "Found it."
    And the output approved should be true
    And the output name should be "Ada"
    And the output review should be {"decision": "Approve", "notes": "ok"}
    And the procedure should complete successfully
    And the total iterations should be less than 4
    And the total iterations should be between 3 and 3
    And the agent should take at least 1 turn
    And the agent's context should include "Please help with dogs"
    And the topic parameter is "dogs"
    And the stage should be end
    And the stage is end
    And we are in stage end
    And the stage should transition from start to middle
    And the helper should have been called
    And the notify should have been called 1 times
    And the unused should not have been called
    And the greeting is checked by Lua
    And the rows are seen
      | name |
      | a    |
      | b    |

  Scenario: Mocked tools, dependencies and answers by prefix
    Given the tool "lookup" returns {"found": false}
    And the weather_api returns '{"temp": 3}'
    And when asked "Ship" return false
    And when asked "Your name" return the value 'Bob'
    And the input items is [red, green]
    When the procedure runs
    Then the output found should be false
    And the output weather should be {"temp": 3}
    And the output approved should be false
    And the output name should be "Bob"
    And the output first_item should be "red"
    And the output review should be {"decision": "Approve"}

  Scenario: Dependency answers per path and with a status
    Given the weather_api returns 'sunny' for /today
    When the helper agent takes turn
    Then the output weather should be "sunny"

  Scenario: A dependency with a status
    Given the weather_api returns 'down' with status 503
    And the user presses no
    And the user enters 'Zed'
    When the weather model predicts
    Then the output weather should be {"status": 503, "body": "down"}
    And the output approved should be false
    And the output name should be "Zed"

  Scenario: Yes, and an agent turn chosen by its message
    Given the user presses yes
    And the message is "Please help with birds"
    And the agent "helper" responds with "Birds are fine."
    And the input topic is "birds"
    When the procedure runs
    Then the output approved should be true
    And the output answer should be "Birds are fine."

  Scenario: Structured data from an agent turn
    Given the agent "helper" responds with "ignored"
    And the agent "helper" returns data {"score": 7}
    When the procedure runs
    Then the output answer should match pattern "score.*7"

  Scenario: A stop with its reason
    Given the input topic is "stop"
    When the procedure runs
    Then the stop reason should be "stopped on request: topic"
    And the stop reason should contain "on request"
    And the stop reason should match pattern "^stopped"

  Scenario: A failing procedure
    Given the input fail is 1
    When the procedure runs
    Then the procedure should fail
    And the stop reason should contain "boom"
]])

Specifications([[
@fails
Feature: Every built-in step fails when it should

  Scenario: tool should be called
    When the procedure runs
    Then the unused tool should be called

  Scenario: tool should not be called
    When the procedure runs
    Then the lookup tool should not be called

  Scenario: tool called at least
    When the procedure runs
    Then the lookup tool should be called at least 5 times

  Scenario: tool called exactly
    When the procedure runs
    Then the lookup tool should be called exactly 1 time

  Scenario: tool called with
    When the procedure runs
    Then the lookup tool should be called with id=nope

  Scenario: tool returns (mock takes effect)
    Given the tool "lookup" returns {"found": false}
    When the procedure runs
    Then the output found should be true

  Scenario: state should be
    When the procedure runs
    Then the state topic should be "dogs"

  Scenario: state should exist
    When the procedure runs
    Then the state nothing should exist

  Scenario: state should contain
    When the procedure runs
    Then the state should contain nothing

  Scenario: output key should be
    When the procedure runs
    Then the output count should be 3

  Scenario: output key should not be
    When the procedure runs
    Then the output count should not be 2

  Scenario: output key should exist
    When the procedure runs
    Then the output missing should exist

  Scenario: output should contain
    When the procedure runs
    Then the output should contain missing

  Scenario: procedure should complete successfully
    Given the input fail is 1
    When the helper agent takes turn
    Then the procedure should complete successfully

  Scenario: procedure should fail
    When the procedure runs
    Then the procedure should fail

  Scenario: stop reason should be
    Given the input topic is "stop"
    When the procedure runs
    Then the stop reason should be "something else"

  Scenario: stop reason should contain
    Given the input topic is "stop"
    When the procedure runs
    Then the stop reason should contain "elsewhere"

  Scenario: iterations less than
    When the procedure runs
    Then the total iterations should be less than 2

  Scenario: iterations between
    When the procedure runs
    Then the total iterations should be between 5 and 9

  Scenario: agent turns
    When the procedure runs
    Then the agent should take at least 3 turns

  Scenario: parameter is
    When the procedure runs
    Then the topic parameter is "dogs"

  Scenario: agent context
    When the procedure runs
    Then the agent's context should include "never said"

  Scenario: input string (takes effect)
    Given the input topic is "owls"
    When the procedure runs
    Then the output greeting should be "Hello, cats!"

  Scenario: input list (takes effect)
    Given the input items is [1, 2]
    When the procedure runs
    Then the output items should be 0

  Scenario: input number (takes effect)
    Given the input count is 1
    When the procedure runs
    Then the output count should be 2

  Scenario: agent responds (takes effect)
    Given the agent "helper" responds with "Something"
    When the procedure runs
    Then the output answer should be "Something else"

  Scenario: agent calls tool with args that are not a dict
    Given the agent "helper" calls tool "lookup" with args [1, 2]

  Scenario: agent returns data that is not a literal
    Given the agent "helper" returns data not-a-literal

  Scenario: the message is (takes effect)
    Given the message is "Please help with cats"
    And the agent "helper" responds with "Chosen."
    When the procedure runs
    Then the output answer should be "Not chosen."

  Scenario: procedure runs
    Given the input fail is 1
    When the procedure runs

  Scenario: output should match pattern
    When the procedure runs
    Then the output greeting should match pattern "^Bye"

  Scenario: state should match pattern
    When the procedure runs
    Then the state topic should match pattern "^dogs$"

  Scenario: stop reason should match pattern
    When the procedure runs
    Then the stop reason should match pattern "anything"

  Scenario: tool called with matching pattern
    When the procedure runs
    Then the lookup tool should be called with id matching pattern "^x"

  Scenario: output similar
    When the procedure runs
    Then the output greeting should be similar to "Goodbye, everyone"

  Scenario: output similar with threshold
    When the procedure runs
    Then the output greeting should be similar to "Hello, cat" with 99% similarity

  Scenario: state similar
    When the procedure runs
    Then the state topic should be similar to "elephants"

  Scenario: state similar with threshold
    When the procedure runs
    Then the state topic should be similar to "cat" with 95% similarity

  Scenario: dependency returns (takes effect)
    Given the weather_api returns 'rain'
    When the procedure runs
    Then the output weather should be "sun"

  Scenario: dependency returns for a path (takes effect)
    Given the weather_api returns 'rain' for /today
    When the procedure runs
    Then the output weather should be "real weather"

  Scenario: dependency returns with status (takes effect)
    Given the weather_api returns 'rain' with status 500
    When the procedure runs
    Then the output weather should be "rain"

  Scenario: Human.approve will return something that is not a boolean
    Given Human.approve will return maybe

  Scenario: Human.input (takes effect)
    Given Human.input will return 'Eve'
    When the procedure runs
    Then the output name should be "test input"

  Scenario: Human.review (takes effect)
    Given Human.review will return {"decision": "Reject"}
    When the procedure runs
    Then the output review should be {"decision": "Approve"}

  Scenario: when asked, the value (takes effect)
    Given when asked "Your" return the value 'Kim'
    When the procedure runs
    Then the output name should be "test input"

  Scenario: when asked, a literal (takes effect)
    Given when asked "Ship" return false
    When the procedure runs
    Then the output approved should be true

  Scenario: user presses no (takes effect)
    Given the user presses no
    When the procedure runs
    Then the output approved should be true

  Scenario: user presses yes (takes effect)
    Given the user presses no
    And the user presses yes
    When the procedure runs
    Then the output approved should be false

  Scenario: user enters (takes effect)
    Given the user enters 'Lee'
    When the procedure runs
    Then the output name should be "test input"

  Scenario: dependency should have been called
    When the procedure runs
    Then the unused should have been called

  Scenario: dependency should not have been called
    When the procedure runs
    Then the notify should not have been called

  Scenario: dependency called n times
    When the procedure runs
    Then the notify should have been called 2 times

  Scenario: stage is
    When the procedure runs
    Then the stage is start

  Scenario: stage should be
    When the procedure runs
    Then the stage should be middle

  Scenario: stage transition
    When the procedure runs
    Then the stage should transition from start to end

  Scenario: we are in stage
    When the procedure runs
    Then we are in stage start

  Scenario: a custom step
    When the procedure runs
    Then this custom step fails

  Scenario: a setup step after the run
    When the procedure runs
    Then the output count should be 2
    And the input count is 5
]])
