-- require("tactus.io.excel"): excel needs a foreign library the sandbox does
-- not carry; the module loads (files written for the original Tactus
-- still check and run) and every call says so.
return dsl.unavailable_format("excel")
