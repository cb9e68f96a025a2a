/* Unit tests of base/: buffers and their caps, JSON strings, UTF-8, spans,
 * edit distance, the string map, and allocation fault injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base.h"

static void buf_respects_its_cap(void **state)
{
    (void)state;
    tx_buf b;
    tx_buf_init(&b, 8);
    assert_int_equal(tx_buf_append(&b, "12345678", 8), TX_OK);
    assert_int_equal(tx_buf_append(&b, "9", 1), TX_ELIMIT);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    tx_buf_free(&b);
}

static void buf_printf_appends(void **state)
{
    (void)state;
    tx_buf b;
    tx_buf_init(&b, 1024);
    assert_int_equal(tx_buf_printf(&b, "%s=%d", "x", 42), TX_OK);
    assert_int_equal(tx_buf_printf(&b, ";%c", 'y'), TX_OK);
    assert_string_equal(b.data, "x=42;y");
    char *s = tx_buf_steal(&b);
    assert_null(b.data);
    assert_string_equal(s, "x=42;y");
    tx_free(s);
}

static void json_string_escapes_and_repairs_utf8(void **state)
{
    (void)state;
    tx_buf b;
    tx_buf_init(&b, 1024);
    const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff";
    assert_int_equal(tx_buf_json_string(&b, in, sizeof in - 1), TX_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"");
    tx_buf_free(&b);
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_int_equal(tx_utf8_invalid_at("abc", 3), 3);
    assert_int_equal(tx_utf8_invalid_at("\xc3\xa9", 2), 2);
    assert_int_equal(tx_utf8_invalid_at("ab\xe9z", 4), 2);
    assert_int_equal(tx_utf8_invalid_at("\xc0\xaf", 2), 0);         /* overlong */
    assert_int_equal(tx_utf8_invalid_at("\xed\xa0\x80", 3), 0);     /* surrogate */
    assert_int_equal(tx_utf8_invalid_at("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    assert_int_equal(tx_utf8_invalid_at("\xe2\x82", 2), 0);         /* truncated */
    assert_int_equal(tx_utf8_count("h\xc3\xa9llo", 6), 5);
}

/* Procedure text on a terminal: every control made visible, nothing raw. */
static void term_text_is_inert(void **state)
{
    (void)state;
    char *t = tx_term_text("a\x1b]52;c;eA==\x07" "b\r\n\tc\x7f\xc2\x9b[2J\xc3\xa9\xff\x01");
    assert_non_null(t);
    assert_string_equal(t, "a\\x1b]52;c;eA==\\x07b\\x0d\n\tc\\x7f\\u009b[2J\xc3\xa9\\xff\\x01");
    tx_free(t);
    t = tx_term_text("");
    assert_non_null(t);
    assert_string_equal(t, "");
    tx_free(t);
    t = tx_term_text("\xc2\xa0 nbsp stays");
    assert_string_equal(t, "\xc2\xa0 nbsp stays");
    tx_free(t);
    /* Trojan Source: "staging" RLO LRI "dorp" PDI shows as "staging prod"
     * on a bidi-aware terminal; the overrides must be seen, not obeyed. */
    t = tx_term_text("staging\xe2\x80\xae\xe2\x81\xa6" "dorp\xe2\x81\xa9 \xe2\x80\x8b\xef\xbb\xbf\xd8\x9c");
    assert_string_equal(t, "staging\\u202e\\u2066dorp\\u2069 \\u200b\\ufeff\\u061c");
    tx_free(t);
    /* Other characters of those blocks are text: an en dash, an ellipsis. */
    t = tx_term_text("a\xe2\x80\x93" "b\xe2\x80\xa6");
    assert_string_equal(t, "a\xe2\x80\x93" "b\xe2\x80\xa6");
    tx_free(t);
}

static void spans_give_line_and_codepoint_column(void **state)
{
    (void)state;
    const char *src = "ab\n\xc3\xa9t\xc3\xa9 x\n";
    size_t at = strlen("ab\n\xc3\xa9t\xc3\xa9 ");
    tx_span sp = tx_span_of_bytes(src, strlen(src), at, at + 1);
    assert_int_equal(sp.start.row, 1);
    assert_int_equal(sp.start.column, 6);
    tx_line_col lc = tx_span_columns(src, strlen(src), sp);
    assert_int_equal(lc.line, 2);
    assert_int_equal(lc.column, 5); /* "été " is 4 code points */
    assert_int_equal(lc.end_column, 6);
}

static void edit_distance_is_capped_and_case_blind(void **state)
{
    (void)state;
    assert_int_equal(tx_edit_distance("kitten", 6, "sitting", 7, 10), 3);
    assert_int_equal(tx_edit_distance("Search", 6, "search", 6, 10), 0);
    assert_int_equal(tx_edit_distance("a", 1, "abcdefgh", 8, 2), 3);
}

static void map_puts_and_gets(void **state)
{
    (void)state;
    tx_map m;
    tx_map_init(&m);
    char keys[1000][8];
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_int_equal(tx_map_put(&m, keys[i], strlen(keys[i]), keys[i]), TX_OK);
    }
    for (int i = 0; i < 1000; i++) assert_ptr_equal(tx_map_get(&m, keys[i], strlen(keys[i])), keys[i]);
    assert_null(tx_map_get(&m, "k1000", 5));
    assert_ptr_equal(tx_map_get(&m, "k12.x", 3), keys[12]); /* prefix lookups by length */
    tx_map_free(&m);
}

