-- [tactus]/compat - what files written for the original Tactus rely on
-- beyond the current DSL (docs/compatibility.md):
--   * the v0.10 lowercase DSL (inventory H.2): agent, procedure, tool,
--     toolset, model, stages, step, specification(s), evaluation(s),
--     hitl/human, as a thin layer over today's primitives (no second
--     runtime), with its capitalised globals (Greeter.turn() for the agent
--     "greeter") and its defaults (model gpt-4o, the built-in done tool,
--     every tool of the file for an agent that names none);
--   * the `python` helper table of the original's Python bridge
--     (python.iter, python.enumerate, python.len), in plain Lua.
-- `tactus check` gives each legacy form a TAC901 warning naming the current
-- form, and `tactus check --fix` rewrites a file to it.

local raise, copy = dsl.raise, dsl.copy
local T, E = dsl.tools, dsl.exports
local format, find, sub, upper, lower =
  string.format, string.find, string.sub, string.upper, string.lower
local sort = table.sort

-- ---- capitalised globals ------------------------------------------------------------------------

-- Python's str.capitalize, which v0.10 used to name an agent's global:
-- "greeter" -> "Greeter", "research_bot" -> "Research_bot".
local function capitalize(name)
  return upper(sub(name, 1, 1)) .. lower(sub(name, 2))
end
dsl.capitalize = capitalize

-- Greeter for the agent "greeter", unless the file has a global of that
-- name. Current-DSL agents get one too (globals.lua, agent.lua): a file
-- that mixes Greeter.turn() with greeter = Agent {...} runs as it did.
local function publish(name, handle)
  if type(name) ~= "string" or name == "" then return end
  local g = capitalize(name)
  if g ~= name and rawget(G, g) == nil then rawset(G, g, handle) end
end
dsl.publish_global = publish

-- kind("name", {config}...): both given, or an error naming the v0.10
-- form and its current one.
local function expect_named(name, config, form, current)
  if type(name) ~= "string" or type(config) ~= "table" then
    raise("%s declares a v0.10 %s; the current form is %s", form, string.match(form, "^%a+"),
      current)
  end
end

-- ---- agents -------------------------------------------------------------------------------------

-- model = "openai:gpt-4o" (v0.10's provider:model) as provider/model. No
-- model: default_model, looked up at the first call (it may be set further
-- down the file), else v0.10's gpt-4o (agent.lua's fallback_model).
local function legacy_model(cfg)
  local m = cfg.model
  if type(m) == "string" and not find(m, "/", 1, true) then
    local provider, rest = string.match(m, "^([%w_%-]+):(.+)$")
    if provider and cfg.provider == nil then m = provider .. "/" .. rest end
  end
  return m
end

