-- 14-retry-checkpoint.tac
--
-- Dealing with a flaky dependency.
--   Retry.with_backoff(fn, {max_attempts = 3, ...}) calls fn until it returns
--   without raising, waiting longer after each failure, and re-raises the
--   last error once the attempts are used up.
--   Step.checkpoint(fn) journals fn's result: after a crash or a pause the
--   resumed run gets the recorded quote back instead of fetching a new one.
-- The rate tool below fails on its first call to play the flaky upstream.

local RATES = {
  ["EUR/USD"] = 1.08,
  ["EUR/GBP"] = 0.85,
  ["USD/JPY"] = 151.2,
}

fetch_rate = Tool {
  description = "Fetch the current exchange rate for a currency pair",
  input = {
    pair = field.string{required = true, description = "Pair such as EUR/USD"},
  },
  function(args)
    local attempt = State.increment("fetch_attempts")
    if attempt == 1 then
      error("upstream timeout, try again")
    end
    local rate = RATES[args.pair]
    if rate == nil then
      error("unknown currency pair " .. args.pair)
    end
    return {pair = args.pair, rate = rate}
  end,
}

Procedure {
  input = {
    pair = field.string{required = true, enum = {"EUR/USD", "EUR/GBP", "USD/JPY"}},
    amount = field.number{required = true, description = "Amount in the base currency"},
  },
  output = {
    rate = field.number{required = true},
    converted = field.number{required = true},
    attempts = field.integer{required = true},
  },
  state = {
    fetch_attempts = field.integer{default = 0},
  },
  function(input)
    local quote = Step.checkpoint(function()
      return Retry.with_backoff(function()
        return fetch_rate({pair = input.pair})
      end, {max_attempts = 3, initial_delay = 0.1, backoff_factor = 2})
    end)

    Log.info("quote received", {pair = quote.pair, rate = quote.rate})
    return {
      rate = quote.rate,
      converted = math.floor(input.amount * quote.rate * 100 + 0.5) / 100,
      attempts = State.get("fetch_attempts", 0),
    }
  end,
}

Specifications([[
@resilience
Feature: Converting money through a flaky rate service

  Scenario: The first failure is retried
    Given the input pair is "EUR/USD"
    And the input amount is 250
    When the procedure runs
    Then the output rate should be 1.08
    And the output converted should be 270
    And the output attempts should be 2
    And the state fetch_attempts should be 2
    And the fetch_rate tool should be called at least 1 time

  Scenario: A mocked rate service never fails
    Given the input pair is "USD/JPY"
    And the input amount is 10
    And the tool "fetch_rate" returns {"pair": "USD/JPY", "rate": 150.0}
    When the procedure runs
    Then the output converted should be 1500
    And the output attempts should be 0
]])
