/*
 * lsp_nav_model.c - the navigation index's part from the declaration model
 * (fe_file of the latest parseable analysis): procedures, agents, tools,
 * toolsets, models, fields and custom steps, and the places a name is
 * written as text: Agent "x" {...}, granted tool names in strings, Mocks
 * keys, Gherkin steps ("the agent \"x\" responds ...", "the x tool should
 * be called", "the input k is ..."), evaluation inputs and expected outputs,
 * keys of returned tables. Its positions are mapped through the edits made
 * since it was built.
 */
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

/* Where the name is written inside a span of the analysed text: the span
 * itself for an identifier, the content for "x", 'x', [[x]] and ["x"]. */
static void name_range(const lsp_analysis *a, tx_span sp, uint32_t *s, uint32_t *e)
{
    const char *src = a->src;
    uint32_t i = sp.start_byte, j = sp.end_byte;
    if (j > a->len) j = (uint32_t)a->len;
    if (i >= j) {
        *s = *e = i;
        return;
    }
    if (src[i] == '[') {
        uint32_t k = i + 1;
        while (k < j && src[k] == '=')
            k++;
        if (k < j && src[k] == '[') { /* long string [==[x]==] */
            uint32_t level = k - i - 1;
            i = k + 1;
            if (j >= i + level + 2) j -= level + 2;
        } else { /* ["x"] key */
            k = i + 1;
            while (k < j && (src[k] == ' ' || src[k] == '\t'))
                k++;
            if (k < j && (src[k] == '"' || src[k] == '\'')) {
                char q = src[k];
                const char *close = memchr(src + k + 1, q, j - k - 1);
                i = k + 1;
                j = close ? (uint32_t)(close - src) : i;
            }
        }
    } else if ((src[i] == '"' || src[i] == '\'') && j - i >= 2 && src[j - 1] == src[i]) {
        i++;
        j--;
    }
    *s = i;
    *e = j;
}

/* Maps a range of the model's text to the current text. */
static bool mapped(lsp_nav_build *b, uint32_t *s, uint32_t *e)
{
    return lsp_doc_map(b->d, s, e);
}

static int model_decl(lsp_nav_build *b, lsp_sym_kind kind, const char *name, tx_span name_span,
                      tx_span span, const void *decl, bool renamable)
{
    if (!name || !name[0]) return -1;
    int k = lsp_nav_add_sym(b, kind, name, strlen(name));
    if (k < 0) return -1;
    lsp_symbol *y = &b->n->syms[k];
    y->decl = decl;
    y->renamable = renamable;
    uint32_t s, e;
    name_range(b->a, name_span, &s, &e);
    /* The name must be written there (not the whole call of an unnamed main). */
    bool written = e > s && e - s == strlen(name) && memcmp(b->a->src + s, name, e - s) == 0;
    uint32_t fs = span.start_byte, fe = span.end_byte;
    if (written && mapped(b, &s, &e)) {
        y->name_start = s;
        y->name_end = e;
        y->has_decl = true;
        lsp_nav_add_occ(b, s, e, k, LSP_OCC_DECL);
    }
    if (mapped(b, &fs, &fe)) {
        y->start = fs;
        y->end = fe;
    } else {
        y->start = y->name_start;
        y->end = y->name_end;
    }
    if (kind != LSP_SYM_FIELD && kind != LSP_SYM_STEP &&
        !tx_map_get(&b->by_name, y->name, strlen(y->name)))
        if (tx_map_put(&b->by_name, y->name, strlen(y->name), (void *)(intptr_t)(k + 1)) != TX_OK)
            b->oom = true;
    return k;
}

static void schema_fields(lsp_nav_build *b, int owner, const char *schema, const fe_schema *sc)
{
    for (const fe_field *f = sc->fields; f; f = f->next) {
        int k = model_decl(b, LSP_SYM_FIELD, f->name, f->name_span,
                           f->decl ? f->decl->span : f->name_span, f, true);
        if (k < 0) continue;
        b->n->syms[k].owner = owner;
        b->n->syms[k].schema = schema;
        if (f->decl) { /* the whole `name = field.x{...}` */
            uint32_t s = f->name_span.start_byte, e = f->decl->span.end_byte;
            if (mapped(b, &s, &e)) b->n->syms[k].start = s, b->n->syms[k].end = e;
        }
    }
}

