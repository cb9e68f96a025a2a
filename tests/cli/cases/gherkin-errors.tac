Procedure { function() return "ok" end }

Specifications([[
Feature: Broken gherkin
  Given a step before any scenario
  Scenario: fine
    When the procedure runs
    Then the output should be "ok"
]])
