-- [tactus]/mcp - the tools of MCP servers (inventory A.1, A.5, A.6):
-- `mcp.files.read_file(args)` handles and `Toolset "x" { use = "mcp.files" }`,
-- tools named `files_read_file` as in the original.
--
-- The servers are the host's (mcp_servers: of its configuration), started
-- and spoken to by the broker; this side only ever sees tool names and
-- schemas (the mcp.tools request, journaled like every effect) and sends
-- tool.call "mcp.SERVER.TOOL". Under --mock no server starts: the host
-- answers mcp.tools with an empty placeholder list, and an agent's call of
-- `SERVER_TOOL` resolves to a handle whose Mocks answer it.

local raise, T = dsl.raise, dsl.tools
local format, match = string.format, string.match

local M = {}
dsl.mcp = M

local servers = {} -- name -> {by_tool = {}, list = nil|{data...}, placeholder = bool}

local function server(name)
  if type(name) ~= "string" or not match(name, "^[%w_%-]+$") then
    raise("mcp: '%s' is not a server name (letters, digits, '_' and '-'; declared in the " ..
      "host's mcp_servers)", tostring(name))
  end
  local s = servers[name]
  if not s then
    s = {by_tool = {}}
    servers[name] = s
  end
  return s
end

-- The handle's data of SERVER.TOOL, made once.
function M.tool(name, tool)
  local s = server(name)
  if type(tool) ~= "string" or tool == "" then
    raise("mcp.%s: a tool name is a string (mcp.%s.read_file)", name, name)
  end
  local d = s.by_tool[tool]
  if not d then
    d = T.external(name .. "_" .. tool, "mcp." .. name .. "." .. tool,
      format("MCP tool %s of server %s", tool, name))
    s.by_tool[tool] = d
  end
  return d
end

-- The server's tools, asked of the host once per run.
function M.load(name)
  local s = server(name)
  if s.list then return s.list, s.placeholder end
  local ok, res = vm.request("mcp.tools", {server = name})
  if not ok then raise("MCP server '%s': %s: %s", name, res.type, res.message) end
  local list = {}
  for _, t in ipairs(type(res.tools) == "table" and res.tools or {}) do
    if type(t) == "table" and type(t.name) == "string" then
      local d = M.tool(name, t.name)
      if type(t.description) == "string" and t.description ~= "" then d.description = t.description end
      if type(t.input_schema) == "table" then d.json_schema = t.input_schema end
      d.output_schema = t.output_schema
      list[#list + 1] = d
    end
  end
  s.list, s.placeholder = list, res.placeholder == true
  return list, s.placeholder
end

-- Under --mock: the handle an agent's call of `SERVER_TOOL` names, for a
-- server whose list is a placeholder among `servers_granted`.
function M.placeholder_tool(servers_granted, name)
  if type(name) ~= "string" then return nil end
  for srv in pairs(servers_granted) do
    local s = servers[srv]
    if s and s.placeholder and name:sub(1, #srv + 1) == srv .. "_" and #name > #srv + 1 then
      return M.tool(srv, name:sub(#srv + 2))
    end
  end
  return nil
end

-- `mcp.SERVER.TOOL`: a proxy per server, a tool handle per tool.
local proxies = {}
local function proxy(name)
  server(name)
  local p = proxies[name]
  if p then return p end
  p = setmetatable({}, {
    __index = function(_, tool) return M.tool(name, tool).handle end,
    __newindex = function() raise("mcp.%s: its tools are the server's, not assignable", name) end,
    __tostring = function() return "MCP server '" .. name .. "'" end,
    __metatable = false,
  })
  proxies[name] = p
  return p
end

dsl.exports.mcp = setmetatable({}, {
  __index = function(_, name) return proxy(name) end,
  __newindex = function() raise("mcp: MCP servers are declared in the host's mcp_servers, not here") end,
  __tostring = function() return "mcp" end,
  __metatable = false,
})
