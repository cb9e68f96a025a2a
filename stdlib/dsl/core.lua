-- [tactus]/core - helpers every DSL file shares: errors that point at the
-- user's .tac line, copies, handles, and field schemas with validation.
--
-- All DSL files run with a private environment (see vm_sandbox.c): `vm` (the
-- C effects client), `G` (the user's globals) and private copies of the
-- standard tables, so a procedure that rewrites string.format or pairs in its
-- own globals cannot change how the DSL behaves. Use the captured locals and
-- never the `s:method()` form on strings: that goes through the shared string
-- metatable, i.e. the user's `string` table.

dsl = {}
-- name -> value published as a user global by globals.lua (the last file)
dsl.exports = {}

local format, find, gsub, match, sub, lower, upper =
  string.format, string.find, string.gsub, string.match, string.sub, string.lower, string.upper
local concat, sort = table.concat, table.sort
local floor, mtype, tointeger = math.floor, math.type, math.tointeger

-- ---- errors ---------------------------------------------------------------------------------

-- Raises msg at the innermost .tac frame on the stack ("file:line: msg"), or
-- at `fallback` ({file, line}) when no user code is on the stack (the main
-- procedure's input and output are checked from the DSL itself).
local function raise_at(fallback, msg, ...)
  if select("#", ...) > 0 then msg = format(msg, ...) end
  local file, line = vm.where()
  if not file and fallback then file, line = fallback.file, fallback.line end
  if file then error(file .. ":" .. line .. ": " .. msg, 0) end
  error(msg, 0)
end
dsl.raise_at = raise_at

function dsl.raise(msg, ...)
  return raise_at(nil, msg, ...)
end
local raise = dsl.raise

-- The user's location right now (for declarations: where was this written?).
function dsl.here()
  local file, line = vm.where()
  if file then return {file = file, line = line} end
  return nil
end

-- ---- values ---------------------------------------------------------------------------------

function dsl.copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in pairs(v) do c[deepcopy(k, seen)] = deepcopy(x, seen) end
  return c
end
dsl.deepcopy = deepcopy

function dsl.is_sequence(t)
  local n = 0
  for k in pairs(t) do
    if mtype(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

-- A list as Python would print it (the message format of Tactus' validation).
function dsl.pylist(list)
  local parts = {}
  for i, v in ipairs(list) do
    if type(v) == "string" then parts[i] = "'" .. v .. "'" else parts[i] = tostring(v) end
  end
  return "[" .. concat(parts, ", ") .. "]"
end

function dsl.names_of(list)
  local names = {}
  for i, d in ipairs(list) do names[i] = d.name end
  return concat(names, ", ")
end

-- ---- handles --------------------------------------------------------------------------------
-- Agents, tools, toolsets, procedures and models are handed to user code as
-- empty proxy tables: their data lives here, out of reach, and their
-- metatable is locked (getmetatable(h) is false, setmetatable(h) fails).

local handle_data = setmetatable({}, {__mode = "k"})
local counters = {}

-- index(data, key, handle) answers h.key; call(data, handle, ...) answers h(...).
function dsl.handle(kind, data, index, call)
  local h = {}
  data.kind = kind
  data.handle = h
  setmetatable(h, {
    __index = function(_, k) return index(data, k, h) end,
    __newindex = function(_, k)
      raise("cannot set '%s' on %s '%s'", tostring(k), kind, data.name)
    end,
    __call = call and function(_, ...) return call(data, h, ...) end or nil,
    __tostring = function() return kind .. " '" .. data.name .. "'" end,
    __name = kind,
    __metatable = false,
  })
  handle_data[h] = data
  return h
end

function dsl.data_of(h, kind)
  local d = handle_data[h]
  if d and (kind == nil or d.kind == kind) then return d end
  return nil
end

-- Names a declaration: explicit, or a temporary one replaced when the
-- handle is assigned to a global (see globals.lua).
function dsl.name(data, kind, explicit)
  if explicit ~= nil then
    if type(explicit) ~= "string" or explicit == "" then
      raise("%s name must be a non-empty string", kind)
    end
    data.name, data.explicit = explicit, true
  else
    counters[kind] = (counters[kind] or 0) + 1
    data.name, data.temp = lower(kind) .. "_" .. counters[kind], true
  end
end

-- A callable namespace table: `Kind {...}`, `Kind "name" {...}`, plus fields.
function dsl.declarer(kind, declare, fields)
  local t = fields or {}
  return setmetatable(t, {
    __call = function(_, a, ...)
      if type(a) == "string" and select("#", ...) == 0 then
        return function(config) return declare(config, a) end
      end
      return declare(a, nil, ...)
    end,
    __metatable = false,
  })
end

-- ---- schemas --------------------------------------------------------------------------------

local schema = {}
dsl.schema = schema

local TYPES = {
  string = "string", str = "string", number = "number", float = "number",
  integer = "integer", int = "integer", boolean = "boolean", bool = "boolean",
  array = "array", list = "array", object = "object", dict = "object", table = "object",
  any = "any",
}

local field_set = setmetatable({}, {__mode = "k"})

local function builder(kind)
  return function(opts)
    if opts == nil then opts = {} end
    if type(opts) ~= "table" then
      raise("field.%s expects a table of options, like field.%s{required = true}", kind, kind)
    end
    local f = {}
    for k, v in pairs(opts) do f[k] = v end
    f.type = TYPES[kind]
    f.required = opts.required == true
    if opts.enum ~= nil and type(opts.enum) ~= "table" then
      raise("field.%s: enum must be a list of allowed values", kind)
    end
    field_set[f] = true
    return f
  end
end

-- Evaluator builders share the `field` namespace (section D of the inventory);
-- at run time they are plain records for `tactus eval`.
local EVALUATORS = {
  "contains", "contains_any", "equals_expected", "equals", "exact_match", "is_instance",
  "llm_judge", "min_length", "max_length", "max_iterations", "max_cost", "max_tokens",
  "tool_called", "state_check", "agent_turns", "regex", "json_schema", "range",
}

local field = {}
for _, kind in ipairs({"string", "number", "integer", "boolean", "array", "list", "object"}) do
  field[kind] = builder(kind)
end
for _, kind in ipairs(EVALUATORS) do
  field[kind] = function(opts) return {evaluator = kind, options = opts or {}} end
end
dsl.field = field
dsl.exports.field = field

-- spec: {name = field.x{...} | {type = "x", ...} | "x"} -> sorted list of fields
function schema.normalize(spec, what)
  if spec == nil then return nil end
  if type(spec) ~= "table" then raise("%s must be a table of fields", what) end
  local out = {}
  for name, f in pairs(spec) do
    if type(name) ~= "string" then
      raise("%s: field names must be strings (got %s)", what, type(name))
    end
    local nf
    if type(f) == "string" then
      if not TYPES[f] then raise("%s: field '%s' has unknown type '%s'", what, name, f) end
      nf = {type = TYPES[f], required = false}
    elseif type(f) == "table" then
      if f.evaluator then raise("%s: field '%s' is an evaluator, not a field type", what, name) end
      nf = {}
      for k, v in pairs(f) do nf[k] = v end
      local t = f.type or "any"
      nf.type = TYPES[t]
      if not nf.type then raise("%s: field '%s' has unknown type '%s'", what, name, tostring(t)) end
      nf.required = f.required == true
    else
      raise("%s: field '%s' must be built with field.<type>{...}", what, name)
    end
    nf.name = name
    out[#out + 1] = nf
  end
  sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function type_ok(t, v)
  local tv = type(v)
  if t == "any" then return true, v end
  if t == "string" then return tv == "string", v end
  if t == "number" then return tv == "number", v end
  if t == "boolean" then return tv == "boolean", v end
  if t == "object" then return tv == "table", v end
  if t == "array" then return tv == "table" and dsl.is_sequence(v), v end
  if t == "integer" then
    if mtype(v) == "integer" then return true, v end
    if mtype(v) == "float" and v == floor(v) then
      local i = tointeger(v)
      if i then return true, i end
    end
    return false
  end
  return false
end

-- Values typed on a command line arrive as text: read them as the schema says.
local function coerce(t, s)
  if t == "number" then
    local n = tonumber(s)
    if n then return true, n end
  elseif t == "integer" then
    local n = tonumber(s)
    if n then return type_ok("integer", n) end
  elseif t == "boolean" then
    local l = lower(s)
    if l == "true" or l == "yes" or l == "1" or l == "y" then return true, true end
    if l == "false" or l == "no" or l == "0" or l == "n" then return true, false end
  elseif t == "array" or t == "object" then
    local ok, v = pcall(Json.decode, s)
    if ok and type(v) == "table" then return type_ok(t, v) end
    if t == "array" then
      local list = {}
      for item in string.gmatch(s, "[^,]+") do list[#list + 1] = match(item, "^%s*(.-)%s*$") end
      return true, list
    end
  end
  return false
end

local function describe(v)
  local t = type(v)
  if t == "number" then return mtype(v) == "integer" and "integer" or "number" end
  if t == "table" then return dsl.is_sequence(v) and next(v) ~= nil and "array" or "table" end
  return t
end
schema.type_ok, schema.describe = type_ok, describe

local function member(list, v)
  for _, x in ipairs(list) do
    if x == v then return true end
  end
  return false
end

-- Checks `values` against `fields`; returns a new table with defaults
-- applied. o = {label = "Input", noun = "input", prefix = "", at = {file, line},
-- coerce = bool, unknown = "error" | "drop" | "keep"}
function schema.validate(fields, values, o)
  local prefix = o.prefix or ""
  if values == nil then values = {} end
  if type(values) ~= "table" then
    raise_at(o.at, "%s%s values must be a table, got %s", prefix, o.label, type(values))
  end
  local out, known = {}, {}
  for _, f in ipairs(fields) do
    known[f.name] = true
    local v = values[f.name]
    if v == nil and f.default ~= nil then v = deepcopy(f.default) end
    if v == nil then
      if f.required then raise_at(o.at, "%sMissing required %s '%s'", prefix, o.noun, f.name) end
    else
      local ok, cv = type_ok(f.type, v)
      if not ok and o.coerce and type(v) == "string" then ok, cv = coerce(f.type, v) end
      if not ok then
        raise_at(o.at, "%s%s '%s' has invalid type: expected %s, got %s", prefix, o.label, f.name,
          f.type, describe(v))
      end
      v = cv
      if f.enum and not member(f.enum, v) then
        raise_at(o.at, "%s%s '%s' has invalid value '%s'. Allowed values: %s", prefix, o.label,
          f.name, tostring(v), dsl.pylist(f.enum))
      end
      if f.type == "array" then vm.json_array(v) end
      out[f.name] = v
    end
  end
  if o.unknown ~= "drop" then
    local extra = {}
    for k in pairs(values) do
      if not known[k] then extra[#extra + 1] = tostring(k) end
    end
    sort(extra)
    if o.unknown == "error" and #extra > 0 then
      raise_at(o.at, "%sUnknown %s '%s' (declared: %s)", prefix, o.noun, extra[1],
        dsl.names_of(fields))
    end
    if o.unknown == "keep" then
      for k, v in pairs(values) do
        if not known[k] then out[k] = v end
      end
    end
  end
  return out
end

-- JSON Schema of a field list (tool parameters, structured outputs).
function schema.json_schema(fields)
  local props, required = {}, vm.json_array({})
  for _, f in ipairs(fields or {}) do
    local p = {}
    if f.type ~= "any" then p.type = f.type end
    if type(f.description) == "string" then p.description = f.description end
    if type(f.enum) == "table" then p.enum = vm.json_array(dsl.copy(f.enum)) end
    if f.default ~= nil then p.default = f.default end
    if f.type == "array" then p.items = type(f.items) == "table" and f.items or {} end
    props[f.name] = p
    if f.required then required[#required + 1] = f.name end
  end
  return {type = "object", properties = props, required = required}
end

-- ---- delimited text (tactus.io.csv, tactus.io.tsv) -----------------------------------------------

local function split_rows(text, sep, path, module)
  local rows, row, field = {}, {}, {}
  local i, n, quoted, line = 1, #text, false, 1
  local function end_field()
    row[#row + 1] = concat(field)
    field = {}
  end
  local function end_row()
    end_field()
    rows[#rows + 1] = {fields = row, line = line}
    row = {}
  end
  while i <= n do
    local c = sub(text, i, i)
    if quoted then
      if c == '"' and sub(text, i + 1, i + 1) == '"' then
        field[#field + 1] = '"'
        i = i + 1
      elseif c == '"' then
        quoted = false
      else
        if c == "\n" then line = line + 1 end
        field[#field + 1] = c
      end
    elseif c == '"' and #field == 0 then
      quoted = true
    elseif c == sep then
      end_field()
    elseif c == "\n" or c == "\r" then
      if c == "\r" and sub(text, i + 1, i + 1) == "\n" then i = i + 1 end
      end_row()
      line = line + 1
    else
      field[#field + 1] = c
    end
    i = i + 1
  end
  if quoted then raise("%s.read: %s: a quoted field opened on line %d is never closed", module, path, line) end
  if #field > 0 or #row > 0 then end_row() end
  return rows
end

local function quote(v, sep)
  local s = tostring(v == nil and "" or v)
  if find(s, '[' .. sep .. '"\r\n]') then s = '"' .. gsub(s, '"', '""') .. '"' end
  return s
end

function dsl.delimited(sep, module)
  local M = {}
  function M.read(path)
    if type(path) ~= "string" then raise("%s.read expects a path", module) end
    local ok, text = pcall(File.read, path)
    if not ok then raise("%s.read: %s", module, (gsub(tostring(text), "^%[tactus%][^:]*:%d+: ", ""))) end
    local rows = split_rows(text, sep, path, module)
    if #rows == 0 then return {} end
    local header = rows[1].fields
    local out = {}
    for r = 2, #rows do
      local f = rows[r].fields
      if not (#f == 1 and f[1] == "") then -- blank lines are skipped
        if #f ~= #header then
          raise("%s.read: %s line %d has %d field%s, but the header has %d", module, path,
            rows[r].line, #f, #f == 1 and "" or "s", #header)
        end
        local t = {}
        for k, name in ipairs(header) do t[name] = f[k] end
        out[#out + 1] = t
      end
    end
    return out
  end
  -- write(path, rows, {headers = {...}}): headers default to the sorted keys of the first row
  function M.write(path, rows, opts)
    if type(rows) ~= "table" then raise("%s.write expects a list of rows", module) end
    local headers = opts and opts.headers
    if not headers then
      headers = {}
      for k in pairs(rows[1] or {}) do headers[#headers + 1] = tostring(k) end
      sort(headers)
    end
    local lines = {}
    local h = {}
    for k, name in ipairs(headers) do h[k] = quote(name, sep) end
    lines[1] = concat(h, sep)
    for r, row in ipairs(rows) do
      if type(row) ~= "table" then raise("%s.write: row %d is not a table", module, r) end
      local f = {}
      for k, name in ipairs(headers) do f[k] = quote(row[name], sep) end
      lines[#lines + 1] = concat(f, sep)
    end
    return File.write(path, concat(lines, "\n") .. "\n")
  end
  return M
end

-- A stdlib module for a format the sandbox cannot read: every function
-- says so at the caller's line (tactus.io.parquet, hdf5, excel).
function dsl.unavailable_format(fmt)
  return setmetatable({}, {__index = function(_, fn)
    return function()
      raise("tactus.io.%s.%s is not available in this runtime: %s needs a library the sandbox " ..
        "does not carry; convert the data to CSV or JSON (tactus.io.csv, tactus.io.json)",
        fmt, tostring(fn), fmt)
    end
  end})
end
