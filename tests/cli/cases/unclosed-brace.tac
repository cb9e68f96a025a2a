helper = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Help.",

local done = require("tactus.tools.done")