static void diag_sort_orders_and_dedups(void **state)
{
    (void)state;
    tx_diag_list l;
    tx_diag_list_init(&l);
    tx_span a = {10, 12, {0, 10}, {0, 12}}, b = {2, 3, {0, 2}, {0, 3}};
    tx_diag_add(&l, "TAC2", TX_SEV_ERROR, a, "second");
    tx_diag_add(&l, "TAC1", TX_SEV_WARNING, b, "first");
    tx_diag_add(&l, "TAC2", TX_SEV_ERROR, a, "second");
    tx_diag_sort(&l);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].message, "first");
    assert_int_equal(tx_diag_count(&l, TX_SEV_ERROR), 1);
    tx_diag_list_free(&l);
}

static void diag_relate_attaches_to_the_last_added(void **state)
{
    (void)state;
    tx_diag_list l;
    tx_diag_list_init(&l);
    tx_span a = {10, 12, {0, 10}, {0, 12}}, b = {2, 3, {0, 2}, {0, 3}};
    tx_diag_relate(&l, b, "nothing to attach to");
    assert_int_equal(l.len, 0);
    tx_diag_add(&l, "TAC2", TX_SEV_ERROR, a, "second");
    tx_diag_relate(&l, b, "declared at %d", 3);
    tx_diag_add(&l, "TAC1", TX_SEV_WARNING, b, "first");
    /* A failed add must not hand its related place to the previous item. */
    tx_alloc_fail_after(0);
    tx_diag_add(&l, "TAC3", TX_SEV_ERROR, a, "lost");
    tx_diag_relate(&l, a, "not attached");
    tx_alloc_fail_after(-1);
    assert_true(l.oom);
    tx_diag_sort(&l);
    assert_int_equal(l.len, 2);
    assert_false(l.items[0].has_related);
    assert_true(l.items[1].has_related);
    assert_string_equal(l.items[1].related_message, "declared at 3");
    assert_int_equal(l.items[1].related.start_byte, 2);
    tx_diag_list_free(&l);
}

static void allocation_failure_is_injected(void **state)
{
    (void)state;
    tx_alloc_fail_after(1);
    void *p = tx_malloc(4);
    assert_non_null(p);
    assert_null(tx_malloc(4));
    tx_alloc_fail_after(-1);
    void *q = tx_malloc(4);
    assert_non_null(q);
    tx_free(p);
    tx_free(q);
}

static void arena_allocates_zeroed_aligned_memory(void **state)
{
    (void)state;
    tx_arena a;
    tx_arena_init(&a);
    for (int i = 0; i < 5000; i++) {
        char *p = tx_arena_alloc(&a, (size_t)(i % 97) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_int_equal(p[0], 0);
        p[0] = 1;
    }
    char *big = tx_arena_alloc(&a, 100000);
    assert_non_null(big);
    tx_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_respects_its_cap),
        cmocka_unit_test(buf_printf_appends),
        cmocka_unit_test(json_string_escapes_and_repairs_utf8),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(term_text_is_inert),
        cmocka_unit_test(spans_give_line_and_codepoint_column),
        cmocka_unit_test(edit_distance_is_capped_and_case_blind),
        cmocka_unit_test(map_puts_and_gets),
        cmocka_unit_test(diag_sort_orders_and_dedups),
        cmocka_unit_test(diag_relate_attaches_to_the_last_added),
        cmocka_unit_test(allocation_failure_is_injected),
        cmocka_unit_test(arena_allocates_zeroed_aligned_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
