local s = "café"
Procedure { function() return s end }
