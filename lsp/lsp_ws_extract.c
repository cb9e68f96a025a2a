/*
 * lsp_ws_extract.c - what the workspace index keeps of a file: it is read,
 * analysed with the indexer's own frontend and checker, and reduced to its
 * declared names, the global names its code uses, the modules it requires
 * and its diagnostics, with positions already in the client's encoding;
 * the model itself is freed at once (bench/lsp: bytes per file).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "lsp_internal.h"

#define LSP_WS_MAX_FILE (16u * 1024u * 1024u)

/* ---- extracting what is kept
 * ------------------------------------------------------------------------ */

static lsp_ws_range range_of(const lsp_view *v, uint32_t s, uint32_t e)
{
    lsp_pos a = lsp_pos_of(v, s), b = lsp_pos_of(v, e < s ? s : e);
    return (lsp_ws_range){a.line, a.character, b.line, b.character};
}

typedef struct {
    lsp_ws_file *f;
    const lsp_analysis *a;
    lsp_view v;
    size_t cap_syms, cap_refs;
    bool oom;
} extract;

static const char *keep(extract *x, const char *s)
{
    char *c = tx_arena_strndup(&x->f->arena, s, strlen(s));
    if (!c) x->oom = true;
    return c;
}

/* The name's own bytes inside its span (strings: without the quotes). */
static void name_bytes(const lsp_analysis *a, tx_span sp, const char *name, uint32_t *s,
                       uint32_t *e)
{
    *s = sp.start_byte;
    *e = sp.end_byte;
    size_t n = strlen(name);
    for (uint32_t i = sp.start_byte; i + n <= sp.end_byte && i + n <= a->len; i++)
        if (memcmp(a->src + i, name, n) == 0) {
            *s = i;
            *e = i + (uint32_t)n;
            return;
        }
}

static void add_ws_sym(extract *x, lsp_sym_kind kind, const char *name, tx_span name_span,
                       tx_span span, const char *container)
{
    if (!name || !name[0]) return;
    lsp_ws_file *f = x->f;
    if (f->n_syms == x->cap_syms) {
        size_t cap = x->cap_syms ? x->cap_syms * 2 : 16;
        lsp_ws_symbol *p = tx_realloc(f->syms, cap * sizeof *p);
        if (!p) {
            x->oom = true;
            return;
        }
        f->syms = p;
        x->cap_syms = cap;
    }
    uint32_t s, e;
    name_bytes(x->a, name_span, name, &s, &e);
    lsp_ws_symbol *y = &f->syms[f->n_syms++];
    y->name = keep(x, name);
    y->container = container;
    y->kind = (uint8_t)kind;
    y->at = range_of(&x->v, s, e);
    y->full = range_of(&x->v, span.start_byte, span.end_byte);
}

static void add_ws_ref(extract *x, const char *name, size_t root, uint32_t at)
{
    lsp_ws_file *f = x->f;
    if (f->n_refs == x->cap_refs) {
        size_t cap = x->cap_refs ? x->cap_refs * 2 : 64;
        lsp_ws_ref *p = tx_realloc(f->refs, cap * sizeof *p);
        if (!p) {
            x->oom = true;
            return;
        }
        f->refs = p;
        x->cap_refs = cap;
    }
    char *nm = tx_arena_strndup(&f->arena, name, root);
    if (!nm) {
        x->oom = true;
        return;
    }
    lsp_ws_ref *r = &f->refs[f->n_refs++];
    r->name = nm;
    r->at = range_of(&x->v, at, at + (uint32_t)root);
}

static void schema_syms(extract *x, const fe_schema *sc, const char *owner)
{
    for (const fe_field *fd = sc->fields; fd; fd = fd->next)
        add_ws_sym(x, LSP_SYM_FIELD, fd->name, fd->name_span, fd->name_span, owner);
}

