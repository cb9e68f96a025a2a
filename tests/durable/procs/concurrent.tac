-- concurrent.tac: an approval, then one slow effect that is not idempotent
-- (durable test concurrent-resume).
Procedure {
  function(input)
    Human.approve({message = "Go?"})
    Host.call("host.count", {})
    return "done"
  end,
}
