/*
 * sp_suite.c - collecting scenarios and running them.
 *
 * Planning (per file): Background steps go before each scenario's own,
 * Outlines become one case per Examples row, each step is bound once to a
 * custom Step (exact text, tried first) or a built-in handler. Running: a
 * pool of threads takes (case, run) jobs in order; each job is one run of
 * the procedure through sup_run, with the scenario's setup applied and its
 * custom steps sent to the runtime, and its steps judged on the result.
 * Results land in slots fixed before the run, so the output does not
 * depend on which thread finished first.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sp_internal.h"

/* The fixed clock of every test run: 2026-01-01T00:00:00Z. */
#define SP_EPOCH_MS 1767225600000LL

struct sp_suite {
    const ck_checker *ck;
    sp_file **files;
    size_t n_files;
    sp_case *cases;
    size_t n_cases, cap;
};

const char *sp_arg(const sp_step *st, const char *name)
{
    for (size_t i = 0; i < st->n_args; i++)
        if (strcmp(st->args[i].name, name) == 0) return st->args[i].value;
    return "";
}

sp_suite *sp_suite_new(const ck_checker *ck)
{
    sp_suite *s = tx_calloc(1, sizeof *s);
    if (s) s->ck = ck;
    return s;
}

size_t sp_suite_count(const sp_suite *s)
{
    return s->n_cases;
}

static bool custom_declared(const fe_file *f, const char *text)
{
    for (const fe_custom_step *c = f->custom_steps; c; c = c->next)
        if (strcmp(c->text, text) == 0) return true;
    return false;
}

static tx_status bind_step(const sp_suite *s, const fe_file *f, const fe_scenario *sc,
                           const fe_example_row *row, const fe_step *st, sp_step *out)
{
    tx_buf b;
    tx_buf_init(&b, SP_TEXT_MAX);
    fe_outline_substitute(sc, row, st->text, &b);
    out->step = st;
    out->text = tx_buf_steal(&b);
    if (!out->text) out->text = tx_strdup("");
    if (!out->text) return TX_ENOMEM;
    if (custom_declared(f, out->text)) {
        out->role = SP_ROLE_CUSTOM;
        return TX_OK;
    }
    ck_step_match_result m;
    if (!ck_step_match(s->ck, out->text, strlen(out->text), &m)) {
        /* The checker refuses undefined steps before a suite is built. */
        out->role = SP_ROLE_ASSERT;
        out->handler = NULL;
        return TX_OK;
    }
    size_t n;
    const ck_step_info *info = ck_steps(&n);
    out->template = info[m.index].template;
    out->handler = sp_handler_for(out->template, &out->role);
    for (size_t i = 0; i < m.n_groups; i++) {
        out->args[i].name = m.groups[i].name;
        out->args[i].value = tx_strndup(out->text + m.groups[i].start, m.groups[i].len);
        if (!out->args[i].value) return TX_ENOMEM;
        out->n_args = i + 1;
    }
    return TX_OK;
}

static bool selected(const sp_case *c, const char *base_name, const sp_options *o)
{
    if (o->scenario && strcmp(o->scenario, c->name) != 0 && strcmp(o->scenario, base_name) != 0)
        return false;
    if (o->tags && !sp_tags_match(o->tags, c->tags, c->n_tags)) return false;
    return true;
}

static void case_free(sp_case *c)
{
    for (size_t i = 0; i < c->n_steps; i++) {
        tx_free(c->steps[i].text);
        for (size_t a = 0; a < c->steps[i].n_args; a++)
            tx_free(c->steps[i].args[a].value);
    }
    tx_free(c->steps);
    for (int r = 0; c->outcomes && r < c->runs; r++) {
        for (size_t i = 0; c->outcomes[r].steps && i < c->n_steps; i++)
            tx_free(c->outcomes[r].steps[i].error);
        tx_free(c->outcomes[r].steps);
        cJSON_Delete(c->outcomes[r].error);
    }
    tx_free(c->outcomes);
    tx_free(c->tags);
    tx_free(c->name);
}

