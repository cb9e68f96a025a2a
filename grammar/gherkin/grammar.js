/**
 * Tree-sitter grammar for Gherkin (English keywords), written for Tactus in C.
 *
 * Gherkin is line oriented: a keyword only counts at the start of a line, and
 * titles, step texts, description lines and doc strings run to the end of a
 * line.  Tree-sitter's own lexer cannot see line starts, so every token comes
 * from the external scanner in src/scanner.c.  The scanner classifies each
 * line by its first characters and emits a token only when the parser can
 * accept it; the grammar below only arranges those tokens.
 *
 * The same parser is run on ordinary .feature files and, through
 * ts_parser_set_included_ranges, on the inside of Lua long strings in .tac
 * files.  Nothing here depends on columns: indentation is free, the input may
 * begin with a newline and may end in the middle of a line.
 *
 * Node ranges are exact: titles, step texts, description lines, cells and
 * comments never include surrounding blanks (nor the \r of CRLF endings).
 *
 * Table cells: every cell between two pipes gets a `table_cell` node.  An
 * empty cell (`||` or `|   |`) is a ZERO-WIDTH `table_cell` placed just before
 * its closing pipe, so cell N of every row is always the N-th `table_cell`.
 * Cell text is raw: `\|`, `\\` and `\n` are kept escaped in the node's text.
 * Text after the last pipe of a row is a syntax error.
 *
 * Doc strings: `doc_string_content` covers whole raw lines, from the first
 * column of the line after the opening delimiter to the end of the last line
 * before the closing one (its last line break and a final \r excluded).  It is
 * absent when the closing delimiter directly follows the opening line (and
 * zero-width when the only line between is empty).
 *
 * Steps: `step_keyword` excludes the blank after it.  `step_text` always
 * exists: a keyword followed by blanks only ("Given ", which Gherkin accepts)
 * gets a zero-width `step_text` at the end of its line.  `placeholder`
 * children mark `<name>` parts (name not starting or ending with a blank).
 *
 * Deliberately stricter than the reference Gherkin parser: a line that starts
 * with a step keyword, a pipe or a doc string delimiter is never taken as
 * free description text, so such lines before any scenario are errors.  And
 * only `Scenario Outline:`/`Scenario Template:` take Examples: a `Scenario:`
 * or `Example:` followed by `Examples:` is an error here (Gherkin 6+ would
 * accept it), which keeps `scenario` nodes step-only.
 */

// What follows every keyword: the rest of its line, then free text.  A
// helper rather than a rule, because a rule may not match the empty string.
const headerRest = $ => [
  optional(field('name', $.title)),
  optional(field('description', $.description)),
];

module.exports = grammar({
  name: 'gherkin',

  // Order matters: src/scanner.c numbers its tokens in this order.
  externals: $ => [
    $._feature_keyword, //    Feature:
    $._rule_keyword, //       Rule:
    $._background_keyword, // Background:
    $._scenario_keyword, //   Scenario: | Example:
    $._outline_keyword, //    Scenario Outline: | Scenario Template:
    $._examples_keyword, //   Examples: | Scenarios:
    $.step_keyword, //        Given | When | Then | And | But | *
    $.title, //               rest of a keyword line
    $._text_chunk, //         piece of step text between placeholders
    $.placeholder, //         <name> inside step text
    $._description_line, //   any other line, where free text is allowed
    $.tag, //                 @name
    '|',
    $.table_cell,
    '"""',
    '```',
    $.media_type, //          text after an opening doc string delimiter
    $.doc_string_content,
    $._doc_string_indent, //  blanks before a closing delimiter, empty doc string only
    $.comment, //             # ... at the start of a line (or after tags)
    // Never part of a rule: it is only valid while the parser recovers from
    // an error, which tells the scanner so.  The scanner also returns it for
    // unusable text in that mode, so that such text lands in an ERROR node.
    $._error_sentinel,
  ],

  // Blanks are skipped by the scanner; listing them here lets the built-in
  // lexer find the end of input after trailing blanks.
  extras: $ => [$.comment, /\s/],

  // A block of tags is shared by whatever keyword follows it, so the parser
  // cannot tell which node the tags open until it sees that keyword (e.g.
  // another `examples` of the current outline, or the next scenario or rule).
  // These stay GLR conflicts: the losing branch dies at the keyword line.
  conflicts: $ => [
    [$.rule],
    [$.scenario_outline],
  ],

  rules: {
    gherkin_document: $ => optional($.feature),

    // Scenarios written after a Rule belong to that rule, as in Gherkin.
    feature: $ => seq(
      optional(field('tags', $.tags)),
      field('keyword', alias($._feature_keyword, $.keyword)),
      ...headerRest($),
      optional($.background),
      repeat($._scenario_definition),
      repeat($.rule),
    ),

    rule: $ => seq(
      optional(field('tags', $.tags)),
      field('keyword', alias($._rule_keyword, $.keyword)),
      ...headerRest($),
      optional($.background),
      repeat($._scenario_definition),
    ),

    // Gherkin does not allow tags on a Background.
    background: $ => seq(
      field('keyword', alias($._background_keyword, $.keyword)),
      ...headerRest($),
      repeat($.step),
    ),

    _scenario_definition: $ => choice($.scenario, $.scenario_outline),

    scenario: $ => seq(
      optional(field('tags', $.tags)),
      field('keyword', alias($._scenario_keyword, $.keyword)),
      ...headerRest($),
      repeat($.step),
    ),

    // Gherkin accepts an outline without Examples (it then runs once, like a
    // scenario), so zero `examples` parse cleanly; tools can warn about it.
    scenario_outline: $ => seq(
      optional(field('tags', $.tags)),
      field('keyword', alias($._outline_keyword, $.keyword)),
      ...headerRest($),
      repeat($.step),
      repeat($.examples),
    ),

    // `table` is optional: Gherkin accepts an Examples section without one.
    examples: $ => seq(
      optional(field('tags', $.tags)),
      field('keyword', alias($._examples_keyword, $.keyword)),
      ...headerRest($),
      optional(field('table', $.data_table)),
    ),

    tags: $ => repeat1($.tag),

    // Blank lines and comments between the lines fall inside the node.
    description: $ => repeat1($._description_line),

    step: $ => seq(
      field('keyword', $.step_keyword),
      field('text', $.step_text),
      optional(field('argument', choice($.doc_string, $.data_table))),
    ),

    // One node for the whole trimmed text; `<name>` parts are also marked,
    // in any step, so that tools can check them against Examples headers.
    step_text: $ => repeat1(choice($._text_chunk, $.placeholder)),

    doc_string: $ => choice(
      $._quoted_doc_string,
      $._backtick_doc_string,
    ),

    // The closing delimiter must match the opening one.  Content (or, for an
    // empty doc string, a hidden indentation token) is required so that an
    // unterminated doc string becomes an ERROR rather than a made-up closing
    // delimiter.
    _quoted_doc_string: $ => seq('"""', $._doc_string_body, '"""'),
    _backtick_doc_string: $ => seq('```', $._doc_string_body, '```'),

    _doc_string_body: $ => seq(
      optional(field('media_type', $.media_type)),
      choice(field('content', $.doc_string_content), $._doc_string_indent),
    ),

    data_table: $ => repeat1($.table_row),

    table_row: $ => seq('|', repeat(seq($.table_cell, '|'))),
  },
});
