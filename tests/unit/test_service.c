/* Unit tests of service/: tokens (made, checked in constant time against
 * their hash, revoked, refused from a public file, reloaded when the file
 * changes), roles, and the HTML escape every page goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base.h"
#include "service.h"

static char dir[] = "/tmp/tactus-unit-service.XXXXXX";

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void tokens_are_kept_hashed_and_checked(void **state)
{
    (void)state;
    char path[512], err[512], token[128];
    path_in(path, sizeof path, "a/tokens.json");
    ws_token rec, got;
    assert_int_equal(ws_tokens_create(path, "acme", WS_ROLE_APPROVER, "alice", &rec, token, sizeof token, err,
                                      sizeof err),
                     TX_OK);
    assert_int_equal(strlen(token), 85);
    assert_string_equal(rec.tenant, "acme");
    /* created_ms is a date: within a minute of the wall clock (it was
     * the machine's uptime, from the monotonic clock) */
    long long now_ms = (long long)time(NULL) * 1000;
    assert_true(rec.created_ms > now_ms - 60000 && rec.created_ms < now_ms + 60000);
    /* the file has the hash, never the token */
    char *text = NULL;
    size_t len;
    int e;
    assert_int_equal(tx_read_file(path, 1 << 20, &text, &len, &e), TX_OK);
    assert_null(strstr(text, token + 21));
    tx_free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    ws_keyring *k = NULL;
    assert_int_equal(ws_keyring_open(path, &k, err, sizeof err), TX_OK);
    assert_true(ws_keyring_check(k, token, &got));
    assert_string_equal(got.name, "alice");
    assert_int_equal(got.role, WS_ROLE_APPROVER);
    /* one character off, a prefix, another id: refused */
    char bad[128];
    snprintf(bad, sizeof bad, "%s", token);
    bad[84] = bad[84] == 'a' ? 'b' : 'a';
    assert_false(ws_keyring_check(k, bad, &got));
    assert_false(ws_keyring_check(k, "tct_", &got));
    assert_false(ws_keyring_check(k, "", &got));
    snprintf(bad, sizeof bad, "%s", token);
    bad[5] = bad[5] == '0' ? '1' : '0';
    assert_false(ws_keyring_check(k, bad, &got));
    /* revoked: the running keyring sees it at the next check */
    sleep(1); /* a new mtime even on coarse clocks */
    assert_int_equal(ws_tokens_revoke(path, rec.id, err, sizeof err), TX_OK);
    assert_false(ws_keyring_check(k, token, &got));
    assert_false(ws_keyring_live(k, rec.id, &got));
    assert_int_equal(ws_tokens_revoke(path, "nope", err, sizeof err), TX_ENOENT);
    ws_keyring_free(k);
}

static void a_public_tokens_file_is_refused(void **state)
{
    (void)state;
    char path[512], err[512], token[128];
    path_in(path, sizeof path, "b/tokens.json");
    ws_token rec;
    assert_int_equal(ws_tokens_create(path, "t", WS_ROLE_VIEWER, "v", &rec, token, sizeof token, err, sizeof err), TX_OK);
    assert_int_equal(chmod(path, 0644), 0);
    ws_keyring *k = NULL;
    assert_int_equal(ws_keyring_open(path, &k, err, sizeof err), TX_EINVAL);
    assert_non_null(strstr(err, "chmod 600"));
    cJSON *list = NULL;
    assert_int_equal(ws_tokens_list(path, &list, err, sizeof err), TX_EINVAL);
    assert_int_equal(ws_tokens_create(path, "t", WS_ROLE_ADMIN, "x", &rec, token, sizeof token, err, sizeof err),
                     TX_EINVAL);
}

static void a_damaged_record_grants_nothing(void **state)
{
    (void)state;
    char path[512], err[512];
    path_in(path, sizeof path, "c.json");
    FILE *f = fopen(path, "w");
    /* no "revoked": false, and a hash of the empty string */
    fputs("[{\"id\":\"0000000000000000\",\"tenant\":\"t\",\"role\":\"admin\",\"name\":\"x\","
          "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]",
          f);
    fclose(f);
    chmod(path, 0600);
    ws_keyring *k = NULL;
    assert_int_equal(ws_keyring_open(path, &k, err, sizeof err), TX_OK);
    ws_token got;
    assert_false(ws_keyring_live(k, "0000000000000000", &got));
    ws_keyring_free(k);
}

static void roles_parse_and_name(void **state)
{
    (void)state;
    ws_role r;
    assert_true(ws_role_parse("approver", &r));
    assert_int_equal(r, WS_ROLE_APPROVER);
    assert_false(ws_role_parse("root", &r));
    assert_false(ws_role_parse(NULL, &r));
    assert_string_equal(ws_role_name(WS_ROLE_ADMIN), "admin");
    assert_null(ws_role_name((ws_role)9));
}

static void html_escape_leaves_no_markup(void **state)
{
    (void)state;
    tx_buf b;
    tx_buf_init(&b, 4096);
    assert_int_equal(ws_html_escape(&b, "<script>alert('x')</script> & \"q\" </pre>"), TX_OK);
    assert_string_equal(b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; &lt;/pre&gt;");
    tx_buf_clear(&b);
    assert_int_equal(ws_html_escape(&b, NULL), TX_OK);
    assert_int_equal(b.len, 0);
    tx_buf_free(&b);
    /* the cap of the buffer holds */
    tx_buf_init(&b, 8);
    assert_int_not_equal(ws_html_escape(&b, "<<<<<<<<"), TX_OK);
    assert_true(b.len <= 8);
    tx_buf_free(&b);
}

static void log_lines_cannot_be_forged(void **state)
{
    (void)state;
    char out[64];
    ws_log_safe("/nothing\nPOST /v1/approvals/x 200 admin\r\x1b[2J", out, sizeof out);
    assert_string_equal(out, "/nothing?POST /v1/approvals/x 200 admin??[2J");
    ws_log_safe("0123456789", out, 5);
    assert_string_equal(out, "0123");
    ws_log_safe(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    setenv("XDG_CONFIG_HOME", dir, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_are_kept_hashed_and_checked),
        cmocka_unit_test(log_lines_cannot_be_forged),
        cmocka_unit_test(a_public_tokens_file_is_refused),
        cmocka_unit_test(a_damaged_record_grants_nothing),
        cmocka_unit_test(roles_parse_and_name),
        cmocka_unit_test(html_escape_leaves_no_markup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
