-- scalar.tac - a script-mode procedure with a scalar output, for the
-- steps about "the output" itself (steps.sh).
input {
  text = field.string{default = "The quick brown fox"},
}
Specifications([[
Feature: Scalar output steps

  Scenario: exists, equals and fuzzy matches
    When the procedure runs
    Then the output should exist
    And the output should be "The quick brown fox"
    And the output should fuzzy match "the quick brown fox!"
    And the output should fuzzy match "quick brown" with threshold 0.9
    And the output should fuzzy match any of ["a slow dog", "The quick brown cat"] with threshold 0.8

  Scenario: fails output should exist
    Given the input text is "none"
    When the procedure runs
    Then the output should exist

  Scenario: fails output should be
    When the procedure runs
    Then the output should be "The slow brown fox"

  Scenario: fails fuzzy match
    When the procedure runs
    Then the output should fuzzy match "an entirely different sentence"

  Scenario: fails fuzzy match with threshold
    When the procedure runs
    Then the output should fuzzy match "The quick brown box" with threshold 0.99
]])

return input.text ~= "none" and input.text or nil
