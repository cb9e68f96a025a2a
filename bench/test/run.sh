#!/usr/bin/env bash
# `tactus test` throughput (see RESULTS.md beside this file): mocked
# scenarios per second with `--mock -j 2 --no-sandbox`, over a generated
# suite of FILES files x SCENARIOS scenarios that exercise what real specs
# do: inputs, inline agent turns with tool calls, tool mocks, human answers,
# custom steps, outlines and a dozen assertions each. -j 1 is timed in the
# same hyperfine session, for the ratio.                  target >= 100/s
#
#   bench/test/run.sh                    RUNS=10 FILES=10 SCENARIOS=30
# Exit: 0 target met, 1 missed, 2 broken setup.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-10}
FILES=${FILES:-10}
SCENARIOS=${SCENARIOS:-30}
TARGET=100
for tool in hyperfine awk; do
    command -v $tool >/dev/null || { echo "bench/test: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
# shellcheck source=../lib.sh
. bench/lib.sh
bench_build
tactus=$root/build/tactus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/xdg

# ---- the suite ------------------------------------------------------------------------------
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
for ((f = 1; f <= FILES; f++)); do gen_file "$f" >"$work/suite-$f.tac"; done
total=$((FILES * SCENARIOS))

# Valid before timed: every scenario must pass.
if ! "$tactus" test --mock --no-sandbox -j 2 --format json "$work" >"$work/check.json" 2>"$work/check.err"; then
    echo "bench/test: the generated suite does not pass:" >&2
    head -40 "$work/check.err" >&2
    grep -m5 '"error"' "$work/check.json" >&2 || true
    exit 2
fi
bench_header
echo "suite: $FILES files, $total scenarios (every one passes), $(cat "$work"/*.tac | wc -l) lines"

hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-json "$work/h.json" \
    -n "j2" "$tactus test --mock --no-sandbox -j 2 $work" \
    -n "j1" "$tactus test --mock --no-sandbox -j 1 $work" >"$work/h.txt" 2>&1 || { cat "$work/h.txt" >&2; exit 2; }
median() { awk -v name="$1" '
    /"command":/ { cmd = $0; gsub(/.*"command": "|",?$/, "", cmd) }
    /"median":/ && cmd == name { v = $2; gsub(/,/, "", v); print v }' "$work/h.json"; }
j2=$(median j2)
j1=$(median j1)
rate2=$(awk -v t="$j2" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
rate1=$(awk -v t="$j1" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
ratio=$(awk -v a="$j1" -v b="$j2" 'BEGIN { printf "%.2f", a / b }')
printf 'tactus test --mock --no-sandbox -j 2: median %.3f s -> %s scenarios/s (target >= %d)\n' "$j2" "$rate2" "$TARGET"
printf 'tactus test --mock --no-sandbox -j 1: median %.3f s -> %s scenarios/s; -j 2 is %sx faster\n' "$j1" "$rate1" "$ratio"
printf 'per scenario (-j 2): %.2f ms\n' "$(awk -v t="$j2" -v n="$total" 'BEGIN { print t * 1000 / n }')"
[ "$rate2" -ge "$TARGET" ] || { echo "bench/test: target missed" >&2; exit 1; }
