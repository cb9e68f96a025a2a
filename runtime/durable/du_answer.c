/*
 * du_answer.c - an answer checked against what its human request declared
 * (options, mode, min/max, items), before it is recorded: the procedure
 * would otherwise get an answer it never offered. Shared by `tactus
 * approve` and `tactus serve`, so both refuse the same answers.
 */
#include <string.h>
#include <strings.h>

#include "durable.h"
#include "hostlib.h"

/* Whether `answer` is option `opt`: an option is a value, or a table
 * {label, value}; a string answer may also name the option's label. */
static bool is_option(const cJSON *opt, const cJSON *answer, bool by_label_nocase)
{
    if (cJSON_Compare(opt, answer, true)) return true;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opt, "value");
    if (v && cJSON_Compare(v, answer, true)) return true;
    const char *label = hl_json_str(opt, "label");
    if (label && cJSON_IsString(answer))
        return by_label_nocase ? strcasecmp(label, answer->valuestring) == 0
                               : strcmp(label, answer->valuestring) == 0;
    return false;
}

static bool in_options(const cJSON *options, const cJSON *answer, bool nocase)
{
    const cJSON *opt;
    cJSON_ArrayForEach(opt, options)
        if (is_option(opt, answer, nocase)) return true;
    return false;
}

/* The options as a short list for a message: "a", "b", "c". */
static void options_text(const cJSON *options, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    const cJSON *opt;
    cJSON_ArrayForEach(opt, options)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(opt, "value");
        const char *label = hl_json_str(opt, "label");
        char *t = label && !v ? NULL : cJSON_PrintUnformatted(v ? v : opt);
        int w = snprintf(out + n, cap - n, "%s%s%s%s", n ? ", " : "", label && !v ? "\"" : "",
                         t ? t : label, label && !v ? "\"" : "");
        cJSON_free(t);
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
}

bool du_answer_fits(const char *kind, const cJSON *rq, const cJSON *answer, char *why, size_t cap)
{
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(rq, "options");
    char list[600];
    options_text(options, list, sizeof list);
    bool has_options = cJSON_IsArray(options) && cJSON_GetArraySize(options) > 0;
    if (!strcmp(kind, "input")) {
        if (has_options && !in_options(options, answer, false)) {
            snprintf(why, cap, "this input accepts one of its options: %s", list);
            return false;
        }
        if (!has_options && !cJSON_IsString(answer) && !cJSON_IsNumber(answer) && !cJSON_IsBool(answer)) {
            snprintf(why, cap, "this input takes a text (or number) answer, e.g. --value 'some text'");
            return false;
        }
    } else if (!strcmp(kind, "select")) {
        const char *mode = hl_json_str(rq, "mode");
        if (mode && !strcmp(mode, "multiple")) {
            if (!cJSON_IsArray(answer)) {
                snprintf(why, cap, "this selection takes a JSON list of its options (%s), e.g. --value '[...]'", list);
                return false;
            }
            int n = cJSON_GetArraySize(answer);
            const cJSON *mn = cJSON_GetObjectItemCaseSensitive(rq, "min"), *mx = cJSON_GetObjectItemCaseSensitive(rq, "max");
            if (cJSON_IsNumber(mn) && n < mn->valueint) {
                snprintf(why, cap, "this selection needs at least %d of its options", mn->valueint);
                return false;
            }
            if (cJSON_IsNumber(mx) && n > mx->valueint) {
                snprintf(why, cap, "this selection takes at most %d of its options", mx->valueint);
                return false;
            }
            const cJSON *a;
            cJSON_ArrayForEach(a, answer)
                if (has_options && !in_options(options, a, false)) {
                    snprintf(why, cap, "every choice must be one of the options: %s", list);
                    return false;
                }
        } else if (has_options && !in_options(options, answer, false)) {
            snprintf(why, cap, "this selection takes one of its options: %s", list);
            return false;
        }
    } else if (!strcmp(kind, "review")) {
        const cJSON *d = cJSON_IsObject(answer) ? cJSON_GetObjectItemCaseSensitive(answer, "decision") : answer;
        if (!cJSON_IsString(d) || (has_options && !in_options(options, d, true))) {
            snprintf(why, cap,
                     "a review takes a decision among its options (%s), as --value WORD or "
                     "--value '{\"decision\": WORD, \"feedback\": TEXT}'",
                     list);
            return false;
        }
    } else if (!strcmp(kind, "inputs")) {
        if (!cJSON_IsObject(answer)) {
            snprintf(why, cap, "this request takes a JSON object with one answer per item id, e.g. --value '{\"ID\": ...}'");
            return false;
        }
        const cJSON *a;
        cJSON_ArrayForEach(a, answer)
        {
            const cJSON *item = NULL, *it;
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rq, "items"))
                if (hl_json_str(it, "id") && !strcmp(hl_json_str(it, "id"), a->string)) item = it;
            if (!item) {
                snprintf(why, cap, "'%.100s' is not one of the request's item ids", a->string);
                return false;
            }
            const cJSON *io = cJSON_GetObjectItemCaseSensitive(item, "options");
            if (cJSON_IsArray(io) && cJSON_GetArraySize(io) > 0 && !in_options(io, a, false)) {
                options_text(io, list, sizeof list);
                snprintf(why, cap, "item '%.100s' takes one of its options: %s", a->string, list);
                return false;
            }
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rq, "items"))
        {
            const char *id = hl_json_str(it, "id");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "required")) && id &&
                !cJSON_GetObjectItemCaseSensitive(answer, id)) {
                snprintf(why, cap, "item '%.100s' is required", id);
                return false;
            }
        }
    }
    return true;
}
