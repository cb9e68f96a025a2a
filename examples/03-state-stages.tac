-- 03-state-stages.tac
--
-- Durable state, stages, logging, iteration limits and stop requests, in a
-- batch job that files incoming parcel labels.
--   * `state = {...}` declares state with defaults; `state.x = v`, State.set,
--     State.get and State.increment read and write it (state survives
--     checkpoints and resumes; Lua locals do not).
--   * Stages({...}) names the phases; Stage.set moves between them.
--   * Iterations counts loop rounds; Stop records why the loop ended.
--   * Log.debug/info/warn/error write structured log lines.

Stages({"loading", "filing", "reporting", "done"})

Procedure {
  input = {
    labels = field.array{required = true, description = "Parcel labels to file"},
    limit = field.integer{default = 10, description = "Most labels filed in one run"},
  },
  output = {
    filed = field.integer{required = true},
    skipped = field.integer{required = true},
    stage = field.string{required = true},
    stopped = field.boolean{required = true},
  },
  state = {
    filed = field.integer{default = 0},
    skipped = field.integer{default = 0},
    last_label = field.string{default = ""},
  },
  function(input)
    Stage.set("loading")
    Log.info("batch received", {count = #input.labels, limit = input.limit})

    Stage.set("filing")
    for _, label in ipairs(input.labels) do
      -- input.limit is the caller's budget; 1000 is a safety net no input can raise.
      if Iterations.current() >= input.limit or Iterations.exceeded(1000) then
        Stop.request("limit reached after " .. Iterations.current() .. " labels", true)
        break
      end
      Iterations.increment()

      if type(label) ~= "string" then
        Log.error("label is not text; skipping", {label = tostring(label)})
        State.increment("skipped")
      elseif label == "" then
        Log.warn("empty label skipped")
        State.increment("skipped")
      else
        Log.debug("filing label", {label = label})
        State.increment("filed")
        state.last_label = label
      end
    end

    Stage.set("reporting")
    State.set("summary", State.get("filed", 0) .. " filed, " .. State.get("skipped", 0) .. " skipped")
    Log.info(State.get("summary"))

    Stage.set("done")
    return {
      filed = state.filed,
      skipped = state.skipped,
      stage = Stage.current(),
      stopped = Stop.requested(),
    }
  end,
}

Specifications([[
@state
Feature: Filing parcel labels
  Counters live in procedure state and the batch stops at its limit.

  Scenario: Empty labels are skipped
    Given the input labels is ["PX-100", "", "PX-101"]
    When the procedure runs
    Then the state filed should be 2
    And the state skipped should be 1
    And the state last_label should be "PX-101"
    And the state should contain summary
    And the output stage should be "done"
    And the output stopped should be false

  Scenario: The batch stops at its limit
    Given the input labels is ["PX-1", "PX-2", "PX-3", "PX-4"]
    And the input limit is 2
    When the procedure runs
    Then the state filed should be 2
    And the output stopped should be true
    And the stop reason should contain limit reached
    And the total iterations should be less than 4
    But the procedure should complete successfully
]])
