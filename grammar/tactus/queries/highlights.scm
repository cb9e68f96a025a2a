; Highlights for Tactus (.tac) files: Lua 5.4 plus the Tactus DSL names.
;
; Order matters: when several patterns capture the same node, the LAST one
; wins (tree-sitter-highlight >= 0.22 and Neovim semantics), so generic
; patterns come first and the specific ones (builtins, DSL names) last.

; Identifiers
(identifier) @variable

; ALL_CAPS names are constants
((identifier) @constant
  (#match? @constant "^[A-Z][A-Z0-9_]*$"))

; Fields, parameters, labels, attributes
(field
  name: (identifier) @property)
(dot_index_expression
  field: (identifier) @property)

(parameters
  name: (identifier) @variable.parameter)

(label_statement
  (identifier) @label)
(goto_statement
  (identifier) @label)

(attribute
  name: (identifier) @attribute)

; Function definitions and calls
(function_declaration
  name: (identifier) @function)
(function_declaration
  name: (dot_index_expression
    field: (identifier) @function))
(function_declaration
  name: (method_index_expression
    method: (identifier) @function.method))

(function_call
  name: (identifier) @function.call)
(function_call
  name: (dot_index_expression
    field: (identifier) @function.call))
(function_call
  name: (method_index_expression
    method: (identifier) @function.method.call))

; Lua standard library
; (only as the table of an index, so `field.string` stays a type name)
(dot_index_expression
  table: (identifier) @module.builtin
  (#any-of? @module.builtin
    "coroutine" "debug" "io" "math" "os" "package" "string" "table" "utf8"))
(method_index_expression
  table: (identifier) @module.builtin
  (#any-of? @module.builtin
    "coroutine" "debug" "io" "math" "os" "package" "string" "table" "utf8"))

((identifier) @constant.builtin
  (#any-of? @constant.builtin "_G" "_ENV" "_VERSION"))

((identifier) @variable.builtin
  (#eq? @variable.builtin "self"))

(function_call
  name: (identifier) @function.builtin
  (#any-of? @function.builtin
    "assert" "collectgarbage" "dofile" "error" "getmetatable" "ipairs" "load"
    "loadfile" "next" "pairs" "pcall" "print" "rawequal" "rawget" "rawlen"
    "rawset" "require" "select" "setmetatable" "tonumber" "tostring" "type"
    "warn" "xpcall"))

; Tactus type builders: field.string{...}, field.number{...}, ...
; (Helper captures sit on nodes no other pattern captures: a superseded
; capture would cancel the whole match in tree-sitter-highlight.)
((dot_index_expression
   field: (identifier) @type.builtin) @_field_builder
  (#match? @_field_builder "^field[ \t]*[.]"))

; Tactus DSL declarations and runtime namespaces
((identifier) @function.builtin
  (#any-of? @function.builtin
    "Procedure" "Agent" "Tool" "Toolset" "Model" "Mocks" "Step" "Steps"
    "Evaluation" "Evaluations" "Specification" "Specifications" "Human"
    "State" "Stage" "Stages" "Log" "Json" "File" "Host" "Classify" "Signal"
    "Prompt" "Parameter" "Output" "Session" "Retry" "Sleep" "field"))

; Lowercase forms of the declarations, only where they are called
(function_call
  name: (identifier) @function.builtin
  (#any-of? @function.builtin
    "procedure" "agent" "tool" "toolset" "model" "mocks" "step"
    "evaluation" "evaluations" "specification" "specifications"))

; Literals
(nil) @constant.builtin
[
  (true)
  (false)
] @boolean
(number) @number
(vararg_expression) @variable.builtin
(string) @string
(escape_sequence) @string.escape

; Comments
(comment) @comment
(hash_bang_line) @keyword.directive

; Keywords
[
  "local"
  "do"
  "end"
  "goto"
] @keyword
(break_statement) @keyword
"return" @keyword.return
"function" @keyword.function
[
  "if"
  "then"
  "elseif"
  "else"
] @keyword.conditional
[
  "for"
  "in"
  "while"
  "repeat"
  "until"
] @keyword.repeat
[
  "and"
  "or"
  "not"
] @keyword.operator

; Operators
[
  "+" "-" "*" "/" "//" "%" "^" "#"
  "&" "~" "|" "<<" ">>"
  "==" "~=" "<" "<=" ">" ">="
  ".." "="
] @operator

; Punctuation
[
  "(" ")"
  "[" "]"
  "{" "}"
] @punctuation.bracket
[
  ","
  ";"
  "."
  ":"
  "::"
] @punctuation.delimiter

; The angle brackets of `<const>` / `<close>` (after the operators: wins)
(attribute
  [
    "<"
    ">"
  ] @punctuation.bracket)