static tx_status add_case(sp_suite *s, const sp_file *file, const fe_spec *spec,
                          const fe_scenario *bg, const fe_scenario *sc, const fe_example_row *row,
                          int example, const sp_options *o)
{
    sp_case c = {
        .file = file, .spec = spec, .sc = sc, .row = row, .example = example, .runs = o->runs};
    char *name = NULL;
    if (example) {
        tx_buf b;
        tx_buf_init(&b, SP_TEXT_MAX);
        tx_buf_printf(&b, "%s (example %d)", sc->name ? sc->name : "", example);
        name = tx_buf_steal(&b);
    } else {
        name = tx_strdup(sc->name ? sc->name : "");
    }
    c.name = name;
    c.tags = tx_calloc(spec->n_feature_tags + sc->n_tags + 1, sizeof *c.tags);
    size_t n_steps = sc->n_steps + (bg ? bg->n_steps : 0);
    c.steps = tx_calloc(n_steps + 1, sizeof *c.steps);
    if (!c.name || !c.tags || !c.steps) goto oom;
    for (size_t i = 0; i < spec->n_feature_tags; i++)
        c.tags[c.n_tags++] = spec->feature_tags[i];
    for (size_t i = 0; i < sc->n_tags; i++)
        c.tags[c.n_tags++] = sc->tags[i];
    if (!selected(&c, sc->name ? sc->name : "", o)) {
        case_free(&c);
        return TX_OK;
    }
    for (int pass = 0; pass < 2; pass++) {
        const fe_scenario *from = pass == 0 ? bg : sc;
        if (!from) continue;
        for (const fe_step *st = from->steps; st; st = st->next) {
            if (bind_step(s, file->f, sc, pass ? row : NULL, st, &c.steps[c.n_steps]) != TX_OK) {
                c.n_steps++;
                goto oom;
            }
            c.n_steps++;
        }
    }
    c.outcomes = tx_calloc((size_t)o->runs, sizeof *c.outcomes);
    if (!c.outcomes) goto oom;
    if (s->n_cases == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        sp_case *nc = tx_realloc(s->cases, cap * sizeof *nc);
        if (!nc) goto oom;
        s->cases = nc;
        s->cap = cap;
    }
    s->cases[s->n_cases++] = c;
    return TX_OK;
oom:
    case_free(&c);
    return TX_ENOMEM;
}

tx_status sp_suite_add(sp_suite *s, const fe_file *f, const cJSON *config, const char *workspace,
                       const cJSON *params, const sp_options *o)
{
    sp_file *file = tx_calloc(1, sizeof *file);
    sp_file **files = file ? tx_realloc(s->files, (s->n_files + 1) * sizeof *files) : NULL;
    if (!files) {
        tx_free(file);
        return TX_ENOMEM;
    }
    s->files = files;
    file->f = f;
    file->config = config;
    file->workspace = tx_strdup(workspace);
    file->params = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
    s->files[s->n_files++] = file;
    if (!file->workspace || !file->params) return TX_ENOMEM;
    for (const fe_spec *spec = f->specs; spec; spec = spec->next) {
        /* Backgrounds come first within their feature or rule. */
        const fe_scenario *bg = NULL;
        const char *bg_rule = NULL;
        for (const fe_scenario *sc = spec->scenarios; sc; sc = sc->next) {
            if (sc->kind == FE_BACKGROUND) {
                bg = sc;
                bg_rule = sc->rule;
                continue;
            }
            /* A Rule's Background applies within that Rule only. */
            const fe_scenario *use =
                bg && (!bg_rule || (sc->rule && strcmp(bg_rule, sc->rule) == 0)) ? bg : NULL;
            tx_status st = TX_OK;
            if (sc->kind == FE_OUTLINE) {
                int k = 0;
                for (const fe_example_row *row = sc->example_rows; row && st == TX_OK;
                     row = row->next)
                    st = add_case(s, file, spec, use, sc, row, ++k, o);
            } else {
                st = add_case(s, file, spec, use, sc, NULL, 0, o);
            }
            if (st != TX_OK) return st;
        }
    }
    return TX_OK;
}

/* ---- one run ------------------------------------------------------------------------------------
 */

void sp_stable_run_id(const char *key, size_t len, char out[40])
{
    char hex[65];
    hl_sha256_hex(key, len, hex);
    snprintf(out, 40, "test-%.16s", hex);
}

