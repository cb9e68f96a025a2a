-- 10-subprocedures.tac
--
-- Named sub-procedures: `count_words = Procedure {...}` declares a procedure
-- with its own typed input and output, and `count_words({text = ...})` calls
-- it (the call is checkpointed). The unnamed Procedure is the file's main.
--
-- The data-table step below calls the sub-procedure directly; the rows of a
-- step's data table arrive in `ctx.table`, one {header = cell} table per row.

count_words = Procedure {
  input = {text = field.string{required = true}},
  output = {words = field.integer{required = true}},
  function(input)
    local n = 0
    for _ in input.text:gmatch("%S+") do
      n = n + 1
    end
    return {words = n}
  end,
}

first_sentence = Procedure {
  input = {text = field.string{required = true}},
  output = {sentence = field.string{required = true}},
  function(input)
    local sentence = input.text:match("^%s*(.-[%.!?])%s") or input.text:match("^%s*(.-)%s*$")
    return {sentence = sentence}
  end,
}

Procedure {
  input = {
    text = field.string{required = true, description = "Paragraph to describe"},
    title = field.string{default = "Untitled", description = "Label for the report"},
  },
  output = {
    title = field.string{required = true},
    words = field.integer{required = true},
    summary = field.string{required = true, description = "The opening sentence"},
  },
  function(input)
    local counted = count_words({text = input.text})
    local opening = first_sentence({text = input.text})
    return {title = input.title, words = counted.words, summary = opening.sentence}
  end,
}

Step("these texts have the expected word counts", function(ctx)
  assert(ctx.table, "this step needs a data table with text and words columns")
  for _, row in ipairs(ctx.table) do
    local got = count_words({text = row.text}).words
    assert(got == tonumber(row.words),
      "'" .. row.text .. "' has " .. got .. " words, expected " .. row.words)
  end
end)

Specifications([[
Feature: Describing a paragraph with sub-procedures

  Scenario: Title, word count and opening sentence
    Given the input text is "Tactus runs agents. It also tests them."
    And the input title is "Intro"
    When the procedure runs
    Then the output title should be "Intro"
    And the output words should be 7
    And the output summary should be "Tactus runs agents."

  Scenario: Word counting ignores extra whitespace
    Given the input text is "One  line   only"
    When the procedure runs
    Then the output words should be 3
    And the output title should be "Untitled"
    And these texts have the expected word counts
      | text                  | words |
      | alpha beta            | 2     |
      | one, two, three, four | 4     |
      | solo                  | 1     |
]])

Evaluation({
  runs = 3,
  dataset = {
    {
      name = "two_sentences",
      inputs = {text = "Tactus runs agents. It also tests them.", title = "Intro"},
      expected_output = {title = "Intro", words = 7, summary = "Tactus runs agents."},
    },
    {
      name = "one_sentence_default_title",
      inputs = {text = "Tactus keeps secrets out of the sandbox!"},
      expected_output = {
        title = "Untitled",
        words = 7,
        summary = "Tactus keeps secrets out of the sandbox!",
      },
    },
  },
  evaluators = {
    field.equals_expected{},
    field.contains{field = "summary", value = "Tactus"},
  },
  thresholds = {min_success_rate = 0.8},
})
