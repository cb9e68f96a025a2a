/*
 * provider_test.h - what the provider integration tests share
 * (test_openai_provider.c, test_anthropic_provider.c): building llm.chat
 * parameters and provider configurations, and string assertions.
 * Include after <cmocka.h>.
 */
#ifndef TACTUS_PROVIDER_TEST_H
#define TACTUS_PROVIDER_TEST_H

#include <cjson/cJSON.h>
#include <string.h>

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_)) fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)"); \
    } while (0)

#define assert_not_contains(hay, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ && strstr(h_, n_)) fail_msg("did not expect \"%s\" in \"%s\"", n_, h_);            \
    } while (0)

/* JSON written in the test itself; fails the test when it is not JSON. */
cJSON *pt_parse(const char *json);
/* {"providers": {provider: {base_url, stall_timeout, retry_delay: 0.05,
 * max_retries: 2}}} with `extra` (JSON text, may be NULL) merged in. */
cJSON *pt_config(const char *provider, const char *base_url, int stall_timeout,
                 const char *extra);
/* {"model": model, "messages": [{"role": "user", "content": text}]} */
cJSON *pt_user_params(const char *model, const char *text);
/* Appends a tool `name` with one string parameter, city, to params.tools. */
void pt_add_tool(cJSON *params, const char *name);

#endif