static void run_id_of(const sp_case *c, int run, char out[40])
{
    tx_buf b;
    tx_buf_init(&b, SP_TEXT_MAX);
    tx_buf_printf(&b, "%s\n%s\n%s\n%d\n%d", c->file->f->path,
                  c->spec->feature_name ? c->spec->feature_name : "", c->name, c->example, run);
    sp_stable_run_id(b.data ? b.data : "", b.len, out);
    tx_buf_free(&b);
}

cJSON *sp_mocks_json(const fe_file *f, const cJSON *agent_turns)
{
    cJSON *all = cJSON_CreateObject();
    for (const fe_mocks *m = f->mocks; m; m = m->next) {
        cJSON *j = fe_value_to_json(m->table);
        if (cJSON_IsObject(j)) cf_merge(all, j);
        cJSON_Delete(j);
    }
    const cJSON *turns;
    cJSON_ArrayForEach(turns, agent_turns)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(all, turns->string);
        cJSON *m = cJSON_AddObjectToObject(all, turns->string);
        cJSON_AddItemToObject(m, "temporal", cJSON_Duplicate(turns, 1));
    }
    return all;
}

static void failed_run(sup_run_result *res, const char *message)
{
    res->status = SUP_FAILED;
    cJSON_Delete(res->error);
    res->error = cJSON_CreateObject();
    cJSON_AddStringToObject(res->error, "message", message);
}

bool sp_run_procedure(const sp_run_request *rq, sup_run_result *res)
{
    memset(res, 0, sizeof *res);
    cJSON *mocks = sp_mocks_json(rq->f, rq->agent_turns);
    char err[1024] = "";
    sb_launch launch = {0};
    tx_status ls =
        rq->launch(rq->launch_ud, rq->config, rq->workspace, rq->run_id, &launch, err, sizeof err);
    sup_run_options ro = {
        .path = rq->f->path,
        .source = rq->f->src,
        .source_len = rq->f->len,
        .procedure = "main",
        .inputs = rq->inputs,
        .config = rq->config,
        .mocks = mocks,
        .launch = &launch,
        .run_id = rq->run_id,
        .mock_all = rq->mock,
        .test = rq->test,
        .fixed_now_ms = SP_EPOCH_MS,
        .quiet_signals = true,
        .limits = rq->limits,
    };
    sb_pooled pooled = {0};
    if (ls == TX_OK && rq->pool && launch.scratch[0]) {
        /* A worker's container serves this run (one fresh runtime process). */
        ls = sb_pool_take(rq->pool, &launch, &pooled, err, sizeof err);
        if (ls == TX_OK) ro.pooled = &pooled;
    }
    bool started = false;
    if (ls != TX_OK)
        failed_run(res, err[0] ? err : "cannot prepare the sandbox");
    else if (sup_run(&ro, res) != TX_OK)
        failed_run(res, "cannot start tactus-runtime");
    else
        started = true;
    if (ro.pooled) sb_pool_give(rq->pool, &pooled, res->reusable);
    sb_launch_free(&launch);
    cJSON_Delete(mocks);
    return started;
}

/* The custom steps for the runtime: Given steps before the first trigger
 * or assertion run before the procedure, the others after it. */
static cJSON *custom_steps(const sp_case *c)
{
    cJSON *list = cJSON_CreateArray();
    bool after = false;
    for (size_t i = 0; i < c->n_steps; i++) {
        const sp_step *st = &c->steps[i];
        if (st->role == SP_ROLE_TRIGGER || st->role == SP_ROLE_ASSERT) after = true;
        if (st->role != SP_ROLE_CUSTOM) continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "index", (double)i);
        cJSON_AddStringToObject(j, "text", st->text);
        cJSON_AddStringToObject(j, "phase", after ? "after" : "before");
        if (st->step->doc_string) cJSON_AddStringToObject(j, "doc_string", st->step->doc_string);
        const fe_example_row *hdr = st->step->table;
        if (hdr) {
            cJSON *rows = cJSON_AddArrayToObject(j, "table");
            for (const fe_example_row *r = hdr->next; r; r = r->next) {
                cJSON *row = cJSON_CreateObject();
                for (size_t k = 0; k < hdr->n_cells && k < r->n_cells; k++)
                    cJSON_AddStringToObject(row, hdr->cells[k], r->cells[k]);
                cJSON_AddItemToArray(rows, row);
            }
        }
        cJSON_AddItemToArray(list, j);
    }
    return list;
}

