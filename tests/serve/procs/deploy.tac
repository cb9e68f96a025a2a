-- deploy.tac: a host tool that needs a person's approval before it runs
-- (tool_approval): the page and the API show the exact tool and arguments.
Procedure {
  input = {target = field.string{default = "production"}},
  output = {deployed = field.boolean{required = true}},
  function(input)
    local ok = pcall(Host.call, "host.deploy", {line = "v2 to " .. input.target})
    return {deployed = ok}
  end,
}
