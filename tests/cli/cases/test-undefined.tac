Procedure { function() return {n = 1} end }

Specifications([[
Feature: A step nobody defined

  Scenario: Typo in a step
    When the procedure runs
    Then the output n shuold be 1
]])
