-- iso.tac: runs that share a pooled container (tests/sandbox/pool.sh).
-- Each scenario is one run; with -j 1 they go through one worker in order.
-- A run's files, and the folders File.write made for them, are gone for
-- the next one.

local function left_behind()
  return File.exists("left-behind.txt") or File.exists("made") or File.exists("made/deep/left.txt")
end
Procedure {
  input = { step = field.string{} },
  output = { seen = field.boolean{}, wrote = field.boolean{}, runs = field.number{} },
  function(input)
    -- A global of an earlier run would be counted here: every run is 1.
    runs_in_this_vm = (runs_in_this_vm or 0) + 1
    if input.step == "write" then
      File.write("left-behind.txt", "from an earlier run")
      File.write("made/deep/left.txt", "in folders this run made")
      return {seen = File.exists("left-behind.txt") and File.read("made/deep/left.txt") ~= nil,
              wrote = true, runs = runs_in_this_vm}
    elseif input.step == "bomb" then
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end
    elseif input.step == "spin" then
      while true do end
    end
    return {seen = left_behind(), wrote = false, runs = runs_in_this_vm}
  end,
}
Specifications([[
Feature: runs that share a container
  Scenario: the first run writes a file
    Given the input step is "write"
    When the procedure runs
    Then the output seen should be true
  Scenario: the next run does not see it
    Given the input step is "read"
    When the procedure runs
    Then the output seen should be false
    And the output runs should be 1
  Scenario: a run that exhausts its memory budget
    Given the input step is "bomb"
    When the procedure runs
    Then the procedure should complete successfully
  Scenario: the run after it is served
    Given the input step is "read"
    When the procedure runs
    Then the output seen should be false
  Scenario: a run stopped at its time limit
    Given the input step is "spin"
    When the procedure runs
    Then the procedure should complete successfully
  Scenario: the run after that is served too
    Given the input step is "read"
    When the procedure runs
    Then the output seen should be false
]])
