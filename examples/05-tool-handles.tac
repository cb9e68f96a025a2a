-- 05-tool-handles.tac
--
-- Tools are callable from Lua as well as by agents. A tool handle records
-- every call, and exposes:
--   t({...})          call the tool directly (deterministic, recorded)
--   t.called()        has it been called since the last reset?
--   t.call_count()    how many times
--   t.last_call()     {name, args, result} of the latest call
--   t.last_result()   just the latest result
--   t.reset()         forget the recorded calls
-- The second scenario replaces the tool with an inline mock.

local KM_PER_MILE = 1.609344

convert = Tool {
  description = "Convert a distance between kilometres and miles",
  input = {
    value = field.number{required = true, description = "Distance to convert"},
    from = field.string{required = true, enum = {"km", "mi"}, description = "Unit of value"},
  },
  function(args)
    local converted, unit
    if args.from == "km" then
      converted, unit = args.value / KM_PER_MILE, "mi"
    else
      converted, unit = args.value * KM_PER_MILE, "km"
    end
    return {value = math.floor(converted * 100 + 0.5) / 100, unit = unit}
  end,
}

Procedure {
  input = {
    distances = field.array{required = true, description = "Distances to convert"},
    from = field.string{default = "km", enum = {"km", "mi"}},
  },
  output = {
    converted = field.array{required = true},
    total = field.number{required = true},
    calls = field.integer{required = true},
    last_unit = field.string{required = true},
  },
  function(input)
    -- Smoke-test the tool once, then forget that call so the counts below
    -- describe only the real work.
    local probe = convert({value = 0, from = input.from})
    assert(probe.unit ~= nil, "the tool should report a unit")
    assert(convert.called(), "the probe call should be recorded")
    convert.reset()

    local converted, total = {}, 0
    for _, d in ipairs(input.distances) do
      local r = convert({value = d, from = input.from})
      converted[#converted + 1] = r.value
      total = total + r.value
    end

    local last = convert.last_call()
    Log.debug("last conversion", {args = last and last.args, result = convert.last_result()})

    return {
      converted = converted,
      total = math.floor(total * 100 + 0.5) / 100,
      calls = convert.call_count(),
      last_unit = convert.last_result() and convert.last_result().unit or input.from,
    }
  end,
}

Specifications([[
Feature: Converting distances with a directly called tool

  Scenario: Marathon and 10k in miles
    Given the input distances is [42.195, 10]
    And the input from is "km"
    When the procedure runs
    Then the output calls should be 2
    And the output last_unit should be "mi"
    And the output total should be 32.43
    And the convert tool should be called
    And the convert tool should be called with from=km

  @mocked
  Scenario: The tool can be replaced by a mock
    Given the input distances is [1, 2, 3]
    And the tool "convert" returns {"value": 1.5, "unit": "mi"}
    When the procedure runs
    Then the output total should be 4.5
    And the output calls should be 3
]])
