-- [tactus]/effects - the primitives that reach the host: Log, Host, Human,
-- Step.checkpoint, Retry, Model; plus the declarations that only `tactus
-- test` / `tactus eval` act on (accepted and recorded here).

local raise, copy, deepcopy = dsl.raise, dsl.copy, dsl.deepcopy
local format, upper, sub, min = string.format, string.upper, string.sub, math.min
local pack, unpack = table.pack, table.unpack

-- ---- Log --------------------------------------------------------------------------------------

local function emit(level, message, context)
  if type(message) ~= "string" then message = tostring(message) end
  local _, line = vm.where()
  vm.notify("log.emit", {level = level, message = message, context = context, line = line})
end

local Log = {}
for _, level in ipairs({"debug", "info", "warn", "error"}) do
  Log[level] = function(message, context) emit(level, message, context) end
end
Log.warning = Log.warn

-- ---- Host --------------------------------------------------------------------------------------

local Host = {}

function Host.call(name, args)
  if type(name) ~= "string" then raise("Host.call expects a tool name such as \"host.ping\"") end
  if args ~= nil and type(args) ~= "table" then raise("Host.call: args must be a table") end
  local params = {name = name, args = args or {}}
  local ok, res, id = vm.request("tool.call", params)
  -- A host tool that requires approval: the run waits for a person.
  if not ok and res.type == "Suspended" then vm.suspend(params, id) end
  if not ok then raise("Host.call('%s') failed: %s: %s", name, res.type, res.message) end
  return res.result
end

-- ---- Human (inventory E.2) ------------------------------------------------------------------------
-- Each blocking call is one human.request. A host with no recorded answer
-- replies `Suspended`: the run then stops for good (vm.suspend makes it
-- sticky) and run.finish reports status "waiting" with this request.

-- Named defaults for Human requests: Hitl "deploy" {timeout = 3600,
-- default = false} (or hitl("deploy", {...})), used with config_key =
-- "deploy"; the request's own options win.
local hitl_defaults = {}

local function declare_hitl(name, config)
  if type(name) ~= "string" or type(config) ~= "table" then
    raise("Hitl \"name\" {timeout = ..., default = ...} declares named defaults for Human requests")
  end
  hitl_defaults[name] = config
end

local function with_defaults(fn, o)
  local key = o.config_key
  if key == nil then return o end
  local d = hitl_defaults[key]
  if not d then raise("Human.%s: config_key '%s' names no Hitl declaration (Hitl \"%s\" {...})", fn,
    tostring(key), tostring(key)) end
  local merged = copy(o)
  for k, v in pairs(d) do
    if merged[k] == nil then merged[k] = v end
  end
  return merged
end

local function opts_of(fn, x)
  if x == nil then return {} end
  if type(x) == "string" then return {message = x} end
  if type(x) ~= "table" then raise("Human.%s expects a message or a table of options", fn) end
  return with_defaults(fn, x)
end

local function ask(fn, params)
  local ok, res, id = vm.request("human.request", params)
  if ok then
    if type(res) ~= "table" then res = {} end
    return res
  end
  if res.type == "Suspended" then vm.suspend(params, id) end
  raise("Human.%s failed: %s: %s", fn, res.type, res.message)
end

local function answer(res, default)
  local v = res.value
  if v == nil then v = default end
  return v, res.timed_out == true
end

local Human = {}

function Human.approve(o)
  o = opts_of("approve", o)
  local default = o.default
  if default == nil then default = false end
  local res = ask("approve", {kind = "approve", message = o.message or "Approval requested",
    context = o.context, timeout = o.timeout, default = default, config_key = o.config_key})
  return answer(res, default)
end

function Human.input(o)
  o = opts_of("input", o)
  local res = ask("input", {kind = "input", message = o.message or "Input requested",
    placeholder = o.placeholder, options = o.options, timeout = o.timeout, default = o.default,
    config_key = o.config_key})
  return answer(res, o.default)
end

local function title(s)
  return upper(sub(s, 1, 1)) .. sub(s, 2)
end

function Human.review(o)
  o = opts_of("review", o)
  local options = vm.json_array({})
  for i, opt in ipairs(o.options or {"approve", "reject"}) do
    if type(opt) == "string" then opt = {label = title(opt), type = "action"} end
    options[i] = opt
  end
  local res = ask("review", {kind = "review", message = o.message or "Review requested",
    artifact = o.artifact, artifact_type = o.artifact_type or "artifact", options = options,
    timeout = o.timeout, config_key = o.config_key})
  local v = res.value
  if type(v) == "string" then v = {decision = v, edited_artifact = o.artifact, feedback = ""} end
  if v == nil then v = {decision = "reject", edited_artifact = o.artifact, feedback = ""} end
  return v, res.timed_out == true
end

function Human.select(o)
  o = opts_of("select", o)
  local res = ask("select", {kind = "select", message = o.message or "Selection requested",
    options = o.options, mode = o.mode or "single", style = o.style, min = o.min, max = o.max,
    default = o.default, timeout = o.timeout, config_key = o.config_key})
  return answer(res, o.default)
