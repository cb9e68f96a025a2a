-- 21-model-types.tac
--
-- Model declares a stateless predictor; Model("name")(input).output is the
-- prediction. Types:
--   * mock      always `value` (07-model-sentiment.tac)
--   * http      a POST of {"input": ...} to `endpoint`, made by the broker
--               on the host, never by the sandbox; the host's configuration
--               decides which hosts models may live on (models.allow_hosts)
--               and holds their credentials
--   * llm       a model call that must answer the declared `output` fields
--   * registry  trained models from a registry: run under Mocks; unmocked,
--               a clear error (no registry in this runtime)
-- Every prediction that leaves the runtime is a journaled effect.
--
--   tactus test --mock examples/21-model-types.tac

Model "spam_score" {
  type = "http",
  endpoint = "https://models.example.internal/spam",
  timeout = 5,
}

Model "tone" {
  type = "llm",
  model = "openai/gpt-4o-mini",
  prompt = "Judge the tone of the message.",
  output = {tone = field.string{required = true}, polite = field.boolean{required = true}},
}

Model "topic" {
  type = "registry",
  name = "topic-classifier",
  version = "latest",
  training = {
    data = {source = "hf", name = "ag_news", text_field = "text", label_field = "label"},
    candidates = {{name = "nb", trainer = "naive_bayes"}},
  },
}

Mocks {
  spam_score = {conditional = {{when = {text = "contains:WIN"}, returns = {score = 0.97}}},
                returns = {score = 0.05}},
  tone = {data = {tone = "friendly", polite = true}},
  topic = {returns = {label = "sports"}},
}

Procedure {
  input = {text = field.string{required = true}},
  output = {
    spam = field.boolean{required = true},
    tone = field.string{required = true},
    topic = field.string{required = true},
  },
  function(input)
    local score = Model("spam_score")({text = input.text}).output.score
    local tone = Model("tone")({text = input.text}).output
    local topic = Model("topic")({text = input.text}).output
    return {spam = score > 0.5, tone = tone.tone, topic = topic.label}
  end,
}

Specifications([[
@models
Feature: Three kinds of model behind one call

  Scenario: A friendly sports message
    Given the input text is "Great match last night, well played!"
    When the procedure runs
    Then the output spam should be false
    And the output tone should be "friendly"
    And the output topic should be "sports"

  Scenario: Spam is caught by the http model
    Given the input text is "WIN a free phone now"
    When the procedure runs
    Then the output spam should be true
]])
