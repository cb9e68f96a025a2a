-- [tactus]/globals - publishes the DSL into the user's globals (last file).
--
-- Assignment interception (inventory A.0): `greeter = Agent {...}` names the
-- agent "greeter". A __newindex on the globals sees every new global; its
-- metatable is locked, so a script can neither read the hook back nor
-- replace it (setmetatable(_G, ...) fails: "cannot change a protected
-- metatable").

local raise = dsl.raise

local function bind(name, value)
  local data = dsl.data_of(value)
  if not data then return end
  if data.temp then
    if data.kind == "Tool" then
      dsl.tools.rename(data, name)
    elseif data.kind == "Toolset" then
      dsl.tools.toolset_rename(data, name)
    elseif data.kind == "Procedure" then
      dsl.procedure_rename(data, name)
    else
      data.name, data.temp = name, false
      -- an agent's inline_tools are named <agent>_<tool>
      for _, t in ipairs(data.inline or {}) do dsl.tools.set_prefixed(t, name, t.short) end
      if data.kind == "Agent" then dsl.publish_global(name, value) end
    end
  elseif data.explicit and data.name ~= name and (data.kind == "Tool" or data.kind == "Agent") then
    raise("%s name mismatch: assigned to '%s' but the %s is named '%s'", data.kind, name,
      string.lower(data.kind), data.name)
  end
end

for name, value in pairs(dsl.exports) do
  rawset(G, name, value)
end

setmetatable(G, {
  __newindex = function(t, k, v)
    if type(k) == "string" then bind(k, v) end
    rawset(t, k, v)
  end,
  __metatable = false,
})
