-- 06-toolset-support.tac
--
-- A Toolset groups related tools (name, description, input schema, handler)
-- and is granted to an agent as one unit, next to the stdlib `done` tool.
-- Its tools are named <toolset>_<tool>, as the original Tactus names them:
-- the model is offered orders_lookup_order and orders_request_refund. The
-- short name (lookup_order) finds a tool too while no other tool has it.
-- In the scenario the agent is mocked: its tool calls are recorded (so the
-- spec can assert on them) but handlers only run against a real model.

local done = require("tactus.tools.done")

-- A tiny in-memory order book standing in for a real backend.
local ORDERS = {
  ["A-1001"] = {status = "shipped", total = 42.50, carrier = "PostNL"},
  ["A-1002"] = {status = "processing", total = 12.00},
}

orders = Toolset {
  tools = {
    {
      name = "lookup_order",
      description = "Fetch the status of an order by its id",
      input = {
        order_id = field.string{required = true, description = "Order id such as A-1001"},
      },
      handler = function(args)
        local order = ORDERS[args.order_id]
        if not order then
          return {found = false}
        end
        return {found = true, status = order.status, carrier = order.carrier}
      end,
    },
    {
      name = "request_refund",
      description = "Open a refund request for part or all of an order",
      input = {
        order_id = field.string{required = true},
        amount = field.number{required = true, description = "Refund amount in EUR"},
        reason = field.string{description = "Why the customer wants a refund"},
      },
      handler = function(args)
        local order = ORDERS[args.order_id]
        if not order or args.amount > order.total then
          return {accepted = false}
        end
        State.increment("refunds_opened")
        return {accepted = true, ticket = "RF-" .. args.order_id}
      end,
    },
  },
}

support = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = [[
You are a support assistant for {input.customer}. Look orders up before answering and
never promise a refund you did not request. When the question is answered, call done
with a one-line summary.]],
  tools = {orders, done},
}

Procedure {
  input = {
    customer = field.string{required = true, description = "Customer display name"},
    question = field.string{required = true, description = "What the customer asked"},
  },
  output = {
    answer = field.string{required = true},
    resolved = field.boolean{required = true},
  },
  function(input)
    local reply = support({message = input.question})
    local resolved = done.called()
    if resolved then
      Log.info("support case closed", {summary = done.last_call().args.reason})
    end
    return {answer = reply.output, resolved = resolved}
  end,
}

Specifications([[
@support
Feature: Order support with a toolset

  Scenario: The agent looks up an order before answering
    Given the input customer is "Mina"
    And the input question is "Where is my order A-1001?"
    And the agent "support" responds with "Your order A-1001 has shipped with PostNL."
    And the agent "support" calls tool "lookup_order" with args {"order_id": "A-1001"}
    And the agent "support" calls tool "done" with args {"reason": "order status given"}
    When the procedure runs
    Then the output answer should be "Your order A-1001 has shipped with PostNL."
    And the output resolved should be true
    And the orders_lookup_order tool should be called with order_id=A-1001
    But the request_refund tool should not be called
]])