static bool scenario_expects_failure(const sp_case *c)
{
    for (size_t i = 0; i < c->n_steps; i++) {
        const char *t = c->steps[i].handler ? c->steps[i].text : "";
        if (tx_str_ieq(t, "the procedure should fail") || strncmp(t, "the stop reason", 15) == 0)
            return true;
    }
    return false;
}

/* v0.10 named an agent's global with Python's str.capitalize (Greeter for
 * "greeter"), and its scenarios name agents that way too: the agent "Greeter"
 * responds with ... is the agent greeter's turn. */
static bool capitalized_as(const char *agent, const char *written)
{
    if (!agent[0] || strlen(agent) != strlen(written)) return false;
    if (toupper((unsigned char)agent[0]) != (unsigned char)written[0]) return false;
    for (size_t i = 1; agent[i]; i++)
        if (tolower((unsigned char)agent[i]) != (unsigned char)written[i]) return false;
    return true;
}

/* Renames the scenario's mocked turns of "Greeter" to the declared "greeter". */
static void agents_as_declared(const fe_file *f, cJSON *agent_turns)
{
    cJSON *t = agent_turns ? agent_turns->child : NULL;
    while (t) {
        cJSON *next = t->next;
        bool declared = false;
        const fe_agent *match = NULL;
        for (const fe_agent *a = f->agents; a; a = a->next) {
            if (strcmp(a->name, t->string) == 0) declared = true;
            if (capitalized_as(a->name, t->string)) match = a;
        }
        if (!declared && match && !cJSON_GetObjectItemCaseSensitive(agent_turns, match->name)) {
            cJSON_DetachItemViaPointer(agent_turns, t);
            cJSON_AddItemToObject(agent_turns, match->name, t);
        }
        t = next;
    }
}

static void set_step(sp_outcome *out, size_t i, sp_status st, char *error)
{
    out->steps[i].status = st;
    out->steps[i].error = error;
    if (st == SP_FAILED && out->status != SP_FAILED) out->status = SP_FAILED;
}

static char *message_of(tx_buf *b)
{
    char *m = tx_buf_steal(b);
    return m ? m : tx_strdup("the step failed");
}

static void count_metrics(sp_outcome *out, const cJSON *report)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(report, "agents"))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "turns");
        if (cJSON_IsNumber(t)) out->llm_calls += t->valueint;
    }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(report, "iterations");
    out->iterations = cJSON_IsNumber(it) ? it->valueint : 0;
    out->tools_used = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "tools"));
}

