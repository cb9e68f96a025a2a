Feature: f
  Scenario: s
    Given x
    """
    doc
    """
    | a | b |
