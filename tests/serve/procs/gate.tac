-- gate.tac: one approval between two host effects (tests/serve: the API, the inbox).
Procedure {
  input = {
    release = field.string{default = "1.2"},
  },
  output = {
    path = field.string{required = true},
    approved = field.boolean{required = true},
  },
  function(input)
    Host.call("host.ping", {step = "before " .. input.release})
    local ok = Human.approve({
      message = "Ship release " .. input.release .. "?",
      timeout = 3600,
      default = false,
    })
    if ok then
      Host.call("host.echo", {step = "approved"})
      return {path = "approved", approved = true}
    end
    Host.call("host.echo", {step = "denied"})
    return {path = "denied", approved = false}
  end,
}
