-- [tactus]/agent - Agent declarations and the tool loop (inventory A.4).
--
-- One agent call sends llm.chat with the granted tools' JSON Schemas, runs
-- the tool calls the model asks for (Lua tools here, brokered ones through
-- tool.call), appends each result as a `tool` message, and repeats until the
-- model answers without a tool call, the done tool is called, or max_turns
-- model calls were made. The model can only ever reach the tools granted to
-- the agent, narrowed by a per-call `tools` list.

local raise, schema, T = dsl.raise, dsl.schema, dsl.tools
local format, find, gsub, sub = string.format, string.find, string.gsub, string.sub

local settings = {max_turns = 10, max_depth = 5}
dsl.settings = settings

-- ---- templates: {input.x} {state.x} {params.x} {prepared.x} and bare {x} (= input.x) ----------

local ROOTS = {input = true, state = true, params = true, prepared = true, context = true}

local function resolve(base, path)
  local v = base
  for part in string.gmatch(path, "[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function render(template, ctx)
  return (gsub(template, "{([%a_][%w_]*)([%.%w_]*)}", function(head, rest)
    local v
    if ROOTS[head] then
      if rest == "" then return nil end
      v = resolve(ctx[head], sub(rest, 2))
    else
      v = resolve(ctx.input, head .. rest)
    end
    if v == nil then return nil end -- unknown placeholders stay as written
    if type(v) == "table" then
      local ok, text = pcall(Json.encode, v)
      return ok and text or nil
    end
    return tostring(v)
  end))
end

-- ---- model names --------------------------------------------------------------------------------

local function model_of(data, override)
  local m = override or data.model
  local temperature, max_tokens
  if type(m) == "table" then
    temperature, max_tokens = m.temperature, m.max_tokens
    m = m.name or m.model
  end
  if m == nil then m = settings.default_model or data.fallback_model end
  if m == nil then
    raise("Agent '%s' has no model: set model = \"provider/model\" (or default_model(...))",
      data.name)
  end
  if type(m) ~= "string" then raise("Agent '%s': model must be a string", data.name) end
  if not find(m, "/", 1, true) then
    local provider = data.provider or settings.default_provider
    if not provider then
      raise("Agent '%s': model '%s' names no provider; write \"provider/model\", e.g. " ..
        "\"openai/gpt-4o-mini\"", data.name, m)
    end
    m = provider .. "/" .. m
  end
  return m, temperature, max_tokens
end
dsl.model_of = model_of

-- ---- the call -----------------------------------------------------------------------------------

local function tool_schema(t)
  local params
  if t.json_schema then
    params = t.json_schema -- an MCP tool's, as its server gave it
  elseif t.fields then
    params = schema.json_schema(t.fields)
  else
    params = {type = "object", properties = {}, additionalProperties = true}
  end
  return {name = t.name, description = t.description, parameters = params}
end

local function granted_names(data)
  return dsl.names_of(data.tools)
end

-- Per-call `tools` may only narrow the agent's grants.
local function allowed_tools(data, per_call)
  if per_call == nil then return data.tools end
  if type(per_call) ~= "table" then
    raise("Agent '%s': tools must be a list of tools", data.name)
  end
  local list = T.expand(per_call, format("Agent '%s'", data.name))
  for _, t in ipairs(list) do
    if not data.granted[t] then
      raise("Agent '%s': tool '%s' is not among the agent's tools (granted: %s); a per-call " ..
        "tools list can only narrow the grants", data.name, t.name, granted_names(data))
    end
  end
  return list
end

local function decode_arguments(args)
  if type(args) == "table" then return true, args end
  if args == nil or args == "" then return true, {} end
  if type(args) ~= "string" then return false, "arguments must be a JSON object" end
  local ok, v = pcall(Json.decode, args)
  if not ok or type(v) ~= "table" then return false, "arguments are not a JSON object" end
  return true, v
end

local function encode_result(r)
  if type(r) == "string" then return r end
  local ok, text = pcall(Json.encode, r)
  if ok then return text end
  return tostring(r)
end

local function add_usage(total, u)
  if type(u) ~= "table" then return end
  for _, k in ipairs({"prompt_tokens", "completion_tokens", "total_tokens"}) do
    if type(u[k]) == "number" then total[k] = total[k] + u[k] end
  end
end

-- Runs the tool calls of one assistant message; returns true when done was called.
local function run_tool_calls(data, tools, calls, history, record)
  local finished = false
  for i, tc in ipairs(calls) do
    local name = tc.name
    local tool, by_short
    for _, t in ipairs(tools) do
      if t.name == name then tool = t end
      if t.short == name then by_short = by_short == nil and t or false end
    end
    -- a mocked turn may name a toolset's tool by its short name
    if not tool and by_short then tool = by_short end
    if not tool and data.mcp_servers then
      tool = dsl.mcp.placeholder_tool(data.mcp_servers, name) -- --mock: no server started
    end
    local content
    if not tool then
      content = format("Error: tool '%s' is not available to this agent", tostring(name))
      record[#record + 1] = {name = name, args = tc.arguments, error = content}
    else
      local ok, args = decode_arguments(tc.arguments)
      if not ok then
        content = "Error: " .. args
        record[#record + 1] = {name = name, args = tc.arguments, error = content}
      else
        -- The model sees a failing tool's message and may try again; a
        -- budget stop or a suspension raised inside is sticky and ends the
        -- run at the next instruction anyway.
        local good, result = pcall(T.invoke_for_agent, data.name, tool, args)
        if good then
          content = encode_result(result)
          record[#record + 1] = {name = tool.name, args = args, result = result}
        else
          content = "Error: " .. tostring(result)
          record[#record + 1] = {name = tool.name, args = args, error = tostring(result)}
        end
      end
      if tool.stops_agent then finished = true end
    end
    history[#history + 1] = {role = "tool", tool_call_id = tc.id, name = tostring(name),
      content = content}
  end
  return finished
end

local function normalize_calls(msg, turn)
  local out = vm.json_array({})
  if type(msg.tool_calls) ~= "table" then return out end
  for i, tc in ipairs(msg.tool_calls) do
    if type(tc) == "table" then
      local fn = type(tc["function"]) == "table" and tc["function"] or {}
      out[#out + 1] = {
        id = tc.id or format("call_%d_%d", turn, i),
        name = tc.name or fn.name,
        arguments = tc.arguments or fn.arguments,
      }
    end
  end
  return out
end

local function structured_output(data, content)
  local value = content
  if type(content) == "string" then
    local ok, v = pcall(Json.decode, content)
    if not ok or type(v) ~= "table" then
      raise("Agent '%s' has an output schema but answered with text that is not a JSON object: %s",
        data.name, sub(content, 1, 200))
    end
    value = v
  elseif type(content) ~= "table" then
    raise("Agent '%s' has an output schema but gave no answer", data.name)
  end
  return schema.validate(data.output_fields, value, {
    label = "Output", noun = "output", prefix = format("Agent '%s': ", data.name), unknown = "drop",
  })
end

local PER_CALL = {message = true, tools = true, max_turns = true, temperature = true,
  max_tokens = true, system_prompt = true, initial_message = true, model = true, inject = true}

function dsl.agent_call(data, opts)
  local message
  if type(opts) == "string" then
    message, opts = opts, {}
  elseif opts == nil then
    opts = {}
  elseif type(opts) ~= "table" then
    raise("Agent '%s' expects a message or a table of options, got %s", data.name, type(opts))
  end
  -- `inject` is v0.10's name for the turn's message (Worker.turn({inject = "..."}))
  message = message or opts.message or opts.initial_message or opts.inject
  if message == nil and #data.history == 0 then message = data.initial_message end
  if message ~= nil and type(message) ~= "string" then
    raise("Agent '%s': message must be a string", data.name)
  end

  if data.resolve_grants then data.resolve_grants(data) end
  if data.pending then
    -- MCP toolsets are listed at the agent's first call, not at its
    -- declaration: a server starts only when it is used.
    dsl.grant(data, data.pending)
    data.pending = nil
  end
  local tools = allowed_tools(data, opts.tools)
  local max_turns = opts.max_turns or data.max_turns or settings.max_turns
  if type(max_turns) ~= "number" or max_turns < 1 then
    raise("Agent '%s': max_turns must be a positive number", data.name)
  end
  local model, temperature, max_tokens = model_of(data, opts.model)
  temperature = opts.temperature or temperature or data.temperature
  max_tokens = opts.max_tokens or max_tokens or data.max_tokens

  local params = {}
  for k, v in pairs(opts) do
    if not PER_CALL[k] then params[k] = v end
  end
  local ctx = {input = dsl.current_input(), state = dsl.state_all(), params = params,
    prepared = data.prepare and data.prepare() or nil}
  local template = opts.system_prompt or data.system_prompt
  if type(template) == "function" then template = template(ctx) end
  local system = type(template) == "string" and render(template, ctx) or nil

  local history = data.history
  if message ~= nil then history[#history + 1] = {role = "user", content = message} end

  local schemas = vm.json_array({})
  for i, t in ipairs(tools) do schemas[i] = tool_schema(t) end
  local usage = {prompt_tokens = 0, completion_tokens = 0, total_tokens = 0}
  local record = vm.json_array({})
  local output_text, last_msg, content
  local turns = 0
  while turns < max_turns do
    turns = turns + 1
    local messages = vm.json_array({})
    if system then messages[1] = {role = "system", content = system} end
    local seen = history
    if data.filter then
      local copy = {}
      for i, m in ipairs(history) do copy[i] = m end
      seen = dsl.apply_filter(data.name, data.filter, copy)
    end
    for _, m in ipairs(seen) do messages[#messages + 1] = m end
    if dsl.observe_turn then dsl.observe_turn(data.name, messages) end
    local ok, res = vm.request("llm.chat", {
      agent = data.name, model = model, messages = messages, tools = schemas,
      temperature = temperature, max_tokens = max_tokens, output_schema = data.output_schema,
      retry = data.retry,
    })
    if not ok then
      raise("Agent '%s': the model call failed: %s: %s", data.name, res.type, res.message)
    end
    local msg = type(res.message) == "table" and res.message or {}
    add_usage(usage, res.usage)
    if dsl.observe_usage then dsl.observe_usage(data.name, res.usage) end
    content = msg.content
    local calls = normalize_calls(msg, turns)
    local amsg = {role = "assistant", content = type(content) == "string" and content or ""}
    if #calls > 0 then amsg.tool_calls = calls end
    history[#history + 1] = amsg
    last_msg = amsg
    if type(content) == "string" and content ~= "" then output_text = content end
    if #calls == 0 then break end
    if run_tool_calls(data, tools, calls, history, record) then break end
  end

  local output
  if data.output_fields then
    if type(content) ~= "table" then content = output_text end
    output = structured_output(data, content)
  else
    output = output_text or ""
  end
  local result = {output = output, usage = usage, tool_calls = record, message = last_msg,
    turns = turns}
  if type(output) == "string" then result.text = output end
  data.last_output, data.last_result = output, result
  return result
end

-- ---- declaration --------------------------------------------------------------------------------

local function agent_index(data, k, h)
  if k == "name" then return data.name end
  if k == "output" then return data.last_output end
  if k == "last_result" then return data.last_result end
  if k == "usage" then return data.last_result and data.last_result.usage end
  if k == "messages" or k == "history" then return dsl.deepcopy(data.history) end
  if k == "turn" or k == "call" or k == "run" then
    return function(a, b)
      if a == h then a = b end
      return dsl.agent_call(data, a)
    end
  end
  return nil
end

-- Sets an agent's tools from a list of handles and names.
function dsl.grant(data, list)
  data.tools = T.expand(list, format("Agent '%s'", data.name))
  data.granted = {}
  for _, t in ipairs(data.tools) do data.granted[t] = true end
end

local agent_list = {} -- declared agents: Agent("name") finds one (v0.10's lookup)

local function agent_named(name)
  for i = #agent_list, 1, -1 do
    if agent_list[i].name == name then return agent_list[i] end
  end
  return nil
end

-- Keys that make Agent "x" {...} a declaration rather than a call of x.
local DECLARES = {model = true, provider = true, system_prompt = true, tools = true,
  toolsets = true, inline_tools = true, output = true, output_type = true}

local function declares(config)
  if type(config) ~= "table" or dsl.data_of(config) then return false end
  for k in pairs(config) do
    if DECLARES[k] then return true end
  end
  return false
end

local function declare_agent(config, name, opts)
  if type(config) ~= "table" then
    raise("Agent expects a table: Agent { model = \"provider/model\", system_prompt = \"...\" }")
  end
  local data = {
    model = config.model, provider = config.provider, system_prompt = config.system_prompt,
    initial_message = config.initial_message, temperature = config.temperature,
    max_tokens = config.max_tokens, max_turns = config.max_turns, prepare = config.prepare,
    retry = type(config.retry) == "table" and config.retry or nil,
    history = {},
  }
  dsl.name(data, "Agent", name or config.name)
  data.shared, data.filter = dsl.history_settings(config, data.name)
  if data.shared then data.history = dsl.shared_history() end
  if data.system_prompt ~= nil and type(data.system_prompt) ~= "string" and
      type(data.system_prompt) ~= "function" then
    raise("Agent '%s': system_prompt must be a string or a function", data.name)
  end
  local list = {}
  if type(config.tools) == "table" then
    for i, t in ipairs(config.tools) do list[i] = t end
  elseif config.tools ~= nil then
    raise("Agent '%s': tools must be a list of tools, toolsets or their names", data.name)
  end
  -- toolsets = {"name", ...}: grants by name, like strings in tools
  if type(config.toolsets) == "table" then
    for _, t in ipairs(config.toolsets) do list[#list + 1] = t end
  elseif config.toolsets ~= nil then
    raise("Agent '%s': toolsets must be a list of toolset names", data.name)
  end
  data.inline = {}
  for i, spec in ipairs(config.inline_tools or {}) do
    if type(spec) ~= "table" or type(spec.name) ~= "string" then
      raise("Agent '%s': inline_tools[%d] needs a name", data.name, i)
    end
    local t = dsl.data_of(T.declare({description = spec.description, input = spec.input,
      parameters = spec.parameters, handler = spec.handler or spec[1]}, spec.name))
    T.set_prefixed(t, data.name, spec.name)
    t.agent = data -- this agent's own tool: never another v0.10 agent's "every tool"
    data.inline[#data.inline + 1] = t
    list[#list + 1] = t.handle
  end
  local by_name = false
  for _, t in ipairs(list) do
    if type(t) == "string" then by_name = true end
  end
  data.tools, data.granted = {}, {}
  if opts and opts.legacy then
    data.fallback_model = "gpt-4o" -- v0.10's model when neither the agent nor default_model names one
    -- v0.10 set agents up after reading the whole file: names are resolved
    -- at the first call, and an agent without tools/toolsets gets every
    -- tool of the file (compat.lua)
    data.resolve_grants = dsl.legacy_grants(config, list)
  elseif by_name then
    -- tools = {"name"}: resolved at the first call, when the whole file is
    -- declared (the original set agents up after reading it)
    data.resolve_grants = function(d)
      d.resolve_grants = nil
      dsl.grant(d, list)
    end
  elseif T.has_lazy(list) then
    data.pending = list -- granted at the first call (agent_call)
  else
    dsl.grant(data, list)
  end
  for _, item in ipairs(list) do
    local d = dsl.data_of(item)
    if d and d.kind == "Toolset" and d.mcp_server then
      data.mcp_servers = data.mcp_servers or {}
      data.mcp_servers[d.mcp_server] = true
    end
  end
  local out = config.output
  if out == nil and type(config.output_type) == "table" then out = config.output_type end
  if type(out) == "table" then
    data.output_fields = schema.normalize(out, format("Agent '%s' output", data.name))
    data.output_schema = schema.json_schema(data.output_fields)
  end
  data.declared_at = dsl.here()
  local h = dsl.handle("Agent", data, agent_index, function(d, _, call_opts)
    return dsl.agent_call(d, call_opts)
  end)
  agent_list[#agent_list + 1] = data
  if not data.temp then dsl.publish_global(data.name, h) end
  return h
end
dsl.declare_agent = declare_agent

-- Agent {...}, Agent "name" {...}, and Agent("name").turn() / Agent("name")(...)
-- for an agent declared elsewhere in the file (v0.10's lookup by name).
dsl.exports.Agent = setmetatable({}, {
  __call = function(_, a, ...)
    if type(a) ~= "string" then return declare_agent(a) end
    return setmetatable({}, {
      __call = function(_, config)
        local d = agent_named(a)
        if not d or declares(config) then return declare_agent(config, a) end
        return dsl.agent_call(d, config)
      end,
      __index = function(_, k)
        local d = agent_named(a)
        if not d then raise("Agent '%s' is not declared", a) end
        return agent_index(d, k, d.handle)
      end,
      __metatable = false,
    })
  end,
  __metatable = false,
})

-- Settings (inventory A.15): global defaults for every agent.
function dsl.exports.default_provider(p)
  if type(p) ~= "string" then raise("default_provider expects a provider name") end
  settings.default_provider = p
end
function dsl.exports.default_model(m)
  if type(m) ~= "string" then raise("default_model expects a model name") end
  settings.default_model = m
end
function dsl.exports.max_turns(n)
  if math.type(n) ~= "integer" or n < 1 then raise("max_turns expects a positive integer") end
  settings.max_turns = n
end
function dsl.exports.max_depth(n)
  if math.type(n) ~= "integer" or n < 1 then raise("max_depth expects a positive integer") end
  settings.max_depth = n
end
