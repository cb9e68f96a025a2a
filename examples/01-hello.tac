-- 01-hello.tac
--
-- The smallest useful procedure: typed input and output declared with
-- field builders, a custom BDD step, and an offline Evaluation. Nothing here
-- calls a model, so `tactus test` and `tactus eval` run without credentials.
--
--   tactus run  examples/01-hello.tac --input name=Ada
--   tactus test examples/01-hello.tac
--   tactus eval examples/01-hello.tac

Procedure {
  input = {
    name = field.string{required = true, description = "Who to greet"},
    style = field.string{
      default = "plain",
      enum = {"plain", "excited"},
      description = "How enthusiastic the greeting should be",
    },
  },
  output = {
    greeting = field.string{required = true, description = "The finished greeting"},
  },
  function(input)
    local ending = "."
    if input.style == "excited" then
      ending = "!"
    end
    local greeting = "Hello, " .. input.name .. ending

    -- Kept in state so the custom step below can inspect it after the run.
    state.greeting = greeting
    Log.info("greeting prepared", {name = input.name, style = input.style})

    return {greeting = greeting}
  end,
}

-- A project-specific assertion, usable as a step in any scenario of this file.
Step("the greeting is polite", function(ctx)
  local greeting = State.get("greeting")
  assert(type(greeting) == "string", "the procedure produced no greeting")
  assert(greeting:find("^Hello, ") ~= nil, "a polite greeting opens with 'Hello, '")
  assert(greeting:find("%u%u%u") == nil, "a polite greeting does not shout")
end)

Specifications([[
Feature: Greeting a person
  A deterministic procedure: every run with the same input gives the same output.

  Scenario: A plain greeting
    Given the input name is "Ada"
    When the procedure runs
    Then the output greeting should be "Hello, Ada."
    And the greeting is polite
    And the procedure should complete successfully

  Scenario: An excited greeting
    Given the input name is "Grace"
    And the input style is "excited"
    When the procedure runs
    Then the output greeting should be "Hello, Grace!"
    And the output greeting should match pattern "!$"
    And the greeting is polite
]])

-- `tactus eval` runs each case three times and scores the pass rate.
Evaluation({
  runs = 3,
  dataset = {
    {
      name = "plain_ada",
      inputs = {name = "Ada"},
      expected_output = {greeting = "Hello, Ada."},
    },
    {
      name = "excited_grace",
      inputs = {name = "Grace", style = "excited"},
      expected_output = {greeting = "Hello, Grace!"},
    },
  },
  evaluators = {
    field.equals_expected{},
    field.contains{field = "greeting", value = "Hello"},
  },
  thresholds = {min_success_rate = 0.8},
})
