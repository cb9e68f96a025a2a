-- 08-human-release.tac
--
-- Human-in-the-loop release gate. Each blocking Human.* call is a durable
-- waiting point: with no answer yet the run suspends (no process stays
-- alive), `tactus approve` records the answer and `tactus resume` continues.
--   Human.notify   non-blocking heads-up
--   Human.select   pick one of a list of options
--   Human.input    free text, with a default
--   Human.review   inspect an artifact; returns {decision, edited_artifact, feedback}
--   Human.approve  yes/no; after `timeout` seconds the `default` applies
-- In scenarios, mock steps answer the requests instead of a person.

Procedure {
  input = {
    service = field.string{required = true, description = "Service being released"},
    version = field.string{required = true, description = "Version to deploy"},
  },
  output = {
    deployed = field.boolean{required = true},
    environment = field.string{required = true},
    window = field.string{required = true},
    review_decision = field.string{required = true},
  },
  function(input)
    local release = input.service .. " " .. input.version

    Human.notify({message = "Release " .. release .. " is ready for sign-off."})

    local environment = Human.select({
      message = "Which environment should receive the release?",
      options = {"staging", "production"},
    }) or "staging"

    local window = Human.input({
      message = "When may we deploy? (free text)",
      default = "next business day",
    }) or "next business day"

    local notes = "Release " .. release .. "\n- faster invoice export\n- fixes rounding of VAT totals"
    local review = Human.review({
      message = "Check the release notes before they are published.",
      artifact = notes,
    })
    local decision = (review and review.decision) or "reject"

    local approved = Human.approve({
      message = "Deploy " .. release .. " to " .. environment .. " (" .. window .. ")?",
      timeout = 3600,
      default = false,
    })

    local deployed = approved and decision:lower() == "approve"
    if deployed then
      Log.info("deploying", {release = release, environment = environment})
    else
      Log.warn("release held back", {release = release, decision = decision})
    end

    return {
      deployed = deployed,
      environment = environment,
      window = window,
      review_decision = decision,
    }
  end,
}

Specifications([[
@hitl
Feature: Release gate with people in the loop

  Background:
    Given the input service is "billing-api"
    And the input version is "2.4.1"

  Scenario: Everyone signs off
    Given when asked "Which environment" return the value 'production'
    And Human.input will return 'tonight 22:00'
    And Human.approve will return true
    When the procedure runs
    Then the output deployed should be true
    And the output environment should be "production"
    And the output window should be "tonight 22:00"
    And the output review_decision should be "Approve"

  Scenario: The final approval is refused
    Given Human.approve will return false
    When the procedure runs
    Then the output deployed should be false
    But the procedure should complete successfully
]])
