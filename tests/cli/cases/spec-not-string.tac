Procedure { function() return 1 end }
local spec = "Feature: x"
Specifications({ "Feature: x" })
Specifications(spec)
