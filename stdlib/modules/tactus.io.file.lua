-- require("tactus.io.file"): text files in the workspace (the File layer).
local M = {}

function M.read(path)
  return File.read(path)
end

function M.write(path, data)
  if type(data) ~= "string" then dsl.raise("tactus.io.file.write expects text") end
  return File.write(path, data)
end

function M.exists(path)
  return File.exists(path)
end

return M
