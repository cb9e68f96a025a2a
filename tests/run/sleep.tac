-- sleep.tac - Sleep waits on the host in a real run (sleep.sh).
Procedure {
  function()
    local t0 = os.time()
    Sleep(1.2)
    return {waited = os.time() - t0}
  end,
}
