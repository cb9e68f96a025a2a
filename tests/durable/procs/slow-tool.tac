-- slow-tool.tac: a host tool that takes a while (durable test
-- runtime-killed): the runtime is killed while the host runs it.
Procedure {
  function(input)
    Host.call("host.append_line", {text = "slow", sleep_ms = 1500})
    Host.call("host.append_line", {text = "after"})
    return "done"
  end,
}
