/* Unit tests of specs/: step values and their comparison rules, the two
 * similarity measures (against Python's difflib and rapidfuzz figures),
 * tag expressions, and the binding of every library step to a handler. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sp_internal.h"

static void literals_json_and_python(void **state)
{
    (void)state;
    cJSON *v =
        sp_literal_parse("{'message': 'x', \"n\": 2, 'ok': True, 'none': None, 'l': [1, 'a',]}");
    assert_non_null(v);
    assert_string_equal(cJSON_GetObjectItem(v, "message")->valuestring, "x");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "ok")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "none")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(v, "l")), 2);
    cJSON_Delete(v);
    assert_null(sp_literal_parse("{'a': }"));
    assert_null(sp_literal_parse("[1, 2"));
    assert_null(sp_literal_parse("hello world"));
    assert_null(sp_literal_parse("\"a\" \"b\""));
    v = sp_literal_parse("-2.5e1");
    assert_true(cJSON_IsNumber(v) && v->valuedouble == -25.0);
    cJSON_Delete(v);
}

/* The original's examples quote their dicts: with args "{'message': 'x'}". */
static void quoted_dicts_are_dicts(void **state)
{
    (void)state;
    cJSON *v = sp_literal_parse_unquoted("\"{'message': 'x', 'urgent': True, 'n': null}\"");
    assert_true(cJSON_IsObject(v));
    assert_string_equal(cJSON_GetObjectItem(v, "message")->valuestring, "x");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "urgent")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "n")));
    cJSON_Delete(v);
    v = sp_literal_parse_unquoted("' [1, 2] '");
    assert_true(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2);
    cJSON_Delete(v);
    /* quoted text that is not a dict stays text; nothing is evaluated */
    v = sp_literal_parse_unquoted("\"{not a dict}\"");
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, "{not a dict}");
    cJSON_Delete(v);
    v = sp_literal_parse_unquoted("\"os.exit(1)\"");
    assert_true(cJSON_IsString(v));
    cJSON_Delete(v);
    assert_null(sp_literal_parse_unquoted("{'a': 1"));
}

static void unquote_handles_escapes(void **state)
{
    (void)state;
    char *s = sp_unquote("'it\\'s \\\"x\\\"\\n'");
    assert_string_equal(s, "it's \"x\"\n");
    tx_free(s);
    assert_null(sp_unquote("plain"));
    assert_null(sp_unquote("\"a\" and \"b\""));
}

static void equality_rules(void **state)
{
    (void)state;
    cJSON *s = cJSON_CreateString("Hello"), *n = cJSON_CreateNumber(2),
          *f = cJSON_CreateNumber(98.6), *t = cJSON_CreateTrue(),
          *o = sp_literal_parse("{\"a\": 1}");
    assert_true(sp_value_equals(s, "\"Hello\""));
    assert_false(sp_value_equals(s, "\"hello\""));
    assert_true(sp_value_equals(s, "Hello"));
    assert_true(sp_value_equals(n, "2"));
    assert_true(sp_value_equals(n, "2.0"));
    assert_false(sp_value_equals(n, "3"));
    assert_true(sp_value_equals(f, "98.6"));
    assert_true(sp_value_equals(t, "true"));
    assert_true(sp_value_equals(t, "True"));
    assert_false(sp_value_equals(t, "false"));
    assert_true(sp_value_equals(NULL, "nil"));
    assert_true(sp_value_equals(NULL, "None"));
    assert_true(sp_value_equals(o, "{'a': 1}"));
    assert_false(sp_value_equals(o, "{'a': 2}"));
    char buf[40];
    sp_format_number(0.1 + 0.2, buf, sizeof buf);
    assert_string_equal(buf, "0.30000000000000004");
    sp_format_number(32, buf, sizeof buf);
    assert_string_equal(buf, "32");
    cJSON_Delete(s);
    cJSON_Delete(n);
    cJSON_Delete(f);
    cJSON_Delete(t);
    cJSON_Delete(o);
}

static void similarity_matches_python(void **state)
{
    (void)state;
    /* difflib.SequenceMatcher(None, a, b).ratio() */
    assert_true(fabs(sp_sequence_ratio("abcd", "bcde") - 0.75) < 1e-9);
    assert_true(
        fabs(sp_sequence_ratio("the quick brown fox", "the quick brown box") - 36.0 / 38.0) < 1e-9);
    assert_true(fabs(sp_sequence_ratio("", "") - 1.0) < 1e-9);
    assert_true(fabs(sp_sequence_ratio("abc", "xyz")) < 1e-9);
    /* rapidfuzz.fuzz.ratio */
    assert_true(fabs(sp_indel_ratio("this is a test", "this is a test!") - 96.55172413793103) <
                1e-9);
    assert_true(fabs(sp_indel_ratio("cats", "cat") - 85.71428571428571) < 1e-9);
    /* code points, not bytes */
    assert_true(fabs(sp_indel_ratio("\xc3\xa9t\xc3\xa9", "ete") - 100.0 / 3.0) < 1e-9);
    char *n = sp_fuzzy_normalize("  Hello,   World!! ");
    assert_string_equal(n, "hello world");
    tx_free(n);
}

static void tag_expressions(void **state)
{
    (void)state;
    const char *tags[] = {"@smoke", "@api"};
    assert_true(sp_tags_match("@smoke", tags, 2));
    assert_false(sp_tags_match("@slow", tags, 2));
    assert_true(sp_tags_match("@smoke and not @slow", tags, 2));
    assert_true(sp_tags_match("@slow or @api", tags, 2));
    assert_false(sp_tags_match("not (@smoke or @x)", tags, 2));
    assert_true(sp_tags_match("(@x or @smoke) and @api", tags, 2));
    char err[256];
    assert_true(sp_tags_valid("@a and not @b", err, sizeof err));
    assert_false(sp_tags_valid("@a and", err, sizeof err));
    assert_non_null(strstr(err, "column 7"));
    assert_false(sp_tags_valid("smoke", err, sizeof err));
    assert_false(sp_tags_valid("(@a", err, sizeof err));
}

static void every_library_step_has_a_handler(void **state)
{
    (void)state;
    size_t n;
    const ck_step_info *info = ck_steps(&n);
    for (size_t i = 0; i < n; i++) {
        sp_role role;
        if (!sp_handler_for(info[i].template, &role))
            fail_msg("no handler for step '%s'", info[i].template);
    }
}

int main(void)
{
    cJSON_Hooks hooks = {tx_malloc, tx_free};
    cJSON_InitHooks(&hooks);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literals_json_and_python),
        cmocka_unit_test(quoted_dicts_are_dicts),
        cmocka_unit_test(unquote_handles_escapes),
        cmocka_unit_test(equality_rules),
        cmocka_unit_test(similarity_matches_python),
        cmocka_unit_test(tag_expressions),
        cmocka_unit_test(every_library_step_has_a_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
