-- [tactus]/system - Sleep, System.alert and the matchers (inventory A.13,
-- A.15).
--
-- Sleep is a durable timer: the host waits (the runtime never busy-waits),
-- and the wait is an effect like any other, so a resumed run does not wait
-- again for a timer that already went off. Under `tactus test` the fixed
-- clock simply moves on.

local raise = dsl.raise
local format = string.format

local function Sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0 then
    raise("Sleep expects a number of seconds >= 0, got %s", tostring(seconds))
  end
  if seconds > 86400 then raise("Sleep: %g seconds is more than a day; use a Human request or a schedule", seconds) end
  local ok, res = vm.request("timer.sleep", {seconds = seconds})
  if not ok then raise("Sleep failed: %s: %s", res.type, res.message) end
  return nil
end

local System = {}
local LEVELS = {info = true, warning = true, error = true, critical = true}

-- A non-blocking operational alert: shown and logged by the host.
function System.alert(o)
  if type(o) == "string" then o = {message = o} end
  if type(o) ~= "table" or type(o.message) ~= "string" then
    raise("System.alert expects {message = \"...\", level = \"info\"|\"warning\"|\"error\"|\"critical\"}")
  end
  local level = o.level or "info"
  if not LEVELS[level] then
    raise("System.alert: level must be info, warning, error or critical, not %q", tostring(level))
  end
  local _, line = vm.where()
  vm.notify("log.emit", {level = "alert", message = format("[%s] %s", level, o.message),
    context = {level = level, source = o.source, context = o.context}, line = line})
end

-- Matchers, for Mocks `when` values: contains("x"), equals("x"), matches("^OK").
local function matcher(kind)
  return function(v)
    if type(v) ~= "string" then raise("%s expects a string", kind) end
    return vm.json_array({kind, v})
  end
end

dsl.exports.Sleep = Sleep
dsl.exports.System = System
dsl.exports.contains = matcher("contains")
dsl.exports.equals = matcher("equals")
dsl.exports.matches = matcher("matches")

-- ---- text: character-based string.sub/len/reverse on non-ASCII text (inventory A.0) --------------
-- The original Tactus made these count characters, not bytes, for text
-- with non-ASCII characters; procedures written for it rely on that
-- (truncating a title with s:sub(1, 40) must not cut a character in two).
-- ASCII text and invalid UTF-8 keep Lua's byte semantics. The user's
-- string table is changed, so s:sub() agrees; the DSL has its own copy.

local us = G.string
local byte_sub, byte_len, byte_reverse = us.sub, us.len, us.reverse
local find, tointeger = string.find, math.tointeger
local ulen, uoffset, ucodes, uchar = utf8.len, utf8.offset, utf8.codes, utf8.char

local function wide(s)
  if type(s) == "number" then s = tostring(s) end
  if type(s) ~= "string" or not find(s, "[\128-\255]") then return nil end
  local n = ulen(s)
  if not n then return nil end
  return s, n
end

us.len = function(s)
  local w, n = wide(s)
  if not w then return byte_len(s) end
  return n
end

us.sub = function(s, i, j)
  local w, n = wide(s)
  local ii, jj = tointeger(i == nil and 1 or i), tointeger(j == nil and -1 or j)
  if not w or not ii or not jj then return byte_sub(s, i, j) end
  if ii < 0 then ii = n + ii + 1 end
  if ii < 1 then ii = 1 end
  if jj < 0 then jj = n + jj + 1 elseif jj > n then jj = n end
  if ii > jj then return "" end
  local from, to = uoffset(w, ii), uoffset(w, jj + 1)
  return byte_sub(w, from, (to or #w + 1) - 1)
end

us.reverse = function(s)
  local w = wide(s)
  if not w then return byte_reverse(s) end
  local cs = {}
  for _, c in ucodes(w) do cs[#cs + 1] = c end
  local out = {}
  for k = #cs, 1, -1 do out[#out + 1] = uchar(cs[k]) end
  return table.concat(out)
end

-- utf8_clean(s): s with every invalid UTF-8 byte replaced by "?".
dsl.exports.utf8_clean = function(s)
  if type(s) ~= "string" then raise("utf8_clean expects a string, got %s", type(s)) end
  local parts, pos = {}, 1
  while pos <= #s do
    local ok, bad = ulen(s, pos)
    if ok then
      parts[#parts + 1] = byte_sub(s, pos)
      break
    end
    parts[#parts + 1] = byte_sub(s, pos, bad - 1)
    parts[#parts + 1] = "?"
    pos = bad + 1
  end
  return table.concat(parts)
end

-- `tactus.done`: the shortcut some docs of the original use for
-- require("tactus.tools.done").
dsl.exports.tactus = setmetatable({}, {
  __index = function(_, k)
    if k == "done" then return G.require("tactus.tools.done") end
    return nil
  end,
  __metatable = false,
})
