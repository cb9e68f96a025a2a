/* provider_test.c - see provider_test.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "providers.h"
#include "provider_test.h"

cJSON *pt_parse(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    if (!j) fail_msg("bad JSON in the test itself: %s", json);
    return j;
}

cJSON *pt_config(const char *provider, const char *base_url, int stall_timeout,
                 const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"providers\": {\"%s\": {\"base_url\": \"%s\", \"stall_timeout\": %d, "
             "\"retry_delay\": 0.05, \"max_retries\": 2}}}",
             provider, base_url, stall_timeout);
    cJSON *c = pt_parse(text);
    if (extra) {
        cJSON *e = pt_parse(extra);
        cf_merge(c, e);
        cJSON_Delete(e);
    }
    return c;
}

cJSON *pt_user_params(const char *model, const char *text)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "model", model);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", text);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "messages"), m);
    return p;
}

void pt_add_tool(cJSON *params, const char *name)
{
    cJSON *tools = cJSON_GetObjectItemCaseSensitive(params, "tools");
    if (!tools) tools = cJSON_AddArrayToObject(params, "tools");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "description", "a test tool");
    cJSON_AddItemToObject(
        t, "parameters",
        pt_parse("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"));
    cJSON_AddItemToArray(tools, t);
}
