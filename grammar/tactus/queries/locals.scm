; Scopes, definitions and references for Tactus (Lua 5.4).
;
; Note: a function declaration is one scope holding its parameters and body,
; so the name of `local function f` is defined inside that scope (tree-sitter
; has no way to put it in the enclosing one); recursion still resolves.

; Scopes
[
  (chunk)
  (block)
  (function_declaration)
  (function_definition)
  (for_statement)
  (repeat_statement)
] @local.scope

; Definitions
(variable_declaration
  (variable_list
    name: (identifier) @local.definition))

(function_declaration
  "local"
  name: (identifier) @local.definition)

(parameters
  name: (identifier) @local.definition)

(for_numeric_clause
  name: (identifier) @local.definition)

(for_generic_clause
  (variable_list
    name: (identifier) @local.definition))

; References: identifiers in expression positions only (not field, method,
; attribute or label names).
(assignment_statement
  (variable_list
    name: (identifier) @local.reference))
(expression_list value: (identifier) @local.reference)
(arguments (identifier) @local.reference)
(binary_expression left: (identifier) @local.reference)
(binary_expression right: (identifier) @local.reference)
(unary_expression operand: (identifier) @local.reference)
(parenthesized_expression (identifier) @local.reference)
(function_call name: (identifier) @local.reference)
(dot_index_expression table: (identifier) @local.reference)
(method_index_expression table: (identifier) @local.reference)
(bracket_index_expression table: (identifier) @local.reference)
(bracket_index_expression field: (identifier) @local.reference)
(field key: (identifier) @local.reference)
(field value: (identifier) @local.reference)
(for_numeric_clause start: (identifier) @local.reference)
(for_numeric_clause end: (identifier) @local.reference)
(for_numeric_clause step: (identifier) @local.reference)
(if_statement condition: (identifier) @local.reference)
(elseif_statement condition: (identifier) @local.reference)
(while_statement condition: (identifier) @local.reference)
(repeat_statement condition: (identifier) @local.reference)
