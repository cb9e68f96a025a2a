-- late.tac: an approval that times out after 2 s with a default (tests/serve/over.sh).
Procedure {
  output = { approved = field.boolean{required = true} },
  function()
    local ok = Human.approve({ message = "Approve within two seconds?", timeout = 2, default = false })
    return {approved = ok}
  end,
}
