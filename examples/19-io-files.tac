-- 19-io-files.tac
--
-- The standard library's file modules, all confined to the workspace
-- (paths are relative to this file's folder; nothing outside it, no
-- symbolic links):
--   * tactus.io.csv / tactus.io.tsv: read -> list of {header = value} rows,
--     write(path, rows, {headers = {...}});
--   * tactus.io.json: read / write / encode / decode;
--   * tactus.io.fs: list_dir, glob, isdir, exists, size.
-- Bad data is an error naming the file, the line of the data, and the
-- line of the call: a ragged CSV row, a JSON file that is not JSON.
--
--   tactus test examples/19-io-files.tac

local csv = require("tactus.io.csv")
local tsv = require("tactus.io.tsv")
local json = require("tactus.io.json")
local fs = require("tactus.io.fs")

Procedure {
  input = {
    orders = field.string{default = "data/io/orders.csv", description = "CSV with name,qty columns"},
    settings = field.string{default = "", description = "Optional JSON file with a threshold"},
  },
  output = {
    items = field.integer{required = true},
    total = field.integer{required = true},
    big = field.array{required = true, description = "Names ordered at least `threshold` times"},
    csv_files = field.array{required = true},
  },
  function(input)
    local rows = csv.read(input.orders)
    local threshold = 2
    if input.settings ~= "" then
      local settings = json.read(input.settings)
      threshold = settings.threshold or threshold
    end
    local total, big = 0, {}
    for _, row in ipairs(rows) do
      local qty = tonumber(row.qty)
      total = total + qty
      if qty >= threshold then big[#big + 1] = row.name end
    end
    tsv.write("data/io/summary.tsv", rows, {headers = {"name", "qty"}})
    return {items = #rows, total = total, big = big, csv_files = fs.glob("data/io/*.csv")}
  end,
}

Specifications([[
@files
Feature: Reading order files

  Scenario: A CSV with a quoted field
    When the procedure runs
    Then the output items should be 3
    And the output total should be 8
    And the output big should be ["Tea, green", "Coffee"]
    And the output csv_files should be ["data/io/orders.csv", "data/io/ragged.csv"]

  Scenario: A ragged row is an error naming the file and the row
    Given the input orders is "data/io/ragged.csv"
    When the procedure runs
    Then the procedure should fail
    And the stop reason should contain "data/io/ragged.csv line 3 has 3 fields, but the header has 2"

  Scenario: A settings file that is not JSON
    Given the input settings is "data/io/broken.json"
    When the procedure runs
    Then the procedure should fail
    And the stop reason should contain "data/io/broken.json is not JSON"

  Scenario: Nothing outside the workspace
    Given the input orders is "../../etc/passwd"
    When the procedure runs
    Then the procedure should fail
    And the stop reason should contain "leaves the workspace"
]])