static lsp_ws_file *extract_file(lsp_server *s, const char *path, const lsp_analysis *a,
                                 uint64_t id)
{
    lsp_ws_file *f = tx_calloc(1, sizeof *f);
    if (!f) return NULL;
    tx_arena_init(&f->arena);
    f->path = tx_strdup(path);
    f->result_id = id;
    extract x = {.f = f, .a = a, .v = {a->src, a->len, &a->lines, s->enc}};
    const fe_file *m = a->file;
    for (const fe_procedure *p = m ? m->procedures : NULL; p; p = p->next) {
        const char *name = keep(&x, p->name);
        if (p->named) add_ws_sym(&x, LSP_SYM_PROCEDURE, p->name, p->name_span, p->span, NULL);
        schema_syms(&x, &p->input, name);
        schema_syms(&x, &p->output, name);
    }
    for (const fe_agent *ag = m ? m->agents : NULL; ag; ag = ag->next)
        add_ws_sym(&x, LSP_SYM_AGENT, ag->name, ag->name_span, ag->span, NULL);
    for (const fe_tool *t = m ? m->tools : NULL; t; t = t->next)
        add_ws_sym(&x, t->kind == FE_TOOL_TOOLSET ? LSP_SYM_TOOLSET : LSP_SYM_TOOL, t->name,
                   t->name_span, t->span, NULL);
    for (const fe_model *md = m ? m->models : NULL; md; md = md->next)
        add_ws_sym(&x, LSP_SYM_MODEL, md->name, md->name_span, md->span, NULL);
    for (const fe_spec *sp = m ? m->specs : NULL; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next)
            if (sc->name[0])
                add_ws_sym(&x, LSP_SYM_SCENARIO, sc->name, sc->name_span, sc->span,
                           sp->feature_name);
    size_t n_req = 0;
    for (const fe_ref *r = m ? m->refs : NULL; r; r = r->next) {
        size_t root = strcspn(r->name, ".");
        if (root > 0 && strncmp(a->src + r->span.start_byte, r->name, root) == 0)
            add_ws_ref(&x, r->name, root, r->span.start_byte);
        if (r->is_call && strcmp(r->name, "require") == 0) n_req++;
    }
    f->requires = n_req ? tx_calloc(n_req, sizeof *f->requires) : NULL;
    for (const fe_ref *r = m ? m->refs : NULL; r && f->requires; r = r->next) {
        if (!r->is_call || strcmp(r->name, "require") != 0) continue;
        const fe_value *arg = fe_value_at(r->call, 0);
        if (!arg || arg->kind != FE_STRING) continue;
        char *p = lsp_ws_module_path(path, arg->str, arg->str_len);
        if (p) {
            f->requires[f->n_requires++] = keep(&x, p);
            tx_free(p);
        }
    }
    f->diags = a->diags.len ? tx_calloc(a->diags.len, sizeof *f->diags) : NULL;
    for (size_t i = 0; f->diags && i < a->diags.len; i++) {
        const tx_diag *d = &a->diags.items[i];
        lsp_ws_diag *w = &f->diags[f->n_diags++];
        w->code = d->code;
        w->message = keep(&x, d->message);
        w->severity = d->severity == TX_SEV_ERROR ? 1 : d->severity == TX_SEV_WARNING ? 2 : 3;
        w->at = range_of(&x.v, d->span.start_byte, d->span.end_byte);
        if (d->has_related) {
            w->related_message = keep(&x, d->related_message ? d->related_message : "");
            w->related = range_of(&x.v, d->related.start_byte, d->related.end_byte);
        }
    }
    if (x.oom || !f->path || (a->diags.len && !f->diags)) {
        lsp_ws_file_free(f);
        return NULL;
    }
    /* Trim the growth slack: this stays in memory for the whole session. */
    lsp_ws_symbol *ys = f->n_syms ? tx_realloc(f->syms, f->n_syms * sizeof *f->syms) : NULL;
    if (ys) f->syms = ys;
    lsp_ws_ref *rs = f->n_refs ? tx_realloc(f->refs, f->n_refs * sizeof *f->refs) : NULL;
    if (rs) f->refs = rs;
    return f;
}

/* Reads, analyses and extracts one file (any thread, its own fe/ck). */
lsp_ws_file *lsp_ws_index_one(lsp_server *s, fe_context *fe, ck_checker *ck, const char *path,
                              uint64_t id)
{
    char *src;
    size_t len;
    int err_no;
    if (tx_read_file(path, LSP_WS_MAX_FILE, &src, &len, &err_no) != TX_OK) return NULL;
    lsp_analysis *a = lsp_analyse_text(fe, ck, NULL, path, src, len);
    if (!a) return NULL;
    lsp_ws_file *f = extract_file(s, path, a, id);
    lsp_analysis_free(a);
    return f;
}
