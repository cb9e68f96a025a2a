-- 23-human-forms.tac
--
-- The rest of the Human requests, and the whole Stage API:
--   * Human.multiple({items}) asks several questions at once and returns a
--     table keyed by item id (Human.inputs is the older name);
--   * Human.upload({message, accept, max_size}) asks for a file and
--     returns {path, name, size, mime_type};
--   * Human.custom({message, ...}) is any request a UI knows how to render;
--   * Human.escalate({message, severity}) blocks until a person takes over;
--   * Stage.advance() moves to the next declared stage; Stage.is,
--     Stage.history, Stage.count and Stage.clear_history report and reset.
-- Under `tactus test`, "when asked" steps answer by message prefix.
--
--   tactus test --mock examples/23-human-forms.tac

Stages({"collect", "review", "done"})

Procedure {
  output = {
    owner = field.string{required = true},
    budget = field.number{required = true},
    file = field.string{required = true},
    color = field.string{required = true},
    stages = field.array{required = true},
    reviewing = field.boolean{required = true},
  },
  function()
    Stage.advance() -- collect
    local answers = Human.multiple({
      {id = "owner", label = "Who owns the project?", type = "text"},
      {id = "budget", label = "Budget in EUR", type = "number"},
    }, {message = "Project details"})
    local upload = Human.upload({message = "Upload the project plan", accept = {".pdf", ".md"},
      max_size = 1048576})
    Stage.advance() -- review
    local reviewing = Stage.is("review")
    local color = Human.custom({message = "Pick a color for the dashboard", component = "color-picker",
      default = "#336699"})
    Stage.set("done")
    return {
      owner = answers.owner,
      budget = answers.budget,
      file = upload.name,
      color = color,
      stages = Stage.history(),
      reviewing = reviewing,
    }
  end,
}

Specifications([[
Feature: Forms, uploads and custom requests

  Scenario: A person fills the form, uploads a plan and picks a color
    Given when asked "Project details" return {"owner": "Mina", "budget": 1200}
    And when asked "Upload the project plan" return {"path": "/uploads/plan.md", "name": "plan.md", "size": 2048, "mime_type": "text/markdown"}
    And when asked "Pick a color" return the value '#ff8800'
    When the procedure runs
    Then the output owner should be "Mina"
    And the output budget should be 1200
    And the output file should be "plan.md"
    And the output color should be "#ff8800"
    And the output stages should be ["collect", "review", "done"]
    And the output reviewing should be true
    And the stage should transition from collect to review

  Scenario: Without an answer a custom request takes its default
    Given when asked "Project details" return {"owner": "Ola", "budget": 0}
    And when asked "Upload the project plan" return {"name": "none.md"}
    When the procedure runs
    Then the output color should be "#336699"
]])
