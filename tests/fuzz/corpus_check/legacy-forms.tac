-- Every v0.10 declaration, run as it was written (tactus check warns TAC901
-- on each and --fix rewrites them; tests/compat/compat.sh runs both).
default_provider("openai")

stages({"drafting", "reviewing", "done"})

hitl("release", {timeout = 60, default = false})

-- a tool and a lua toolset, declared after the agents that use them
agent("writer", {
  system_prompt = "You write short notes about {input.topic}.",
  initial_message = "Write the note.",
  toolsets = {"notes", "done"},
})

-- no tools and no toolsets: v0.10 gave it every tool of the file
agent("helper", {
  model = "openai:gpt-4o-mini",
  system_prompt = "You help.",
})

tool("shout", {
  description = "Upper-case a text",
  parameters = { text = {type = "string", required = true} },
}, function(args)
  return string.upper(args.text)
end)

toolset("notes", {
  type = "lua",
  tools = {
    {name = "save_note", description = "Save a note",
     parameters = { text = {type = "string", required = true} },
     handler = function(args)
       State.append("notes", args.text)
       return {saved = true}
     end},
  },
})

model("sentiment", {type = "mock", value = {label = "positive"}})

step("the note mentions the tide", function(ctx)
  assert(string.find(ctx.output.note, "tide", 1, true), "the note is: " .. tostring(ctx.output.note))
end)

main = procedure("main", {
  params = { topic = {type = "string", default = "tides"} },
  outputs = {
    note = {type = "string", required = true},
    mood = {type = "string", required = true},
    approved = {type = "boolean", required = true},
    helper_tools = {type = "number", required = true},
  },
}, function()
  Stage.set("drafting")
  Writer.turn()
  Writer.turn({inject = "Save it now."})
  Stage.set("reviewing")
  local approved = Human.approve({message = "Release the note?", config_key = "release"})
  Helper.turn()
  local mood = Sentiment({text = input.topic}).output.label
  Stage.set("done")
  return {
    note = Tool.last_call("save_note").args.text,
    mood = mood,
    approved = approved,
    helper_tools = Tool.call_count("done") + Tool.call_count("shout"),
  }
end)

specifications([[
Feature: The v0.10 forms

  Scenario: A note is written, saved and approved
    Given the procedure has started
    And the agent "writer" responds with "Here is the note."
    And the agent "writer" calls tool "save_note" with args "{'text': 'High tide at noon'}"
    And the agent "writer" responds with "Saved."
    And the agent "Helper" calls tool "shout" with args {"text": "hi"}
    When the Writer agent takes turns
    Then the procedure should complete successfully
    And the save_note tool should be called exactly 1 time
    And the shout tool should be called
    And the output note should be "High tide at noon"
    And the output mood should be "positive"
    And the output approved should be True
    And the stage should be done
    And the note mentions the tide
]])

evaluations({
  dataset = {
    {name = "tides", inputs = {topic = "tides"}},
  },
  evaluators = {
    {type = "contains", field = "note", value = "tide"},
  },
})
