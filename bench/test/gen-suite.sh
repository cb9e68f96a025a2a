#!/usr/bin/env bash
# Writes the generated `tactus test` suite the benchmarks time: FILES files
# of SCENARIOS scenarios each, exercising what real specs do (inputs, inline
# agent turns with tool calls, tool mocks, human answers, custom steps,
# outlines, a dozen assertions each). Every scenario passes.
#   bench/test/gen-suite.sh DIR FILES SCENARIOS
set -euo pipefail
dir=$1 FILES=$2 SCENARIOS=$3
mkdir -p "$dir"
gen_file() {
    local f=$1
    cat <<'LUA'
local done = require("tactus.tools.done")

lookup = Tool {
  description = "Look an order up",
  input = {id = field.string{required = true}},
  function(args) return {status = "shipped", id = args.id} end,
}

refund = Tool {
  description = "Refund an order",
  input = {id = field.string{required = true}, amount = field.number{}},
  function(args) return {refunded = true} end,
}

support = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Help {input.customer} with: {input.question}",
  tools = {lookup, refund, done},
}

Procedure {
  input = {
    customer = field.string{required = true},
    question = field.string{required = true},
    limit = field.integer{default = 3},
  },
  output = {
    answer = field.string{required = true},
    resolved = field.boolean{required = true},
    checks = field.integer{required = true},
    approved = field.boolean{required = true},
  },
  function(input)
    local checks = 0
    for i = 1, input.limit do
      lookup({id = "A-" .. i})
      checks = checks + 1
      State.increment("lookups")
    end
    local r = support({message = input.question})
    local approved = Human.approve({message = "Send the answer to " .. input.customer .. "?"})
    return {answer = r.output, resolved = done.called(), checks = checks, approved = approved}
  end,
}

Step("the answer is polite", function(ctx)
  assert(ctx.output.answer:find("[%.!]$"), "an answer ends with a full stop")
end)

Specifications([[
Feature: Support answers
LUA
    local i
    for ((i = 1; i <= SCENARIOS; i++)); do
        if ((i % 5 == 0)); then
            cat <<GHERKIN

  Scenario Outline: Outline $f-$i
    Given the input customer is "<customer>"
    And the input question is "Where is <order>?"
    And the agent "support" responds with "Your order <order> has shipped."
    And the agent "support" calls tool "done" with args {"reason": "answered"}
    When the procedure runs
    Then the output answer should be "Your order <order> has shipped."
    And the output resolved should be true

    Examples:
      | customer | order |
      | Mina     | A-$i  |
GHERKIN
        else
            cat <<GHERKIN

  Scenario: Scenario $f-$i
    Given the input customer is "Customer $i"
    And the input question is "Where is order A-$i?"
    And the input limit is $((i % 4 + 1))
    And the agent "support" responds with "Order A-$i has shipped."
    And the agent "support" calls tool "lookup" with args {"id": "A-$i"}
    And the agent "support" calls tool "done" with args {"reason": "status given"}
    And the tool "refund" returns {"refunded": false}
    And Human.approve will return true
    When the procedure runs
    Then the output answer should be "Order A-$i has shipped."
    And the output resolved should be true
    And the output approved should be true
    And the output checks should be $((i % 4 + 1))
    And the lookup tool should be called at least $((i % 4 + 2)) times
    And the lookup tool should be called with id=A-$i
    And the refund tool should not be called
    And the state lookups should be $((i % 4 + 1))
    And the output answer should match pattern "^Order A-$i"
    And the agent's context should include "Customer $i"
    And the procedure should complete successfully
    And the answer is polite
GHERKIN
        fi
    done
    echo "]])"
}
for ((f = 1; f <= FILES; f++)); do gen_file "$f" >"$dir/suite-$f.tac"; done
