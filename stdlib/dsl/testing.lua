-- [tactus]/testing - the runtime's part of `tactus test` (inventory C.3, C.4).
--
-- Only active when the start frame carries `test` (the host's test runner
-- sets it; `tactus run` never does). The host decides everything about a
-- scenario: which steps are custom, which tool mocks it adds, which agents'
-- turns are mocked. Here we only
--   * answer tool calls from mocks: the scenario's first, then the file's
--     Mocks {} (evaluated, so computed values work), in the order
--     error -> temporal -> conditional -> returns; no match runs the tool;
--   * record instead of run the tool calls of mocked agents;
--   * run the scenario's custom steps: Given steps before the procedure,
--     the others after it, each with its doc string or data table;
--   * report the facts the host's assertions need (state, tool calls,
--     stages, iterations, stop, agent turns and what the agents were told).
-- Judging the built-in steps is the host's job: it knows the step library.

-- `tactus run --mock` (start.mock) gets the mocks without the rest.
local test = vm.start.test
local reporting = type(test) == "table"
if not reporting then
  if not vm.start.mock then return end
  test = {mock_agents = true}
end

local raise = dsl.raise
local T = dsl.tools
local format, find, sub = string.format, string.find, string.sub
local concat = table.concat

local scenario_mocks = type(test.tool_mocks) == "table" and test.tool_mocks or {}
local file_mocks = {}
local mock_calls = {}

dsl.exports.Mocks = function(tbl)
  if type(tbl) ~= "table" then raise("Mocks expects a table: Mocks { name = { returns = ... } }") end
  for name, spec in pairs(tbl) do
    if type(name) == "string" and type(spec) == "table" then file_mocks[name] = spec end
  end
end

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- `when` values: exact, "contains:x", "startswith:x", "endswith:x" on
-- strings, or a matcher: contains("x"), equals("x"), matches("^x").
local function value_matches(want, got)
  if type(want) == "table" and #want == 2 and type(want[2]) == "string" then
    local kind, arg = want[1], want[2]
    if kind == "contains" then return got ~= nil and find(tostring(got), arg, 1, true) ~= nil end
    if kind == "equals" then return got ~= nil and tostring(got) == arg end
    if kind == "matches" then return got ~= nil and string.find(tostring(got), arg) ~= nil end
  end
  if type(want) == "string" then
    local op, arg = want:match("^(%a+):(.*)$")
    if op == "contains" or op == "startswith" or op == "endswith" then
      if got == nil then return false end
      local s = tostring(got)
      if op == "contains" then return find(s, arg, 1, true) ~= nil end
      if op == "startswith" then return sub(s, 1, #arg) == arg end
      return arg == "" or sub(s, -#arg) == arg
    end
  end
  return deep_equal(want, got)
end

local function copy_result(v)
  return dsl.deepcopy(v)
end

-- T.mock(name, args, short) -> handled, result; a toolset's tool is mocked
-- by its full name (orders_lookup) or its short one (lookup)
T.mock = function(name, args, short)
  local spec = scenario_mocks[name] or file_mocks[name]
  if spec == nil and short then spec = scenario_mocks[short] or file_mocks[short] end
  if type(spec) ~= "table" then return false end
  if spec.error ~= nil then
    error(format("Tool '%s' (mocked) failed: %s", name, tostring(spec.error)), 0)
  end
  local n = (mock_calls[name] or 0) + 1
  if type(spec.temporal) == "table" and #spec.temporal > 0 then
    mock_calls[name] = n
    local list = spec.temporal
    return true, copy_result(list[n] ~= nil and list[n] or list[#list])
  end
  if type(spec.conditional) == "table" then
    for _, rule in ipairs(spec.conditional) do
      if type(rule) == "table" and type(rule.when) == "table" then
        local all = true
        for k, want in pairs(rule.when) do
          if not value_matches(want, args[k]) then
            all = false
            break
          end
        end
        if all then
          mock_calls[name] = n
          return true, copy_result(rule.returns)
        end
      end
    end
  end
  if spec.returns ~= nil then
    mock_calls[name] = n
    return true, copy_result(spec.returns)
  end
  return false
end

local mocked_agents = {}
if type(test.mocked_agents) == "table" then
  for _, name in ipairs(test.mocked_agents) do mocked_agents[name] = true end
end
T.records_only = function(agent)
  return test.mock_agents == true or mocked_agents[agent] == true
end

-- What each agent was told, turn by turn (for "the agent's context should include").
local agents = {}
dsl.observe_turn = function(agent, messages)
  local a = agents[agent]
  if not a then
    a = {turns = 0, context = {}}
    agents[agent] = a
  end
  a.turns = a.turns + 1
  for _, m in ipairs(messages) do
    if type(m.content) == "string" then a.context[#a.context + 1] = m.content end
  end
end

local tokens = 0
dsl.observe_usage = function(_, usage)
  if type(usage) == "table" and type(usage.total_tokens) == "number" then
    tokens = tokens + usage.total_tokens
  end
end

-- ---- custom steps -------------------------------------------------------------------------------------

local steps = type(test.steps) == "table" and test.steps or {}
local results = vm.json_array({})

local function find_step(text)
  local found
  for _, s in ipairs(dsl.custom_steps) do
    if s.text == text then found = s end
  end
  return found
end

local function run_step(s)
  local step = find_step(s.text)
  if not step then
    results[#results + 1] = {index = s.index, ok = false,
      error = format("no Step(\"%s\", function(ctx) ... end) is declared", s.text)}
    return false
  end
  local ctx = {text = s.text, doc_string = s.doc_string, table = s.table,
    output = dsl.run_output, state = dsl.state_all()}
  local ok, err = pcall(step.fn, ctx)
  if ok then
    results[#results + 1] = {index = s.index, ok = true}
    return true
  end
  results[#results + 1] = {index = s.index, ok = false,
    error = "Custom step failed: " .. tostring(err)}
  return false
end

local skipped = false

if not reporting then return end

-- Runs the Given steps; false when one failed (the procedure is then skipped).
dsl.test_before = function()
  for _, s in ipairs(steps) do
    if s.phase == "before" and not run_step(s) then
      skipped = true
      return false
    end
  end
  return true
end

-- Runs the remaining steps (after the procedure) and returns the report.
dsl.test_after = function()
  if not skipped then
    for _, s in ipairs(steps) do
      if s.phase ~= "before" and not run_step(s) then break end
    end
  end
  local tools = {}
  for name, data in pairs(T.all()) do
    if #data.calls > 0 then
      local calls = vm.json_array({})
      for i, c in ipairs(data.calls) do calls[i] = c.args end
      tools[name] = calls
    end
  end
  local report = dsl.run_facts()
  report.stages = vm.json_array(report.stages)
  report.steps = results
  report.skipped = skipped
  report.state = dsl.state_all()
  report.tools = tools
  report.tool_aliases = T.aliases()
  report.inputs = dsl.run_inputs or dsl.current_input()
  local ag = {}
  for name, a in pairs(agents) do ag[name] = {turns = a.turns, context = concat(a.context, "\n")} end
  report.agents = ag
  report.tokens = tokens
  return report
end
