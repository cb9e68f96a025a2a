-- timeout.tac: an approval that nobody answers in time (durable test 3).
Procedure {
  output = {
    value = field.boolean{required = true},
    timed_out = field.boolean{required = true},
    after = field.string{required = true},
  },
  function(input)
    local v, timed_out = Human.approve({
      message = "Approve within a second?",
      timeout = 1,
      default = false,
    })
    local r = Host.call("host.echo", {after = tostring(v)})
    return {value = v, timed_out = timed_out == true, after = r.echo.after}
  end,
}
