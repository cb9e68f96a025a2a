x = (((((1)))
local s = [=[ ]] ]=]
::l:: goto l
