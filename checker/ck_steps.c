/*
 * ck_steps.c - the built-in Gherkin step patterns, in registration order.
 *
 * Source of truth: inventory C.2 (newest builtin.py, then mock_steps.py, then
 * the stage steps of the older set). Matching is full-string and
 * case-insensitive, as Behave's parse matcher effectively made it; the first
 * registered pattern wins, so order matters and is part of the contract.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <string.h>

#include "ck_internal.h"

/* PCRE2's JIT code is opaque to valgrind, which then reports false errors;
 * under valgrind the interpreter is used (same results, a little slower). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static const ck_step_info step_table[] = {
    /* Tool */
    {"the (?P<tool>[-\\w]+) tool should be called", "the {tool} tool should be called", CK_STEP_BUILTIN},
    {"the (?P<tool>[-\\w]+) tool should not be called", "the {tool} tool should not be called", CK_STEP_BUILTIN},
    {"the (?P<tool>[-\\w]+) tool should be called at least (?P<n>\\d+) times?", "the {tool} tool should be called at least {n} times", CK_STEP_BUILTIN},
    {"the (?P<tool>[-\\w]+) tool should be called exactly (?P<n>\\d+) times?", "the {tool} tool should be called exactly {n} times", CK_STEP_BUILTIN},
    {"the (?P<tool>[-\\w]+) tool should be called with (?P<param>\\w+)=(?P<value>.+)", "the {tool} tool should be called with {param}={value}", CK_STEP_BUILTIN},
    {"the tool \"(?P<tool>[-\\w]+)\" returns (?P<value>.+)", "the tool \"{tool}\" returns {value}", CK_STEP_BUILTIN},
    /* State */
    {"the state (?P<key>\\w+) should be (?P<value>.+)", "the state {key} should be {value}", CK_STEP_BUILTIN},
    {"the state (?P<key>\\w+) should exist", "the state {key} should exist", CK_STEP_BUILTIN},
    {"the state should contain (?P<key>\\w+)", "the state should contain {key}", CK_STEP_BUILTIN},
    /* Output */
    {"the output should exist", "the output should exist", CK_STEP_BUILTIN},
    {"the output should be (?P<value>.+)", "the output should be {value}", CK_STEP_BUILTIN},
    {"the output should fuzzy match (?P<value>.+) with threshold (?P<threshold>[0-9]*\\.?[0-9]+)", "the output should fuzzy match {value} with threshold {threshold}", CK_STEP_BUILTIN},
    {"the output should fuzzy match (?P<value>.+)", "the output should fuzzy match {value}", CK_STEP_BUILTIN},
    {"the output (?P<key>\\w+) should be (?P<value>.+)", "the output {key} should be {value}", CK_STEP_BUILTIN},
    {"the output (?P<key>\\w+) should not be (?P<value>.+)", "the output {key} should not be {value}", CK_STEP_BUILTIN},
    {"the output (?P<key>\\w+) should exist", "the output {key} should exist", CK_STEP_BUILTIN},
    {"the output should contain (?P<key>\\w+)", "the output should contain {key}", CK_STEP_BUILTIN},
    /* Completion */
    {"the procedure has started", "the procedure has started", CK_STEP_BUILTIN},
    {"the procedure should complete successfully", "the procedure should complete successfully", CK_STEP_BUILTIN},
    {"the procedure should fail", "the procedure should fail", CK_STEP_BUILTIN},
    {"the stop reason should be (?P<reason>.+)", "the stop reason should be {reason}", CK_STEP_BUILTIN},
    {"the stop reason should contain (?P<text>.+)", "the stop reason should contain {text}", CK_STEP_BUILTIN},
    /* Iterations */
    {"the total iterations should be less than (?P<n>\\d+)", "the total iterations should be less than {n}", CK_STEP_BUILTIN},
    {"the total iterations should be between (?P<min>\\d+) and (?P<max>\\d+)", "the total iterations should be between {min} and {max}", CK_STEP_BUILTIN},
    {"the agent should take at least (?P<n>\\d+) turns?", "the agent should take at least {n} turns", CK_STEP_BUILTIN},
    /* Parameters / inputs */
    {"the (?P<param>\\w+) parameter is (?P<value>.+)", "the {param} parameter is {value}", CK_STEP_BUILTIN},
    {"the agent'?s? context should include (?P<text>.+)", "the agent's context should include {text}", CK_STEP_BUILTIN},
    {"the input (?P<key>\\w+) is \"(?P<value>.+)\"", "the input {key} is \"{value}\"", CK_STEP_BUILTIN},
    {"the input (?P<key>\\w+) is \\[(?P<values>.+)\\]", "the input {key} is [{values}]", CK_STEP_BUILTIN},
    {"the input (?P<key>\\w+) is (?P<value>-?\\d+\\.?\\d*)", "the input {key} is {number}", CK_STEP_BUILTIN},
    /* Agent execution and inline mocks */
    {"the (?P<agent>\\w+) agent takes turns?", "the {agent} agent takes turn", CK_STEP_BUILTIN},
    {"the agent \"(?P<agent>[^\"]+)\" responds with (?P<message>.+)", "the agent \"{agent}\" responds with {message}", CK_STEP_BUILTIN},
    {"the agent \"(?P<agent>[^\"]+)\" calls tool \"(?P<tool>[^\"]+)\" with args (?P<args>.+)", "the agent \"{agent}\" calls tool \"{tool}\" with args {args}", CK_STEP_BUILTIN},
    {"the agent \"(?P<agent>[^\"]+)\" returns data (?P<data>.+)", "the agent \"{agent}\" returns data {data}", CK_STEP_BUILTIN},
    {"the message is (?P<message>.+)", "the message is {message}", CK_STEP_BUILTIN},
    {"the procedure runs?", "the procedure runs", CK_STEP_BUILTIN},
    /* Regex */
    {"the output (?P<key>\\w+) should match pattern \"(?P<pattern>.+)\"", "the output {key} should match pattern \"{regex}\"", CK_STEP_BUILTIN},
    {"the state (?P<key>\\w+) should match pattern \"(?P<pattern>.+)\"", "the state {key} should match pattern \"{regex}\"", CK_STEP_BUILTIN},
    {"the stop reason should match pattern \"(?P<pattern>.+)\"", "the stop reason should match pattern \"{regex}\"", CK_STEP_BUILTIN},
    {"the (?P<tool>[-\\w]+) tool should be called with (?P<param>\\w+) matching pattern \"(?P<pattern>.+)\"", "the {tool} tool should be called with {param} matching pattern \"{regex}\"", CK_STEP_BUILTIN},
    /* Model */
    {"the (?P<model>\\w+) model predicts", "the {model} model predicts", CK_STEP_BUILTIN},
    /* Fuzzy (percent) */
    {"the output (?P<key>\\w+) should be similar to \"(?P<text>.+)\"", "the output {key} should be similar to \"{text}\"", CK_STEP_BUILTIN},
    {"the output (?P<key>\\w+) should be similar to \"(?P<text>.+)\" with (?P<threshold>\\d+)% similarity", "the output {key} should be similar to \"{text}\" with {n}% similarity", CK_STEP_BUILTIN},
    {"the state (?P<key>\\w+) should be similar to \"(?P<text>.+)\"", "the state {key} should be similar to \"{text}\"", CK_STEP_BUILTIN},
    {"the state (?P<key>\\w+) should be similar to \"(?P<text>.+)\" with (?P<threshold>\\d+)% similarity", "the state {key} should be similar to \"{text}\" with {n}% similarity", CK_STEP_BUILTIN},
    /* Mock and dependency steps (mock_steps.py, parse format as regexes) */
    {"the (?P<dep>.+?) returns '(?P<response>.*)'", "the {dependency} returns '{response}'", CK_STEP_MOCK},
    {"the (?P<dep>.+?) returns '(?P<response>.*)' for (?P<path>.+)", "the {dependency} returns '{response}' for {path}", CK_STEP_MOCK},
    {"the (?P<dep>.+?) returns '(?P<response>.*)' with status (?P<status>\\d+)", "the {dependency} returns '{response}' with status {code}", CK_STEP_MOCK},
    {"Human\\.approve will return (?P<value>.+)", "Human.approve will return {true|false}", CK_STEP_MOCK},
    {"Human\\.input will return '(?P<value>.*)'", "Human.input will return '{text}'", CK_STEP_MOCK},
    {"Human\\.review will return (?P<value>.+)", "Human.review will return {value}", CK_STEP_MOCK},
    {"when asked \"(?P<prefix>[^\"]*)\" return the value '(?P<value>.*)'", "when asked \"{message prefix}\" return the value '{text}'", CK_STEP_MOCK},
    {"when asked \"(?P<prefix>[^\"]*)\" return (?P<value>.+)", "when asked \"{message prefix}\" return {value}", CK_STEP_MOCK},
    {"the user presses no", "the user presses no", CK_STEP_MOCK},
    {"the user presses yes", "the user presses yes", CK_STEP_MOCK},
    {"the user enters '(?P<value>.*)'", "the user enters '{text}'", CK_STEP_MOCK},
    {"the (?P<dep>.+?) should have been called", "the {dependency} should have been called", CK_STEP_MOCK},
    {"the (?P<dep>.+?) should not have been called", "the {dependency} should not have been called", CK_STEP_MOCK},
    {"the (?P<dep>.+?) should have been called (?P<count>\\d+) times", "the {dependency} should have been called {n} times", CK_STEP_MOCK},
    /* Stage steps (older builtin set; still used by v0.10-era files) */
    {"the stage is (?P<stage>\\w+)", "the stage is {stage}", CK_STEP_STAGE},
    {"the stage should be (?P<stage>\\w+)", "the stage should be {stage}", CK_STEP_STAGE},
    {"the stage should transition from (?P<from>\\w+) to (?P<to>\\w+)", "the stage should transition from {stage} to {stage}", CK_STEP_STAGE},
    {"we are in stage (?P<stage>\\w+)", "we are in stage {stage}", CK_STEP_STAGE},
};

