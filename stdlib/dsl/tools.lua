-- [tactus]/tools - Tool, Toolset and tool handles (inventory A.5, A.6).
--
-- A tool is either a Lua function run here (arguments validated against its
-- `input` fields first) or a brokered host tool (`use = "broker.host.NAME"`),
-- which becomes a tool.call request: the host decides whether NAME is
-- allowed. Every call, direct or by an agent, is recorded on the handle.

local raise, schema = dsl.raise, dsl.schema
local format, match = string.format, string.match

local T = {}
dsl.tools = T

local by_name = {} -- latest tool of each name, for Tool.called("name") and agents
-- Tools of an inline Toolset are named <toolset>_<tool> (and an agent's
-- inline_tools <agent>_<tool>), as the original names them: that is the
-- name the model sees and the journal records. Their short name (<tool>)
-- still finds them while no other tool has the same short name.
local by_short = {} -- short name -> {data, ...}
local toolsets = {} -- toolset name -> data, for grants by name and Toolset.get

function T.invoke(data, args)
  if args == nil then args = {} end
  if type(args) ~= "table" then
    raise("Tool '%s' expects a table of arguments, got %s", data.name, type(args))
  end
  local validated = args
  if data.fields then
    validated = schema.validate(data.fields, args, {
      label = "Argument", noun = "argument", prefix = format("Tool '%s': ", data.name),
      unknown = "drop",
    })
  end
  local result
  local mocked, mock_result = false, nil
  if T.mock then mocked, mock_result = T.mock(data.name, validated, data.short) end
  if mocked then
    result = mock_result
  elseif data.broker then
    local params = {name = data.broker, args = validated}
    local ok, res, id = vm.request("tool.call", params)
    -- A host tool that requires approval: the run waits for a person.
    if not ok and res.type == "Suspended" then vm.suspend(params, id) end
    if not ok then
      raise("Tool '%s' (%s) failed: %s: %s", data.name, data.broker, res.type, res.message)
    end
    result = res.result
  else
    result = data.fn(validated)
  end
  data.calls[#data.calls + 1] = {name = data.name, args = validated, result = result}
  return result
end

local function last(data)
  return data.calls[#data.calls]
end

local function tool_index(data, k, h)
  if k == "name" then return data.name end
  if k == "short_name" then return data.short or data.name end
  if k == "description" then return data.description end
  if k == "called" then return function() return #data.calls > 0 end end
  if k == "call_count" then return function() return #data.calls end end
  if k == "last_call" then
    return function()
      local c = last(data)
      return c and {name = c.name, args = c.args, result = c.result} or nil
    end
  end
  if k == "last_result" then
    return function()
      local c = last(data)
      return c and c.result
    end
  end
  if k == "reset" then return function() data.calls = {} end end
  if k == "call" then
    -- t:call(args) and t.call(args) both work
    return function(a, b)
      if a == h then a = b end
      return T.invoke(data, a)
    end
  end
  return nil
end

-- A tool the host runs (an MCP server's), named `name`, sent as tool.call
-- `broker`: no handler here, no Lua-side validation (the server has the
-- schema); its JSON Schema (json_schema) is set once the host lists it.
function T.external(name, broker, description)
  local data = {calls = {}, description = description, broker = broker, explicit = true,
    external = true}
  data.name = name
  by_name[name] = data
  dsl.handle("Tool", data, tool_index, function(d, _, args) return T.invoke(d, args) end)
  return data
end

-- Declares a tool. opts: {stdlib = true} for embedded tools, {stops_agent = true} for done.
function T.declare(config, name, opts)
  if type(config) ~= "table" then
    raise("Tool expects a table: Tool { description = \"...\", input = {...}, function(args) ... end }")
  end
  local data = {calls = {}, description = config.description or ""}
  if type(data.description) ~= "string" then raise("Tool: description must be a string") end
  if config.use ~= nil then
    if type(config.use) ~= "string" then raise("Tool: use must be a string") end
    local host = match(config.use, "^broker%.(host%.[%w_%.%-]+)$")
    if not host then
      raise("Tool: use = \"%s\" is not available in this runtime (brokered host tools are " ..
        "written use = \"broker.host.NAME\")", config.use)
    end
    data.broker = host
    if data.description == "" then data.description = "Host tool " .. host end
  else
    local fn = config[1] or config.handler
    if type(fn) ~= "function" then
      raise("Tool needs a function: Tool { description = \"...\", function(args) ... end }")
    end
    data.fn = fn
  end
  data.fields = schema.normalize(config.input or config.parameters, "Tool input")
  dsl.name(data, "Tool", name or config.name)
  if opts then
    data.stdlib, data.stops_agent = opts.stdlib, opts.stops_agent
    if opts.stdlib then data.explicit = false end
  end
  if data.name == "done" then data.stops_agent = true end
  data.declared_at = dsl.here()
  by_name[data.name] = data
  return dsl.handle("Tool", data, tool_index, function(d, _, args) return T.invoke(d, args) end)
end

-- A tool call made by `agent` (the agent loop). Under `tactus test --mock`
-- the calls of mocked agents are recorded and answered by the tool's mock,
-- or with a generic record, without running the handler (inventory C.3).
function T.invoke_for_agent(agent, data, args)
  if not (T.records_only and T.records_only(agent)) then return T.invoke(data, args) end
  if type(args) ~= "table" then args = {} end
  local mocked, result = false, nil
  if T.mock then mocked, result = T.mock(data.name, args, data.short) end
  if not mocked then
    if data.stops_agent then
      result = {status = "completed", reason = args.reason, tool = data.name}
    else
      result = {tool = data.name, args = args}
    end
  end
  data.calls[#data.calls + 1] = {name = data.name, args = args, result = result}
  return result
end

-- Every declared tool by name (for the test report).
function T.all()
  return by_name
end

function T.rename(data, name)
  if by_name[data.name] == data then by_name[data.name] = nil end
  data.name, data.temp = name, false
  if data.name == "done" then data.stops_agent = true end
  by_name[name] = data
end

-- Gives a tool of a toolset (or of an agent's inline_tools) its full name
-- owner_short, keeping the short one for lookups.
local function set_prefixed(data, owner, short)
  if by_name[data.name] == data then by_name[data.name] = nil end
  if not data.short then
    local list = by_short[short] or {}
    list[#list + 1] = data
    by_short[short] = list
  end
  data.short = short
  data.name = owner .. "_" .. short
  by_name[data.name] = data
end
T.set_prefixed = set_prefixed

-- The tool a name means: its full name, else its short name when exactly
-- one tool has it. nil, or nil and the candidates when it is ambiguous.
function T.lookup(name)
  local d = by_name[name]
  if d then return d end
  local list = by_short[name]
  if list and #list == 1 then return list[1] end
  if list and #list > 1 then return nil, list end
  return nil
end

function T.get(name)
  return (T.lookup(name))
end

-- Short names that mean exactly one tool, for the test report (the host
-- resolves step texts such as "the ask_approval tool should be called").
function T.aliases()
  local out = {}
  for short, list in pairs(by_short) do
    if #list == 1 and not by_name[short] then out[short] = list[1].name end
  end
  return out
end

local function ambiguity(who, name, list)
  local names = {}
  for i, d in ipairs(list) do names[i] = d.name end
  table.sort(names)
  raise("%s: the tool name '%s' is ambiguous (%s); use the full name", who, name,
    table.concat(names, ", "))
end

-- The stdlib done tool, loaded on first use of the name "done".
local function stdlib_done()
  if not by_name.done then require("tactus.tools.done") end
  return by_name.done
end

function T.toolset_named(name)
  return toolsets[name]
end

-- Flattens a list of tool handles, toolset handles and tool names into tool
-- data, in order, without duplicates.
function T.expand(list, who)
  local out, seen = {}, {}
  local function add(d)
    if not seen[d] then
      seen[d] = true
      out[#out + 1] = d
    end
  end
  for i, item in ipairs(list) do
    local d = dsl.data_of(item)
    if type(item) == "string" then
      -- A name: a tool, a toolset (all its tools), or the stdlib done.
      local amb
      d, amb = T.lookup(item)
      if amb then ambiguity(who, item, amb) end
      local ts = toolsets[item]
      if ts and (not d or d.toolset == ts) then
        for _, t in ipairs(T.toolset_tools(ts)) do add(t) end
      elseif d then
        add(d)
      elseif item == "done" then
        add(stdlib_done())
      else
        raise("%s: tools[%d] names '%s', which is no declared tool or toolset", who, i, item)
      end
    elseif d and d.kind == "Tool" then
      add(d)
    elseif d and d.kind == "Toolset" then
      for _, t in ipairs(T.toolset_tools(d)) do add(t) end
    else
      raise("%s: tools[%d] is not a Tool or a Toolset (got %s)", who, i, type(item))
    end
  end
  return out
end

-- ---- Toolset ---------------------------------------------------------------------------------

-- Whether the list holds a toolset whose tools are not known yet (an MCP
-- server's, listed at first use).
function T.has_lazy(list)
  for _, item in ipairs(list) do
    local d = dsl.data_of(item)
    if d and d.kind == "Toolset" and d.mcp_server and not d.loaded then return true end
  end
  return false
end

-- A toolset's tools; an MCP toolset's are asked of the host the first time.
function T.toolset_tools(d)
  if d.mcp_server and not d.loaded then
    local list, placeholder = dsl.mcp.load(d.mcp_server)
    d.tools, d.placeholder = {}, placeholder
    for _, t in ipairs(list) do
      local short = t.name:sub(#d.mcp_server + 2)
      if (not d.include or d.include[short]) and not (d.exclude and d.exclude[short]) then
        d.tools[#d.tools + 1] = t
      end
    end
    d.loaded = true
  end
  return d.tools
end

local function toolset_index(data, k)
  if k == "name" then return data.name end
  if k == "get" or k == "tool" then
    -- ts.get("add") / ts:get("add"): one of its tools, by full or short name
    return function(a, b)
      local name = b ~= nil and b or a
      for _, t in ipairs(T.toolset_tools(data)) do
        if t.name == name or t.short == name then return t.handle end
      end
      raise("Toolset '%s' has no tool '%s'", data.name, tostring(name))
    end
  end
  if k == "tools" then
    local list = vm.json_array({})
    for i, t in ipairs(T.toolset_tools(data)) do list[i] = t.handle end
    return list
  end
  return nil
end

local function name_set(v, what)
  if v == nil then return nil end
  if type(v) ~= "table" then raise("Toolset: %s must be a list of tool names", what) end
  local set = {}
  for _, n in ipairs(v) do set[n] = true end
  return set
end

local function declare_toolset(config, name, opts)
  if type(config) ~= "table" then raise("Toolset expects a table: Toolset { tools = {...} }") end
  if config.use ~= nil then
    local srv = type(config.use) == "string" and match(config.use, "^mcp%.([%w_%-]+)$")
    if not srv then
      raise("Toolset: use = \"%s\" is not available in this runtime (MCP servers are written " ..
        "use = \"mcp.SERVER\", SERVER declared in the host's mcp_servers)", tostring(config.use))
    end
    local data = {tools = {}, inline = {}, description = config.description, mcp_server = srv,
      include = name_set(config.include, "include"), exclude = name_set(config.exclude, "exclude")}
    dsl.name(data, "Toolset", name or config.name)
    return dsl.handle("Toolset", data, toolset_index, nil)
  end
  if type(config.tools) ~= "table" then raise("Toolset needs tools = {...}") end
  local data = {tools = {}, description = config.description, inline = {}}
  dsl.name(data, "Toolset", name or config.name)
  for i, item in ipairs(config.tools) do
    if dsl.data_of(item) or type(item) == "string" then
      for _, t in ipairs(T.expand({item}, "Toolset")) do data.tools[#data.tools + 1] = t end
    elseif type(item) == "table" then
      if type(item.name) ~= "string" then raise("Toolset: tools[%d] needs a name", i) end
      local h = T.declare({
        description = item.description, input = item.input, parameters = item.parameters,
        handler = item.handler or item[1],
      }, item.name)
      local t = dsl.data_of(h)
      t.toolset = data
      -- v0.10's toolset("name", {type = "lua", ...}) kept the tools' own names.
      if not (opts and opts.unprefixed) then set_prefixed(t, data.name, item.name) end
      data.tools[#data.tools + 1] = t
      data.inline[#data.inline + 1] = t
    else
      raise("Toolset: tools[%d] must be a tool or a table {name, description, input, handler}", i)
    end
  end
  if not data.temp then toolsets[data.name] = data end
  return dsl.handle("Toolset", data, toolset_index, nil)
end
T.declare_toolset = declare_toolset

-- `orders = Toolset {...}`: the toolset takes the variable's name, and its
-- inline tools become orders_<tool>.
function T.toolset_rename(data, name)
  if toolsets[data.name] == data then toolsets[data.name] = nil end
  data.name, data.temp = name, false
  toolsets[name] = data
  for _, t in ipairs(data.inline) do
    if t.short then set_prefixed(t, name, t.short) end
  end
end

-- ---- the Tool global: a declarer with lookups by name ------------------------------------------

local function named(fn, name)
  if type(name) ~= "string" then raise("Tool.%s expects a tool name", fn) end
  local d, amb = T.lookup(name)
  if amb then ambiguity("Tool." .. fn, name, amb) end
  if not d and name == "done" and fn == "get" then d = stdlib_done() end
  return d
end

local Tool = dsl.declarer("Tool", function(config, name) return T.declare(config, name) end, {
  called = function(name)
    local d = named("called", name)
    return d ~= nil and #d.calls > 0
  end,
  call_count = function(name)
    local d = named("call_count", name)
    return d and #d.calls or 0
  end,
  last_call = function(name)
    local d = named("last_call", name)
    local c = d and last(d)
    return c and {name = c.name, args = c.args, result = c.result} or nil
  end,
  last_result = function(name)
    local d = named("last_result", name)
    local c = d and last(d)
    return c and c.result
  end,
  get = function(name)
    local d = named("get", name)
    if not d then raise("Tool '%s' is not declared", name) end
    return d.handle
  end,
})

dsl.exports.Tool = Tool
dsl.exports.Toolset = dsl.declarer("Toolset", function(config, name) return declare_toolset(config, name) end, {
  -- Toolset.get("name"): a declared toolset, to grant as tools = {Toolset.get("x")}
  get = function(name)
    if type(name) ~= "string" then raise("Toolset.get expects a toolset name") end
    local d = toolsets[name]
    if not d then
      local names = {}
      for n in pairs(toolsets) do names[#names + 1] = n end
      table.sort(names)
      raise("Toolset '%s' is not declared (declared: %s)", name,
        #names > 0 and table.concat(names, ", ") or "none")
    end
    return d.handle
  end,
})
