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
