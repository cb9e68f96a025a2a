-- [tactus]/classify - Classify (inventory A.8): text into one of `classes`,
-- by a model (method "llm", asked again while its answer is not a class)
-- or by string similarity (method "fuzzy", NO_MATCH under the threshold).
--
--   local triage = Classify {name = "triage", method = "llm", classes = {...},
--                            prompt = "...", model = "openai/gpt-4o-mini", max_retries = 3}
--   local r = triage(text)       -- r.value, r.confidence, r.retry_count
--
-- Under `tactus test`, Mocks {triage = {...}} answers each attempt by name
-- (returns, temporal, conditional on {text = ...}), like a tool.

local raise = dsl.raise
local T = dsl.tools
local format, lower, gsub, match = string.format, string.lower, string.gsub, string.match
local concat, sort = table.concat, table.sort
local floor = math.floor

-- ---- similarity (rapidfuzz's definitions, on code points, 0..100) -----------------------------

local function chars(s)
  local out = {}
  for _, c in utf8.codes(s, true) do out[#out + 1] = c end
  return out
end

local function lcs(a, b)
  local prev, row = {}, {}
  for j = 0, #b do prev[j] = 0 end
  for i = 1, #a do
    row[0] = 0
    for j = 1, #b do
      if a[i] == b[j] then
        row[j] = prev[j - 1] + 1
      else
        row[j] = prev[j] > row[j - 1] and prev[j] or row[j - 1]
      end
    end
    prev, row = row, prev
  end
  return prev[#b]
end

local function ratio(s1, s2)
  local a, b = chars(s1), chars(s2)
  if #a + #b == 0 then return 100 end
  return 200 * lcs(a, b) / (#a + #b)
end

-- The best ratio of the shorter text against windows of the longer one.
local function partial_ratio(s1, s2)
  local a, b = chars(s1), chars(s2)
  if #a > #b then a, b = b, a end
  if #a == 0 then return #b == 0 and 100 or 0 end
  local best = 0
  for start = 1, #b - #a + 1 do
    local w = {}
    for k = 1, #a do w[k] = b[start + k - 1] end
    local r = 200 * lcs(a, w) / (2 * #a)
    if r > best then best = r end
    if best == 100 then break end
  end
  return best
end

local function words(s)
  local set, list = {}, {}
  for w in s:gmatch("%S+") do
    if not set[w] then set[w] = true; list[#list + 1] = w end
  end
  sort(list)
  return set, list
end

local function token_sort_ratio(s1, s2)
  local _, a = words(s1)
  local _, b = words(s2)
  return ratio(concat(a, " "), concat(b, " "))
end

local function token_set_ratio(s1, s2)
  local sa, la = words(s1)
  local sb, lb = words(s2)
  local common, only_a, only_b = {}, {}, {}
  for _, w in ipairs(la) do
    if sb[w] then common[#common + 1] = w else only_a[#only_a + 1] = w end
  end
  for _, w in ipairs(lb) do
    if not sa[w] then only_b[#only_b + 1] = w end
  end
  if #common > 0 and (#only_a == 0 or #only_b == 0) then return 100 end
  local c = concat(common, " ")
  local ca = #only_a > 0 and (c ~= "" and c .. " " or "") .. concat(only_a, " ") or c
  local cb = #only_b > 0 and (c ~= "" and c .. " " or "") .. concat(only_b, " ") or c
  local best = ratio(ca, cb)
  if c ~= "" then
    best = math.max(best, ratio(c, ca), ratio(c, cb))
  end
  return best
end

local algorithms = {
  ratio = ratio, partial_ratio = partial_ratio,
  token_sort_ratio = token_sort_ratio, token_set_ratio = token_set_ratio,
}
dsl.similarity = algorithms

-- ---- the classifier ------------------------------------------------------------------------------

local function in_classes(data, value)
  if type(value) ~= "string" then return nil end
  local v = lower(gsub(gsub(value, "^%s+", ""), "[%s%.!]+$", ""))
  for _, c in ipairs(data.classes) do
    if lower(c) == v then return c end
  end
  return nil
end

local function fuzzy(data, text)
  local fn = algorithms[data.algorithm]
  local best, best_class = -1, nil
  local t = lower(text)
  for _, c in ipairs(data.classes) do
    local s = fn(t, lower(c))
    if s > best then best, best_class = s, c end
  end
  local confidence = floor(best * 10 + 0.5) / 1000
  if confidence >= data.threshold then
    return {value = best_class, confidence = confidence, retry_count = 0}
  end
  return {value = "NO_MATCH", confidence = confidence, retry_count = 0, best = best_class}
end

-- One attempt: a mock's answer under `tactus test`, else the model's.
local function attempt(data, text, retry, last)
  if T.mock then
    local hit, res = T.mock(data.name, {text = text})
    if hit then
      if type(res) == "string" then res = {value = res} end
      if type(res) ~= "table" then raise("Classify '%s': its mock must return {value = ...}", data.name) end
      return res.value, res.confidence
    end
  end
  local instruction = format("%s\n\nAnswer with exactly one of these classes and nothing else: %s.",
    data.prompt or "Classify the text.", concat(data.classes, ", "))
  if retry > 0 then
    instruction = instruction .. format("\nYour previous answer, %q, is not one of them.", tostring(last))
  end
  local model = dsl.model_of(data)
  local ok, res = vm.request("llm.chat", {
    agent = data.name, model = model, temperature = data.temperature,
    messages = vm.json_array({{role = "system", content = instruction}, {role = "user", content = text}}),
    tools = vm.json_array({}),
  })
  if not ok then raise("Classify '%s': the model call failed: %s: %s", data.name, res.type, res.message) end
  local msg = type(res.message) == "table" and res.message or {}
  return msg.content, nil
end

local function llm(data, text)
  local last
  for retry = 0, data.max_retries do
    local value, confidence = attempt(data, text, retry, last)
    local class = in_classes(data, value)
    if class then
      return {value = class, confidence = type(confidence) == "number" and confidence or 1.0,
        retry_count = retry}
    end
    last = value
  end
  raise("Classify '%s': after %d attempts the answer was %q, which is not one of the classes (%s)",
    data.name, data.max_retries + 1, tostring(last), concat(data.classes, ", "))
end

local function classify(data, _, input)
  local text = input
  if type(input) == "table" then text = input.text or input.input or input.message end
  if type(text) ~= "string" then
    raise("Classify '%s' expects a text (a string or {text = ...}), got %s", data.name, type(text))
  end
  if data.method == "fuzzy" then return fuzzy(data, text) end
  return llm(data, text)
end

local function declare(config, name)
  if type(config) ~= "table" then
    raise("Classify expects a table: Classify {method = \"llm\" | \"fuzzy\", classes = {...}}")
  end
  local data = {
    method = config.method or "llm", classes = config.classes, prompt = config.prompt,
    model = config.model, temperature = config.temperature,
    max_retries = config.max_retries or config.retries or 3,
    threshold = config.threshold or 0.8, algorithm = config.algorithm or "ratio",
  }
  if data.method ~= "llm" and data.method ~= "fuzzy" then
    raise("Classify: method must be \"llm\" or \"fuzzy\", not %q", tostring(data.method))
  end
  if type(data.classes) ~= "table" or #data.classes == 0 then
    raise("Classify needs classes = {\"a\", \"b\", ...}")
  end
  for i, c in ipairs(data.classes) do
    if type(c) ~= "string" then raise("Classify: class %d is not a string", i) end
  end
  if data.method == "fuzzy" and not algorithms[data.algorithm] then
    raise("Classify: algorithm %q is not one of ratio, partial_ratio, token_sort_ratio, token_set_ratio",
      tostring(data.algorithm))
  end
  if type(data.threshold) ~= "number" or data.threshold < 0 or data.threshold > 1 then
    raise("Classify: threshold must be a number from 0 to 1")
  end
  if math.type(data.max_retries) ~= "integer" or data.max_retries < 0 then
    raise("Classify: max_retries must be a whole number >= 0")
  end
  dsl.name(data, "Classify", name or config.name)
  return dsl.handle("Classify", data, function(d, k)
    if k == "name" then return d.name end
    if k == "classes" then return d.classes end
    return nil
  end, classify)
end

dsl.exports.Classify = setmetatable({}, {
  __call = function(_, a)
    if type(a) == "string" then return function(config) return declare(config, a) end end
    return declare(a)
  end,
  __metatable = false,
})
