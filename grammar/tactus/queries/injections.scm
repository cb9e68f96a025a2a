; Injections for Tactus (.tac) files.

; BDD specifications are Gherkin text in the first string argument of
; Specification(s), in any call form:
;   Specifications([[ ... ]])   Specifications [[ ... ]]
;   Specification("...")        specifications [=[ ... ]=]
((function_call
   name: (identifier) @_name
   arguments: (arguments
     .
     (string
       content: (string_content) @injection.content)))
  (#any-of? @_name
    "Specifications" "Specification" "specifications" "specification")
  (#set! injection.language "gherkin"))
