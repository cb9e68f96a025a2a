; Gherkin highlighting (capture names as used by common tree-sitter themes).

(comment) @comment

(keyword) @keyword

(step_keyword) @keyword.function

(title) @markup.heading

(description) @comment.documentation

(tag) @attribute

(step_text) @string.special

(placeholder) @variable.parameter

(table_cell) @string

"|" @punctuation.delimiter

[
  "\"\"\""
  "```"
] @punctuation.bracket

(media_type) @type

(doc_string_content) @markup.raw

; The first row of an Examples table names the placeholders.
(examples
  table: (data_table
    .
    (table_row
      (table_cell) @variable.parameter)))
