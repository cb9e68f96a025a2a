-- 11-script-mode.tac
--
-- Script mode: no Procedure declaration at all. Top-level `input {...}` and
-- `output {...}` declare the schemas, the remaining top-level statements form
-- an implicit main procedure, and the top-level `return` is its result.
-- Good for small utilities; switch to `Procedure {...}` when it grows.

input {
  celsius = field.number{required = true, description = "Temperature in degrees Celsius"},
  precision = field.integer{default = 1, description = "Decimal places to keep"},
}

output {
  fahrenheit = field.number{required = true},
  feels = field.string{required = true, enum = {"cold", "mild", "hot"}},
}

Specification([[
Feature: Converting temperatures in script mode

  Scenario: Body temperature
    Given the input celsius is 37
    When the procedure runs
    Then the output fahrenheit should be 98.6
    And the output feels should be "hot"

  Scenario: Freezing point with no decimals
    Given the input celsius is 0
    And the input precision is 0
    When the procedure runs
    Then the output fahrenheit should be 32
    And the output feels should be "cold"
]])

-- Everything below runs as the implicit main procedure.
local function round(x, places)
  local scale = 10 ^ places
  return math.floor(x * scale + 0.5) / scale
end

local fahrenheit = round(input.celsius * 9 / 5 + 32, input.precision)

local feels = "mild"
if input.celsius < 5 then
  feels = "cold"
elseif input.celsius >= 30 then
  feels = "hot"
end

return {fahrenheit = fahrenheit, feels = feels}
