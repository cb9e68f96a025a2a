-- require("tactus.io.json"): JSON files in the workspace, paths relative to
-- the procedure's folder (confined like File).
local M = {}

function M.read(path)
  local text = File.read(path)
  local ok, value = pcall(Json.decode, text)
  if not ok then
    dsl.raise("tactus.io.json.read: %s is not JSON: %s", tostring(path),
      (tostring(value):gsub("^[^:]*:%d+: ", "")))
  end
  return value
end

function M.write(path, data)
  return File.write(path, Json.encode(data))
end

M.encode = Json.encode
M.decode = Json.decode
return M