/* A mention of symbol k written at span of the model's text (a string or key). */
static void mention(lsp_nav_build *b, int k, tx_span sp, lsp_occ_role role)
{
    if (k < 0) return;
    uint32_t s, e;
    name_range(b->a, sp, &s, &e);
    const char *nm = b->n->syms[k].name;
    if (e - s != strlen(nm) || memcmp(b->a->src + s, nm, e - s) != 0) return;
    if (mapped(b, &s, &e)) lsp_nav_add_occ(b, s, e, k, role);
}

/* A mention at a byte range of the model's text (a Gherkin group). */
static void mention_at(lsp_nav_build *b, int k, uint32_t s, uint32_t e)
{
    if (k < 0 || !mapped(b, &s, &e)) return;
    lsp_nav_add_occ(b, s, e, k, LSP_OCC_TEXT);
}

static const fe_procedure *main_procedure(const fe_file *f)
{
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) return p;
    return NULL;
}

static int sym_of_decl(lsp_nav_build *b, const void *decl)
{
    for (size_t i = 0; i < b->n->n_syms; i++)
        if (b->n->syms[i].decl == decl) return (int)i;
    return -1;
}

/* Steps of the Specifications: names inside them refer to declarations. */
static void spec_mentions(lsp_nav_build *b)
{
    const fe_file *f = b->a->file;
    const fe_procedure *mainp = main_procedure(f);
    int main_k = mainp ? sym_of_decl(b, mainp) : -1;
    size_t n_steps;
    const ck_step_info *steps = ck_steps(&n_steps);
    for (const fe_spec *sp = f->specs; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next)
            for (const fe_step *st = sc->steps; st; st = st->next) {
                size_t len = strlen(st->text);
                if (len != st->span.end_byte - st->span.start_byte) continue;
                bool custom = false;
                for (const fe_custom_step *cs = f->custom_steps; cs && !custom; cs = cs->next)
                    if (strcmp(cs->text, st->text) == 0) {
                        custom = true;
                        mention_at(b, sym_of_decl(b, cs), st->span.start_byte, st->span.end_byte);
                    }
                ck_step_match_result m;
                if (custom || !ck_step_match(b->s->ck, st->text, len, &m)) continue;
                const char *tpl = steps[m.index].template;
                int tool_k = -1;
                for (size_t g = 0; g < m.n_groups; g++) {
                    const char *gn = m.groups[g].name;
                    const char *gt = st->text + m.groups[g].start;
                    size_t gl = m.groups[g].len;
                    uint32_t gs = st->span.start_byte + (uint32_t)m.groups[g].start;
                    int k = -1;
                    if (!strcmp(gn, "agent") || !strcmp(gn, "tool") || !strcmp(gn, "model") ||
                        !strcmp(gn, "dep")) {
                        k = lsp_nav_by_name(b, gt, gl);
                        if (!strcmp(gn, "tool")) tool_k = k;
                    } else if (!strcmp(gn, "key")) {
                        const char *schema = !strncmp(tpl, "the input", 9)     ? "input"
                                             : !strncmp(tpl, "the output", 10) ? "output"
                                             : !strncmp(tpl, "the state", 9)   ? "state"
                                                                               : NULL;
                        if (schema && main_k >= 0) k = lsp_nav_field_of(b, main_k, schema, gt, gl);
                    } else if (!strcmp(gn, "param")) {
                        if (strstr(tpl, "{tool} tool should be called with") && tool_k >= 0)
                            k = lsp_nav_field_of(b, tool_k, "input", gt, gl);
                        else if (main_k >= 0 && !strstr(tpl, "{tool}"))
                            k = lsp_nav_field_of(b, main_k, "input", gt, gl);
                    }
                    if (k >= 0) mention_at(b, k, gs, gs + (uint32_t)gl);
                }
            }
}

