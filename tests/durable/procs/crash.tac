-- crash.tac: 24 effects for the crash test (durable test 7): 15 appends of
-- distinct lines through an idempotent host tool (3 of them inside
-- checkpoints), 4 clock reads, 2 checkpoints, a host ping, a human approval.
-- Each append sleeps a few ms in the tool so that kills land mid-run.
-- The output depends only on the effects' results (no time in it), so a run
-- killed and resumed any number of times must give the same output as an
-- uninterrupted one.
local SLEEP_MS = 10

local function append(n, note)
  local text = string.format("line-%02d%s", n, note or "")
  local r = Host.call("host.append_line", {text = text, sleep_ms = SLEEP_MS})
  if r.text ~= text then error("the tool answered for '" .. tostring(r.text) .. "', not " .. text) end
  return r.index
end

Procedure {
  output = {
    indexes = field.array{required = true},
    first = field.object{required = true},
    second = field.object{required = true},
    approved = field.boolean{required = true},
    clock_ok = field.boolean{required = true},
  },
  function(input)
    local indexes = {}
    local t0 = os.time()                                          -- effect 0
    for n = 1, 5 do indexes[#indexes + 1] = append(n) end         -- 1..5
    local first = Step.checkpoint(function()                      -- 6
      local a = append(6, " (checkpoint 1)")                      -- 7
      local b = append(7, " (checkpoint 1)")                      -- 8
      local t = os.time()                                         -- 9
      return {a = a, b = b, late = t < t0}
    end)
    indexes[#indexes + 1] = first.a
    indexes[#indexes + 1] = first.b
    local pong = Host.call("host.ping", {after = "checkpoint 1"}) -- 10
    local approved = Human.approve({message = "Continue the crash test?"}) -- 11
    for n = 8, 13 do indexes[#indexes + 1] = append(n) end        -- 12..17
    local second = Step.checkpoint(function()                     -- 18
      local t = os.time()                                         -- 19
      return {c = append(14, " (checkpoint 2)"), late = t < t0}   -- 20
    end)
    indexes[#indexes + 1] = second.c
    indexes[#indexes + 1] = append(15)                            -- 21
    local t1 = os.time()                                          -- 22
    Host.call("host.ping", {done = #indexes})                     -- 23
    return {
      indexes = indexes,
      first = {a = first.a, b = first.b, late = first.late},
      second = second,
      approved = approved and pong.ok == true,
      clock_ok = t1 >= t0 and not first.late and not second.late,
    }
  end,
}
