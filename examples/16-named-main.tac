-- 16-named-main.tac
--
-- The `Procedure "name" {...}` form: here the file's entry point is declared
-- by name as "main" rather than left unnamed (the two are equivalent).
--
-- The procedure turns conventional commit subjects into release notes. The
-- spec compares the whole Markdown result with a Gherkin doc string, which
-- the custom step receives as `ctx.doc_string`.

local SECTIONS = {
  {prefix = "feat", title = "Features"},
  {prefix = "fix", title = "Fixes"},
}

Procedure "main" {
  input = {
    version = field.string{required = true, description = "Version being released"},
    commits = field.array{required = true, description = "Commit subjects, e.g. 'fix: ...'"},
  },
  output = {
    notes = field.string{required = true, description = "Markdown release notes"},
    features = field.integer{required = true},
    fixes = field.integer{required = true},
    ignored = field.integer{required = true, description = "Commits left out (chore, docs, ...)"},
  },
  function(input)
    local grouped, ignored = {feat = {}, fix = {}}, 0
    for _, subject in ipairs(input.commits) do
      local kind, text = subject:match("^(%a+):%s*(.+)$")
      if kind and grouped[kind] then
        table.insert(grouped[kind], text)
      else
        ignored = ignored + 1
      end
    end

    local out = {"## " .. input.version}
    for _, section in ipairs(SECTIONS) do
      local entries = grouped[section.prefix]
      if #entries > 0 then
        out[#out + 1] = ""
        out[#out + 1] = "### " .. section.title
        for _, entry in ipairs(entries) do
          out[#out + 1] = "- " .. entry
        end
      end
    end
    local notes = table.concat(out, "\n")
    state.notes = notes

    return {
      notes = notes,
      features = #grouped.feat,
      fixes = #grouped.fix,
      ignored = ignored,
    }
  end,
}

Step("the release notes read exactly", function(ctx)
  assert(ctx.doc_string, "this step needs a doc string with the expected notes")
  local expected = ctx.doc_string:gsub("%s+$", "")
  local actual = (state.notes or ""):gsub("%s+$", "")
  assert(actual == expected, "release notes differ:\n" .. actual)
end)

Specifications([[
Feature: Release notes from commit subjects

  @docs
  Scenario: Features and fixes get their own sections
    Given the input version is "1.3.0"
    And the input commits is ["feat: export to CSV", "chore: bump deps", "fix: VAT rounding", "feat: dark mode"]
    When the procedure runs
    Then the output features should be 2
    And the output fixes should be 1
    And the output ignored should be 1
    And the release notes read exactly
      """
      ## 1.3.0

      ### Features
      - export to CSV
      - dark mode

      ### Fixes
      - VAT rounding
      """

  Scenario: A release with only housekeeping has no sections
    Given the input version is "1.3.1"
    And the input commits is ["chore: tidy CI", "docs: typo"]
    When the procedure runs
    Then the output notes should be "## 1.3.1"
    And the output ignored should be 2
    But the output features should be 0
]])
