/*
 * cli_store.c - where the journal is, and `tactus store migrate|status`.
 *
 * The store is a SQLite file or a PostgreSQL URL, taken from (first found)
 * --store, $TACTUS_STORE, the trusted configuration's journal.url (a
 * project's own file may set it only once trusted: `journal` is a
 * privileged key), else ~/.local/share/tactus/journal.db. A URL may hold a
 * password: it is never printed (tj_store_display masks it), and one given
 * with --store (visible in `ps`) is warned about; libpq's own means
 * (~/.pgpass, PGPASSFILE, PGPASSWORD) give it to a URL without one.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "journal.h"

bool cli_store_resolve(const char *cmd, const char *flag, const char *procedure_path, char *out,
                       size_t cap)
{
    if (flag && *flag) {
        snprintf(out, cap, "%s", flag);
        /* The URL shown differs from the one given only where a password
         * was masked. */
        char shown[4096];
        tj_store_display(flag, shown, sizeof shown);
        if (strncmp(shown, flag, sizeof shown - 1) != 0)
            cli_error("%s: warning: the --store URL carries a password, which every user of this "
                      "machine can read in the process list (ps) while tactus runs: put the URL in "
                      "$TACTUS_STORE instead, or leave the password out of the URL and give it the "
                      "libpq way, in a password file (~/.pgpass, or the file $PGPASSFILE names) or "
                      "$PGPASSWORD\n",
                      cmd);
        return true;
    }
    const char *env = getenv("TACTUS_STORE");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return true;
    }
    cJSON *config = NULL;
    char err[1024];
    if (cf_load(procedure_path ? procedure_path : ".", &config, err, sizeof err) != TX_OK) {
        /* The same message as the command's own configuration load would give. */
        cli_error("%s: configuration error: %s\n", cmd, err);
        return false;
    }
    const cJSON *url = cf_get(config, "journal.url");
    bool ok = true;
    if (url && (!cJSON_IsString(url) || !*url->valuestring)) {
        cli_error("%s: journal.url must be a text: a PostgreSQL URL (postgres://USER@HOST/DB) or "
                  "a SQLite file\n", cmd);
        ok = false;
    } else if (url) {
        snprintf(out, cap, "%s", url->valuestring);
    } else {
        tj_default_path(out, cap);
    }
    cJSON_Delete(config);
    return ok;
}

tj_journal *cli_store_open(const char *cmd, const char *store)
{
    char err[2048];
    tj_journal *j = NULL;
    if (tj_open(store, &j, err, sizeof err) != TX_OK) cli_error("%s: %s\n", cmd, err);
    return j;
}

void cli_store_dir(const char *store, char *out, size_t cap)
{
    out[0] = '\0';
    if (tj_store_is_url(store)) return;
    snprintf(out, cap, "%s", store);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
}

static const char store_usage[] =
    "usage: tactus store migrate [--store URL|PATH]\n"
    "       tactus store status [--store URL|PATH] [--json]\n"
    "\n"
    "migrate  brings the store's schema to the version this tactus writes (a PostgreSQL\n"
    "         store is migrated only by this command; a SQLite file also when opened).\n"
    "         Safe while workers use the store, and when run twice at once.\n"
    "status   the store's backend, its schema version and the migrations applied.\n"
    "\n"
    "The store: --store, else $TACTUS_STORE, else journal.url of the trusted\n"
    "configuration, else ~/.local/share/tactus/journal.db. See docs/durability.md.\n";

int cli_store(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *flag = NULL;
    bool json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'S': flag = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(store_usage, stdout); return CLI_EXIT_OK;
        default: fputs(store_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || (strcmp(argv[optind], "migrate") && strcmp(argv[optind], "status"))) {
        cli_error("tactus store: expected migrate or status\n\n%s", store_usage);
        return CLI_EXIT_USAGE;
    }
    char store[4096], shown[4096];
    if (!cli_store_resolve("tactus store", flag, NULL, store, sizeof store)) return CLI_EXIT_USAGE;
    tj_store_display(store, shown, sizeof shown);
    if (strcmp(argv[optind], "migrate") == 0) {
        int from = 0;
        char err[2048];
        if (tj_migrate(store, &from, err, sizeof err) != TX_OK) {
            cli_error("tactus store migrate: %s\n", err);
            return CLI_EXIT_FAILED;
        }
        if (from == tj_schema_latest())
            printf("%s: at schema version %d already; nothing to do\n", shown, from);
        else
            printf("%s: migrated from schema version %d to %d\n", shown, from, tj_schema_latest());
        return CLI_EXIT_OK;
    }
    tj_journal *j = cli_store_open("tactus store status", store);
    if (!j) return CLI_EXIT_FAILED;
    cJSON *list = NULL;
    tx_status st = tj_schema_list(j, &list);
    if (st != TX_OK) {
        cli_error("tactus store status: %s\n", tj_last_error(j));
    } else if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "store", shown);
        cJSON_AddStringToObject(doc, "backend", tj_backend_name(j));
        cJSON_AddNumberToObject(doc, "schema_version", tj_schema_latest());
        cJSON_AddItemToObject(doc, "migrations", list);
        list = NULL;
        char *t = cJSON_PrintUnformatted(doc);
        printf("%s\n", t ? t : "{}");
        cJSON_free(t);
        cJSON_Delete(doc);
    } else {
        printf("store:   %s (%s)\nschema:  version %d\n", shown, tj_backend_name(j), tj_schema_latest());
        const cJSON *m;
        cJSON_ArrayForEach(m, list)
            printf("  %d  %s\n", (int)cJSON_GetObjectItemCaseSensitive(m, "version")->valuedouble,
                   hl_json_str(m, "description") ? hl_json_str(m, "description") : "");
    }
    cJSON_Delete(list);
    tj_close(j);
    return st == TX_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}