-- The grants of a v0.10 agent, resolved at its first call (the whole file
-- is declared by then, as v0.10 set agents up after reading it): the names
-- it lists, or, when it lists none, every tool of the file plus done.
function dsl.legacy_grants(config, list)
  local explicit = config.tools ~= nil or config.toolsets ~= nil
  return function(data)
    data.resolve_grants = nil
    local names = list -- its inline_tools, if any, come first
    if not explicit then
      local all = {}
      for _, t in pairs(T.all()) do
        if not t.agent then all[#all + 1] = t.handle end -- not another agent's own tools
      end
      sort(all, function(a, b) return dsl.data_of(a).name < dsl.data_of(b).name end)
      names = copy(list)
      for _, h in ipairs(all) do names[#names + 1] = h end
      names[#names + 1] = "done"
    end
    dsl.grant(data, names)
  end
end

local function agent(name, config)
  expect_named(name, config, "agent(\"name\", {provider = ..., model = ..., system_prompt = ...})",
    "name = Agent {...}")
  local cfg = copy(config)
  cfg.model = legacy_model(cfg)
  return dsl.declare_agent(cfg, name, {legacy = true}) -- publishes Greeter too
end

-- ---- procedures ---------------------------------------------------------------------------------

-- procedure("name", {config}, fn), procedure("name", fn), procedure({config}, fn),
-- procedure(fn); config keys params/outputs are input/output's older names.
local function procedure(a, b, c)
  local name, config, fn = nil, nil, nil
  if type(a) == "string" then
    name = a
    if type(b) == "function" then fn = b else config, fn = b, c end
  elseif type(a) == "table" then
    config, fn = a, b
  elseif type(a) == "function" then
    fn = a
  else
    raise("procedure(\"name\", {input = ..., output = ...}, function() ... end) declares a " ..
      "v0.10 procedure; the current form is Procedure { ..., function(input) ... end }")
  end
  if config ~= nil and type(config) ~= "table" then
    raise("procedure: the configuration must be a table {input = ..., output = ...}")
  end
  local cfg = copy(config or {})
  if cfg.input == nil then cfg.input = cfg.params end
  if cfg.output == nil then cfg.output = cfg.outputs end
  cfg.params, cfg.outputs = nil, nil
  return dsl.declare_procedure(cfg, name, fn)
end

-- ---- tools and toolsets -------------------------------------------------------------------------

local function tool(name, config, fn)
  expect_named(name, config, "tool(\"name\", {description = ..., parameters = {...}}, function(args) ... end)",
    "name = Tool {...}")
  return T.declare({description = config.description, input = config.input or config.parameters,
    handler = fn or config.handler or config[1]}, name)
end

-- toolset("name", {type = "lua", tools = {...}}) kept its tools' own names;
-- {type = "combined", sources = {"a", "b"}} joins toolsets by name.
local function toolset(name, config)
  expect_named(name, config, "toolset(\"name\", {type = \"lua\", tools = {...}})",
    "name = Toolset { tools = {...} }")
  local kind = config.type or "lua"
  if kind == "combined" then
    if type(config.sources) ~= "table" then raise("toolset '%s': type = \"combined\" needs sources = {...}", name) end
    return T.declare_toolset({tools = config.sources, description = config.description}, name)
  end
  if kind ~= "lua" then
    raise("toolset '%s': type = \"%s\" is not available in this runtime (plugin, MCP and " ..
      "filtered toolsets load Python or start servers); declare its tools in Lua with " ..
      "Toolset { tools = {...} }", name, tostring(kind))
  end
  return T.declare_toolset({tools = config.tools or {}, description = config.description}, name,
    {unprefixed = true})
end

-- ---- the rest -----------------------------------------------------------------------------------

local function model(name, config)
  expect_named(name, config, "model(\"name\", {type = ..., ...})", "Model \"name\" {...}")
  local h = E.Model(name)(config)
  publish(name, h)
  return h
end

-- stages("a", "b") or stages({"a", "b"})
local function stages(a, ...)
  if type(a) == "table" then return E.Stages(a) end
  return E.Stages({a, ...})
end

-- specification([[Gherkin]]) is Specification; v0.10's structured
-- specification("name", {scenarios}) is accepted and not run (tactus check
-- says so).
local function specification(a, b)
  if b == nil then return E.Specification(a) end
  return nil
end

E.agent, E.procedure, E.tool, E.toolset, E.model = agent, procedure, tool, toolset, model
E.stages, E.step = stages, function(text, fn) return E.Step(text, fn) end
E.specification, E.specifications = specification, function(text) return E.Specifications(text) end
E.evaluation = function(...) return E.Evaluation(...) end
E.evaluations = function(...) return E.Evaluations(...) end
E.human = E.hitl

-- ---- the python helper table --------------------------------------------------------------------
-- The original's Python bridge handed lists over as Python objects, and
-- files iterate them with python.iter(list) / python.enumerate(list). Here
-- they are Lua tables already; these keep such files running. Pure Lua:
-- nothing here evaluates code.

-- The items of a list, the keys of a table with other keys (as iterating
-- a Python dict), or the characters of a string.
local function items(x, who)
  local t = type(x)
  if t == "string" then
    local out = {}
    for ch in string.gmatch(x, utf8.charpattern) do out[#out + 1] = ch end
    return out
  end
  if t ~= "table" then raise("%s expects a list, a table or a string, got %s", who, t) end
  if dsl.is_sequence(x) then return x end
  local keys = {}
  for k in pairs(x) do keys[#keys + 1] = k end
  return keys
end

local python = {}

-- for item in python.iter(list) do ... end
function python.iter(x)
  local list, i = items(x, "python.iter"), 0
  return function()
    i = i + 1
    return list[i]
  end
end

-- for i, item in python.enumerate(list) do ... end: i counts from 0, as in Python
function python.enumerate(x, start)
  local list, i = items(x, "python.enumerate"), 0
  start = start or 0
  if math.type(start) ~= "integer" then raise("python.enumerate: start must be an integer") end
  return function()
    i = i + 1
    if list[i] == nil then return nil end
    return start + i - 1, list[i]
  end
end

-- python.len(x): items of a list or table, characters of a string
function python.len(x)
  if type(x) == "string" then return #items(x, "python.len") end
  if type(x) ~= "table" then raise("python.len expects a list, a table or a string, got %s", type(x)) end
  local n = 0
  for _ in pairs(x) do n = n + 1 end
  return n
end

E.python = python
