-- A procedure that raises: the report must say what it raised, where, and
-- through which calls (issue #18 item 9), not only which step noticed.
local function parse(order)
  return order.lines[1].sku
end

Procedure {
  input = { who = field.string{default = "Ada"} },
  output = { sku = field.string{required = true} },
  function(input)
    local sku = parse({})
    return {sku = sku}
  end,
}

Specifications([[
Feature: A procedure that raises

  Scenario: The order has no lines
    When the procedure runs
    Then the output sku should be "A-1"

  Scenario: Failing is expected here
    When the procedure runs
    Then the procedure should fail

  Scenario: Inputs from --param
    Then the who parameter is Bo
]])
