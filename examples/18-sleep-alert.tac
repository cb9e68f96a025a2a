-- 18-sleep-alert.tac
--
-- Waiting and telling operators.
--   * Sleep(seconds) is a durable timer: the host waits, not the sandbox,
--     and a resumed run does not wait again for a timer that went off.
--     Under `tactus test` the fixed clock just moves on.
--   * System.alert({message, level, source}) raises an operational alert
--     without stopping the run.
--   * The matchers contains("x"), equals("x") and matches("^x") select
--     conditional mocks.
--
--   tactus test --mock examples/18-sleep-alert.tac

check_queue = Tool {
  description = "How many jobs wait in a queue",
  input = {queue = field.string{required = true}},
  function(args)
    return {waiting = 0}
  end,
}

Mocks {
  check_queue = {
    conditional = {
      {when = {queue = contains("billing")}, returns = {waiting = 120}},
      {when = {queue = matches("^mail")}, returns = {waiting = 3}},
      {when = {queue = equals("search")}, returns = {waiting = 0}},
    },
  },
}

Procedure {
  input = {
    queue = field.string{required = true},
    limit = field.integer{default = 100},
    checks = field.integer{default = 3},
  },
  output = {
    waiting = field.integer{required = true},
    alerted = field.boolean{required = true},
    waited = field.integer{required = true, description = "Seconds between the first and last check"},
  },
  function(input)
    -- The times of the first and the last check: one check waited 0 s,
    -- whatever second the clock turns over in meanwhile.
    local first, last
    local waiting = 0
    for i = 1, input.checks do
      last = os.time()
      first = first or last
      waiting = check_queue({queue = input.queue}).waiting
      if waiting <= input.limit then break end
      if i < input.checks then Sleep(60) end
    end
    local alerted = waiting > input.limit
    if alerted then
      System.alert({message = input.queue .. " has " .. waiting .. " jobs waiting", level = "warning",
        source = "18-sleep-alert"})
    end
    return {waiting = waiting, alerted = alerted, waited = first and last - first or 0}
  end,
}

Specifications([[
Feature: Watching a queue

  Scenario: A long queue is checked again after a minute, then alerted
    Given the input queue is "billing-eu"
    When the procedure runs
    Then the output waiting should be 120
    And the output alerted should be true
    And the output waited should be 120
    And the check_queue tool should be called exactly 3 times

  Scenario: A short queue needs no wait
    Given the input queue is "mail-out"
    When the procedure runs
    Then the output waiting should be 3
    And the output alerted should be false
    And the output waited should be 0
]])