end

function Human.multiple(items, o)
  if type(items) ~= "table" then raise("Human.multiple expects a list of items") end
  local seen = {}
  for i, item in ipairs(items) do
    if type(item) ~= "table" or type(item.id) ~= "string" then
      raise("Human.multiple: item %d needs a string id", i)
    end
    if seen[item.id] then raise("Human.multiple: two items have the id '%s'", item.id) end
    seen[item.id] = true
  end
  o = o or {}
  local res = ask("multiple", {kind = "inputs", message = o.message or "Inputs requested",
    items = items, timeout = o.timeout})
  return answer(res, {})
end
Human.inputs = Human.multiple

function Human.escalate(o)
  o = opts_of("escalate", o)
  ask("escalate", {kind = "escalate", message = o.message or "Escalation",
    context = o.context, severity = o.severity or "error"})
  return nil
end

function Human.upload(o)
  o = opts_of("upload", o)
  local res = ask("upload", {kind = "upload", message = o.message or "Upload requested",
    accept = o.accept, max_size = o.max_size, multiple = o.multiple == true, timeout = o.timeout})
  return answer(res, nil)
end

function Human.custom(o)
  o = opts_of("custom", o)
  local params = copy(o)
  params.kind = "custom"
  params.message = params.message or "Request"
  return answer(ask("custom", params), o.default)
end

function Human.notify(o)
  o = opts_of("notify", o)
  emit(o.level or "info", o.message or "", o.context)
end

-- ---- Step.checkpoint / checkpoint -----------------------------------------------------------------
-- The host answers from the journal when the position is recorded
-- (`cached`, `result`); otherwise the function runs here.

local position = 0

local function checkpoint(fn)
  if fn == nil then return nil end -- checkpoint() with no function: nothing to record here
  if type(fn) ~= "function" then raise("Step.checkpoint expects a function") end
  local pos = position
  position = position + 1
  local ok, res = vm.request("checkpoint", {kind = "explicit_checkpoint", position = pos})
  if not ok then raise("Step.checkpoint failed: %s: %s", res.type, res.message) end
  if type(res) == "table" and res.cached == true then return res.result end
  local result = fn()
  -- The host journals the result, so a resumed run gets it back (cached)
  -- instead of running fn again.
  local cok, cres = vm.request("checkpoint.commit", {position = pos, result = result})
  if not cok then raise("Step.checkpoint failed: %s: %s", cres.type, cres.message) end
  return result
end

local steps = {}
dsl.custom_steps = steps