static void run_case(const sp_options *o, sp_case *c, int run)
{
    sp_outcome *out = &c->outcomes[run];
    out->steps = tx_calloc(c->n_steps + 1, sizeof *out->steps);
    out->status = SP_PASSED;
    if (!out->steps) {
        out->status = SP_FAILED;
        return;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* Setup, in order; a setup step after the run cannot shape it. */
    sp_setup setup = {cJSON_Duplicate(c->file->params, 1), cJSON_CreateObject(),
                      cJSON_CreateObject(), cJSON_CreateObject(), NULL};
    size_t trigger = c->n_steps;
    bool failed = false, late = false;
    for (size_t i = 0; i < c->n_steps && !failed && !late; i++) {
        const sp_step *st = &c->steps[i];
        if ((st->role == SP_ROLE_TRIGGER || st->role == SP_ROLE_ASSERT) && trigger == c->n_steps)
            trigger = i;
        if (st->role != SP_ROLE_SETUP) continue;
        tx_buf why;
        tx_buf_init(&why, SP_TEXT_MAX);
        if (trigger < i) {
            tx_buf_printf(&why,
                          "this step sets up the run, but the procedure already ran at the "
                          "step on line %u; move it before that step",
                          c->steps[trigger].step->span.start.row + 1);
            set_step(out, i, SP_FAILED, message_of(&why));
            late = true; /* the run goes on with the setup before it; judged up to here */
        } else if (!sp_apply_setup(st, &setup, &why)) {
            set_step(out, i, SP_FAILED, message_of(&why));
            failed = true;
        } else {
            tx_buf_free(&why);
        }
    }

    sup_run_result res = {0};
    bool have_run = false;
    agents_as_declared(c->file->f, setup.agent_turns);
    if (!failed) {
        cJSON *test = cJSON_CreateObject();
        cJSON_AddItemToObject(test, "tool_mocks", cJSON_Duplicate(setup.tool_mocks, 1));
        cJSON_AddBoolToObject(test, "mock_agents", o->mock);
        cJSON *agents = cJSON_AddArrayToObject(test, "mocked_agents");
        const cJSON *t;
        cJSON_ArrayForEach(t, setup.agent_turns)
            cJSON_AddItemToArray(agents, cJSON_CreateString(t->string));
        cJSON_AddItemToObject(test, "human", cJSON_Duplicate(setup.human, 1));
        cJSON_AddItemToObject(test, "steps", custom_steps(c));
        char run_id[40];
        run_id_of(c, run, run_id);
        sp_run_request rq = {
            .f = c->file->f,
            .config = c->file->config,
            .workspace = c->file->workspace,
            .inputs = setup.inputs,
            .test = test,
            .agent_turns = setup.agent_turns,
            .run_id = run_id,
            .mock = o->mock,
            .limits = o->limits,
            .launch = o->launch,
            .launch_ud = o->launch_ud,
            .pool = o->pool,
        };
        sp_run_procedure(&rq, &res);
        have_run = true;
        cJSON_Delete(test);
    }

    /* Judge, in order; after the first failure the rest is skipped. */
    sp_facts facts = {&res, res.report};
    bool expects_failure = scenario_expects_failure(c);
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(res.report, "steps");
    for (size_t i = 0; i < c->n_steps; i++) {
        const sp_step *st = &c->steps[i];
        if (out->steps[i].status == SP_FAILED) {
            failed = true;
            continue;
        }
        if (failed || !have_run) {
            set_step(out, i, SP_SKIPPED, NULL);
            continue;
        }
        tx_buf why;
        tx_buf_init(&why, SP_TEXT_MAX);
        bool ok = true;
        if (st->role == SP_ROLE_CUSTOM) {
            const cJSON *r = NULL, *e;
            cJSON_ArrayForEach(e, custom)
            {
                const cJSON *idx = cJSON_GetObjectItemCaseSensitive(e, "index");
                if (cJSON_IsNumber(idx) && (size_t)idx->valuedouble == i) r = e;
            }
            if (!r) {
                ok = false;
                if (!res.report)
                    tx_buf_printf(&why, "the step did not run: the run ended first (%s)",
                                  hl_json_str(res.error, "message")
                                      ? hl_json_str(res.error, "message")
                                      : "no report");
                else
                    tx_buf_puts(&why, "the step did not run: the procedure was skipped");
            } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
                ok = false;
                tx_buf_puts(&why, hl_json_str(r, "error") ? hl_json_str(r, "error") : "failed");
            }
        } else if (st->role == SP_ROLE_ASSERT && !st->handler) {
            ok = false;
            tx_buf_puts(&why, "undefined step");
        } else if (st->role == SP_ROLE_ASSERT || st->role == SP_ROLE_TRIGGER) {
            ok = sp_judge(st, &facts, expects_failure, &why);
        }
        if (ok) {
            tx_buf_free(&why);
            set_step(out, i, SP_PASSED, NULL);
        } else {
            set_step(out, i, SP_FAILED, message_of(&why));
            failed = true;
        }
    }
    count_metrics(out, res.report);
    /* The procedure raised and the scenario failed: say what it raised. */
    if (have_run && res.status == SUP_FAILED && out->status == SP_FAILED && !expects_failure &&
        cJSON_IsObject(res.error))
        out->error = cJSON_Duplicate(res.error, 1);
    sup_run_result_free(&res);
    cJSON_Delete(setup.inputs);
    cJSON_Delete(setup.tool_mocks);
    cJSON_Delete(setup.agent_turns);
    cJSON_Delete(setup.human);
    tx_free(setup.when_message);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

typedef struct {
    void (*job)(void *ud, size_t i);
    void *ud;
    const char *what;
    bool progress;
    size_t total;
    atomic_size_t next, done;
    pthread_mutex_t lock;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->total || sup_interrupted()) break;
        p->job(p->ud, i);
        size_t done = atomic_fetch_add(&p->done, 1) + 1;
        if (p->progress) {
            pthread_mutex_lock(&p->lock);
            fprintf(stderr, "\r\033[K%s: %zu/%zu", p->what, done, p->total);
            fflush(stderr);
            pthread_mutex_unlock(&p->lock);
        }
    }
    return NULL;
}

