-- [tactus]/history - MessageHistory / Session and filters (inventory A.12).
--
-- Every agent keeps its own conversation unless it is declared with
-- message_history = {source = "shared"} (or session = {...}): shared agents
-- read and write one history, the procedure's, which MessageHistory (alias
-- Session) manages. A filter shapes what a model call sees (the stored
-- history is never cut): filters.last_n(10), filters.by_role("user"),
-- filters.token_budget(2000), filters.compose(f, g, ...).

local raise = dsl.raise
local format = string.format

local shared = {}
dsl.shared_history = function() return shared end

local ROLES = {system = true, user = true, assistant = true, tool = true}

local function check_message(m, fn)
  if type(m) ~= "table" or not ROLES[m.role] or type(m.content) ~= "string" then
    raise("%s expects {role = \"user\"|\"assistant\"|\"system\", content = \"...\"}", fn)
  end
end

local function copy_list(list)
  local out = vm.json_array({})
  for i, m in ipairs(list) do out[i] = dsl.copy(m) end
  return out
end

local History = {}

function History.append(m)
  check_message(m, "MessageHistory.append")
  shared[#shared + 1] = {role = m.role, content = m.content, name = m.name}
end

function History.inject_system(text)
  if type(text) ~= "string" then raise("MessageHistory.inject_system expects a string") end
  shared[#shared + 1] = {role = "system", content = text}
end

function History.clear()
  for i = #shared, 1, -1 do shared[i] = nil end
end

function History.get() return copy_list(shared) end
History.history = History.get

function History.count() return #shared end

-- ---- filters: list -> list, applied to a copy ---------------------------------------------------

local function tokens(m)
  -- a model-agnostic estimate: four characters a token, as OpenAI's guide has it
  return math.ceil(#(m.content or "") / 4) + 4
end

local function positive(fn, n)
  if math.type(n) ~= "integer" or n < 0 then raise("filters.%s expects a whole number >= 0", fn) end
end

local filters = {}

function filters.last_n(n)
  positive("last_n", n)
  return function(list)
    local out = {}
    for i = math.max(1, #list - n + 1), #list do out[#out + 1] = list[i] end
    return out
  end
end

function filters.first_n(n)
  positive("first_n", n)
  return function(list)
    local out = {}
    for i = 1, math.min(n, #list) do out[i] = list[i] end
    return out
  end
end

function filters.by_role(...)
  local roles = {}
  for _, r in ipairs({...}) do
    if not ROLES[r] then raise("filters.by_role: %q is not a role", tostring(r)) end
    roles[r] = true
  end
  return function(list)
    local out = {}
    for _, m in ipairs(list) do if roles[m.role] then out[#out + 1] = m end end
    return out
  end
end

-- The newest messages that fit in `max` tokens (system messages kept).
function filters.token_budget(max)
  positive("token_budget", max)
  return function(list)
    local keep, used = {}, 0
    for _, m in ipairs(list) do
      if m.role == "system" then used = used + tokens(m) end
    end
    for i = #list, 1, -1 do
      local m = list[i]
      if m.role ~= "system" then
        used = used + tokens(m)
        if used > max then break end
        keep[i] = true
      end
    end
    local out = {}
    for i, m in ipairs(list) do if m.role == "system" or keep[i] then out[#out + 1] = m end end
    return out
  end
end
filters.tail_tokens = filters.token_budget

-- The oldest messages that fit in `max` tokens.
function filters.head_tokens(max)
  positive("head_tokens", max)
  return function(list)
    local out, used = {}, 0
    for _, m in ipairs(list) do
      used = used + tokens(m)
      if used > max then break end
      out[#out + 1] = m
    end
    return out
  end
end

-- Keeps system messages whose content starts with one of the prefixes,
-- and every other message.
function filters.system_prefix(...)
  local prefixes = {...}
  return function(list)
    local out = {}
    for _, m in ipairs(list) do
      local keep = m.role ~= "system"
      for _, p in ipairs(prefixes) do
        if m.role == "system" and m.content:sub(1, #p) == p then keep = true end
      end
      if keep then out[#out + 1] = m end
    end
    return out
  end
end

function filters.compose(...)
  local fs = {...}
  for i, f in ipairs(fs) do
    if type(f) ~= "function" then raise("filters.compose: argument %d is not a filter", i) end
  end
  return function(list)
    for _, f in ipairs(fs) do list = f(list) end
    return list
  end
end

-- Applies an agent's filter; a filter must return a list of messages.
function dsl.apply_filter(agent, filter, list)
  if not filter then return list end
  local out = filter(list)
  if type(out) ~= "table" then
    raise("Agent '%s': its message_history filter returned %s, not a list", agent, type(out))
  end
  return out
end

-- message_history = {source = "shared"|"isolated", filter = f} (or session = ...)
function dsl.history_settings(config, name)
  local mh = config.message_history or config.session
  local filter = config.filter
  local is_shared = false
  if mh ~= nil then
    if type(mh) ~= "table" then raise(format("Agent '%s': message_history must be a table", name)) end
    if mh.source ~= nil and mh.source ~= "shared" and mh.source ~= "isolated" and mh.source ~= "own" then
      raise("Agent '%s': message_history.source must be \"shared\" or \"isolated\"", name)
    end
    is_shared = mh.source == "shared"
    filter = mh.filter or filter
  end
  if filter ~= nil and type(filter) ~= "function" then
    raise("Agent '%s': a filter is a function such as filters.last_n(10)", name)
  end
  return is_shared, filter
end

dsl.exports.MessageHistory = History
dsl.exports.Session = History
dsl.exports.filters = filters
