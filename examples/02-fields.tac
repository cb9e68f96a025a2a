-- 02-fields.tac
--
-- Every field builder (string, number, integer, boolean, array, object) with
-- the options required, default, description and enum, used to price a small
-- shop order. The spec uses a Background, a Scenario Outline with an Examples
-- table, and tags; the Evaluation scores one output field per case.

local SHIPPING = {standard = 4.5, express = 12}
local COUPONS = {TENOFF = 0.10, WELCOME = 0.05}
local FREE_SHIPPING_FROM = 50

local function round2(x)
  return math.floor(x * 100 + 0.5) / 100
end

Procedure {
  input = {
    item = field.string{required = true, description = "Catalogue item name"},
    quantity = field.integer{default = 1, description = "How many units"},
    unit_price = field.number{required = true, description = "Price of one unit in EUR"},
    shipping = field.string{default = "standard", enum = {"standard", "express"}},
    gift_wrap = field.boolean{default = false, description = "Add gift wrapping (2 EUR)"},
    coupons = field.array{default = {}, description = "Coupon codes to try"},
    address = field.object{default = {country = "NL"}, description = "Delivery address"},
  },
  output = {
    item = field.string{required = true},
    quantity = field.integer{required = true},
    total = field.number{required = true, description = "Amount to charge in EUR"},
    express = field.boolean{required = true},
    applied_coupons = field.array{required = true, description = "Coupons that were accepted"},
    breakdown = field.object{required = true, description = "Subtotal, discount, shipping, extras"},
  },
  function(input)
    local subtotal = input.quantity * input.unit_price

    local applied, rate = {}, 0
    for _, code in ipairs(input.coupons) do
      if COUPONS[code] and rate == 0 then
        rate = COUPONS[code]         -- coupons do not stack: the first valid one wins
        applied[#applied + 1] = code
      end
    end
    local discount = round2(subtotal * rate)
    local after_discount = subtotal - discount

    local shipping = SHIPPING[input.shipping]
    if input.shipping == "standard" and after_discount >= FREE_SHIPPING_FROM then
      shipping = 0
    end
    local extras = input.gift_wrap and 2 or 0

    return {
      item = input.item,
      quantity = input.quantity,
      total = round2(after_discount + shipping + extras),
      express = input.shipping == "express",
      applied_coupons = applied,
      breakdown = {
        subtotal = subtotal,
        discount = discount,
        shipping = shipping,
        extras = extras,
        country = input.address.country or "NL",
      },
    }
  end,
}

Specifications([[
@pricing
Feature: Pricing an order
  Totals follow the shipping table, the free-shipping threshold and coupons.

  Background:
    Given the input item is "Notebook"

  Scenario Outline: Shipping depends on speed and order size
    Given the input quantity is <quantity>
    And the input unit_price is <price>
    And the input shipping is "<shipping>"
    When the procedure runs
    Then the output total should be <total>
    And the output express should be <express>
    And the output item should be "Notebook"

    Examples:
      | quantity | price | shipping | total | express |
      | 2        | 3.5   | standard | 11.5  | false   |
      | 10       | 6     | standard | 60    | false   |
      | 1        | 20    | express  | 32    | true    |

  @coupons
  Scenario: A coupon is applied before the free-shipping check
    Given the input quantity is 5
    And the input unit_price is 10
    And the input coupons is ["TENOFF", "BOGUS"]
    When the procedure runs
    Then the output total should be 49.5
    And the output applied_coupons should exist
    And the output breakdown should exist
    But the output express should be false
]])

Evaluation({
  runs = 2,
  dataset = {
    {name = "three_pens", inputs = {item = "Pen", quantity = 3, unit_price = 1.5},
     expected_output = {total = 9}},
    {name = "wrapped_express_mug",
     inputs = {item = "Mug", unit_price = 8.25, shipping = "express", gift_wrap = true},
     expected_output = {total = 22.25}},
  },
  evaluators = {
    field.equals_expected{field = "total"},
    field.min_length{field = "item", value = 1},
  },
  thresholds = {min_success_rate = 1.0},
})
