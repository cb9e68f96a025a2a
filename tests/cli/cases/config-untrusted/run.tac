-- Inputs typed by the schema, checked before anything runs.
Procedure {
    input = {
        name = field.string{required = true},
        count = field.integer{default = 1},
        loud = field.boolean{default = false},
    },
    output = { text = field.string{required = true} },
    function(input)
        local s = ("Hello, " .. input.name .. ". "):rep(input.count)
        if input.loud then s = s:upper() end
        return {text = s}
    end,
}
