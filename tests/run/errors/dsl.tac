-- dsl.tac - each primitive's errors through the real binary (dsl-errors.sh):
-- the message says what is wrong and the error names this file and line.
Procedure {
  input = {case = field.string{required = true}},
  function(input)
    local c = input.case
    local r
    if c == "classify_method" then r = Classify {name = "x", method = "neural", classes = {"a"}} end
    if c == "classify_input" then r = Classify {name = "y", method = "fuzzy", classes = {"a"}}(42) end
    if c == "history_role" then r = MessageHistory.append({role = "robot", content = "hi"}) end
    if c == "filter_arg" then r = filters.last_n(-1) end
    if c == "history_source" then r = Agent {model = "mock/m", message_history = {source = "everyone"}} end
    if c == "sleep" then r = Sleep(-5) end
    if c == "alert_level" then r = System.alert({message = "x", level = "panic"}) end
    if c == "hitl_key" then r = Human.approve({config_key = "nobody"}) end
    if c == "prompt_text" then r = Prompt("missing")(42) end
    if c == "model_type" then r = Model "net" { type = "pytorch" }; r = Model("net")({}) end
    if c == "registry" then r = Model "reg" { type = "registry", training = {} }; r = Model("reg")({}) end
    if c == "matcher" then r = contains(5) end
    if c == "utf8_clean" then r = utf8_clean(5) end
    return {r = r and true}
  end,
}