#define N_STEPS (sizeof step_table / sizeof step_table[0])

const ck_step_info *ck_steps(size_t *count)
{
    *count = N_STEPS;
    return step_table;
}

/* Results of ck_step_match by step text. A file's steps repeat, and the
 * language server checks the same document after every keystroke: each
 * distinct text is matched against the patterns once. Bounded: the cache
 * is emptied when it reaches CK_STEP_CACHE texts. */
#define CK_STEP_CACHE 8192

typedef struct {
    char *text; /* owned */
    size_t len;
    bool matched;
    ck_step_match_result result;
} step_cached;

struct ck_steps_compiled {
    pcre2_code *code[N_STEPS];
    pcre2_match_data *md;
    tx_map cache; /* text -> step_cached */
    step_cached **entries;
    size_t n_entries;
};

static void cache_clear(ck_steps_compiled *c)
{
    for (size_t i = 0; i < c->n_entries; i++) {
        tx_free(c->entries[i]->text);
        tx_free(c->entries[i]);
    }
    c->n_entries = 0;
    tx_map_free(&c->cache);
    tx_map_init(&c->cache);
}

ck_steps_compiled *ck_steps_compile(void)
{
    ck_steps_compiled *c = tx_calloc(1, sizeof *c);
    if (!c) return NULL;
    for (size_t i = 0; i < N_STEPS; i++) {
        int err;
        PCRE2_SIZE off;
        /* Anchored at both ends: full-string matching (see file comment). */
        c->code[i] = pcre2_compile((PCRE2_SPTR)step_table[i].pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_CASELESS |
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                                   &err, &off, NULL);
        if (!c->code[i]) {
            ck_steps_free(c);
            return NULL;
        }
        /* Every step is tried against up to ~60 patterns: JIT makes that cheap.
         * Where JIT is unavailable the interpreter is used; same results. */
        if (!RUNNING_ON_VALGRIND) pcre2_jit_compile(c->code[i], PCRE2_JIT_COMPLETE);
    }
    c->md = pcre2_match_data_create(2 * (CK_STEP_MAX_GROUPS + 1), NULL);
    if (!c->md) {
        ck_steps_free(c);
        return NULL;
    }
    return c;
}

