#!/usr/bin/env lua5.4
--[[
gen-corpus.lua - write a deterministic corpus of realistic, valid .tac files.

usage: lua5.4 bench/gen-corpus.lua OUTDIR [COUNT] [SEED]

  OUTDIR  directory to write into (created if missing; existing generated
          files are overwritten, nothing else is touched)
  COUNT   number of files (default 1000)
  SEED    base seed (default 20240601)

Every file is derived from (SEED, index) with a private splitmix64 generator,
so the corpus is byte-for-byte the same on every run and every machine, and
file K does not depend on COUNT. Files go into OUTDIR/team-NN/ (100 per
folder) so that directory walking is part of the measured work.

Each file is a plausible Tactus procedure: typed input/output schemas built
with field.*, a body with loops, branches, string and table work, local
helper functions, and, depending on the file, tools, agents, a toolset, a
mock model, Mocks, state, stages, Human requests, sub-procedures, custom
steps, Specifications with several scenarios, and an Evaluation. The files
are meant to pass `tactus check` with no diagnostics and to load in Lua 5.4;
they are also kept free of luacheck warnings (with the DSL globals declared),
so both tools do their full work and print nothing.

Prints one summary line: files, lines and bytes written.
]]

local outdir = arg[1]
if not outdir or outdir == "" or outdir:sub(1, 1) == "-" then
  io.stderr:write("usage: lua5.4 gen-corpus.lua OUTDIR [COUNT] [SEED]\n")
  os.exit(2)
end
local COUNT = math.tointeger(tonumber(arg[2] or "1000"))
local BASE_SEED = math.tointeger(tonumber(arg[3] or "20240601"))
if not COUNT or COUNT < 1 or not BASE_SEED then
  io.stderr:write("gen-corpus: COUNT and SEED must be integers, COUNT >= 1\n")
  os.exit(2)
end
local MIN_LINES = 100 -- every file has at least this many lines

---------------------------------------------------------------------------
-- Deterministic randomness (splitmix64 on Lua 5.4 wrapping integers).
---------------------------------------------------------------------------
local rng_state = 0

local function reseed(seed)
  rng_state = seed * 0x2545F4914F6CDD1D + 0x632BE59BD9B4E019
end

local function next_u64()
  rng_state = rng_state + 0x9E3779B97F4A7C15
  local z = rng_state
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

-- Integer in [a, b].
local function rand(a, b)
  return a + ((next_u64() >> 1) % (b - a + 1))
end

-- true with probability pct percent.
local function chance(pct)
  return rand(1, 100) <= pct
end

