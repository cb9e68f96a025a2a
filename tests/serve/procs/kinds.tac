-- kinds.tac: one request of each kind the inbox has a form for (select,
-- input, review), answered through the API and the page.
Procedure {
  output = {
    color = field.string{required = true},
    name = field.string{required = true},
    decision = field.string{required = true},
    edited = field.string{},
  },
  function(input)
    local color = Human.select({message = "Pick a color", options = {"red", "green"}})
    local name = Human.input({message = "Release name?"})
    local review = Human.review({message = "Check the notes", artifact = "draft notes"})
    return {color = color, name = name, decision = review.decision, edited = review.edited_artifact}
  end,
}
