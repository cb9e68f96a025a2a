-- require("tactus.io.fs"): the workspace's folders, paths relative to the
-- procedure's folder (confined like File: nothing outside the workspace,
-- no symbolic links followed).
local raise = dsl.raise
local M = {}

local function list(dir)
  local ok, names = pcall(File.list, dir)
  if not ok then return nil, names end
  return names
end

local function join(dir, name)
  if dir == nil or dir == "" or dir == "." then return name end
  return (dir:gsub("/+$", "")) .. "/" .. name
end

function M.isdir(path)
  return (list(path)) ~= nil
end

function M.exists(path)
  return File.exists(path) or M.isdir(path)
end

function M.size(path)
  return File.size(path)
end

-- list_dir(dir, {files_only = true, dirs_only = true}) -> sorted names
function M.list_dir(dir, opts)
  opts = opts or {}
  local names, err = list(dir or ".")
  if not names then raise("%s", err) end
  local out = {}
  for _, name in ipairs(names) do
    local is_dir = M.isdir(join(dir, name))
    if not (opts.files_only and is_dir) and not (opts.dirs_only and not is_dir) then
      out[#out + 1] = name
    end
  end
  return out
end

-- glob("data/*.csv") -> sorted paths; * and ? match within one name, ** any folders
local function to_pattern(glob)
  local p = glob:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0")
  p = p:gsub("%*%*/", "\0"):gsub("%*", "[^/]*"):gsub("%?", "[^/]"):gsub("%z", ".-")
  return "^" .. p .. "$"
end

function M.glob(pattern)
  if type(pattern) ~= "string" then raise("tactus.io.fs.glob expects a pattern such as \"data/*.csv\"") end
  local pat, found = to_pattern(pattern), {}
  local function walk(dir, depth)
    if depth > 32 then return end
    for _, name in ipairs(list(dir == "" and "." or dir) or {}) do
      local path = dir == "" and name or dir .. "/" .. name
      if M.isdir(path) then
        walk(path, depth + 1)
      elseif path:match(pat) then
        found[#found + 1] = path
      end
    end
  end
  walk("", 0)
  table.sort(found)
  return found
end

return M
