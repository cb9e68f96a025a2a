Procedure { function() return 1 end }
--[[ a comment
that never ends
