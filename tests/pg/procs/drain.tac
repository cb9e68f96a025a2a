-- drain.tac: two host effects (tests/pg/worker.sh): the first one is held
-- (append.py's hold points) while the worker is told to stop.
Procedure {
  input = {
    name = field.string{default = "d"},
  },
  function(input)
    Host.call("host.append_line", {text = input.name .. " one"})
    Host.call("host.append_line", {text = input.name .. " two"})
    return input.name .. " done"
  end,
}
