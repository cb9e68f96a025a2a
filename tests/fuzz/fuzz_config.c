/* Fuzz target: any bytes as a configuration file (.tactus/config.yml, a
 * FILE.tac.yml sidecar): the YAML loader, then merging and lookups. Input
 * surface: a project's configuration travels with the procedure and is
 * untrusted until `tactus trust`. Uses the configuration module's public
 * header only (config.h).
 *
 * Properties: a failure says why and gives no document; a success is a
 * mapping; merged into an empty configuration it is itself. */
#include <string.h>

#include "fuzz.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16) return 0;
    char err[512];
    memset(err, 0, sizeof err);
    cJSON *doc = NULL;
    tx_status st = cf_yaml_parse((const char *)data, size, "fuzz.yml", &doc, err, sizeof err);
    if (st != TX_OK) {
        FUZZ_REQUIRE(!doc, "a failed parse gives no document");
        if (st == TX_EINVAL) FUZZ_REQUIRE(strncmp(err, "fuzz.yml:", 9) == 0, "a YAML error names file:line:column");
        FUZZ_REQUIRE(err[sizeof err - 1] == '\0', "the error message is terminated");
        return 0;
    }
    FUZZ_REQUIRE(cJSON_IsObject(doc), "a configuration is a mapping");

    cJSON *merged = cJSON_CreateObject();
    if (merged) {
        cf_merge(merged, doc);
        FUZZ_REQUIRE(cJSON_Compare(merged, doc, true), "merge(empty, c) equals c");
        cf_merge(merged, doc); /* lists extend, mappings merge: may grow, must not break */
        cJSON_Delete(merged);
    }
    /* With origins (`tactus config`): the same result, and every leaf of it
     * reachable by a short enough dotted path has an origin. */
    cJSON *traced = cJSON_CreateObject(), *origins = cJSON_CreateObject();
    if (traced && origins) {
        cf_merge_traced(traced, doc, origins, "a.yml");
        FUZZ_REQUIRE(cJSON_Compare(traced, doc, true), "a traced merge merges the same");
        const cJSON *o;
        cJSON_ArrayForEach(o, origins)
            FUZZ_REQUIRE(cJSON_IsString(o) && strcmp(o->valuestring, "a.yml") == 0,
                         "every origin is the file merged");
        cf_merge_traced(traced, doc, origins, "b.yml"); /* lists name both files */
        cJSON_ArrayForEach(o, origins)
            FUZZ_REQUIRE(cJSON_IsString(o) && (strcmp(o->valuestring, "b.yml") == 0 ||
                                              strcmp(o->valuestring, "a.yml, b.yml") == 0 ||
                                              strcmp(o->valuestring, "a.yml") == 0),
                         "an origin names the files that set it");
    }
    cJSON_Delete(traced);
    cJSON_Delete(origins);
    static const char *const paths[] = {"providers.openai.base_url", "sandbox.enabled", "host_tools",
                                        "limits.timeout", ".", "a..b", ""};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) (void)cf_get(doc, paths[i]);
    const cJSON *top;
    cJSON_ArrayForEach(top, doc)
    {
        /* a top-level key with no dot (and within cf_get's 255 bytes) is found by its name */
        if (top->string && top->string[0] && !strchr(top->string, '.') && strlen(top->string) < 256)
            FUZZ_REQUIRE(cf_get(doc, top->string) != NULL, "a top-level key is found");
    }
    cJSON_Delete(doc);
    return 0;
}
