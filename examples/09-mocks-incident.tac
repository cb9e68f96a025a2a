-- 09-mocks-incident.tac
--
-- One Mocks block can stand in for every external dependency of a file:
--   agent mock        {tool_calls = {...}, message = "..."}: the reply and the
--                     tool calls the agent "makes" (recorded, not executed)
--   returns           a fixed result for every call
--   temporal          call N gets item N; the last item then repeats
--   conditional       per-argument rules; no match runs the real tool
-- Mocks apply under `tactus test` (and `tactus run --mock`), never in a
-- normal production run.

local done = require("tactus.tools.done")

check_health = Tool {
  description = "Probe a service's health endpoint",
  input = {service = field.string{required = true}},
  function(args)
    return {state = "ok"} -- real probe elided in this example
  end,
}

find_owner = Tool {
  description = "Find the on-call team that owns a service",
  input = {service = field.string{required = true}},
  function(args)
    return {team = "unassigned"}
  end,
}

page_team = Tool {
  description = "Page an on-call team",
  input = {
    team = field.string{required = true},
    summary = field.string{required = true},
  },
  function(args)
    return {paged = false} -- the pager integration lives outside this example
  end,
}

triager = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "You triage incidents: summarise the situation in one sentence, then call done.",
  tools = {check_health, page_team, done},
}

Mocks {
  triager = {
    tool_calls = {{tool = "done", args = {reason = "summary written"}}},
    message = "Service is down after two probes; paging the owning team.",
  },
  check_health = {temporal = {{state = "degraded"}, {state = "down"}}},
  find_owner = {
    conditional = {
      {when = {service = "payments"}, returns = {team = "payments-oncall"}},
      {when = {service = "startswith:search"}, returns = {team = "search-oncall"}},
    },
  },
  page_team = {returns = {paged = true}},
}

Procedure {
  input = {
    service = field.string{required = true, description = "Service that raised the alert"},
    probes = field.integer{default = 3, description = "Health probes before giving up"},
  },
  output = {
    status = field.string{required = true},
    owner = field.string{required = true},
    paged = field.boolean{required = true},
    summary = field.string{required = true},
  },
  function(input)
    local status = "unknown"
    for _ = 1, input.probes do
      status = check_health({service = input.service}).state
      if status == "down" or status == "ok" then
        break
      end
    end

    local owner = find_owner({service = input.service}).team
    local result = triager({message = "Service " .. input.service .. " is " .. status .. "."})

    local paged = false
    if status == "down" and owner ~= "unassigned" then
      paged = page_team({team = owner, summary = result.output}).paged
    end

    return {status = status, owner = owner, paged = paged, summary = result.output}
  end,
}

Specifications([[
@mocks
Feature: Incident triage against mocked dependencies

  Scenario: A payments outage pages the payments team
    Given the input service is "payments"
    When the procedure runs
    Then the output status should be "down"
    And the output owner should be "payments-oncall"
    And the output paged should be true
    And the output summary should be "Service is down after two probes; paging the owning team."
    And the check_health tool should be called exactly 2 times
    And the done tool should be called

  Scenario: A service nobody owns is not paged
    Given the input service is "ledger"
    When the procedure runs
    Then the output owner should be "unassigned"
    And the output paged should be false
    But the page_team tool should not be called
]])
