Procedure {
  function()
    Log.info("starting", {step = 1},
    return "done"
  end,
}