local Step = setmetatable({checkpoint = checkpoint}, {
  -- Step("text", fn) declares a custom BDD step (run by `tactus test`).
  __call = function(_, text, fn)
    if type(text) ~= "string" or type(fn) ~= "function" then
      raise("Step(\"step text\", function(ctx) ... end) declares a custom step; use " ..
        "Step.checkpoint(fn) to checkpoint work")
    end
    steps[#steps + 1] = {text = text, fn = fn}
  end,
  __metatable = false,
})

-- ---- Retry ------------------------------------------------------------------------------------------

local Retry = {}

function Retry.with_backoff(fn, o)
  if type(fn) ~= "function" then raise("Retry.with_backoff expects a function") end
  o = o or {}
  local attempts = o.max_attempts or (o.retries and o.retries + 1) or 3
  local delay = o.initial_delay or o.base_delay or 1
  local max_delay = o.max_delay or 60
  local factor = o.backoff_factor or 2
  if math.type(attempts) ~= "integer" or attempts < 1 then
    raise("Retry.with_backoff: max_attempts must be a positive integer")
  end
  for attempt = 1, attempts do
    local r = pack(pcall(fn))
    if r[1] then return unpack(r, 2, r.n) end
    if o.on_error then o.on_error(r[2], attempt) end
    if attempt == attempts then error(r[2], 0) end
    -- The wait is the host's durable timer (Sleep): no busy wait here, and
    -- a resumed run does not wait again; the fixed clock moves in tests.
    emit("debug", format("Retry.with_backoff: attempt %d of %d failed (%s); retrying in %gs",
      attempt, attempts, tostring(r[2]), delay))
    if delay > 0 then
      local ok, res = vm.request("timer.sleep", {seconds = min(delay, 86400)})
      if not ok then raise("Retry.with_backoff: the wait failed: %s: %s", res.type, res.message) end
    end
    delay = min(delay * factor, max_delay)
  end
end

-- ---- Model (inventory A.7) ----------------------------------------------------------------------------

local models = {}

local function predict(data, _, input)
  if input ~= nil and type(input) ~= "table" and type(input) ~= "string" then
    raise("Model '%s' expects a table or a string", data.name)
  end
  -- Under `tactus test`, Mocks {} answer a model by its name like a tool.
  local mock = dsl.tools.mock
  if mock then
    local hit, result = mock(data.name, type(input) == "table" and input or {input = input})
    if hit then return {output = result} end
  end
  if data.type == "mock" then return {output = deepcopy(data.config.value)} end
  if data.type == "http" then
    -- The broker makes the call (the host allow-lists where models live).
    local ok, res = vm.request("model.predict", {name = data.name, type = "http",
      endpoint = data.config.endpoint, timeout = data.config.timeout, input = input})
    if not ok then raise("Model '%s' (http) failed: %s: %s", data.name, res.type, res.message) end
    local body = type(res.result) == "table" and res.result.body or nil
    if type(body) == "table" and body.output ~= nil then body = body.output end
    return {output = body}
  end
  if data.type == "llm" then
    local cfg = data.config
    local fields = cfg.output and dsl.schema.normalize(cfg.output, format("Model '%s' output", data.name))
    local text = type(input) == "string" and input or Json.encode(input or {})
    local ok, res = vm.request("llm.chat", {
      agent = data.name, model = dsl.model_of({name = data.name, model = cfg.model}),
      temperature = cfg.temperature,
      messages = vm.json_array({
        {role = "system", content = (cfg.prompt or "Predict the output for the input.") ..
          (fields and "\nAnswer with one JSON object with the declared output fields." or "")},
        {role = "user", content = text}}),
      tools = vm.json_array({}),
      output_schema = fields and dsl.schema.json_schema(fields) or nil,
    })
    if not ok then raise("Model '%s' (llm) failed: %s: %s", data.name, res.type, res.message) end
    local content = type(res.message) == "table" and res.message.content or nil
    if not fields then return {output = content} end
    local parsed_ok, value = pcall(Json.decode, content or "")
    if not parsed_ok or type(value) ~= "table" then
      raise("Model '%s' (llm) answered with text that is not a JSON object: %s", data.name,
        tostring(content))
    end
    return {output = dsl.schema.validate(fields, value, {label = "Output", noun = "output",
      prefix = format("Model '%s': ", data.name), unknown = "drop"})}
  end
  if data.type == "registry" then
    raise("Model '%s': type 'registry' needs a model registry and local training (%s), which " ..
      "this runtime does not have; mock it for tests (Mocks { %s = {returns = {...}} }) or serve " ..
      "it behind an endpoint and use type = \"http\"", data.name,
      data.config.training and "training = {...}" or "name/version", data.name)
  end
  raise("Model '%s': type '%s' is not available in this runtime (mock, http, llm; registry " ..
    "under Mocks)", data.name, tostring(data.type))
end

local function declare_model(config, name)
  if type(config) ~= "table" or config.type == nil then
    raise("Model \"%s\" is not declared (declare it with Model \"%s\" { type = \"mock\", " ..
      "value = {...} })", tostring(name), tostring(name))
  end
  local data = {type = config.type, config = config}
  dsl.name(data, "Model", name or config.name)
  models[data.name] = data
  return dsl.handle("Model", data, function(d, k)
    if k == "name" then return d.name end
    return nil
  end, predict)
end

local Model = setmetatable({}, {
  __call = function(_, a)
    if type(a) == "string" then
      if models[a] then return models[a].handle end
      return function(config) return declare_model(config, a) end
    end
    return declare_model(a)
  end,
  __metatable = false,
})

-- ---- declarations acted on by `tactus test` / `tactus eval` -----------------------------------------

local declarations = {}
dsl.declarations = declarations

local function accept(kind)
  return function(a, ...)
    declarations[#declarations + 1] = {kind = kind, args = pack(a, ...)}
    if type(a) == "string" and select("#", ...) == 0 then
      return function(b) declarations[#declarations + 1] = {kind = kind, name = a, args = pack(b)} end
    end
    return nil
  end
end

-- Prompt "name" [[text]] (or prompt("name", text)) declares a named text;
-- Prompt("name") returns it (e.g. system_prompt = Prompt("triage")).
local prompts = {}
local function prompt(name, text)
  if type(name) ~= "string" then raise("Prompt \"name\" [[text]] names a prompt") end
  if text == nil then
    if prompts[name] == nil then
      return function(t)
        if type(t) ~= "string" then raise("Prompt \"%s\" expects its text: Prompt \"%s\" [[...]]", name, name) end
        prompts[name] = t
        return t
      end
    end
    return prompts[name]
  end
  if type(text) ~= "string" then raise("Prompt \"%s\": the text must be a string", name) end
  prompts[name] = text
  return text
end

local E = dsl.exports
E.Log, E.Host, E.Human, E.Step, E.Retry, E.Model = Log, Host, Human, Step, Retry, Model
E.checkpoint = checkpoint
for _, kind in ipairs({"Specifications", "Specification", "Mocks", "Evaluation", "Evaluations",
    "return_prompt", "error_prompt", "status_prompt", "async"}) do
  E[kind] = accept(kind)
end
E.Prompt, E.prompt = prompt, prompt
E.Hitl = function(name, config)
  if config == nil then return function(c) declare_hitl(name, c) end end
  declare_hitl(name, config)
end
E.hitl = E.Hitl