local function pick(list)
  return list[rand(1, #list)]
end

-- k distinct elements of list, in random order.
local function sample(list, k)
  local copy = {}
  for i, v in ipairs(list) do copy[i] = v end
  for i = #copy, 2, -1 do
    local j = rand(1, i)
    copy[i], copy[j] = copy[j], copy[i]
  end
  local out = {}
  for i = 1, math.min(k, #copy) do out[i] = copy[i] end
  return out
end

-- A number with one or two decimals, printed the way a person would write it.
local function decimal(lo, hi)
  local cents = rand(lo * 100, hi * 100)
  if cents % 100 == 0 then
    return string.format("%d.5", cents // 100)
  end
  local s = string.format("%.2f", cents / 100)
  s = s:gsub("0$", "")
  return s
end

---------------------------------------------------------------------------
-- Vocabulary.
---------------------------------------------------------------------------
local DOMAINS = {
  {noun = "invoice", plural = "invoices", verb = "reconcile", area = "finance", team = "billing"},
  {noun = "ticket", plural = "tickets", verb = "triage", area = "support", team = "support-desk"},
  {noun = "parcel", plural = "parcels", verb = "route", area = "logistics", team = "dispatch"},
  {noun = "review", plural = "reviews", verb = "summarise", area = "product", team = "insights"},
  {noun = "incident", plural = "incidents", verb = "escalate", area = "operations", team = "on-call"},
  {noun = "shipment", plural = "shipments", verb = "track", area = "logistics", team = "warehouse"},
  {noun = "lead", plural = "leads", verb = "qualify", area = "sales", team = "growth"},
  {noun = "article", plural = "articles", verb = "tag", area = "editorial", team = "newsroom"},
  {noun = "expense", plural = "expenses", verb = "audit", area = "finance", team = "controlling"},
  {noun = "booking", plural = "bookings", verb = "confirm", area = "travel", team = "reservations"},
  {noun = "candidate", plural = "candidates", verb = "screen", area = "hiring", team = "talent"},
  {noun = "release", plural = "releases", verb = "prepare", area = "engineering", team = "platform"},
  {noun = "sensor", plural = "sensors", verb = "calibrate", area = "facilities", team = "maintenance"},
  {noun = "recipe", plural = "recipes", verb = "scale", area = "kitchen", team = "menu"},
  {noun = "contract", plural = "contracts", verb = "check", area = "legal", team = "counsel"},
  {noun = "claim", plural = "claims", verb = "assess", area = "insurance", team = "adjusters"},
  {noun = "order", plural = "orders", verb = "price", area = "retail", team = "fulfilment"},
  {noun = "alert", plural = "alerts", verb = "deduplicate", area = "monitoring", team = "sre"},
  {noun = "survey", plural = "surveys", verb = "score", area = "research", team = "ux"},
  {noun = "meeting", plural = "meetings", verb = "schedule", area = "office", team = "assistants"},
  {noun = "refund", plural = "refunds", verb = "approve", area = "payments", team = "risk"},
  {noun = "course", plural = "courses", verb = "grade", area = "education", team = "faculty"},
  {noun = "listing", plural = "listings", verb = "moderate", area = "marketplace", team = "trust"},
  {noun = "patient", plural = "patients", verb = "prioritise", area = "clinic", team = "intake"},
}

local SENTENCES = {
  "The delivery arrived two days late and the box was damaged",
  "Please send a copy of the March invoice to the finance team",
  "Our dashboard shows a spike in errors after the last deploy",
  "I love the new layout but the search is still slow",
  "The customer asked whether the annual plan can be paused",
  "Battery readings drifted by three percent overnight",
  "Two approvals are missing before the contract can be signed",
  "The kitchen needs the soup recipe scaled for forty guests",
  "Refund requested because the jacket did not fit",
  "The on-call engineer acknowledged the alert within five minutes",
  "Students found the second assignment much harder than the first",
  "The listing uses a stock photo and an unrealistic price",
  "Meeting moved to Thursday because the room was double booked",
  "Quarterly numbers look fine apart from travel expenses",
  "The parcel label is smudged and the postcode is unreadable",
}

local PEOPLE = {"Ada Lovelace", "Grace Hopper", "Mina Patel", "Tomas Berg", "Priya Nair",
  "Jonas Weber", "Lena Okafor", "Kenji Sato", "Sofia Rossi", "Omar Haddad"}

local STRING_FIELDS = {
  {name = "customer", desc = "Customer display name", values = PEOPLE},
  {name = "region", desc = "Sales region the request belongs to",
   values = {"north", "south", "eu-west", "us-east", "apac"}},
  {name = "title", desc = "Short title shown in reports",
   values = {"Quarterly close", "Weekly digest", "Rooftop garden", "Onboarding flow", "Night shift"}},
  {name = "query", desc = "What the user is looking for",
   values = {"late delivery", "refund status", "broken hinge", "password reset", "invoice copy"}},
  {name = "channel", desc = "Where the request came in", values = {"email", "chat", "phone", "web"}},
  {name = "owner", desc = "Team that owns the work",
   values = {"ops-team", "billing", "platform", "support-desk", "growth"}},
  {name = "text", desc = "Free text to analyse", values = SENTENCES},
  {name = "notes", desc = "Notes written by the requester", values = SENTENCES},
  {name = "subject", desc = "Subject line of the request", values = SENTENCES},
  {name = "reference", desc = "Reference such as A-1001",
   values = {"A-1001", "INV-2024-17", "PX-330", "TCK-8812", "B-2040"}},
  {name = "account", desc = "Account slug", values = {"acme", "globex", "initech", "umbrella", "hooli"}},
  {name = "locale", desc = "Locale for the output", values = {"en-GB", "nl-NL", "de-DE", "fr-FR"}},
  {name = "source", desc = "System the data comes from", values = {"crm", "import", "api", "manual"}},
  {name = "requester", desc = "Person who asked", values = PEOPLE},
}

local ENUM_FIELDS = {
  {name = "priority", desc = "How urgent the work is", values = {"low", "normal", "high", "urgent"}},
  {name = "mode", desc = "Speed versus depth", values = {"fast", "balanced", "thorough"}},
  {name = "format", desc = "Shape of the summary", values = {"text", "markdown", "json"}},
  {name = "tier", desc = "Customer plan", values = {"free", "pro", "enterprise"}},
  {name = "tone", desc = "Voice of generated text", values = {"neutral", "friendly", "formal"}},
  {name = "currency", desc = "Currency of amounts", values = {"EUR", "USD", "GBP"}},
  {name = "severity", desc = "Impact level", values = {"info", "minor", "major", "critical"}},
  {name = "shipping", desc = "Delivery speed", values = {"standard", "express", "pickup"}},
}

local NUMBER_FIELDS = {
  {name = "budget", desc = "Spending limit in EUR", lo = 50, hi = 5000},
  {name = "threshold", desc = "Score above which an item is flagged", lo = 0, hi = 1},
  {name = "rate", desc = "Conversion or tax rate", lo = 0, hi = 2},
  {name = "weight", desc = "Relative weight of this run", lo = 0, hi = 10},
  {name = "discount", desc = "Discount as a fraction", lo = 0, hi = 1},
  {name = "min_score", desc = "Lowest score that still counts", lo = 0, hi = 5},
  {name = "amount", desc = "Amount in the request currency", lo = 1, hi = 900},
  {name = "tolerance", desc = "Allowed deviation", lo = 0, hi = 3},
}

local INTEGER_FIELDS = {
  {name = "limit", desc = "Most items handled in one run", lo = 1, hi = 50},
  {name = "max_items", desc = "Upper bound on returned items", lo = 1, hi = 20},
  {name = "retries", desc = "Attempts before giving up", lo = 1, hi = 5},
  {name = "batch_size", desc = "Items per batch", lo = 1, hi = 100},
  {name = "days", desc = "Look-back window in days", lo = 1, hi = 90},
  {name = "top_n", desc = "How many results to keep", lo = 1, hi = 10},
  {name = "page", desc = "Result page to start from", lo = 1, hi = 9},
  {name = "quantity", desc = "Number of units", lo = 1, hi = 40},
}

local BOOLEAN_FIELDS = {
  {name = "dry_run", desc = "Compute everything but change nothing"},
  {name = "verbose", desc = "Log every intermediate step"},
  {name = "include_archived", desc = "Also look at archived records"},
  {name = "strict", desc = "Treat warnings as failures"},
  {name = "notify", desc = "Send a notice when finished"},
  {name = "round_up", desc = "Round amounts up instead of to nearest"},
  {name = "dedupe", desc = "Drop duplicate entries first"},
}

local ARRAY_FIELDS = {
  {name = "items", desc = "Items to process", elem = "string",
   values = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}},
  {name = "tags", desc = "Free-form tags", elem = "string",
   values = {"urgent", "vip", "billing", "bug", "question", "follow-up"}},
  {name = "keywords", desc = "Keywords to look for", elem = "string",
   values = {"refund", "late", "broken", "price", "slow", "thanks"}},
  {name = "recipients", desc = "Who receives the result", elem = "string",
   values = {"ops@example.org", "team@example.org", "lead@example.org", "cfo@example.org"}},
  {name = "labels", desc = "Labels already attached", elem = "string",
   values = {"PX-100", "PX-101", "PX-102", "QA-7", "QA-8"}},
  {name = "scores", desc = "Scores from earlier rounds", elem = "number"},
  {name = "amounts", desc = "Line amounts in EUR", elem = "number"},
  {name = "durations", desc = "Durations in minutes", elem = "number"},
  {name = "readings", desc = "Raw sensor readings", elem = "number"},
}

local OBJECT_FIELDS = {
  {name = "options", desc = "Extra options passed through"},
  {name = "metadata", desc = "Arbitrary metadata from the caller"},
  {name = "address", desc = "Delivery address"},
  {name = "settings", desc = "Per-team settings"},
  {name = "weights", desc = "Weight per category"},
}

local MODELS = {"openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-3-5-haiku",
  "anthropic/claude-3-5-sonnet", "openai/gpt-4.1-mini"}

local ROLES = {"assistant", "analyst", "writer", "reviewer", "planner", "triager", "summariser",
  "auditor", "dispatcher", "advisor"}

local TAGS = {"@smoke", "@regression", "@agents", "@offline", "@slow", "@billing", "@happy-path",
  "@edge", "@nightly", "@mocks"}

---------------------------------------------------------------------------
-- Small text utilities for the generator itself.
---------------------------------------------------------------------------
local function cap(s)
  return (s:gsub("^%l", string.upper))
end

local function lua_string(s)
  return string.format("%q", s)
end

local function json_string(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- A buffer of lines.
local function new_buf()
  return {}
end

local function add(buf, line)
  buf[#buf + 1] = line
end

local function append(buf, other)
  for _, l in ipairs(other) do buf[#buf + 1] = l end
end

---------------------------------------------------------------------------
-- One file.
---------------------------------------------------------------------------

-- Helper functions a body may use; emitted only when used.
local HELPERS = {
  trim = {
    "local function trim(s)",
    "  return (s:gsub(\"^%s+\", \"\"):gsub(\"%s+$\", \"\"))",
    "end",
  },
  clamp = {
    "local function clamp(x, lo, hi)",
    "  if x < lo then",
    "    return lo",
    "  elseif x > hi then",
    "    return hi",
    "  end",
    "  return x",
    "end",
  },
  round2 = {
    "local function round2(x)",
    "  return math.floor(x * 100 + 0.5) / 100",
    "end",
  },
  count_words = {
    "local function count_words(text)",
    "  local n = 0",
    "  for _ in text:gmatch(\"%S+\") do",
    "    n = n + 1",
    "  end",
    "  return n",
    "end",
  },
  slugify = {
    "-- Lower-case, with runs of anything but letters and digits turned into one dash.",
    "local function slugify(text)",
    "  local slug = text:lower():gsub(\"[^%w]+\", \"-\")",
    "  return (slug:gsub(\"^%-+\", \"\"):gsub(\"%-+$\", \"\"))",
    "end",
  },
  percent = {
    "local function percent(part, whole)",
    "  if whole == 0 then",
    "    return 0",
    "  end",
    "  return math.floor(part / whole * 1000 + 0.5) / 10",
    "end",
  },
  pluralize = {
    "local function pluralize(n, word)",
    "  if n == 1 then",
    "    return n .. \" \" .. word",
    "  end",
    "  return n .. \" \" .. word .. \"s\"",
    "end",
  },
  title_case = {
    "local function title_case(s)",
    "  return (s:gsub(\"(%a)([%w_']*)\", function(first, rest)",
    "    return first:upper() .. rest:lower()",
    "  end))",
    "end",
  },
  mean = {
    "local function mean(list)",
    "  if #list == 0 then",
    "    return 0",
    "  end",
    "  local sum = 0",
    "  for _, v in ipairs(list) do",
    "    sum = sum + v",
    "  end",
    "  return sum / #list",
    "end",
  },
  truncate = {
    "-- Shortens text to at most n characters, marking the cut with an ellipsis.",
    "local function truncate(s, n)",
    "  if #s <= n then",
    "    return s",
    "  end",
    "  return s:sub(1, n - 3) .. \"...\"",
    "end",
  },
  sorted_keys = {
    "local function sorted_keys(t)",
    "  local out = {}",
    "  for k in pairs(t) do",
    "    out[#out + 1] = tostring(k)",
    "  end",
    "  table.sort(out)",
    "  return out",
    "end",
  },
  format_money = {
    "local function format_money(amount, currency)",
    "  return string.format(\"%.2f %s\", amount, currency or \"EUR\")",
    "end",
  },
  starts_with = {
    "local function starts_with(s, prefix)",
    "  return s:sub(1, #prefix) == prefix",
    "end",
  },
  unique = {
    "-- Keeps the first occurrence of every value, in order.",
    "local function unique(list)",
    "  local seen, out = {}, {}",
    "  for _, v in ipairs(list) do",
    "    if not seen[v] then",
    "      seen[v] = true",
    "      out[#out + 1] = v",
    "    end",
    "  end",
    "  return out",
    "end",
  },
}
local HELPER_ORDER = {"trim", "clamp", "round2", "count_words", "slugify", "percent", "pluralize",
  "title_case", "mean", "truncate", "sorted_keys", "format_money", "starts_with", "unique"}

local function gen_file(index, attempt)
  reseed(BASE_SEED * 1000003 + index * 101 + attempt)

  local D = pick(DOMAINS)
  local F = {
    D = D,
    need = {},        -- helpers used
    consts = {},      -- top-level constant blocks (list of buffers)
    const_names = {},
    used_names = {},
  }
  local NOUN, PLURAL = D.noun, D.plural
  local UNOUN = NOUN:upper()

  local function uniq(base)
    local name, n = base, 2
    while F.used_names[name] do
      name = base .. "_" .. n
      n = n + 1
    end
    F.used_names[name] = true
    return name
  end
  for _, h in ipairs(HELPER_ORDER) do F.used_names[h] = true end
  for _, w in ipairs({"parts", "count", "total", "labels", "status", "done", "input", "reply",
    "answer", "state", "result", "approved", "norm", "main"}) do
    F.used_names[w] = true
  end

  local function use(h)
    F.need[h] = true
    return h
  end

  -- Shape of this file -------------------------------------------------
  -- Size class: 1 small (about 100-130 lines), 2 medium, 3 large. A file
  -- regenerated because it came out short (attempt > 0) is at least medium.
  local roll = rand(1, 100)
  local size = roll <= 60 and 1 or roll <= 90 and 2 or 3
  if attempt > 0 and size == 1 then size = 2 end
  local script_mode = chance(5)
  local has_agent = not script_mode and chance(size == 1 and 40 or 55)
  local n_tools = rand(0, size == 1 and 1 or 2)
  if has_agent and n_tools == 0 then n_tools = 1 end
  local has_toolset = has_agent and size == 3 and chance(40)
  local has_model = not script_mode and chance(12)
  local has_human = not script_mode and chance(12)
  local has_state = not script_mode and chance(size == 1 and 15 or 30)
  local has_stages = not script_mode and chance(size == 1 and 10 or 20)
  local has_sub = not script_mode and size > 1 and chance(20)
  local has_step = chance(size == 1 and 20 or 35)
  local has_eval = not script_mode and size > 1 and chance(35)
  local has_iter = not script_mode and chance(25)
  local has_guide = size > 1 and chance(35)
  local has_ping = not script_mode and chance(5)
  local named_main = not script_mode and chance(10)

  -- Inputs ---------------------------------------------------------------
  local inputs = {}
  local input_by_name = {}
  local function add_input(kind, spec, required)
    if input_by_name[spec.name] then return nil end
    local fd = {name = spec.name, kind = kind, spec = spec, required = required,
      desc = spec.desc, elem = spec.elem}
    input_by_name[spec.name] = fd
    inputs[#inputs + 1] = fd
    return fd
  end

  -- At least one required string; the others vary.
  add_input("string", pick(STRING_FIELDS), true)
  local n_more = ({rand(1, 2), rand(1, 3), rand(3, 5)})[size]
  for _ = 1, n_more do
    local r = rand(1, 100)
    if r <= 18 then
      add_input("string", pick(STRING_FIELDS), chance(30))
    elseif r <= 34 then
      add_input("enum", pick(ENUM_FIELDS), false)
    elseif r <= 48 then
      add_input("number", pick(NUMBER_FIELDS), chance(35))
    elseif r <= 62 then
      add_input("integer", pick(INTEGER_FIELDS), chance(25))
    elseif r <= 74 then
      add_input("boolean", pick(BOOLEAN_FIELDS), false)
    elseif r <= 92 then
      add_input("array", pick(ARRAY_FIELDS), chance(40))
    else
      add_input("object", pick(OBJECT_FIELDS), false)
    end
  end

  local function first_input(kind)
    for _, fd in ipairs(inputs) do
      if fd.kind == kind then return fd end
    end
    return nil
  end
  local main_text = inputs[1] -- required string

  -- Sample values, as Lua literal / Gherkin text / JSON.
  local function sample_value(fd)
    local s = fd.spec
    if fd.kind == "string" then
      local v = pick(s.values)
      return {lua = lua_string(v), step = '"' .. v .. '"', raw = v}
    elseif fd.kind == "enum" then
      local v = pick(s.values)
      return {lua = lua_string(v), step = '"' .. v .. '"', raw = v}
    elseif fd.kind == "number" then
      local v = decimal(s.lo, s.hi)
      return {lua = v, step = v, raw = v}
    elseif fd.kind == "integer" then
      local v = tostring(rand(s.lo, s.hi))
      return {lua = v, step = v, raw = v}
    elseif fd.kind == "boolean" then
      local v = chance(50) and "true" or "false"
      return {lua = v, step = v, raw = v}
    elseif fd.kind == "array" then
      local n = rand(1, 4)
      local lua_items, json_items = {}, {}
      for i = 1, n do
        if fd.elem == "number" then
          local v = decimal(0, 99)
          lua_items[i], json_items[i] = v, v
        else
          local v = pick(s.values)
          lua_items[i], json_items[i] = lua_string(v), json_string(v)
        end
      end
      return {lua = "{" .. table.concat(lua_items, ", ") .. "}",
        step = "[" .. table.concat(json_items, ", ") .. "]", raw = json_items[1]}
    else
      return {lua = "{kind = " .. lua_string(NOUN) .. "}", step = nil, raw = nil}
    end
  end

  -- name = field.T{opts} on one line, or one option per line when long.
  function F.wrap_field(indent, name, builder, opts)
    local one = indent .. name .. " = field." .. builder .. "{" .. table.concat(opts, ", ") .. "},"
    if #one <= 100 then
      return {one}
    end
    local out = {indent .. name .. " = field." .. builder .. "{"}
    for _, o in ipairs(opts) do out[#out + 1] = indent .. "  " .. o .. "," end
    out[#out + 1] = indent .. "},"
    return out
  end

  local function field_decl(fd, indent)
    local opts = {}
    local builder = fd.kind
    if builder == "enum" then builder = "string" end
    if fd.required then
      opts[#opts + 1] = "required = true"
    else
      local d
      if fd.kind == "string" then
        d = lua_string(pick(fd.spec.values))
      elseif fd.kind == "enum" then
        d = lua_string(fd.spec.values[rand(1, #fd.spec.values)])
      elseif fd.kind == "number" then
        d = decimal(fd.spec.lo, fd.spec.hi)
      elseif fd.kind == "integer" then
        d = tostring(rand(fd.spec.lo, fd.spec.hi))
      elseif fd.kind == "boolean" then
        d = chance(70) and "false" or "true"
      elseif fd.kind == "array" then
        d = "{}"
      else
        d = chance(50) and "{}" or "{country = \"NL\"}"
      end
      if chance(85) then
        opts[#opts + 1] = "default = " .. d
        fd.default = d
      end
    end
    if fd.kind == "enum" then
      local vs = {}
      for i, v in ipairs(fd.spec.values) do vs[i] = lua_string(v) end
      opts[#opts + 1] = "enum = {" .. table.concat(vs, ", ") .. "}"
    end
    if chance(80) then
      opts[#opts + 1] = "description = " .. lua_string(fd.desc)
    end
    return F.wrap_field(indent, fd.name, builder, opts)
  end

  -- Outputs ------------------------------------------------------------
  local outputs = {}
  local function add_output(name, kind, role, required, extra)
    local od = {name = name, kind = kind, role = role, required = required, extra = extra}
    outputs[#outputs + 1] = od
    return od
  end
  local out_summary = add_output(pick({"summary", "report", "digest", "message"}), "string",
    "summary", true)
  local out_count = add_output(pick({"count", "processed", "matched", "handled"}), "integer",
    "count", true)
  add_output(pick({"total", "score", "weight_sum", "value"}), "number", "total", chance(70))
  local out_labels = chance(50) and add_output(pick({"labels", "keys", "flags"}), "array",
    "labels", chance(50)) or nil
  local status_values = pick({{"ok", "partial", "empty"}, {"done", "review", "skipped"},
    {"clear", "flagged", "empty"}})
  local out_status = chance(55) and add_output("status", "enum", "status", true, status_values)
    or nil
  if chance(35) then
    add_output(pick({"flagged", "needs_review", "over_limit"}), "boolean", "flag", true)
  end
  if chance(25) then
    add_output("details", "object", "details", false)
  end

  -- Top-level names ------------------------------------------------------
  local agent_name, agent_done
  if has_agent then
    agent_name = uniq(pick(ROLES))
    agent_done = chance(80)
  end
  local uses_done = agent_done
  if has_agent then
    add_output(pick({"answer", "reply_text", "draft"}), "string", "answer", true)
    if agent_done then
      add_output("finished", "boolean", "finished", chance(60))
    end
  end
  if has_human then
    add_output("approved", "boolean", "approved", true)
  end
  if has_stages then
    add_output("stage", "string", "stage", true)
  end

  -- Constants --------------------------------------------------------------
  local function add_const(lines)
    F.consts[#F.consts + 1] = lines
  end

  local weight_tables = {}
  local function weights_const(fd)
    if weight_tables[fd.name] then return weight_tables[fd.name] end
    local WEIGHTS = uniq(fd.name:upper() .. "_WEIGHTS")
    weight_tables[fd.name] = WEIGHTS
    local kv = {}
    for i, v in ipairs(fd.spec.values) do
      kv[#kv + 1] = string.format("%s = %d", v:match("^[%a_][%w_]*$") and v or ("[" .. lua_string(v) .. "]"),
        i * rand(1, 3))
    end
    add_const({"local " .. WEIGHTS .. " = {" .. table.concat(kv, ", ") .. "}"})
    return WEIGHTS
  end

  local RECORDS, record_keys
  local function records_const()
    if RECORDS then return RECORDS end
    RECORDS = uniq(UNOUN .. "_RECORDS")
    local keys = sample({"A-1001", "A-1002", "B-2040", "PX-330", "TCK-8812", "INV-2024-17", "C-77"},
      rand(3, 5))
    record_keys = keys
    local lines = {"-- A small in-memory table standing in for the " .. D.team .. " backend.",
      "local " .. RECORDS .. " = {"}
    for _, k in ipairs(keys) do
      lines[#lines + 1] = string.format("  [%s] = {status = %s, owner = %s, amount = %s},",
        lua_string(k), lua_string(pick({"open", "pending", "closed", "shipped", "on-hold"})),
        lua_string(pick({D.team, "billing", "ops-team", "platform"})), decimal(5, 500))
    end
    lines[#lines + 1] = "}"
    add_const(lines)
    return RECORDS
  end

  local GUIDE
  if has_guide then
    GUIDE = uniq(UNOUN .. "_GUIDE")
    local eq = chance(30) and "==" or ""
    local lines = {"-- House rules, kept next to the code so reviews see them together.",
      "local " .. GUIDE .. " = [" .. eq .. "["}
    for _ = 1, rand(3, 6) do
      lines[#lines + 1] = "- " .. pick({
        "Never promise a delivery date that the carrier has not confirmed.",
        "Quote amounts with two decimals and the currency code.",
        "Escalate to " .. D.team .. " when anything looks unusual.",
        "Keep every summary under three sentences.",
        "Use the customer's own words when quoting them.",
        "Mark guesses clearly as guesses.",
        "Prefer the most recent record when two disagree.",
        "Do not include personal data in log lines.",
        "Round half up, never down, when money is involved.",
        "A " .. NOUN .. " without an owner goes to " .. D.team .. ".",
      })
    end
    lines[#lines + 1] = "]" .. eq .. "]"
    add_const(lines)
  end

  -- Tools ----------------------------------------------------------------
  local tools = {}       -- {name, decl = lines, call = fn(argexpr) -> lines, mock = lua, json}
  local tool_templates = {}

  local function text_arg()
    return "input." .. main_text.name
  end

  tool_templates[1] = function()
    local name = uniq("lookup_" .. NOUN)
    local rec = records_const()
    return {
      name = name,
      decl = {
        name .. " = Tool {",
        "  description = " .. lua_string("Fetch a " .. NOUN .. " record by its reference") .. ",",
        "  input = {",
        "    id = field.string{required = true, description = \"Reference such as A-1001\"},",
        "  },",
        "  function(args)",
        "    local record = " .. rec .. "[args.id]",
        "    if not record then",
        "      return {found = false}",
        "    end",
        "    return {found = true, status = record.status, owner = record.owner}",
        "  end,",
        "}",
      },
      call = function(v)
        return {
          "    local looked = " .. name .. "({id = " .. v .. "})",
          "    if looked.found then",
          "      count = count + 1",
          "      labels[#labels + 1] = looked.status",
          "    end",
        }
      end,
      mock = "{returns = {found = true, status = " .. lua_string(pick({"open", "closed"})) ..
        ", owner = " .. lua_string(D.team) .. "}}",
      json = '{"found": true, "status": "open"}',
      param = "id", param_value = record_keys[1],
    }
  end

  tool_templates[2] = function()
    local name = uniq("score_" .. NOUN)
    local kw = sample({"refund", "late", "broken", "thanks", "slow", "urgent", "great"}, 3)
    local kws = {}
    for i, k in ipairs(kw) do kws[i] = lua_string(k) end
    return {
      name = name,
      decl = {
        name .. " = Tool {",
        "  description = " .. lua_string("Score a " .. NOUN .. " text by the keywords it mentions") .. ",",
        "  input = {",
        "    text = field.string{required = true, description = \"Text to score\"},",
        "    weight = field.number{default = 1, description = \"Multiplier for every hit\"},",
        "  },",
        "  function(args)",
        "    local hits = 0",
        "    local lowered = args.text:lower()",
        "    for _, word in ipairs({" .. table.concat(kws, ", ") .. "}) do",
        "      if lowered:find(word, 1, true) then",
        "        hits = hits + 1",
        "      end",
        "    end",
        "    return {hits = hits, score = hits * (args.weight or 1)}",
        "  end,",
        "}",
      },
      call = function(v)
        return {
          "    local scored = " .. name .. "({text = tostring(" .. v .. "), weight = 2})",
          "    total = total + scored.score",
        }
      end,
      mock = "{returns = {hits = 1, score = 2}}",
      json = '{"hits": 2, "score": 4}',
      param = "weight", param_value = "2",
    }
  end

  tool_templates[3] = function()
    local name = uniq("measure_" .. NOUN)
    return {
      name = name,
      decl = {
        name .. " = Tool {",
        "  description = \"Count the words and characters in a piece of text\",",
        "  input = {",
        "    text = field.string{required = true, description = \"Text to measure\"},",
        "  },",
        "  function(args)",
        "    local words = 0",
        "    for _ in args.text:gmatch(\"%S+\") do",
        "      words = words + 1",
        "    end",
        "    return {words = words, chars = #args.text}",
        "  end,",
        "}",
      },
      call = function(v)
        return {
          "    local measured = " .. name .. "({text = tostring(" .. v .. ")})",
          "    count = count + measured.words",
          "    Log.debug(\"measured text\", {chars = measured.chars})",
        }
      end,
      mock = "{temporal = {{words = 3, chars = 18}, {words = 5, chars = 31}}}",
      json = '{"words": 4, "chars": 22}',
    }
  end

  tool_templates[4] = function()
    local name = uniq("notify_" .. D.team:gsub("%-", "_"))
    return {
      name = name,
      decl = {
        name .. " = Tool {",
        "  description = " .. lua_string("Send a short notice to the " .. D.team .. " team") .. ",",
        "  input = {",
        "    summary = field.string{required = true, description = \"One-line summary\"},",
        "    urgent = field.boolean{default = false},",
        "  },",
        "  function(args)",
        "    -- The real integration lives outside the sandbox; this records intent.",
        "    Log.info(\"notice queued\", {urgent = args.urgent, chars = #args.summary})",
        "    return {queued = true, channel = args.urgent and \"pager\" or \"email\"}",
        "  end,",
        "}",
      },
      call = function(v)
        return {
          "    local notice = " .. name .. "({summary = \"" .. cap(NOUN) .. " \" .. tostring(" .. v ..
            "), urgent = count > 3})",
          "    if notice.queued then",
          "      labels[#labels + 1] = \"notified-\" .. notice.channel",
          "    end",
        }
      end,
      mock = "{returns = {queued = true, channel = \"email\"}}",
      json = '{"queued": true, "channel": "email"}',
    }
  end

  tool_templates[5] = function()
    local name = uniq("estimate_" .. NOUN .. "_cost")
    return {
      name = name,
      decl = {
        name .. " = Tool {",
        "  description = " .. lua_string("Estimate the cost of handling a " .. NOUN) .. ",",
        "  input = {",
        "    quantity = field.integer{required = true, description = \"How many units\"},",
        "    unit_price = field.number{default = " .. decimal(1, 40) .. ", description = \"EUR per unit\"},",
        "  },",
        "  function(args)",
        "    local cost = args.quantity * (args.unit_price or 1)",
        "    if args.quantity >= 10 then",
        "      cost = cost * 0.9 -- volume discount",
        "    end",
        "    return {cost = math.floor(cost * 100 + 0.5) / 100}",
        "  end,",
        "}",
      },
      call = function()
        return {
          "    local estimate = " .. name .. "({quantity = math.max(count, 1)})",
          "    total = total + estimate.cost",
        }
      end,
      mock = "{conditional = {{when = {quantity = 1}, returns = {cost = 9.5}}}}",
      json = '{"cost": 12.5}',
      param = "quantity", param_value = "1",
    }
  end

  tool_templates[6] = function()
    local name = uniq("check_" .. NOUN .. "_status")
    return {
      name = name,
      decl = {
        name .. " = Tool {",
        "  description = " .. lua_string("Probe the status of a " .. NOUN .. " in the source system") .. ",",
        "  input = {",
        "    key = field.string{required = true, description = \"Key to probe\"},",
        "    deep = field.boolean{default = false, description = \"Also check dependencies\"},",
        "  },",
        "  function(args)",
        "    local state_name = \"ok\"",
        "    if args.key:find(\"^TCK\") then",
        "      state_name = \"degraded\"",
        "    elseif args.deep and #args.key > 8 then",
        "      state_name = \"unknown\"",
        "    end",
        "    return {state = state_name}",
        "  end,",
        "}",
      },
      call = function(v)
        return {
          "    local probe = " .. name .. "({key = tostring(" .. v .. ")})",
          "    if probe.state ~= \"ok\" then",
          "      labels[#labels + 1] = \"probe-\" .. probe.state",
          "    end",
        }
      end,
      mock = "{temporal = {{state = \"degraded\"}, {state = \"ok\"}}}",
      json = '{"state": "ok"}',
    }
  end

  local chosen_tools = sample({1, 2, 3, 4, 5, 6}, n_tools)
  for _, t in ipairs(chosen_tools) do
    local tool = tool_templates[t]()
    tool.direct = not has_agent or chance(50)
    tools[#tools + 1] = tool
  end

  -- Which tools the agent is granted; a tool neither granted nor called
  -- directly would be unused (TAC303), so such a tool is called directly.
  local agent_tools = {}
  if has_agent then
    for _, tool in ipairs(tools) do
      if not tool.direct or chance(40) then agent_tools[#agent_tools + 1] = tool.name end
    end
  end

  local toolset_name, toolset_tools
  if has_toolset then
    toolset_name = uniq(NOUN .. "_desk")
    toolset_tools = {uniq("open_" .. NOUN), uniq("close_" .. NOUN)}
  end

  -- Model -----------------------------------------------------------------
  local model_name
  if has_model then
    model_name = uniq(NOUN .. "_" .. pick({"classifier", "sentiment", "risk"}))
  end

  -- Sub-procedure ---------------------------------------------------------
  local sub_name
  if has_sub then
    sub_name = uniq(pick({"normalise_", "clean_", "prepare_"}) .. NOUN)
  end

  -- State -----------------------------------------------------------------
  local state_runs, state_last
  if has_state then
    state_runs = pick({"runs", "seen", "attempts"})
    state_last = "last_" .. NOUN
  end

  local stage_names
  if has_stages then
    stage_names = pick({{"loading", "scoring", "reporting"}, {"collecting", "checking", "done"},
      {"intake", "review", "handoff"}})
  end

  ---------------------------------------------------------------------------
  -- Procedure body.
  ---------------------------------------------------------------------------
  local body = new_buf()
  local I = "    " -- body indentation (inside function(input) inside Procedure {...})
  if script_mode then I = "" end

  local function b(line)
    if line == "" then add(body, "") else add(body, I .. line) end
  end

  b("local parts = {}")
  b("local count, total = 0, 0")
  b("local labels = {}")
  if has_stages then b("Stage.set(" .. lua_string(stage_names[1]) .. ")") end
  b("Log.info(" .. lua_string(D.verb .. " " .. PLURAL .. ": start") .. ", {" .. main_text.name ..
    " = input." .. main_text.name .. "})")
  if has_state then
    b("State.increment(" .. lua_string(state_runs) .. ")")
  end
  b("")

  local snippet_for = {}

  snippet_for.string = function(fd)
    local n = fd.name
    local v = "input." .. n
    local r = rand(1, 5)
    if r == 1 then
      b("-- Normalise " .. n .. " before comparing it with anything.")
      b("local " .. n .. "_text = " .. use("trim") .. "(" .. v .. " or \"\")")
      b("if " .. n .. "_text ~= \"\" then")
      b("  parts[#parts + 1] = \"" .. n .. "=\" .. " .. n .. "_text:lower()")
      b("  count = count + 1")
      b("end")
    elseif r == 2 then
      b("local " .. n .. "_words = {}")
      b("for word in (" .. v .. " or \"\"):gmatch(\"%a+\") do")
      b("  if #word > 3 then")
      b("    " .. n .. "_words[#" .. n .. "_words + 1] = word:sub(1, 1):upper() .. word:sub(2):lower()")
      b("  end")
      b("end")
      b("total = total + #" .. n .. "_words")
      b("parts[#parts + 1] = table.concat(" .. n .. "_words, \" \")")
    elseif r == 3 then
      b("local " .. n .. "_slug = " .. use("slugify") .. "(tostring(" .. v .. " or \"" .. NOUN .. "\"))")
      b("labels[#labels + 1] = " .. n .. "_slug")
      b("if " .. use("starts_with") .. "(" .. n .. "_slug, \"a\") or #" .. n .. "_slug > 24 then")
      b("  total = total + 1")
      b("end")
    elseif r == 4 then
      b("local " .. n .. "_len = " .. use("count_words") .. "(tostring(" .. v .. " or \"\"))")
      b("count = count + " .. n .. "_len")
      b("parts[#parts + 1] = string.format(\"%s has %d words\", " .. lua_string(n) .. ", " .. n .. "_len)")
    else
      b("local " .. n .. "_upper, " .. n .. "_hits = tostring(" .. v .. " or \"\"):upper():gsub(\"[AEIOU]\", \"*\")")
      b("if " .. n .. "_hits > 0 then")
      b("  parts[#parts + 1] = " .. n .. "_upper")
      b("  total = total + " .. n .. "_hits / 10")
      b("end")
    end
    b("")
  end

  snippet_for.enum = function(fd)
    local n = fd.name
    local w = weights_const(fd)
    local v = fd.spec.values[rand(1, #fd.spec.values)]
    b("-- Weighted by " .. n .. "; unknown values count as the lightest.")
    b("local " .. n .. "_weight = " .. w .. "[input." .. n .. "] or 1")
    b("total = total + " .. n .. "_weight")
    b("if input." .. n .. " == " .. lua_string(v) .. " then")
    b("  labels[#labels + 1] = " .. lua_string(n .. ":" .. v))
    if chance(50) then
      b("elseif " .. n .. "_weight > 2 then")
      b("  labels[#labels + 1] = \"heavy-\" .. tostring(input." .. n .. ")")
    end
    b("end")
    b("")
  end

  snippet_for.number = function(fd)
    local n = fd.name
    local r = rand(1, 3)
    if r == 1 then
      b("local " .. n .. "_value = " .. use("clamp") .. "(input." .. n .. " or 0, 0, " .. fd.spec.hi * 2 .. ")")
      b("total = total + " .. use("round2") .. "(" .. n .. "_value * " .. decimal(0, 2) .. ")")
      b("if " .. n .. "_value > " .. decimal(fd.spec.lo, fd.spec.hi) .. " then")
      b("  labels[#labels + 1] = string.format(\"%s-%.1f\", " .. lua_string(n) .. ", " .. n .. "_value)")
      b("end")
    elseif r == 2 then
      b("-- " .. cap(n) .. " scales the running total; negative values are ignored.")
      b("if (input." .. n .. " or 0) > 0 then")
      b("  total = total * (1 + input." .. n .. " / 100)")
      b("else")
      b("  Log.warn(" .. lua_string(n .. " missing or not positive") .. ")")
      b("end")
    else
      b("local " .. n .. "_share = " .. use("percent") .. "(input." .. n .. " or 0, " .. fd.spec.hi .. ")")
      b("parts[#parts + 1] = " .. lua_string(n .. " at ") .. " .. " .. n .. "_share .. \"%\"")
      b("total = total + " .. n .. "_share // 10")
    end
    b("")
  end

  snippet_for.integer = function(fd)
    local n = fd.name
    local r = rand(1, 3)
    if r == 1 then
      b("local " .. n .. "_cap = math.max(1, math.min(input." .. n .. " or " .. fd.spec.lo .. ", " .. fd.spec.hi .. "))")
      b("for step = 1, " .. n .. "_cap do")
      b("  if step % " .. rand(2, 4) .. " == 0 then")
      b("    total = total + step")
      b("  end")
      b("end")
      b("count = count + " .. n .. "_cap")
    elseif r == 2 then
      b("local " .. n .. "_left = input." .. n .. " or " .. fd.spec.lo)
      b("while " .. n .. "_left > 0 and count < " .. rand(20, 200) .. " do")
      b("  count = count + 1")
      b("  " .. n .. "_left = " .. n .. "_left - " .. rand(1, 3))
      b("end")
    else
      b("local " .. n .. "_pages = {}")
      b("for page_no = 1, math.min(input." .. n .. " or 1, " .. rand(3, 12) .. ") do")
      b("  " .. n .. "_pages[#" .. n .. "_pages + 1] = \"p\" .. page_no")
      b("end")
      b("parts[#parts + 1] = " .. use("pluralize") .. "(#" .. n .. "_pages, \"page\")")
    end
    b("")
  end

  snippet_for.boolean = function(fd)
    local n = fd.name
    b("if input." .. n .. " then")
    b("  Log.debug(" .. lua_string(n .. " is set") .. ", {count = count})")
    b("  parts[#parts + 1] = " .. lua_string(n))
    b("else")
    b("  labels[#labels + 1] = " .. lua_string("no-" .. n:gsub("_", "-")))
    b("end")
    b("")
  end

  snippet_for.array = function(fd)
    local n = fd.name
    if fd.elem == "number" then
      local r = rand(1, 2)
      b("local " .. n .. "_sum, " .. n .. "_max = 0, nil")
      b("for _, raw in ipairs(input." .. n .. " or {}) do")
      if has_iter then
        b("  if Iterations.exceeded(" .. rand(50, 500) .. ") then")
        b("    Stop.request(" .. lua_string("too many " .. n) .. ", true)")
        b("    break")
        b("  end")
        b("  Iterations.increment()")
      end
      b("  local x = tonumber(raw) or 0")
      b("  " .. n .. "_sum = " .. n .. "_sum + x")
      b("  if " .. n .. "_max == nil or x > " .. n .. "_max then")
      b("    " .. n .. "_max = x")
      b("  end")
      b("end")
      b("total = total + " .. n .. "_sum")
      if r == 1 then
        b("if " .. n .. "_max then")
        b("  parts[#parts + 1] = \"max " .. n .. " \" .. " .. n .. "_max")
        b("end")
      else
        b("parts[#parts + 1] = string.format(\"mean %.2f\", " .. use("mean") .. "(input." .. n .. " or {}))")
        b("if " .. n .. "_max and " .. n .. "_max > " .. rand(10, 90) .. " then")
        b("  labels[#labels + 1] = \"" .. n .. "-peak\"")
        b("end")
      end
    else
      local r = rand(1, 3)
      if r == 1 then
        b("local seen_" .. n .. " = {}")
        b("for idx, entry in ipairs(input." .. n .. " or {}) do")
        if has_iter then
          b("  Iterations.increment()")
        end
        b("  local key = tostring(entry):lower()")
        b("  if not seen_" .. n .. "[key] then")
        b("    seen_" .. n .. "[key] = idx")
        b("    labels[#labels + 1] = key")
        b("    count = count + 1")
        b("  end")
        b("end")
        b("table.sort(labels)")
      elseif r == 2 then
        b("local " .. n .. "_kept = " .. use("unique") .. "(input." .. n .. " or {})")
        b("for i = #" .. n .. "_kept, 1, -1 do")
        b("  if #" .. n .. "_kept[i] < 3 then")
        b("    table.remove(" .. n .. "_kept, i)")
        b("  end")
        b("end")
        b("count = count + #" .. n .. "_kept")
        b("parts[#parts + 1] = table.concat(" .. n .. "_kept, \", \")")
      else
        local bi = n .. "_by_initial"
        b("local " .. bi .. " = {}")
        b("for _, entry in ipairs(input." .. n .. " or {}) do")
        b("  local initial = tostring(entry):sub(1, 1):upper()")
        b("  " .. bi .. "[initial] = (" .. bi .. "[initial] or 0) + 1")
        b("  count = count + 1")
        b("end")
        b("for _, initial in ipairs(" .. use("sorted_keys") .. "(" .. bi .. ")) do")
        b("  labels[#labels + 1] = initial .. \"x\" .. " .. bi .. "[initial]")
        b("end")
      end
    end
    b("")
  end

  snippet_for.object = function(fd)
    local n = fd.name
    if chance(50) then
      b("local " .. n .. "_keys = " .. use("sorted_keys") .. "(input." .. n .. " or {})")
      b("if #" .. n .. "_keys > 0 then")
      b("  parts[#parts + 1] = " .. lua_string(n .. ": ") .. " .. table.concat(" .. n .. "_keys, \",\")")
      b("end")
    else
      b("for key, value in pairs(input." .. n .. " or {}) do")
      b("  if type(value) == \"number\" then")
      b("    total = total + value")
      b("  elseif type(value) == \"string\" and value ~= \"\" then")
      b("    labels[#labels + 1] = tostring(key) .. \"=\" .. value")
      b("  end")
      b("end")
    end
    b("")
  end

  for i, fd in ipairs(inputs) do
    snippet_for[fd.kind](fd)
    if i == 2 and has_stages then
      b("Stage.set(" .. lua_string(stage_names[2]) .. ")")
    end
  end

  -- Guide text, constants.
  if GUIDE then
    b("local rules = 0")
    b("for line in " .. GUIDE .. ":gmatch(\"[^\\n]+\") do")
    b("  if line:find(\"^%- \") then")
    b("    rules = rules + 1")
    b("  end")
    b("end")
    b("Log.debug(\"house rules loaded\", {rules = rules})")
    b("")
  end

  -- Sub-procedure call.
  if has_sub then
    b("local norm = " .. sub_name .. "({text = tostring(input." .. main_text.name .. ")})")
    b("count = count + norm.words")
    b("parts[#parts + 1] = norm.clean")
    b("")
  end

  -- Direct tool calls.
  for _, tool in ipairs(tools) do
    if tool.direct then
      append(body, script_mode and (function()
        local t = {}
        for _, l in ipairs(tool.call(text_arg())) do t[#t + 1] = l:sub(5) end
        return t
      end)() or tool.call(text_arg()))
      b("")
    end
  end
  if has_ping then
    b("-- A brokered host tool runs on the trusted host, never in the sandbox.")
    b("local pong = ping({from = " .. lua_string(NOUN) .. "})")
    b("if pong and pong.ok then")
    b("  labels[#labels + 1] = \"host-ok\"")
    b("end")
    b("")
  end

  -- Model.
  if has_model then
    b("local classify = Model(" .. lua_string(model_name) .. ")")
    b("local prediction = classify({text = tostring(input." .. main_text.name .. ")})")
    b("local predicted = prediction.output or prediction")
    b("if predicted.confidence and predicted.confidence >= 0.7 then")
    b("  labels[#labels + 1] = \"predicted-\" .. tostring(predicted.label)")
    b("end")
    b("")
  end

  -- Agent call.
  if has_agent then
    if has_stages then b("Stage.set(" .. lua_string(stage_names[3]) .. ")") end
    b("local reply = " .. agent_name .. "({")
    b("  message = " .. lua_string(cap(D.verb) .. " this " .. NOUN .. ": ") .. " .. tostring(input." ..
      main_text.name .. "),")
    if agent_done and chance(30) then
      b("  tools = {done},")
    end
    b("})")
    b("local answer = reply.output or \"\"")
    b("parts[#parts + 1] = " .. use("truncate") .. "(answer, " .. rand(60, 200) .. ")")
    if agent_done then
      b("if done.called() then")
      b("  Log.info(" .. lua_string(agent_name .. " finished") .. ", {reason = done.last_call().args.reason})")
      b("else")
      b("  Log.warn(" .. lua_string(agent_name .. " replied without calling done") .. ")")
      b("end")
    end
    b("")
  elseif has_stages then
    b("Stage.set(" .. lua_string(stage_names[3]) .. ")")
  end

  -- Human.
  if has_human then
    b("local approved = Human.approve({")
    b("  message = " .. lua_string("Publish the " .. NOUN .. " summary for ") .. " .. tostring(input." ..
      main_text.name .. ") .. \"?\",")
    b("  timeout = " .. pick({"600", "900", "3600", "86400"}) .. ",")
    b("  default = false,")
    b("})")
    b("")
  end

  if has_state then
    b("state." .. state_last .. " = tostring(input." .. main_text.name .. ")")
  end

  -- Status and return.
  if out_status then
    local sv = out_status.extra
    b("local status = " .. lua_string(sv[1]))
    b("if count == 0 then")
    b("  status = " .. lua_string(sv[3]))
    b("elseif total > " .. rand(5, 80) .. " then")
    b("  status = " .. lua_string(sv[2]))
    b("end")
  end
  if not out_labels then
    b("parts[#parts + 1] = " .. (F.need.pluralize and "pluralize(#labels, \"label\")" or
      "#labels .. \" labels\""))
  end

  local ret = {}
  for _, od in ipairs(outputs) do
    local e
    if od.role == "summary" then
      e = "table.concat(parts, \"; \")"
    elseif od.role == "count" then
      e = "count"
    elseif od.role == "total" then
      e = F.need.round2 and "round2(total)" or "math.floor(total * 100 + 0.5) / 100"
    elseif od.role == "labels" then
      e = "labels"
    elseif od.role == "status" then
      e = "status"
    elseif od.role == "flag" then
      e = "total > " .. rand(10, 100)
    elseif od.role == "details" then
      e = "{parts = #parts, labels = #labels}"
    elseif od.role == "answer" then
      e = "answer"
    elseif od.role == "finished" then
      e = "done.called()"
    elseif od.role == "approved" then
      e = "approved == true"
    elseif od.role == "stage" then
      e = "Stage.current()"
    end
    ret[#ret + 1] = od.name .. " = " .. e
  end
  b("return {")
  for _, r in ipairs(ret) do b("  " .. r .. ",") end
  b("}")

  ---------------------------------------------------------------------------
  -- Assemble the file.
  ---------------------------------------------------------------------------
  local out = new_buf()
  local slug = string.format("%04d-%s-%s", index, NOUN, D.verb)
  local fname = slug .. ".tac"

  add(out, "-- " .. fname)
  add(out, "--")
  add(out, "-- " .. cap(D.verb) .. " incoming " .. PLURAL .. " for the " .. D.area .. " team (" .. D.team .. ").")
  local bullets = {}
  if has_agent then bullets[#bullets + 1] = "an agent (" .. agent_name .. ") with granted tools" end
  if #tools > 0 then bullets[#bullets + 1] = #tools .. " Lua tool(s) with typed inputs" end
  if has_model then bullets[#bullets + 1] = "a mock Model for predictions" end
  if has_human then bullets[#bullets + 1] = "a Human.approve gate" end
  if has_state then bullets[#bullets + 1] = "durable state counters" end
  if has_stages then bullets[#bullets + 1] = "stages for progress reporting" end
  if has_sub then bullets[#bullets + 1] = "a named sub-procedure" end
  if script_mode then bullets[#bullets + 1] = "script mode (top-level input/output)" end
  if #bullets > 0 then
    add(out, "-- It uses:")
    for _, bl in ipairs(bullets) do add(out, "--   * " .. bl) end
  end
  add(out, "--")
  add(out, "--   tactus check " .. fname)
  add(out, "")

  if uses_done then
    add(out, "local done = require(\"tactus.tools.done\")")
    add(out, "")
  end

  -- Script mode: schemas first, like the examples.
  local function schema_block(head, list, decl_fn)
    add(out, head)
    for _, x in ipairs(list) do append(out, decl_fn(x)) end
  end

  local function output_decl(od, indent)
    local builder = od.kind == "enum" and "string" or od.kind
    local opts = {}
    if od.required then opts[#opts + 1] = "required = true" end
    if od.kind == "enum" then
      local vs = {}
      for i, v in ipairs(od.extra) do vs[i] = lua_string(v) end
      opts[#opts + 1] = "enum = {" .. table.concat(vs, ", ") .. "}"
    end
    if chance(40) then
      opts[#opts + 1] = "description = " .. lua_string(pick({
        "Shown to the " .. D.team .. " team", "Used by the dashboard", "Machine-readable result",
        "Stable across runs with the same input", "Empty when nothing matched"}))
    end
    return F.wrap_field(indent, od.name, builder, opts)
  end

  if script_mode then
    schema_block("input {", inputs, function(fd) return field_decl(fd, "  ") end)
    add(out, "}")
    add(out, "")
    schema_block("output {", outputs, function(od) return output_decl(od, "  ") end)
    add(out, "}")
    add(out, "")
  end

  for _, c in ipairs(F.consts) do
    append(out, c)
    add(out, "")
  end

  for _, h in ipairs(HELPER_ORDER) do
    if F.need[h] then
      append(out, HELPERS[h])
      add(out, "")
    end
  end

  -- Tools.
  for _, tool in ipairs(tools) do
    append(out, tool.decl)
    add(out, "")
  end
  if has_ping then
    add(out, "ping = Tool { use = \"broker.host.ping\" }")
    add(out, "")
  end

  if has_toolset then
    add(out, toolset_name .. " = Toolset {")
    add(out, "  tools = {")
    add(out, "    {")
    add(out, "      name = " .. lua_string(toolset_tools[1]) .. ",")
    add(out, "      description = " .. lua_string("Open a new " .. NOUN .. " for follow-up") .. ",")
    add(out, "      input = {")
    add(out, "        title = field.string{required = true},")
    add(out, "        priority = field.string{default = \"normal\", enum = {\"low\", \"normal\", \"high\"}},")
    add(out, "      },")
    add(out, "      handler = function(args)")
    add(out, "        State.increment(\"opened\")")
    add(out, "        return {id = \"" .. UNOUN:sub(1, 3) .. "-\" .. #args.title, priority = args.priority}")
    add(out, "      end,")
    add(out, "    },")
    add(out, "    {")
    add(out, "      name = " .. lua_string(toolset_tools[2]) .. ",")
    add(out, "      description = " .. lua_string("Close a " .. NOUN .. " with a resolution note") .. ",")
    add(out, "      input = {")
    add(out, "        id = field.string{required = true},")
    add(out, "        note = field.string{description = \"Why it is closed\"},")
    add(out, "      },")
    add(out, "      handler = function(args)")
    add(out, "        return {closed = true, id = args.id, note = args.note or \"\"}")
    add(out, "      end,")
    add(out, "    },")
    add(out, "  },")
    add(out, "}")
    add(out, "")
  end

  if has_model then
    add(out, "Model " .. lua_string(model_name) .. " {")
    add(out, "  type = \"mock\",")
    add(out, "  value = {label = \"neutral\", confidence = 0.5},")
    add(out, "  input = {text = \"string\"},")
    add(out, "  output = {label = \"string\", confidence = \"float\"},")
    add(out, "}")
    add(out, "")
  end

  if has_agent then
    if has_toolset then agent_tools[#agent_tools + 1] = toolset_name end
    if agent_done then agent_tools[#agent_tools + 1] = "done" end
    add(out, agent_name .. " = Agent {")
    add(out, "  model = " .. lua_string(pick(MODELS)) .. ",")
    add(out, "  system_prompt = [[")
    add(out, "You are the " .. D.team .. " " .. agent_name .. ". " .. cap(D.verb) .. " the " .. NOUN ..
      " described by {input." .. main_text.name .. "}.")
    for _ = 1, rand(1, 2) do
      add(out, pick({
        "Look records up before you answer; never guess a status.",
        "Keep the answer short and factual, and name the owner if you know it.",
        "When something looks unusual, say so plainly and suggest who should look at it.",
        "Quote amounts with the currency and two decimals.",
        "If the request is outside " .. D.area .. ", reply that it was routed elsewhere.",
      }))
    end
    if agent_done then add(out, "When you are finished, call done with a one-line reason.]],")
    else add(out, "Reply with the result only.]],") end
    add(out, "  tools = {" .. table.concat(agent_tools, ", ") .. "},")
    if chance(60) then add(out, "  max_turns = " .. rand(2, 8) .. ",") end
    add(out, "}")
    add(out, "")
  end

  -- Mocks.
  local mocked = {}
  local has_mocks = not script_mode and (has_agent or #tools > 0 or has_model) and chance(35)
  if has_mocks then
    local entries = {}
    if has_agent and chance(60) then
      local lines = {"  " .. agent_name .. " = {"}
      if agent_done then
        lines[#lines + 1] = "    tool_calls = {{tool = \"done\", args = {reason = " ..
          lua_string(NOUN .. " handled") .. "}}},"
      end
      lines[#lines + 1] = "    message = " .. lua_string(cap(NOUN) .. " checked; nothing unusual found.") .. ","
      lines[#lines + 1] = "  },"
      entries[#entries + 1] = lines
      mocked[agent_name] = true
    end
    for _, tool in ipairs(tools) do
      if chance(60) then
        entries[#entries + 1] = {"  " .. tool.name .. " = " .. tool.mock .. ","}
        mocked[tool.name] = true
      end
    end
    if has_model then
      entries[#entries + 1] = {
        "  " .. model_name .. " = {",
        "    conditional = {",
        "      {when = {text = \"contains:refund\"}, returns = {label = \"negative\", confidence = 0.91}},",
        "      {when = {text = \"contains:love\"}, returns = {label = \"positive\", confidence = 0.88}},",
        "    },",
        "  },",
      }
      mocked[model_name] = true
    end
    if #entries > 0 then
      add(out, "-- Under `tactus test` these stand in for the real dependencies.")
      add(out, "Mocks {")
      for _, e in ipairs(entries) do append(out, e) end
      add(out, "}")
      add(out, "")
    end
  end

  if has_stages then
    add(out, "Stages({" .. lua_string(stage_names[1]) .. ", " .. lua_string(stage_names[2]) .. ", " ..
      lua_string(stage_names[3]) .. "})")
    add(out, "")
  end

  if has_sub then
    add(out, "-- Cleans raw text once so every caller sees the same words.")
    add(out, sub_name .. " = Procedure {")
    add(out, "  input = {text = field.string{required = true, description = \"Raw text\"}},")
    add(out, "  output = {")
    add(out, "    clean = field.string{required = true},")
    add(out, "    words = field.integer{required = true},")
    add(out, "  },")
    add(out, "  function(input)")
    add(out, "    local clean = input.text:lower():gsub(\"%s+\", \" \")")
    add(out, "    local words = 0")
    add(out, "    for _ in clean:gmatch(\"%S+\") do")
    add(out, "      words = words + 1")
    add(out, "    end")
    add(out, "    return {clean = clean, words = words}")
    add(out, "  end,")
    add(out, "}")
    add(out, "")
  end

  -- The main procedure (or the script body).
  if not script_mode then
    if named_main then
      add(out, "Procedure \"main\" {")
    else
      add(out, "Procedure {")
    end
    add(out, "  input = {")
    for _, fd in ipairs(inputs) do append(out, field_decl(fd, "    ")) end
    add(out, "  },")
    add(out, "  output = {")
    for _, od in ipairs(outputs) do append(out, output_decl(od, "    ")) end
    add(out, "  },")
    if has_state then
      add(out, "  state = {")
      add(out, "    " .. state_runs .. " = field.integer{default = 0},")
      add(out, "    " .. state_last .. " = field.string{default = \"\"},")
      add(out, "  },")
    end
    add(out, "  function(input)")
    append(out, body)
    add(out, "  end,")
    add(out, "}")
    add(out, "")
  end

  -- Custom step.
  local step_text
  local step_kind
  if has_step then
    step_kind = rand(1, 2)
    if step_kind == 1 then
      step_text = "the " .. NOUN .. " summary mentions these words"
      add(out, "-- Reads a data table of words that must all appear in the summary.")
      add(out, "Step(" .. lua_string(step_text) .. ", function(ctx)")
      add(out, "  assert(ctx.table, \"this step needs a data table with a word column\")")
      add(out, "  local summary = tostring(State.get(\"summary\") or \"\")")
      add(out, "  for _, row in ipairs(ctx.table) do")
      add(out, "    assert(summary:lower():find(row.word:lower(), 1, true),")
      add(out, "      \"the summary does not mention '\" .. row.word .. \"'\")")
      add(out, "  end")
      add(out, "end)")
    else
      step_text = "the " .. NOUN .. " run left a tidy log"
      add(out, "Step(" .. lua_string(step_text) .. ", function(ctx)")
      add(out, "  local entries = ctx.log or {}")
      add(out, "  for _, entry in ipairs(entries) do")
      add(out, "    assert(entry.level ~= \"error\", \"unexpected error: \" .. tostring(entry.message))")
      add(out, "  end")
      add(out, "end)")
    end
    add(out, "")
  end

  -- Specifications -----------------------------------------------------------
  local spec = new_buf()
  local function s(line) add(spec, line) end
  local feature_tags = {}
  if chance(50) then feature_tags = sample(TAGS, rand(1, 2)) end
  if #feature_tags > 0 then s(table.concat(feature_tags, " ")) end
  s("Feature: " .. cap(D.verb) .. " " .. PLURAL .. " for " .. D.team)
  s("  " .. pick({
    "Every run with the same input gives the same output.",
    "The procedure checks the result itself instead of trusting the model.",
    "Counts and labels follow the house rules of the " .. D.area .. " team.",
    "Nothing here calls a real model; agents and tools are mocked.",
  }))
  s("")

  local required_inputs = {}
  for _, fd in ipairs(inputs) do
    if fd.required then required_inputs[#required_inputs + 1] = fd end
  end

  local use_background = #required_inputs > 1 and chance(25)
  local bg_input
  if use_background then
    bg_input = required_inputs[1]
    s("  Background:")
    s("    Given the input " .. bg_input.name .. " is " .. sample_value(bg_input).step)
    s("")
  end

  local function given_inputs(first_kw)
    local kw = first_kw
    local lines = {}
    for _, fd in ipairs(inputs) do
      if fd ~= bg_input then
        local give = fd.required or chance(25)
        if give then
          local v = sample_value(fd)
          if fd.kind == "boolean" then
            lines[#lines + 1] = "    " .. kw .. " the " .. fd.name .. " parameter is " .. v.step
            kw = "And"
          elseif v.step then
            lines[#lines + 1] = "    " .. kw .. " the input " .. fd.name .. " is " .. v.step
            kw = "And"
          end
        end
      end
    end
    return lines, kw
  end

  local function then_lines(kw)
    local lines = {}
    local function t(text)
      lines[#lines + 1] = "    " .. kw .. " " .. text
      kw = "And"
    end
    for _, od in ipairs(outputs) do
      if chance(45) then
        if od.kind == "string" then
          local r = rand(1, 3)
          if r == 1 then t("the output " .. od.name .. " should exist")
          elseif r == 2 then t("the output " .. od.name .. " should match pattern \"" ..
            pick({"%S", ".+", "^[%w ]", "."}) .. "\"")
          else t("the output should contain " .. od.name) end
        elseif od.kind == "enum" then
          if chance(50) then
            t("the output " .. od.name .. " should be \"" .. pick(od.extra) .. "\"")
          else
            t("the output " .. od.name .. " should not be \"" .. pick(od.extra) .. "\"")
          end
        elseif od.kind == "integer" then
          t("the output " .. od.name .. " should be " .. rand(0, 12))
        elseif od.kind == "number" then
          t("the output " .. od.name .. " should be " .. decimal(0, 60))
        elseif od.kind == "boolean" then
          t("the output " .. od.name .. " should be " .. (chance(50) and "true" or "false"))
        else
          t("the output " .. od.name .. " should exist")
        end
      end
    end
    return lines, kw
  end

  local n_scen = ({2, rand(2, 3), rand(3, 5)})[size]
  local outline_done = false
  for sc = 1, n_scen do
    local tags = {}
    if chance(20) then tags = {pick(TAGS)} end
    if #tags > 0 then s("  " .. table.concat(tags, " ")) end

    local int_in = first_input("integer")
    if not outline_done and int_in and sc == 2 and chance(40) then
      outline_done = true
      s("  Scenario Outline: " .. cap(int_in.name) .. " bounds the work")
      local lines, kw = given_inputs("Given")
      -- Replace the integer input with the placeholder (or add it).
      local found = false
      for i, l in ipairs(lines) do
        if l:find("the input " .. int_in.name .. " is ", 1, true) then
          lines[i] = l:gsub(" is .*$", " is <" .. int_in.name .. ">")
          found = true
        end
      end
      if not found then
        lines[#lines + 1] = "    " .. kw .. " the input " .. int_in.name .. " is <" .. int_in.name .. ">"
      end
      for _, l in ipairs(lines) do s(l) end
      s("    When the procedure runs")
      s("    Then the output " .. out_count.name .. " should be <expected>")
      s("    And the procedure should complete successfully")
      s("")
      s("    Examples:")
      s("      | " .. int_in.name .. " | expected |")
      for _ = 1, rand(2, 4) do
        s(string.format("      | %-" .. #int_in.name .. "d | %-8d |", rand(int_in.spec.lo, int_in.spec.hi),
          rand(0, 30)))
      end
    else
      s("  Scenario: " .. pick({
        "A typical " .. NOUN,
        "An empty " .. NOUN .. " is handled",
        cap(PLURAL) .. " from a new " .. pick({"customer", "region", "source"}),
        "Repeated " .. PLURAL .. " are counted once",
        "A large " .. NOUN .. " stays within budget",
        "The " .. D.team .. " team gets a summary",
        "Unusual " .. PLURAL .. " are flagged",
        "Defaults apply when options are missing",
      }) .. (sc > 1 and (" (" .. sc .. ")") or ""))
      local lines, kw = given_inputs("Given")
      if #lines == 0 then
        lines[1] = "    Given the procedure has started"
        kw = "And"
      end
      for _, l in ipairs(lines) do s(l) end
      if has_agent then
        if not mocked[agent_name] or chance(50) then
          s("    " .. kw .. " the agent \"" .. agent_name .. "\" responds with \"" ..
            cap(NOUN) .. " " .. pick({"looks fine", "needs a second look", "was routed to " .. D.team}) .. "\"")
          kw = "And"
          if agent_done and chance(70) then
            s("    And the agent \"" .. agent_name .. "\" calls tool \"done\" with args {\"reason\": \"" ..
              NOUN .. " handled\"}")
          end
        end
      end
      for _, tool in ipairs(tools) do
        if tool.direct and chance(30) then
          s("    " .. kw .. " the tool \"" .. tool.name .. "\" returns " .. tool.json)
          kw = "And"
        end
      end
      if has_human then
        s("    " .. kw .. " Human.approve will return " .. (chance(60) and "true" or "false"))
      end
      if has_model and chance(50) then
        s("    When the " .. model_name .. " model predicts")
      else
        s("    When the procedure runs")
      end
      local tl = then_lines("Then")
      if #tl == 0 then
        tl[1] = "    Then the output " .. out_summary.name .. " should exist"
      end
      for _, l in ipairs(tl) do s(l) end
      for _, tool in ipairs(tools) do
        if tool.direct and chance(50) then
          local r = rand(1, 3)
          if r == 1 then
            s("    And the " .. tool.name .. " tool should be called")
          elseif r == 2 then
            s("    And the " .. tool.name .. " tool should be called at least 1 time")
          elseif tool.param then
            s("    And the " .. tool.name .. " tool should be called with " .. tool.param .. "=" .. tool.param_value)
          else
            s("    And the " .. tool.name .. " tool should be called exactly 1 time")
          end
        end
      end
      if agent_done and chance(60) then
        s("    And the done tool should be called")
      end
      if has_state and chance(60) then
        s("    And the state " .. state_runs .. " should be 1")
        if chance(50) then s("    And the state should contain " .. state_last) end
      end
      if has_iter and chance(40) then
        s("    And the total iterations should be less than " .. rand(10, 100))
      end
      if has_stages and chance(40) then
        s("    And the stage should be " .. stage_names[3])
      end
      if chance(40) then
        s("    " .. pick({"And", "But"}) .. " the procedure should complete successfully")
      end
      if step_text and sc == n_scen then
        s("    And " .. step_text)
        if step_kind == 1 then
          s("      | word |")
          for _, w in ipairs(sample({NOUN, D.team, "summary", "count"}, rand(1, 3))) do
            s("      | " .. w .. " |")
          end
        end
      end
    end
    if sc < n_scen then s("") end
  end

  local spec_fn = script_mode and "Specification" or "Specifications"
  local long_eq = chance(15) and "=" or ""
  add(out, spec_fn .. "([" .. long_eq .. "[")
  append(out, spec)
  add(out, "]" .. long_eq .. "])")

  -- Evaluation ----------------------------------------------------------------
  if has_eval then
    add(out, "")
    add(out, "-- `tactus eval` runs each case several times and scores the pass rate.")
    add(out, "Evaluation({")
    add(out, "  runs = " .. rand(1, 5) .. ",")
    add(out, "  dataset = {")
    for c = 1, rand(2, 3) do
      local ins = {}
      for _, fd in ipairs(inputs) do
        if fd.required or (fd.kind ~= "object" and chance(30)) then
          ins[#ins + 1] = fd.name .. " = " .. sample_value(fd).lua
        end
      end
      add(out, "    {")
      add(out, "      name = " .. lua_string(NOUN .. "_case_" .. c) .. ",")
      local line = "      inputs = {" .. table.concat(ins, ", ") .. "},"
      if #line <= 100 then
        add(out, line)
      else
        add(out, "      inputs = {")
        for _, x in ipairs(ins) do add(out, "        " .. x .. ",") end
        add(out, "      },")
      end
      add(out, "      expected_output = {" .. out_count.name .. " = " .. rand(0, 12) .. "},")
      add(out, "    },")
    end
    add(out, "  },")
    add(out, "  evaluators = {")
    add(out, "    field.equals_expected{field = " .. lua_string(out_count.name) .. "},")
    if chance(50) then
      add(out, "    field.min_length{field = " .. lua_string(out_summary.name) .. ", value = 1},")
    else
      add(out, "    field.contains{field = " .. lua_string(out_summary.name) .. ", value = " ..
        lua_string(main_text.name) .. "},")
    end
    add(out, "  },")
    add(out, "  thresholds = {min_success_rate = " .. pick({"0.8", "0.9", "1.0", "0.75"}) .. "},")
    add(out, "})")
  end

  -- Script mode: the top-level return must be the last statement.
  if script_mode then
    add(out, "")
    add(out, "-- Everything below runs as the implicit main procedure.")
    append(out, body)
  end

  return slug, out
end

---------------------------------------------------------------------------
-- Main.
---------------------------------------------------------------------------
local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local made = {}
local function ensure_dir(dir)
  if made[dir] then return end
  local ok = os.execute("mkdir -p " .. sh_quote(dir))
  if not ok then
    io.stderr:write("gen-corpus: cannot create " .. dir .. "\n")
    os.exit(1)
  end
  made[dir] = true
end

local total_lines, total_bytes = 0, 0
for i = 1, COUNT do
  local slug, lines
  -- A file that comes out short is regenerated from the next sub-seed; this
  -- is deterministic (the shape is usually long enough at the first try).
  local attempt = 0
  repeat
    slug, lines = gen_file(i, attempt)
    attempt = attempt + 1
  until #lines >= MIN_LINES or attempt > 50
  if #lines < MIN_LINES then
    -- Pad with a trailing comment block rather than fail.
    lines[#lines + 1] = ""
    while #lines < MIN_LINES do lines[#lines + 1] = "-- (padding)" end
  end
  local text = table.concat(lines, "\n") .. "\n"
  local dir = string.format("%s/team-%02d", outdir, (i - 1) // 100 + 1)
  ensure_dir(dir)
  local path = dir .. "/" .. slug .. ".tac"
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  total_lines = total_lines + #lines
  total_bytes = total_bytes + #text
end

print(string.format("gen-corpus: %d files, %d lines, %d bytes in %s", COUNT, total_lines,
  total_bytes, outdir))
