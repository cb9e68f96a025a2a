-- require("tactus.io.excel"): excel files need a foreign library the sandbox
-- does not carry; every call says so, naming the caller's line.
return setmetatable({}, {__index = function(_, fn)
  return function()
    dsl.raise("tactus.io.excel.%s is not available in this runtime: excel needs a library the " ..
      "sandbox does not carry; convert the data to CSV or JSON (tactus.io.csv, tactus.io.json)", tostring(fn))
  end
end})
