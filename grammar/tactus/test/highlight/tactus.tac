local done = require("tactus.tools.done")
-- <- keyword
--    ^ variable
--           ^ function.builtin
--                   ^ string

main = Procedure "main" {
-- <- variable
--     ^ function.builtin
--                      ^ punctuation.bracket
  input = { name = field.string{required = true} },
--^ property
--                 ^ function.builtin
--                       ^ type.builtin
--                                         ^ boolean
  function(input)
--^ keyword.function
--         ^ variable.parameter
    Log.info("hi\n", {n = #input.name, 0x1F})
--  ^ function.builtin
--      ^ function.call
--              ^ string.escape
--                        ^ operator
--                                     ^ number
    local x <const> = MAX_SIZE // 2
--          ^ punctuation.bracket
--           ^ attribute
--                    ^ constant
--                             ^ operator
    return self:go(...) or nil
--  ^ keyword.return
--         ^ variable.builtin
--              ^ function.method.call
--                 ^ variable.builtin
--                      ^ keyword.operator
--                         ^ constant.builtin
  end
--^ keyword
}

-- a comment
for i = 1, 3 do print(string.rep("x", i)) end
-- <- keyword.repeat
--              ^ function.builtin
--                    ^ module.builtin
Specifications([[
-- <- function.builtin
Feature: x
]])

local function helper(a, ...) return a end
--    ^ keyword.function
--             ^ function
--                    ^ variable.parameter
function M.util:run() goto done ::done:: end
--         ^ property
--              ^ function.method
--                    ^ keyword
--                         ^ label
while not ok do break end
-- <- keyword.repeat
--    ^ keyword.operator
--              ^ keyword
  if x then y = "a" .. [==[b]==] elseif z then end
--^ keyword.conditional
--                  ^ operator
--                     ^ string
--                               ^ keyword.conditional
specifications [[Feature: y]]
-- <- function.builtin
