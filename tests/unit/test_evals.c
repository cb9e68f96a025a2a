/* Unit tests of evals/: the judges and the evaluator catalogue that
 * `tactus check` shares (checker/ck_evals.c) never disagree, and an
 * evaluator is refused by `tactus eval` for the reason TAC805 gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ev_internal.h"

static void judges_match_the_catalogue(void **state)
{
    (void)state;
    char why[512] = "";
    bool ok = ev_judges_match_catalogue(why, sizeof why);
    if (!ok) fail_msg("%s", why);
}

static bool json_has(const char *key, void *cfg)
{
    return cJSON_GetObjectItemCaseSensitive(cfg, key) != NULL;
}

static void refusals_are_the_catalogues(void **state)
{
    (void)state;
    struct {
        const char *json, *why; /* why: NULL when valid */
    } cases[] = {
        {"{\"type\": \"equals_expected\"}", NULL},
        {"{\"type\": \"contains\", \"value\": \"x\"}", NULL},
        {"{\"type\": \"contains\"}", "evaluator 'contains' needs value = ..."},
        {"{\"type\": \"equal_expected\"}",
         "unknown evaluator type 'equal_expected'; did you mean 'equals_expected'?"},
        {"{\"type\": \"llm_judge\", \"rubric\": \"r\"}", NULL},
        {"{\"type\": \"llm_judge\"}", "evaluator 'llm_judge' needs rubric = ..."},
        {"{\"type\": \"json_schema\", \"value\": {\"type\": \"object\"}}", NULL},
        {"{\"type\": \"json_schema\"}",
         "evaluator 'json_schema' needs json_schema = ... (or value = ...)"},
        {"{\"type\": \"max_cost\"}", NULL},
        {"{}", "an evaluator needs a type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *cfg = cJSON_Parse(cases[i].json);
        char err[1024] = "", check[1024] = "";
        bool valid = ev_evaluator_valid(cfg, err, sizeof err);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(cfg, "type");
        bool problem = ck_evaluator_problem(cJSON_IsString(t) ? t->valuestring : NULL, json_has,
                                            cfg, check, sizeof check);
        if (!cases[i].why) {
            assert_true(valid);
            assert_false(problem);
        } else {
            assert_false(valid);
            assert_true(problem);
            assert_non_null(strstr(err, cases[i].why));
            assert_string_equal(err, check); /* tactus eval says what tactus check says */
        }
        cJSON_Delete(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(judges_match_the_catalogue),
        cmocka_unit_test(refusals_are_the_catalogues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
