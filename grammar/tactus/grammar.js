/**
 * Tree-sitter grammar for Tactus `.tac` files.
 *
 * A `.tac` file is plain Lua 5.4; the Tactus DSL (Procedure, Agent, Tool,
 * Specifications, ...) is nothing but ordinary function calls, so this is a
 * complete Lua 5.4 grammar. DSL-specific meaning lives in the queries.
 *
 * Structure conventions (relied upon by the C toolchain, keep them stable):
 *  - The root `chunk` holds the top-level statements directly (no `block`).
 *  - Every other body (do/while/repeat/if/elseif/else/for/function) is a
 *    `block` node in a field. An EMPTY body has NO `block` node: the field is
 *    simply absent. (Tree-sitter rules may not match the empty string, so a
 *    `block` is never empty.)
 *  - A `return_statement` may only be the last statement of a block/chunk.
 *  - Strings, long strings and comments are split into delimiter tokens and a
 *    `string_content` / `comment_content` node. An empty string (`""`, `[[]]`)
 *    or long comment (`--[[]]`) has no content node; a line comment always
 *    has one (zero-width for a bare `--`). Long-bracket content is the exact
 *    bytes between the brackets, first newline included.
 *  - Long brackets (`[==[ ... ]==]`), the text of comments and the text runs
 *    of short strings are lexed by the external scanner in src/scanner.c.
 */

// Operator precedence, lowest to highest: Lua 5.4 manual §3.4.8.
//   or < and < comparison < | < ~ < & < shift < .. < additive
//      < multiplicative < unary < ^
// `..` and `^` are right associative, everything else left associative.
const PREC = {
  OR: 1,
  AND: 2,
  COMPARE: 3,
  BIT_OR: 4,
  BIT_XOR: 5,
  BIT_AND: 6,
  SHIFT: 7,
  CONCAT: 8,
  ADD: 9,
  MUL: 10,
  UNARY: 11,
  POWER: 12,
  // Above every operator: a call binds tightest of all (see function_call).
  CALL: 13,
};

const BINARY_OPERATORS = [
  [prec.left, PREC.OR, 'or'],
  [prec.left, PREC.AND, 'and'],
  [prec.left, PREC.COMPARE, choice('<', '>', '<=', '>=', '~=', '==')],
  [prec.left, PREC.BIT_OR, '|'],
  [prec.left, PREC.BIT_XOR, '~'],
  [prec.left, PREC.BIT_AND, '&'],
  [prec.left, PREC.SHIFT, choice('<<', '>>')],
  [prec.right, PREC.CONCAT, '..'],
  [prec.left, PREC.ADD, choice('+', '-')],
  [prec.left, PREC.MUL, choice('*', '/', '//', '%')],
  [prec.right, PREC.POWER, '^'],
];

/** One or more `rule`, separated by `separator`. */
function sep1(rule, separator) {
  return seq(rule, repeat(seq(separator, rule)));
}