size_t sp_parallel(size_t total, int jobs, const char *what, bool progress,
                   void (*job)(void *ud, size_t i), void *ud)
{
    pool p = {.job = job, .ud = ud, .what = what, .progress = progress, .total = total};
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    pthread_mutex_init(&p.lock, NULL);
    struct sigaction old_int, old_term;
    sup_catch_interrupts(&old_int, &old_term);
    if (jobs < 1) jobs = 1;
    if ((size_t)jobs > total) jobs = total ? (int)total : 1;
    pthread_t *threads = tx_calloc((size_t)jobs, sizeof *threads);
    int started = 0;
    if (threads) {
        /* Each job blocks on its child process; big stacks are not needed. */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1u << 20);
        for (int i = 1; i < jobs; i++) {
            if (pthread_create(&threads[i], &attr, worker, &p) != 0) break;
            started++;
        }
        pthread_attr_destroy(&attr);
    }
    worker(&p);
    for (int i = 1; i <= started; i++)
        pthread_join(threads[i], NULL);
    tx_free(threads);
    if (progress) fprintf(stderr, "\r\033[K");
    sup_release_interrupts(&old_int, &old_term);
    pthread_mutex_destroy(&p.lock);
    size_t ran = atomic_load(&p.done);
    return ran;
}

typedef struct {
    sp_suite *s;
    const sp_options *o;
} suite_run;

static void suite_job(void *ud, size_t i)
{
    suite_run *r = ud;
    size_t runs = (size_t)r->o->runs;
    run_case(r->o, &r->s->cases[i / runs], (int)(i % runs));
}

tx_status sp_suite_run(sp_suite *s, const sp_options *o)
{
    suite_run r = {s, o};
    size_t total = s->n_cases * (size_t)o->runs;
    size_t ran = sp_parallel(total, o->jobs, "tactus test", o->progress, suite_job, &r);
    /* Jobs never started (an interrupt) are reported skipped, not passed. */
    for (size_t i = 0; i < s->n_cases; i++)
        for (int k = 0; k < o->runs; k++)
            if (!s->cases[i].outcomes[k].steps) s->cases[i].outcomes[k].status = SP_SKIPPED;
    return ran < total ? TX_EIO : TX_OK;
}

bool sp_suite_passed(const sp_suite *s)
{
    for (size_t i = 0; i < s->n_cases; i++)
        for (int r = 0; r < s->cases[i].runs; r++)
            if (s->cases[i].outcomes[r].status != SP_PASSED) return false;
    return true;
}

void sp_suite_write(const sp_suite *s, const sp_options *o, sp_format format, FILE *out, bool color)
{
    switch (format) {
    case SP_FORMAT_JSON:
        sp_write_json(s->cases, s->n_cases, o, out);
        break;
    case SP_FORMAT_JUNIT:
        sp_write_junit(s->cases, s->n_cases, o, out);
        break;
    default:
        sp_write_pretty(s->cases, s->n_cases, o, out, color);
        break;
    }
}

void sp_suite_free(sp_suite *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_cases; i++)
        case_free(&s->cases[i]);
    tx_free(s->cases);
    for (size_t i = 0; i < s->n_files; i++) {
        tx_free(s->files[i]->workspace);
        cJSON_Delete(s->files[i]->params);
        tx_free(s->files[i]);
    }
    tx_free(s->files);
    tx_free(s);
}
