@t
Feature: f
  Background:
    Given a
  Rule: r
    Scenario Outline: o <x>
      Then <x>
      Examples:
        | x |
        | 1 |
