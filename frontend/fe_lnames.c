/*
 * fe_lnames.c - the names of the syntax tree's kinds and fields (the
 * grammar's own) and the tree's accessors, for fe_lparse.h.
 */
#include <stddef.h>

#include "fe_lparse.h"


static const char *const kind_names[FE_K__COUNT] = {
    [FE_K_CHUNK] = "chunk",
    [FE_K_HASH_BANG_LINE] = "hash_bang_line",
    [FE_K_BLOCK] = "block",
    [FE_K_EMPTY_STATEMENT] = "empty_statement",
    [FE_K_ASSIGNMENT_STATEMENT] = "assignment_statement",
    [FE_K_VARIABLE_LIST] = "variable_list",
    [FE_K_EXPRESSION_LIST] = "expression_list",
    [FE_K_VARIABLE_DECLARATION] = "variable_declaration",
    [FE_K_ATTRIBUTE] = "attribute",
    [FE_K_LABEL_STATEMENT] = "label_statement",
    [FE_K_BREAK_STATEMENT] = "break_statement",
    [FE_K_GOTO_STATEMENT] = "goto_statement",
    [FE_K_DO_STATEMENT] = "do_statement",
    [FE_K_WHILE_STATEMENT] = "while_statement",
    [FE_K_REPEAT_STATEMENT] = "repeat_statement",
    [FE_K_IF_STATEMENT] = "if_statement",
    [FE_K_ELSEIF_STATEMENT] = "elseif_statement",
    [FE_K_ELSE_STATEMENT] = "else_statement",
    [FE_K_FOR_STATEMENT] = "for_statement",
    [FE_K_FOR_NUMERIC_CLAUSE] = "for_numeric_clause",
    [FE_K_FOR_GENERIC_CLAUSE] = "for_generic_clause",
    [FE_K_FUNCTION_DECLARATION] = "function_declaration",
    [FE_K_RETURN_STATEMENT] = "return_statement",
    [FE_K_NIL] = "nil",
    [FE_K_FALSE] = "false",
    [FE_K_TRUE] = "true",
    [FE_K_NUMBER] = "number",
    [FE_K_STRING] = "string",
    [FE_K_STRING_CONTENT] = "string_content",
    [FE_K_VARARG_EXPRESSION] = "vararg_expression",
    [FE_K_FUNCTION_DEFINITION] = "function_definition",
    [FE_K_PARAMETERS] = "parameters",
    [FE_K_IDENTIFIER] = "identifier",
    [FE_K_BRACKET_INDEX_EXPRESSION] = "bracket_index_expression",
    [FE_K_DOT_INDEX_EXPRESSION] = "dot_index_expression",
    [FE_K_METHOD_INDEX_EXPRESSION] = "method_index_expression",
    [FE_K_FUNCTION_CALL] = "function_call",
    [FE_K_ARGUMENTS] = "arguments",
    [FE_K_PARENTHESIZED_EXPRESSION] = "parenthesized_expression",
    [FE_K_TABLE_CONSTRUCTOR] = "table_constructor",
    [FE_K_FIELD] = "field",
    [FE_K_BINARY_EXPRESSION] = "binary_expression",
    [FE_K_UNARY_EXPRESSION] = "unary_expression",
    [FE_K_LOCAL] = "local",
    [FE_K_OR] = "or",
    [FE_K_AND] = "and",
    [FE_K_LT] = "<",
    [FE_K_GT] = ">",
    [FE_K_LE] = "<=",
    [FE_K_GE] = ">=",
    [FE_K_NE] = "~=",
    [FE_K_EQ] = "==",
    [FE_K_BOR] = "|",
    [FE_K_TILDE] = "~",
    [FE_K_BAND] = "&",
    [FE_K_SHL] = "<<",
    [FE_K_SHR] = ">>",
    [FE_K_CONCAT] = "..",
    [FE_K_PLUS] = "+",
    [FE_K_MINUS] = "-",
    [FE_K_STAR] = "*",
    [FE_K_SLASH] = "/",
    [FE_K_DSLASH] = "//",
    [FE_K_PERCENT] = "%",
    [FE_K_CARET] = "^",
    [FE_K_NOT] = "not",
    [FE_K_HASH] = "#",
    [FE_K_DQUOTE] = "\"",
    [FE_K_SQUOTE] = "'",
    [FE_K_LONG_OPEN] = "[[",
    [FE_K_LONG_CLOSE] = "]]",
};

static const char *const field_names[FE_F__COUNT] = {
    [FE_F_NONE] = NULL,
    [FE_F_ALTERNATIVE] = "alternative",
    [FE_F_ARGUMENTS] = "arguments",
    [FE_F_ATTRIBUTE] = "attribute",
    [FE_F_BODY] = "body",
    [FE_F_CLAUSE] = "clause",
    [FE_F_CONDITION] = "condition",
    [FE_F_CONSEQUENCE] = "consequence",
    [FE_F_CONTENT] = "content",
    [FE_F_END] = "end",
    [FE_F_FIELD] = "field",
    [FE_F_KEY] = "key",
    [FE_F_LEFT] = "left",
    [FE_F_METHOD] = "method",
    [FE_F_NAME] = "name",
    [FE_F_OPERAND] = "operand",
    [FE_F_OPERATOR] = "operator",
    [FE_F_PARAMETERS] = "parameters",
    [FE_F_RIGHT] = "right",
    [FE_F_START] = "start",
    [FE_F_STEP] = "step",
    [FE_F_TABLE] = "table",
    [FE_F_VALUE] = "value",
};

const char *fe_kind_name(uint16_t kind)
{
    return kind < FE_K__COUNT ? kind_names[kind] : "?";
}

const char *fe_field_name(uint16_t field)
{
    return field < FE_F__COUNT ? field_names[field] : NULL;
}

const fe_node *fe_node_child_by_field(const fe_node *n, uint16_t field)
{
    for (const fe_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->field == field) return c;
    return NULL;
}

const fe_node *fe_node_named_child(const fe_node *n, uint32_t i)
{
    if (!n || i >= n->n_named) return NULL;
    for (const fe_node *c = n->first; c; c = c->next)
        if (c->named && i-- == 0) return c;
    return NULL;
}
