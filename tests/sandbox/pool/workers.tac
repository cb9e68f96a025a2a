-- workers.tac: the last run is slow, so one worker is still running in a
-- container when the other worker has no more work and its thread ends
-- (tests/sandbox/pool.sh, case workers). Whichever thread started a
-- pooled container, it serves to the end of the suite.
Procedure {
  input = { spin = field.number{} },
  output = { n = field.number{} },
  function(input)
    local n = 0
    for _ = 1, input.spin do n = n + 1 end
    return {n = n}
  end,
}
Specifications([[
Feature: pooled containers outlive the worker that started them
  Scenario Outline: a quick run
    Given the input spin is <spin>
    When the procedure runs
    Then the output n should be <spin>
    Examples:
      | spin |
      | 1    |
      | 2    |
      | 3    |
      | 4    |
      | 5    |
      | 6    |
      | 7    |
      | 8    |
  Scenario: the slow last run
    Given the input spin is 30000000
    When the procedure runs
    Then the output n should be 30000000
]])
