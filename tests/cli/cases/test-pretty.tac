-- A passing and a failing scenario, for the pretty, JSON and JUnit goldens.
Procedure {
  input = {name = field.string{default = "world"}},
  function(input)
    State.set("greeted", input.name)
    return {greeting = "Hello, " .. input.name .. "!"}
  end,
}

Specifications([[
@golden
Feature: Golden output of tactus test

  Scenario: A greeting
    Given the input name is "Ada"
    When the procedure runs
    Then the output greeting should be "Hello, Ada!"
    And the state greeted should be "Ada"

  @wip
  Scenario: A wrong expectation
    When the procedure runs
    Then the output greeting should be "Hello, <name>!"
    And the state greeted should be "world"

  Scenario Outline: Names
    Given the input name is "<name>"
    When the procedure runs
    Then the output greeting should be "<greeting>"

    Examples:
      | name | greeting      |
      | Bo   | Hello, Bo!    |
      | Cy   | Hello, Cy & Co! |
]])
