-- io.tac - bad input to the stdlib file modules (io-errors.sh): every error
-- names the file and the line of the call.
local csv = require("tactus.io.csv")
local json = require("tactus.io.json")
Procedure {
  input = {case = field.string{required = true}},
  function(input)
    local value
    if input.case == "ragged" then value = csv.read("ragged.csv") end
    if input.case == "json" then value = json.read("broken.json") end
    if input.case == "outside" then value = csv.read("../../../etc/passwd") end
    if input.case == "module" then value = require("tactus.io.yaml") end
    if input.case == "excel" then value = require("tactus.io.excel").read("book.xlsx") end
    return {value = value}
  end,
}
