-- A missing 'end': Lua notices it two lines later, at the ',' after the
-- 'end' that was meant for the function.
Procedure {
  output = {n = field.integer{}},
  function()
    local n = 0
    if n == 0 then
      n = 1
  end,
}
