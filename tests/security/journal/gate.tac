-- gate.tac: two host effects, an approval, then a host effect that must
-- happen only if a person approved (tests/security/journal.sh).
Procedure {
  input = {
    release = field.string{default = "1.2"},
  },
  function(input)
    Host.call("host.append_line", {text = "built " .. input.release})
    Host.call("host.append_line", {text = "tested " .. input.release})
    local ok = Human.approve({message = "Ship release " .. input.release .. "?"})
    if ok then
      Host.call("host.append_line", {text = "SHIPPED " .. input.release})
    end
    return {approved = ok}
  end,
}