module.exports = grammar({
  name: 'tactus',

  // Keywords are extracted from identifiers, so `endx` or `iff` stay names.
  word: $ => $.identifier,

  extras: $ => [/\s/, $.comment],

  externals: $ => [
    $._line_comment_start, // `--` not followed by a long bracket
    $._line_comment_content, // rest of the line after `--` (may be empty)
    $._block_comment_start, // `--[`, `=`*, `[`
    $._block_comment_content, // everything up to the matching `]=*]`
    $._block_comment_end, // the matching `]`, `=`*, `]`
    $._long_string_start, // `[`, `=`*, `[`
    $._long_string_content,
    $._long_string_end,
    $._double_quote_text, // a run of plain characters inside "..."
    $._single_quote_text, // a run of plain characters inside '...'
    // Never used by a rule: when the scanner sees it valid, the parser is in
    // error recovery (every external token is reported valid then).
    $._error_sentinel,
  ],

  inline: $ => [$._field_separator],

  rules: {
    // ── Chunk and blocks ────────────────────────────────────────────────
    chunk: $ => seq(
      optional($.hash_bang_line),
      repeat($._statement),
      optional($.return_statement),
    ),

    // Lua skips a first line starting with `#`; we accept the usual `#!`.
    hash_bang_line: _ => /#![^\r\n]*/,

    // Never empty (see the header comment): empty bodies omit the block.
    block: $ => choice(
      seq(repeat1($._statement), optional($.return_statement)),
      $.return_statement,
    ),

    // ── Statements (§3.3) ───────────────────────────────────────────────
    _statement: $ => choice(
      $.empty_statement,
      $.assignment_statement,
      $.variable_declaration,
      $.function_call,
      $.label_statement,
      $.break_statement,
      $.goto_statement,
      $.do_statement,
      $.while_statement,
      $.repeat_statement,
      $.if_statement,
      $.for_statement,
      $.function_declaration,
    ),

    empty_statement: _ => ';',

    assignment_statement: $ => seq(
      $.variable_list,
      '=',
      $.expression_list,
    ),

    variable_list: $ => sep1(field('name', $._variable), ','),

    expression_list: $ => sep1(field('value', $._expression), ','),

    // `local a <const>, b <close> = ...` (§3.3.7)
    variable_declaration: $ => seq(
      'local',
      alias($._attributed_name_list, $.variable_list),
      optional(seq('=', $.expression_list)),
    ),

    _attributed_name_list: $ => sep1(
      seq(field('name', $.identifier), optional(field('attribute', $.attribute))),
      ',',
    ),

    attribute: $ => seq('<', field('name', $.identifier), '>'),

    label_statement: $ => seq('::', $.identifier, '::'),

    break_statement: _ => 'break',

    goto_statement: $ => seq('goto', $.identifier),

    do_statement: $ => seq('do', optional(field('body', $.block)), 'end'),

    while_statement: $ => seq(
      'while',
      field('condition', $._expression),
      'do',
      optional(field('body', $.block)),
      'end',
    ),

    repeat_statement: $ => seq(
      'repeat',
      optional(field('body', $.block)),
      'until',
      field('condition', $._expression),
    ),

    if_statement: $ => seq(
      'if',
      field('condition', $._expression),
      'then',
      optional(field('consequence', $.block)),
      repeat(field('alternative', $.elseif_statement)),
      optional(field('alternative', $.else_statement)),
      'end',
    ),

    elseif_statement: $ => seq(
      'elseif',
      field('condition', $._expression),
      'then',
      optional(field('consequence', $.block)),
    ),

    else_statement: $ => seq('else', optional(field('body', $.block))),

    for_statement: $ => seq(
      'for',
      field('clause', choice($.for_numeric_clause, $.for_generic_clause)),
      'do',
      optional(field('body', $.block)),
      'end',
    ),

    for_numeric_clause: $ => seq(
      field('name', $.identifier),
      '=',
      field('start', $._expression),
      ',',
      field('end', $._expression),
      optional(seq(',', field('step', $._expression))),
    ),

    for_generic_clause: $ => seq(
      alias($._name_list, $.variable_list),
      'in',
      $.expression_list,
    ),

    _name_list: $ => sep1(field('name', $.identifier), ','),

    // `function a.b.c:m() end` and `local function f() end`
    function_declaration: $ => choice(
      seq('function', field('name', $._function_name), $._function_body),
      seq('local', 'function', field('name', $.identifier), $._function_body),
    ),

    _function_name: $ => choice(
      $._function_name_path,
      alias($._function_name_method, $.method_index_expression),
    ),

    _function_name_path: $ => choice(
      $.identifier,
      alias($._function_name_dot, $.dot_index_expression),
    ),

    _function_name_dot: $ => seq(
      field('table', $._function_name_path),
      '.',
      field('field', $.identifier),
    ),

    _function_name_method: $ => seq(
      field('table', $._function_name_path),
      ':',
      field('method', $.identifier),
    ),

    // Only allowed as the last statement of a block (§3.3.4).
    return_statement: $ => seq(
      'return',
      optional($.expression_list),
      optional(';'),
    ),

    // ── Expressions (§3.4) ──────────────────────────────────────────────
    _expression: $ => choice(
      $.nil,
      $.false,
      $.true,
      $.number,
      $.string,
      $.vararg_expression,
      $.function_definition,
      $._prefix_expression,
      $.table_constructor,
      $.binary_expression,
      $.unary_expression,
    ),

    nil: _ => 'nil',
    false: _ => 'false',
    true: _ => 'true',
    vararg_expression: _ => '...',

    // prefixexp ::= var | functioncall | '(' exp ')'
    // A call statement followed by `(` continues as a call: `f() (g)()` is
    // `f()(g)()`, as in Lua, hence the precedence on this alternative.
    _prefix_expression: $ => choice(
      $._variable,
      prec(PREC.CALL, $.function_call),
      $.parenthesized_expression,
    ),

    // var ::= Name | prefixexp '[' exp ']' | prefixexp '.' Name
    _variable: $ => choice(
      $.identifier,
      $.bracket_index_expression,
      $.dot_index_expression,
    ),

    bracket_index_expression: $ => seq(
      field('table', $._prefix_expression),
      '[',
      field('field', $._expression),
      ']',
    ),

    dot_index_expression: $ => seq(
      field('table', $._prefix_expression),
      '.',
      field('field', $.identifier),
    ),

    method_index_expression: $ => seq(
      field('table', $._prefix_expression),
      ':',
      field('method', $.identifier),
    ),

    // functioncall ::= prefixexp args | prefixexp ':' Name args
    // `Procedure "x" { ... }` is a call whose name is itself a call.
    // PREC.CALL: a `(` after an expression always continues a call, so
    // `a = b \n (f)(x)` is `a = b(f)(x)`, which is how Lua reads it too.
    function_call: $ => prec(PREC.CALL, seq(
      field('name', choice($._prefix_expression, $.method_index_expression)),
      field('arguments', $.arguments),
    )),

    // `f(a, b)`, `f{...}`, `f"s"`, `f[[s]]`: the named children are the
    // argument expressions.
    arguments: $ => choice(
      seq('(', optional(sep1($._expression, ',')), ')'),
      $.table_constructor,
      $.string,
    ),

    parenthesized_expression: $ => seq('(', $._expression, ')'),

    function_definition: $ => seq('function', $._function_body),

    _function_body: $ => seq(
      field('parameters', $.parameters),
      optional(field('body', $.block)),
      'end',
    ),

    parameters: $ => seq(
      '(',
      optional(choice(
        seq(
          sep1(field('name', $.identifier), ','),
          optional(seq(',', $.vararg_expression)),
        ),
        $.vararg_expression,
      )),
      ')',
    ),

    // `{ [k] = v, k = v, v; ... }` with an optional trailing separator.
    table_constructor: $ => seq(
      '{',
      optional(seq(
        sep1($.field, $._field_separator),
        optional($._field_separator),
      )),
      '}',
    ),

    _field_separator: _ => choice(',', ';'),

    field: $ => choice(
      seq('[', field('key', $._expression), ']', '=', field('value', $._expression)),
      seq(field('name', $.identifier), '=', field('value', $._expression)),
      field('value', $._expression),
    ),

    binary_expression: $ => choice(
      ...BINARY_OPERATORS.map(([assoc, precedence, operator]) => assoc(precedence, seq(
        field('left', $._expression),
        field('operator', operator),
        field('right', $._expression),
      ))),
    ),

    // Unary binds looser than `^`: `-x^2` is `-(x^2)` and `2^-3` works.
    unary_expression: $ => prec(PREC.UNARY, seq(
      field('operator', choice('not', '#', '-', '~')),
      field('operand', $._expression),
    )),

    // ── Lexical elements (§3.1) ─────────────────────────────────────────
    identifier: _ => /[a-zA-Z_][a-zA-Z0-9_]*/,

    // Decimal and hexadecimal integers and floats; hex floats use `p`.
    number: _ => token(choice(
      /[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/,
      /\.[0-9]+([eE][+-]?[0-9]+)?/,
      /0[xX][0-9a-fA-F]+(\.[0-9a-fA-F]*)?([pP][+-]?[0-9]+)?/,
      /0[xX]\.[0-9a-fA-F]+([pP][+-]?[0-9]+)?/,
    )),

    string: $ => choice(
      seq(
        field('start', '"'),
        optional(field('content', alias($._double_quote_content, $.string_content))),
        // Immediate: a raw newline never closes a string.
        field('end', token.immediate('"')),
      ),
      seq(
        field('start', "'"),
        optional(field('content', alias($._single_quote_content, $.string_content))),
        field('end', token.immediate("'")),
      ),
      // Every level is named `[[` / `]]`; the node text keeps the `=`s.
      seq(
        field('start', alias($._long_string_start, '[[')),
        optional(field('content', alias($._long_string_content, $.string_content))),
        field('end', alias($._long_string_end, ']]')),
      ),
    ),

    _double_quote_content: $ => repeat1(choice($._double_quote_text, $.escape_sequence)),
    _single_quote_content: $ => repeat1(choice($._single_quote_text, $.escape_sequence)),

    // §3.1: \a \b \f \n \r \t \v \\ \" \' \<newline> \z \xXX \ddd \u{XXX}
    escape_sequence: _ => token.immediate(seq('\\', choice(
      /[abfnrtv\\"']/,
      /\r\n?|\n\r?/,
      /z\s*/,
      /x[0-9a-fA-F]{2}/,
      /[0-9]{1,3}/,
      /u\{[0-9a-fA-F]+\}/,
    ))),

    comment: $ => choice(
      // The content token is always emitted, zero-width for a bare `--`:
      // an extra must have an unambiguous end, and a one-token comment would
      // let error recovery insert MISSING comments forever at end of input.
      seq(
        alias($._line_comment_start, '--'),
        field('content', alias($._line_comment_content, $.comment_content)),
      ),
      seq(
        alias($._block_comment_start, '--[['),
        optional(field('content', alias($._block_comment_content, $.comment_content))),
        alias($._block_comment_end, ']]'),
      ),
    ),
  },
});
