-- require("tactus.io.csv"): comma-separated files in the workspace, paths
-- relative to the procedure's folder (confined like File). RFC 4180 quoting;
-- the first row is the header. read returns a list of {header = value}
-- rows (values are text); a row with more or fewer fields than the header
-- is an error naming the file and the row, raised at the caller's line.
return dsl.delimited(",", "tactus.io.csv")
