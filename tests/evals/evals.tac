-- evals.tac - every evaluator kind of `tactus eval`, on a procedure whose
-- answers are known: the "good" evaluation passes them all, the "bad" one
-- has each fail (checked per evaluator by evals.sh).
local done = require("tactus.tools.done")

lookup = Tool {
  description = "Look a word up",
  input = {word = field.string{required = true}},
  function(args) return {found = true} end,
}

helper = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Help.",
  tools = {done},
}

Mocks {
  helper = {message = "Glad to help.", tool_calls = {{tool = "done", args = {reason = "ok"}}}},
}

Procedure {
  input = {word = field.string{required = true}},
  function(input)
    lookup({word = input.word})
    lookup({word = input.word .. "s"})
    State.set("last", input.word)
    Iterations.increment()
    local r = helper({message = "define " .. input.word})
    return {
      word = input.word,
      upper = input.word:upper(),
      length = #input.word,
      letters = {input.word:sub(1, 1), input.word:sub(-1)},
      answer = r.output,
    }
  end,
}

Evaluation({
  runs = 2,
  dataset_file = "cases.jsonl",
  dataset = {
    {name = "inline_cat", inputs = {word = "cat"}, expected_output = {word = "cat", length = 3}},
  },
  evaluators = {
    field.equals_expected{},
    field.equals_expected{field = "length"},
    {type = "exact_match", field = "upper", value = "CAT"},
    field.contains{field = "answer", value = "help"},
    field.contains_any{field = "answer", value = {"nope", "GLAD"}},
    field.is_instance{field = "letters", value = "list"},
    field.min_length{field = "word", value = 3},
    field.max_length{field = "letters", value = 2},
    field.regex{field = "upper", value = "^C"},
    field.range{field = "length", min_value = 1, max_value = 5},
    field.tool_called{value = "lookup", min_value = 2, max_value = 2},
    field.state_check{field = "last", value = "cat"},
    field.agent_turns{field = "helper", min_value = 1, max_value = 1},
    field.max_iterations{value = 1},
    field.max_tokens{value = 100},
    field.max_cost{value = 0.01},
    field.json_schema{json_schema = {
      type = "object", required = {"word", "letters"},
      properties = {
        word = {type = "string", minLength = 1, maxLength = 10, pattern = "^[a-z]+$"},
        length = {type = "integer", minimum = 1, maximum = 20},
        letters = {type = "array", items = {type = "string", maxLength = 1}},
        upper = {enum = {"CAT", "DOG"}},
        answer = {type = {"string", "null"}},
      },
    }},
  },
  thresholds = {min_success_rate = 1.0, max_tokens_per_run = 10, max_cost_per_run = 0,
                max_flaky_cases = 0, min_success_rate_lower = 0.5, max_duration = 60,
                max_p95_duration = 60},
})

Evaluation({
  dataset = {
    {name = "dog", inputs = {word = "dog"}, expected_output = {word = "cat"}},
  },
  evaluators = {
    field.equals_expected{},
    {type = "exact_match", field = "upper", value = "CAT"},
    field.contains{field = "answer", value = "nothing like this"},
    field.contains_any{field = "answer", value = {"nope", "never"}},
    field.is_instance{field = "letters", value = "string"},
    field.min_length{field = "word", value = 9},
    field.max_length{field = "letters", value = 1},
    field.regex{field = "upper", value = "^X"},
    field.range{field = "length", value = {min = 10, max = 20}},
    field.tool_called{value = "lookup", max_value = 1},
    field.state_check{field = "last", value = "cat"},
    field.agent_turns{field = "helper", min_value = 2},
    field.max_iterations{value = 0},
    field.max_tokens{value = -1},
    field.max_cost{value = -1},
    field.json_schema{json_schema = {type = "object", additionalProperties = false,
                                     properties = {word = {const = "cat"}}}},
  },
  thresholds = {min_success_rate = 0.5},
})