void ck_steps_free(ck_steps_compiled *c)
{
    if (!c) return;
    cache_clear(c);
    tx_map_free(&c->cache);
    tx_free(c->entries);
    for (size_t i = 0; i < N_STEPS; i++) pcre2_code_free(c->code[i]);
    pcre2_match_data_free(c->md);
    tx_free(c);
}

static void fill_groups(const pcre2_code *code, pcre2_match_data *md, ck_step_match_result *m)
{
    uint32_t count = 0, entry_size = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    m->n_groups = 0;
    for (uint32_t i = 0; i < count && m->n_groups < CK_STEP_MAX_GROUPS; i++) {
        PCRE2_SPTR e = table + i * entry_size;
        uint32_t n = (uint32_t)((e[0] << 8) | e[1]);
        if (n >= pairs || ov[2 * n] == PCRE2_UNSET) continue;
        m->groups[m->n_groups].name = (const char *)(e + 2);
        m->groups[m->n_groups].start = ov[2 * n];
        m->groups[m->n_groups].len = ov[2 * n + 1] - ov[2 * n];
        m->n_groups++;
    }
}

static bool match_patterns(const ck_steps_compiled *c, const char *text, size_t len, ck_step_match_result *m)
{
    m->index = -1;
    m->n_groups = 0;
    for (size_t i = 0; i < N_STEPS; i++) {
        int rc = pcre2_match(c->code[i], (PCRE2_SPTR)text, len, 0, 0, c->md, NULL);
        if (rc >= 0) {
            m->index = (int)i;
            fill_groups(c->code[i], c->md, m);
            return true;
        }
    }
    return false;
}

