-- 12-function-main.tac
--
-- The plainest entry point: a global `function main()`. No schemas, so the
-- returned table is passed through as is.
--
-- It also shows why checkpoints matter. The plan is computed inside
-- Step.checkpoint, so when the run suspends at Human.approve and is resumed
-- later (`tactus approve ...`, then `tactus resume RUN`), the procedure
-- re-executes from the top but the plan comes back from the journal instead
-- of being recomputed: the person approves exactly what they were shown.

local CACHE_DIRS = {
  {path = "cache/thumbnails", mb = 310},
  {path = "cache/exports", mb = 95},
  {path = "cache/previews", mb = 15},
}

function main()
  local plan = Step.checkpoint(function()
    local targets, total = {}, 0
    for _, dir in ipairs(CACHE_DIRS) do
      if dir.mb >= 50 then
        targets[#targets + 1] = dir.path
        total = total + dir.mb
      end
    end
    Log.info("cleanup plan ready", {folders = #targets, mb = total})
    return {targets = targets, mb = total}
  end)

  local approved = Human.approve({
    message = "Delete the large cache folders to free disk space?",
    timeout = 3600,
    default = false,
  })

  local freed = 0
  if approved then
    freed = plan.mb
    State.set("cleaned", true)
  end

  return {
    approved = approved,
    folders = #plan.targets,
    freed_mb = freed,
  }
end

Specifications([[
Feature: Cache cleanup behind an approval

  Scenario: The operator approves
    Given Human.approve will return true
    When the procedure runs
    Then the output approved should be true
    And the output folders should be 2
    And the output freed_mb should be 405
    And the state cleaned should be True

  Scenario: The operator declines
    Given Human.approve will return false
    When the procedure runs
    Then the output approved should be false
    And the output freed_mb should be 0
    But the output folders should be 2
]])
