-- 13-sandbox-safe.tac
--
-- The sandbox-safe way to touch the outside world. Procedures run in a
-- locked-down runtime: there is no `io` or `os`, no network, no credentials.
-- Instead of ...                      use ...
--   io.open / io.lines                File.read, File.write, File.exists, File.list
--                                     (paths relative to the workspace)
--   a JSON library via require        Json.encode / Json.decode
--   os.execute / sockets              Host.call("host.ping", {...}) or a brokered
--                                     tool `Tool { use = "broker.host.ping" }`; the
--                                     host runs only allow-listed tools and audits them
--   os.time / math.random             values passed in as input, or computed inside
--                                     Step.checkpoint so a replay sees the same value
-- File reads are wrapped in Step.checkpoint: a resumed run replays the
-- journaled contents instead of re-reading files that may have changed.

-- A brokered host tool: it executes on the trusted host, never in the sandbox.
ping = Tool { use = "broker.host.ping" }

Procedure {
  input = {
    inbox = field.string{default = "data/inbox", description = "Folder of .txt notes"},
    report_path = field.string{default = "data/inbox-report.json"},
    marker = field.string{description = "Overrides todo_marker from data/settings.json"},
  },
  output = {
    notes = field.integer{required = true},
    lines = field.integer{required = true},
    todos = field.integer{required = true},
    host_ok = field.boolean{required = true},
    report_written = field.boolean{required = true},
  },
  function(input)
    local settings = Step.checkpoint(function()
      if not File.exists("data/settings.json") then
        return {todo_marker = "TODO:", report_title = "Notes"}
      end
      return Json.decode(File.read("data/settings.json"))
    end)
    local marker = input.marker or settings.todo_marker

    local notes = Step.checkpoint(function()
      local found = {}
      for _, name in ipairs(File.list(input.inbox)) do
        if name:match("%.txt$") then
          local path = name
          if not name:find("/", 1, true) then
            path = input.inbox .. "/" .. name
          end
          found[#found + 1] = {path = path, text = File.read(path)}
        end
      end
      table.sort(found, function(a, b) return a.path < b.path end)
      return found
    end)

    local lines, todos = 0, {}
    for _, note in ipairs(notes) do
      for line in note.text:gmatch("[^\n]+") do
        lines = lines + 1
        if line:find(marker, 1, true) then
          todos[#todos + 1] = line
        end
      end
    end

    -- Two ways to reach an allow-listed host tool through the broker.
    local pong = Host.call("host.ping", {value = 1})
    local tool_pong = ping({from = "tool handle"})
    local host_ok = (pong and pong.ok == true) and (tool_pong and tool_pong.ok == true) or false

    local report = Json.encode({title = settings.report_title, notes = #notes,
                                lines = lines, todos = #todos, todo_lines = todos})
    local written = Step.checkpoint(function()
      return File.write(input.report_path, report) == true
    end)

    return {notes = #notes, lines = lines, todos = #todos, host_ok = host_ok,
            report_written = written}
  end,
}

Step("the report file records", function(ctx)
  assert(ctx.table, "this step needs a data table with key and value columns")
  assert(File.exists("data/inbox-report.json"), "the report was not written")
  local report = Json.decode(File.read("data/inbox-report.json"))
  for _, row in ipairs(ctx.table) do
    local actual = report[row.key]
    local expected = tonumber(row.value) or row.value
    assert(actual == expected,
      "report." .. row.key .. " is " .. tostring(actual) .. ", expected " .. row.value)
  end
end)

Specifications([[
@sandbox @files
Feature: Digesting an inbox of notes without leaving the sandbox

  Scenario: Default marker from the settings file
    Given the procedure has started
    When the procedure runs
    Then the output notes should be 2
    And the output lines should be 6
    And the output todos should be 3
    And the output host_ok should be true
    And the output report_written should be true
    And the report file records
      | key   | value        |
      | title | Inbox digest |
      | notes | 2            |
      | todos | 3            |

  Scenario: A marker given as input wins over the settings file
    Given the input marker is "Retro"
    And the input report_path is "data/inbox-report-retro.json"
    When the procedure runs
    Then the output todos should be 1
    But the output lines should be 6
]])
