; Scopes, definitions and references for Scenario Outlines.
;
; Each outline is a scope; the header cells of its Examples tables define the
; names that `<placeholder>`s in its steps refer to.  The placeholder node
; includes its angle brackets, so a tool matching references to definitions
; compares the placeholder text without the first and last character.

(scenario_outline) @local.scope

(examples
  table: (data_table
    .
    (table_row
      (table_cell) @local.definition)))

(placeholder) @local.reference