/* Remembers a result; out of memory, it is simply not remembered. */
static void cache_put(ck_steps_compiled *c, const char *text, size_t len, bool matched,
                      const ck_step_match_result *m)
{
    if (c->n_entries == CK_STEP_CACHE) cache_clear(c);
    if (!c->entries) {
        c->entries = tx_calloc(CK_STEP_CACHE, sizeof *c->entries);
        if (!c->entries) return;
    }
    step_cached *e = tx_malloc(sizeof *e);
    char *copy = e ? tx_strndup(text, len) : NULL;
    if (!copy) {
        tx_free(e);
        return;
    }
    e->text = copy;
    e->len = len;
    e->matched = matched;
    e->result = *m;
    if (tx_map_put(&c->cache, e->text, len, e) != TX_OK) {
        tx_free(copy);
        tx_free(e);
        return;
    }
    c->entries[c->n_entries++] = e;
}

bool ck_step_match(const ck_checker *ck, const char *text, size_t len, ck_step_match_result *m)
{
    ck_steps_compiled *c = ck->steps;
    const step_cached *hit = tx_map_get(&c->cache, text, len);
    if (hit) {
        *m = hit->result;
        return hit->matched;
    }
    bool matched = match_patterns(c, text, len, m);
    cache_put(c, text, len, matched, m);
    return matched;
}

/* Lower-cases and replaces quoted parts and numbers with a placeholder, so
 * that "the output x should be \"hello\"" is near "the output {key} should be
 * {value}" and not near whatever happens to share letters with "hello". */
static size_t skeleton(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 2 < cap; i++) {
        char c = s[i];
        if (c == '"' || c == '\'' || c == '{') {
            char close = c == '{' ? '}' : c;
            size_t j = i + 1;
            while (s[j] && s[j] != close) j++;
            if (s[j]) {
                out[o++] = '#';
                i = j;
                continue;
            }
        }
        if (isdigit((unsigned char)c)) {
            while (isdigit((unsigned char)s[i + 1]) || s[i + 1] == '.') i++;
            out[o++] = '#';
            continue;
        }
        out[o++] = (char)tolower((unsigned char)c);
    }
    out[o] = '\0';
    return o;
}

const char *ck_step_nearest(const ck_checker *ck, const char *text)
{
    (void)ck;
    char a[512], b[512];
    size_t an = skeleton(text, a, sizeof a);
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < N_STEPS; i++) {
        size_t bn = skeleton(step_table[i].template, b, sizeof b);
        size_t d = tx_edit_distance(a, an, b, bn, best_d == (size_t)-1 ? 512 : best_d);
        if (d < best_d) {
            best_d = d;
            best = step_table[i].template;
        }
    }
    return best;
}
