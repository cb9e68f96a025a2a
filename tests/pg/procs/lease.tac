-- lease.tac: three slow host calls (tests/pg/bad-input.sh): a worker is
-- stopped in the middle, long enough for its lease to run out.
Procedure {
  function(input)
    Host.call("host.append_line", {text = "one", sleep_ms = 1500})
    Host.call("host.append_line", {text = "two", sleep_ms = 1500})
    Host.call("host.append_line", {text = "three", sleep_ms = 1500})
    return "done"
  end,
}
