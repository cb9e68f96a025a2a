-- require("tactus.io.json"): JSON files in the workspace, paths relative to
-- the procedure's folder (confined like File).
local M = {}

function M.read(path)
  return Json.decode(File.read(path))
end

function M.write(path, data)
  return File.write(path, Json.encode(data))
end

M.encode = Json.encode
M.decode = Json.decode
return M