static void table_key_mentions(lsp_nav_build *b, const fe_value *table, int owner,
                               const char *schema)
{
    if (!table || table->kind != FE_TABLE || owner < 0) return;
    for (const fe_entry *e = table->entries; e; e = e->next)
        if (e->key)
            mention(b, lsp_nav_field_of(b, owner, schema, e->key, strlen(e->key)), e->key_span,
                    LSP_OCC_TEXT);
}

void lsp_nav_model_part(lsp_nav_build *b)
{
    const fe_file *f = b->a->file;
    for (const fe_procedure *p = f->procedures; p; p = p->next) {
        int k = model_decl(b, LSP_SYM_PROCEDURE, p->name, p->name_span, p->span, p, p->named);
        if (k < 0) continue;
        schema_fields(b, k, "input", &p->input);
        schema_fields(b, k, "output", &p->output);
        schema_fields(b, k, "state", &p->state);
        if (p->script_mode) {
            schema_fields(b, k, "input", &f->script_input);
            schema_fields(b, k, "output", &f->script_output);
        }
        /* Keys of literal returns are output fields. */
        for (const fe_return *r = p->returns; r; r = r->next)
            table_key_mentions(b, r->value, k, "output");
    }
    for (const fe_agent *a = f->agents; a; a = a->next)
        model_decl(b, LSP_SYM_AGENT, a->name, a->name_span, a->span, a, true);
    for (const fe_tool *t = f->tools; t; t = t->next) {
        lsp_sym_kind kind = t->kind == FE_TOOL_TOOLSET  ? LSP_SYM_TOOLSET
                            : t->kind == FE_TOOL_STDLIB ? LSP_SYM_STDLIB_TOOL
                                                        : LSP_SYM_TOOL;
        int k = model_decl(b, kind, t->name, t->name_span, t->span, t, true);
        if (k >= 0) schema_fields(b, k, "input", &t->input);
    }
    for (const fe_model *m = f->models; m; m = m->next)
        model_decl(b, LSP_SYM_MODEL, m->name, m->name_span, m->span, m, true);
    for (const fe_custom_step *cs = f->custom_steps; cs; cs = cs->next)
        model_decl(b, LSP_SYM_STEP, cs->text, cs->span, cs->span, cs, false);

    /* Granted tools written as strings: tools = {"search"}. */
    for (const fe_agent *a = f->agents; a; a = a->next)
        if (a->tools && a->tools->kind == FE_TABLE)
            for (const fe_entry *e = a->tools->entries; e; e = e->next)
                if (e->value->kind == FE_STRING)
                    mention(b, lsp_nav_by_name(b, e->value->str, e->value->str_len), e->value->span,
                            LSP_OCC_TEXT);
    for (const fe_mocks *mk = f->mocks; mk; mk = mk->next)
        if (mk->table && mk->table->kind == FE_TABLE)
            for (const fe_entry *e = mk->table->entries; e; e = e->next)
                if (e->key)
                    mention(b, lsp_nav_by_name(b, e->key, strlen(e->key)), e->key_span,
                            LSP_OCC_TEXT);
    const fe_procedure *mainp = main_procedure(f);
    int main_k = mainp ? sym_of_decl(b, mainp) : -1;
    for (const fe_evaluation *ev = f->evaluations; ev; ev = ev->next) {
        const fe_value *ds = fe_value_get(ev->config, "dataset");
        if (!ds || ds->kind != FE_TABLE) continue;
        for (const fe_entry *e = ds->entries; e; e = e->next) {
            if (e->key || e->value->kind != FE_TABLE) continue;
            table_key_mentions(b, fe_value_get(e->value, "inputs"), main_k, "input");
            table_key_mentions(b, fe_value_get(e->value, "expected_output"), main_k, "output");
        }
    }
    spec_mentions(b);
}
