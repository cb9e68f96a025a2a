-- A research assistant with the kinds of mistakes `tactus check` catches
-- before anything runs. (Used by scripts/demo.sh and the golden tests.)
local done = require("tactus.tools.done")

search = Tool {
    description = "Search the knowledge base",
    input = {
        query = field.string{required = true},
        limit = field.integer{default = "ten"},
    },
    function(args)
        return {hits = {}, query = args.query}
    end,
}

researcher = Agent {
    model = "openai/gpt-4o-mini",
    system_prompt = "Research {input.topic} carefully.",
    tools = {search, done, summarize},
}

Procedure {
    input = {
        topic = field.string{required = true},
        depth = field.string{enum = {"quick", "deep"}, default = "thorough"},
    },
    output = {
        summary = field.string{required = true},
        sources = field.integer{},
    },
    function(input)
        local home = os.getenv("HOME")
        local ok = Human.approve({message = "Publish?", timeout = -1, default = "yes"})
        local result = researcher({message = input.topic})
        return {sumary = result.output, sources = "many"}
    end,
}

Specifications([[
Feature: Research
  Scenario: researches a topic
    Given the input topic is "octopus"
    When the procedure runs
    Then the output summary should exists
]])
