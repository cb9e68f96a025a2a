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

local function check_output(data, result, prefix)
  if not data.output then return result end
  if type(result) ~= "table" then
    raise_at(data.declared_at, "%sthe procedure must return a table with its declared outputs, " ..
      "got %s", prefix, type(result))
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

-- v0.10: procedure("name", {config}, function(input) ... end) or procedure("name", fn)
local function procedure_v010(name, config, fn)
  if type(name) ~= "string" then raise("procedure(\"name\", {...}, function ... end)") end
  if type(config) == "function" then config, fn = {}, config end
  return declare(config or {}, name, fn)
end

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
    result = check_output({output = script.output, declared_at = script.output_at}, result, "")
  end
  dsl.run_output = result
  return result
end

dsl.exports.Procedure = Procedure
dsl.exports.procedure = procedure_v010
dsl.exports.input = input_proxy
dsl.exports.output = output_proxy
