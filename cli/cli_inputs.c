/*
 * cli_inputs.c - inputs typed on the command line: `tactus run --input
 * KEY=VALUE` and `tactus test --param KEY=VALUE` (the original's flag:
 * inputs for every scenario), read by the procedure's input schema.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

/* Types a value by its declared field; false with a message. */
static bool typed_input(const fe_field *fd, const char *key, const char *text, cJSON **out,
                        char *err, size_t errlen)
{
    fe_type t = fd ? fd->type : FE_TYPE_STRING;
    char *end;
    switch (t) {
    case FE_TYPE_NUMBER:
    case FE_TYPE_INTEGER: {
        errno = 0;
        double d = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(d)) {
            snprintf(err, errlen, "input '%s' is declared %s, but '%s' is not a number%s", key,
                     fe_type_name(t), text, errno == ERANGE ? " this side of infinity" : "");
            return false;
        }
        if (t == FE_TYPE_INTEGER && fabs(d) >= TP_JSON_MAX_EXACT) {
            snprintf(err, errlen,
                     "input '%s': %s is beyond +-9007199254740991 (2^53 - 1), the largest whole "
                     "number kept exactly; declare the field a string to pass it whole",
                     key, text);
            return false;
        }
        if (t == FE_TYPE_INTEGER && d != (double)(long long)d) {
            snprintf(err, errlen, "input '%s' is declared integer, but '%s' is not a whole number",
                     key, text);
            return false;
        }
        *out = cJSON_CreateNumber(d);
        return true;
    }
    case FE_TYPE_BOOLEAN:
        if (tx_str_ieq(text, "true") || tx_str_ieq(text, "yes") || !strcmp(text, "1") ||
            tx_str_ieq(text, "y")) {
            *out = cJSON_CreateTrue();
            return true;
        }
        if (tx_str_ieq(text, "false") || tx_str_ieq(text, "no") || !strcmp(text, "0") ||
            tx_str_ieq(text, "n")) {
            *out = cJSON_CreateFalse();
            return true;
        }
        snprintf(err, errlen, "input '%s' is declared boolean; give true or false, not '%s'", key, text);
        return false;
    case FE_TYPE_ARRAY: {
        char why[400];
        if (*text == '[') {
            /* Written as JSON: judged as JSON, never read as a comma list. */
            cJSON *j = tp_json_parse_strict(text, strlen(text), TP_JSON_MAX_DEPTH, why, sizeof why);
            if (!cJSON_IsArray(j)) {
                if (j) snprintf(why, sizeof why, "it is not a JSON array");
                cJSON_Delete(j);
                snprintf(err, errlen, "input '%s' is declared array; its JSON is not usable: %s", key, why);
                return false;
            }
            *out = j;
            return true;
        }
        /* a,b,c: a comma list, numbers kept as numbers */
        cJSON *arr = cJSON_CreateArray();
        char *copy = tx_strdup(text);
        for (char *save = NULL, *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
             tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            double d = strtod(tok, &end);
            cJSON_AddItemToArray(arr, *tok && !*end ? cJSON_CreateNumber(d) : cJSON_CreateString(tok));
        }
        tx_free(copy);
        *out = arr;
        return true;
    }
    case FE_TYPE_OBJECT: {
        char why[400];
        cJSON *j = tp_json_parse_strict(text, strlen(text), TP_JSON_MAX_DEPTH, why, sizeof why);
        if (!cJSON_IsObject(j)) {
            if (j) snprintf(why, sizeof why, "it is not an object");
            cJSON_Delete(j);
            snprintf(err, errlen,
                     "input '%s' is declared object; give a JSON object like '{\"k\": 1}' (%s)",
                     key, why);
            return false;
        }
        *out = j;
        return true;
    }
    default:
        *out = cJSON_CreateString(text);
        return true;
    }
}

bool cli_typed_inputs(const fe_schema *schema, char *const *kv, size_t n_kv, const char *cmd,
                      const char *flag, const char *where, cJSON *inputs)
{
    char err[512];
    const char *at = where ? where : "", *sep = where ? ": " : "";
    for (size_t i = 0; i < n_kv; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || eq == kv[i]) {
            cli_error("%s: %s takes KEY=VALUE, not '%s'\n", cmd, flag, kv[i]);
            return false;
        }
        char *key = tx_strndup(kv[i], (size_t)(eq - kv[i]));
        const char *val = eq + 1;
        if (!key) {
            cli_error("%s: out of memory\n", cmd);
            return false;
        }
        const fe_field *fd = schema ? fe_schema_find(schema, key) : NULL;
        bool ok = false;
        if (schema && schema->present && !fd) {
            tx_buf b;
            tx_buf_init(&b, 1024);
            for (const fe_field *x = schema->fields; x; x = x->next)
                tx_buf_printf(&b, "%s%s", b.len ? ", " : "", x->name);
            cli_error("%s: %s%sunknown input '%s'; the procedure declares: %s\n", cmd, at, sep, key,
                      b.len ? b.data : "no inputs");
            tx_buf_free(&b);
            goto next;
        }
        size_t bad = tx_utf8_invalid_at(val, strlen(val));
        if (val[bad]) {
            /* Never passed on "repaired": the run would see other text. */
            cli_error("%s: %s %s: byte %zu of the value (0x%02X) is not UTF-8; inputs are text: "
                      "convert it (iconv -t UTF-8) or pass the data as a file\n",
                      cmd, flag, key, bad + 1, (unsigned char)val[bad]);
            goto next;
        }
        cJSON *v = NULL;
        if (!typed_input(fd, key, val, &v, err, sizeof err)) {
            cli_error("%s: %s%s%s\n", cmd, at, sep, err);
            goto next;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(inputs, key);
        cJSON_AddItemToObject(inputs, key, v);
        ok = true;
    next:
        tx_free(key);
        if (!ok) return false;
    }
    return true;
}
