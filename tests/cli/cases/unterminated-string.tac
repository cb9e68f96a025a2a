Procedure {
  function()
    return [==[ never closed ]]
  end,
}
