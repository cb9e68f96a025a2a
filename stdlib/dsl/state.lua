-- [tactus]/state - State/state, Stages/Stage, Iterations, Stop (inventory A.10).
-- State is one table per run, shared by every procedure of the file.

local raise, copy = dsl.raise, dsl.copy
local concat = table.concat

local store = {}

local State = {}

local function check_key(fn, key)
  if type(key) ~= "string" then raise("State.%s: the key must be a string, got %s", fn, type(key)) end
end

function State.get(key, default)
  check_key("get", key)
  local v = store[key]
  if v == nil then return default end
  return v
end

function State.set(key, value)
  check_key("set", key)
  store[key] = value
  return value
end

function State.increment(key, amount)
  check_key("increment", key)
  if amount == nil then amount = 1 end
  if type(amount) ~= "number" then raise("State.increment: the amount must be a number") end
  local v = store[key]
  if v == nil then v = 0 end
  if type(v) ~= "number" then
    raise("State.increment: '%s' holds a %s, not a number", key, type(v))
  end
  v = v + amount
  store[key] = v
  return v
end

function State.append(key, value)
  check_key("append", key)
  local list = store[key]
  if list == nil then
    list = vm.json_array({})
    store[key] = list
  elseif type(list) ~= "table" then
    raise("State.append: '%s' holds a %s, not a list", key, type(list))
  end
  list[#list + 1] = value
  return #list
end

function State.all()
  return copy(store)
end

function State.clear()
  store = {}
end
dsl.state_all = State.all

local state = setmetatable({}, {
  __index = function(_, k) return store[k] end,
  __newindex = function(_, k, v) store[k] = v end,
  __pairs = function() return next, store, nil end,
  __metatable = false,
})

-- Procedure { state = {...} }: defaults for keys not set yet.
function dsl.state_init(fields)
  for _, f in ipairs(fields) do
    if store[f.name] == nil and f.default ~= nil then store[f.name] = dsl.deepcopy(f.default) end
  end
end

-- ---- stages ------------------------------------------------------------------------------------

local stages = {}
local current = nil
local history = vm.json_array({})

local Stage = {}

local function declared(s)
  if #stages == 0 then return true end
  for _, x in ipairs(stages) do
    if x == s then return true end
  end
  return false
end

function Stage.set(s)
  if type(s) ~= "string" then raise("Stage.set expects a stage name, got %s", type(s)) end
  if not declared(s) then
    raise("Stage '%s' is not declared (stages: %s)", s, concat(stages, ", "))
  end
  current = s
  history[#history + 1] = s
  vm.notify("stage.set", {stage = s})
end

function Stage.current()
  return current
end

function Stage.is(s)
  return current == s
end
Stage.is_current = Stage.is

function Stage.advance(s)
  if s ~= nil then return Stage.set(s) end
  if #stages == 0 then raise("Stage.advance() needs declared Stages({...}) or a stage name") end
  if current == nil then return Stage.set(stages[1]) end
  for i, x in ipairs(stages) do
    if x == current then
      if stages[i + 1] == nil then raise("Stage.advance: '%s' is the last stage", current) end
      return Stage.set(stages[i + 1])
    end
  end
  raise("Stage.advance: the current stage '%s' is not declared", current)
end

function Stage.history()
  return vm.json_array(copy(history))
end

function Stage.count()
  return #history
end

function Stage.clear_history()
  history = vm.json_array({})
end

local function Stages(list)
  if type(list) ~= "table" then raise("Stages expects a list of stage names: Stages({\"a\", \"b\"})") end
  stages = {}
  for i, s in ipairs(list) do
    if type(s) ~= "string" then raise("Stages: stage %d is not a string", i) end
    stages[i] = s
  end
  return list
end

-- ---- iterations and stop ---------------------------------------------------------------------

local iterations = 0
local Iterations = {}

function Iterations.current() return iterations end
function Iterations.increment()
  iterations = iterations + 1
  return iterations
end
function Iterations.exceeded(n)
  if type(n) ~= "number" then raise("Iterations.exceeded expects a number") end
  return iterations >= n
end
function Iterations.reset() iterations = 0 end

local stop = {requested = false, reason = nil, success = true}
local Stop = {}

function Stop.request(reason, success)
  stop.requested, stop.reason = true, reason
  stop.success = success ~= false
end
function Stop.requested() return stop.requested end
function Stop.reason() return stop.reason end
function Stop.success() return stop.success end
function Stop.reset()
  stop.requested, stop.reason, stop.success = false, nil, true
end

-- What `tactus test` reports about a run (testing.lua).
function dsl.run_facts()
  return {stages = copy(history), stage = current, iterations = iterations,
    stop = {requested = stop.requested, reason = stop.reason, success = stop.success}}
end

dsl.exports.State = State
dsl.exports.state = state
dsl.exports.Stage = Stage
dsl.exports.Stages = Stages
dsl.exports.Iterations = Iterations
dsl.exports.Stop = Stop
