-- flaky.tac - a scenario that passes every other run: it counts its runs
-- in a file of its workspace (specs.sh copies it to a scratch folder).
Procedure {
  function()
    local n = 0
    if File.exists("count.txt") then n = tonumber(File.read("count.txt")) end
    n = n + 1
    File.write("count.txt", tostring(n))
    return {even = n % 2 == 0}
  end,
}

Specifications([[
Feature: A flaky scenario

  Scenario: Passes every other run
    When the procedure runs
    Then the output even should be true
]])
