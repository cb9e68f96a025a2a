-- [tactus]/procedure - Procedure declarations, script mode, and dsl.run: the
-- run itself (inventory A.3, A.16).
--
-- dsl.run loads the user's file (text only, chunk named "@path"), runs its
-- top level (declarations, or the whole script in script mode), picks the
-- procedure to run, validates its input at the boundary (defaults, types,
-- enums), runs it, and validates its output (only declared fields leave).

local raise, raise_at, schema = dsl.raise, dsl.raise_at, dsl.schema
local format = string.format
local pack = table.pack

local list, named = {}, {}
local depth = 0
local current_input = {}
local script = {}

function dsl.current_input()
  return current_input
end

-- ---- calling a procedure ------------------------------------------------------------------------

-- The lines of fn's own `return` statements in the procedure's file (its
-- active lines whose text has the word `return`), or {} when fn is not in
-- it. A message names the return a value came from without a debug hook
-- on every return of the run.
local function return_lines(fn)
  local chunk, lines = vm.function_lines(fn)
  if chunk ~= "@" .. tostring(vm.start.path) or type(vm.start.source) ~= "string" then return {} end
  local text, out, n = vm.start.source, {}, 0
  local want = {}
  for _, l in ipairs(lines) do want[l] = true end
  local pos = 1
  while pos <= #text do
    local e = string.find(text, "\n", pos, true) or #text + 1
    n = n + 1
    if want[n] then
      local line = string.sub(text, pos, e - 1)
      line = string.gsub(line, "%-%-.*$", "")
      if string.find(" " .. line .. " ", "[^%w_]return[^%w_]") then out[#out + 1] = n end
    end
    pos = e + 1
  end
  return out
end

-- The kind of a literal written after `field =` ("string", "number",
-- "boolean", "table"), or nil for an expression.
local function literal_kind(text)
  local c = string.sub(text, 1, 1)
  if c == '"' or c == "'" or string.find(text, "^%[=*%[") then return "string" end
  if string.find(text, "^%-?%d") then return "number" end
  if string.find(text, "^true%f[^%w_]") or string.find(text, "^false%f[^%w_]") then
    return "boolean"
  end
  if c == "{" then return "table" end
  return nil
end

-- Where a procedure's output came from: {file, line} of its return (the
-- one that mentions `field` when there are several, and among those the
-- ones whose literal could not have been of the declared type `ok_kind`),
-- and a phrase for messages; the declaration when no return line is known.
local function output_site(data, field, ok_kind)
  if not data.fn then return data.declared_at, "" end
  local lines = return_lines(data.fn)
  if #lines > 1 and field then
    local text, hits = vm.start.source, {}
    local n, pos = 0, 1
    local set = {}
    for _, l in ipairs(lines) do set[l] = true end
    -- the returns whose line (or the next two, for a table spread over
    -- lines) mention `field =`
    while pos <= #text and #hits < #lines do
      local e = string.find(text, "\n", pos, true) or #text + 1
      n = n + 1
      for back = 0, 2 do
        local _, stop = string.find(string.sub(text, pos, e - 1), "%f[%w_]" .. field .. "%s*=%s*")
        if set[n - back] and stop then
          local kind = literal_kind(string.sub(text, pos + stop, e - 1))
          if not (ok_kind and kind == ok_kind) then hits[#hits + 1] = n - back end
          break
        end
      end
      pos = e + 1
    end
    if #hits == 1 then lines = hits end
  end
  local file = data.declared_at and data.declared_at.file or vm.start.path
  if #lines == 1 then return {file = file, line = lines[1]}, "" end
  if #lines > 1 then
    local list = {}
    for i, l in ipairs(lines) do list[i] = tostring(l) end
    return data.declared_at, format(" (returned on one of lines %s)", table.concat(list, ", "))
  end
  return data.declared_at, ""
end

-- What to do about a value of the wrong type, by expected and actual type.
local function type_hint(expected, actual)
  if expected == "string" and (actual == "table" or actual == "array") then
    return "return the field you need rather than the whole table (a tool's result such as " ..
      "done.last_result() is a table: use done.last_result().reason), or Json.encode(...) it"
  elseif expected == "string" then
    return "convert it with tostring(...)"
  elseif (expected == "number" or expected == "integer") and actual == "string" then
    return "convert it with tonumber(...)"
  elseif expected == "integer" and actual == "number" then
    return "round it with math.floor(...), or declare the field field.number{}"
  elseif expected == "boolean" then
    return "return a comparison (x == \"yes\") or declare the field with the type it has"
  elseif expected == "array" then
    return "return a list {a, b, ...}, or declare the field field.object{}"
  end
  return format("return a %s, or declare the field with the type it has (field.%s{})", expected,
    actual == "table" and "object" or actual)
end

local function raise_exact(at, msg, ...)
  msg = format(msg, ...)
  if at and at.file then error(at.file .. ":" .. at.line .. ": " .. msg, 0) end
  error(msg, 0)
end

-- Typed outputs stay strict (docs/compatibility.md): a value of the wrong
-- type fails the run, with the return line, the field, both types and the
-- fix. An undeclared key is dropped with a logged warning, as the original.
local function check_output(data, result, prefix)
  if not data.output then return result end
  local who = format("procedure '%s'", (data.temp or not data.name) and "main" or data.name)
  prefix = "" -- the messages name the procedure themselves
  if type(result) ~= "table" then
    local at, where = output_site(data, nil)
    raise_exact(at, "%s%s must return a table with its declared outputs (%s), got %s%s", prefix,
      who, dsl.names_of(data.output), type(result) == "nil" and "nothing" or type(result), where)
  end
  local known = {}
  for _, f in ipairs(data.output) do
    known[f.name] = true
    local v = result[f.name]
    if v == nil and f.required and f.default == nil then
      local at, where = output_site(data, nil)
      raise_exact(at, "%s%s returns no '%s', a required output (%s)%s; add %s = <%s> to the " ..
        "returned table, or make the field optional", prefix, who, f.name, f.type, where, f.name,
        f.type)
    elseif v ~= nil and not schema.type_ok(f.type, v) then
      local actual = schema.describe(v)
      local ok_kind = (f.type == "integer" or f.type == "number") and "number" or
        (f.type == "object" or f.type == "array") and "table" or f.type
      local at, where = output_site(data, f.name, ok_kind)
      raise_exact(at, "%s%s returns output '%s' as %s %s, but it is declared %s%s; %s", prefix,
        who, f.name, (actual == "array" or actual == "integer") and "an" or "a", actual, f.type,
        where, type_hint(f.type, actual))
    end
  end
  local extra = {}
  for k in pairs(result) do
    if not known[k] then extra[#extra + 1] = tostring(k) end
  end
  if #extra > 0 then
    table.sort(extra)
    local at = output_site(data, extra[1])
    vm.notify("log.emit", {level = "warn", line = at and at.line or nil,
      message = format("%s%s returned %s '%s', which its output schema does not declare " ..
        "(declared: %s); dropped from the result: declare it in output = {...} to keep it",
        prefix, who, #extra == 1 and "key" or "keys", table.concat(extra, "', '"),
        dsl.names_of(data.output))})
  end
  return schema.validate(data.output, result, {label = "Output", noun = "output", prefix = prefix,
    at = data.declared_at, unknown = "drop"})
end

local function call(data, input, is_main)
  local prefix = is_main and "" or format("Procedure '%s': ", data.name)
  if depth >= dsl.settings.max_depth then
    raise("%ssub-procedure calls are nested deeper than max_depth (%d)", prefix,
      dsl.settings.max_depth)
  end
  if input ~= nil and type(input) ~= "table" then
    raise_at(data.declared_at, "%sinput must be a table, got %s", prefix, type(input))
  end
  local validated = input or {}
  if data.input then
    validated = schema.validate(data.input, input, {label = "Input", noun = "input",
      prefix = prefix, at = data.declared_at, coerce = is_main, unknown = "error"})
  end
  if data.state then dsl.state_init(data.state) end
  -- The global `input` is this procedure's input while it runs; restored on
  -- the way out, error or not (a to-be-closed variable, so the error's stack
  -- is still whole when the message handler sees it).
  local saved = current_input
  depth = depth + 1
  local restore <close> = setmetatable({}, {__close = function()
    depth = depth - 1
    current_input = saved
  end})
  current_input = validated
  if is_main then dsl.run_inputs = validated end
  local result = data.fn(validated)
  return check_output(data, result, prefix)
end

-- ---- declaration -----------------------------------------------------------------------------------

local function procedure_index(data, k, h)
  if k == "name" then return data.name end
  if k == "run" then
    return function(a, b)
      if a == h then a = b end
      return call(data, a, false)
    end
  end
  return nil
end

local function declare(config, name, fn)
  if type(config) ~= "table" then
    raise("Procedure expects a table: Procedure { input = {...}, function(input) ... end }")
  end
  fn = fn or config[1] or config.run
  if type(fn) ~= "function" then
    raise("Procedure needs a function: Procedure { ..., function(input) ... end }")
  end
  local data = {
    fn = fn,
    input = schema.normalize(config.input, "Procedure input"),
    output = schema.normalize(config.output, "Procedure output"),
    state = schema.normalize(config.state, "Procedure state"),
    description = config.description,
    declared_at = dsl.here(),
  }
  dsl.name(data, "Procedure", name or config.name)
  if not data.temp then
    if named[data.name] then raise("Procedure '%s' is declared twice", data.name) end
    named[data.name] = data
  end
  list[#list + 1] = data
  return dsl.handle("Procedure", data, procedure_index, function(d, _, input)
    return call(d, input, false)
  end)
end

function dsl.procedure_rename(data, name)
  if named[name] and named[name] ~= data then raise("Procedure '%s' is declared twice", name) end
  data.name, data.temp = name, false
  named[name] = data
end

local Procedure = dsl.declarer("Procedure", function(config, name) return declare(config, name) end, {
  run = function(target, input)
    local data = dsl.data_of(target, "Procedure")
    if type(target) == "string" then data = named[target] end
    if not data then raise("Procedure.run: no procedure named '%s'", tostring(target)) end
    return call(data, input, false)
  end,
})

-- v0.10's procedure(...) maps onto this (compat.lua).
dsl.declare_procedure = declare

-- ---- script mode: top-level input {...} / output {...} -------------------------------------------

local input_proxy = setmetatable({}, {
  __call = function(_, spec)
    script.input = schema.normalize(spec, "input")
    current_input = schema.validate(script.input, vm.start.inputs, {label = "Input",
      noun = "input", coerce = true, unknown = "error"})
  end,
  __index = function(_, k) return current_input[k] end,
  __newindex = function(_, k, v) current_input[k] = v end,
  __pairs = function() return next, current_input, nil end,
  __len = function() return #current_input end,
  __metatable = false,
})

local output_proxy = setmetatable({}, {
  __call = function(_, spec)
    script.output = schema.normalize(spec, "output")
    script.output_at = dsl.here()
  end,
  __metatable = false,
})

-- ---- the run -----------------------------------------------------------------------------------------

local function pick(name, path)
  if name ~= "main" then
    local data = named[name]
    if not data then raise("Procedure '%s' is not declared in %s", name, path) end
    return data
  end
  if named.main then return named.main end
  local unnamed = {}
  for _, d in ipairs(list) do
    if d.temp then unnamed[#unnamed + 1] = d end
  end
  if #unnamed > 1 then
    raise_at(unnamed[2].declared_at, "more than one unnamed Procedure (lines %d and %d): name " ..
      "sub-procedures, e.g. helper = Procedure {...}",
      unnamed[1].declared_at and unnamed[1].declared_at.line or 0,
      unnamed[2].declared_at and unnamed[2].declared_at.line or 0)
  end
  if unnamed[1] then return unnamed[1] end
  local main = rawget(G, "main")
  if type(main) == "function" then
    -- function main() ... end: runs with the script-mode schemas, if any
    return {name = "main", fn = main, output = script.output, declared_at = script.output_at}
  end
  return nil
end

function dsl.run()
  local start = vm.start
  current_input = start.inputs
  local chunk = vm.load_user(start.source, start.path)
  local returned = pack(chunk())
  local data = pick(start.procedure or "main", start.path)
  -- `tactus test`: the scenario's custom Given steps run once the file has
  -- declared them and before the procedure; a failing one skips the run.
  if dsl.test_before and not dsl.test_before() then return nil end
  if data then
    local out = call(data, current_input, true)
    dsl.run_output = out
    return out
  end
  -- Script mode: the file's own return value is the result.
  local result = returned[1]
  if script.output then
    result = check_output({output = script.output, declared_at = script.output_at, fn = chunk,
      name = "main"}, result, "")
  end
  dsl.run_output = result
  return result
end

dsl.exports.Procedure = Procedure
dsl.exports.input = input_proxy
dsl.exports.output = output_proxy
