/*
 * evstats.h - the statistics of reliability scoring, shared by `tactus
 * eval` (evals/) and `tactus test --runs` (specs/): pure functions of
 * counts and samples, no I/O, no global state.
 *
 * Every figure here comes with its definition, so that a reader of a
 * report can recompute it (docs/evaluations.md, "How the figures are
 * computed"); the unit test (tests/unit/test_evstats.c) holds each one to
 * reference values computed independently (tests/unit/evstats_reference.py).
 *
 * A run is a Bernoulli trial of a case: passed or not. Counts are doubles
 * so that callers can pass sums without casts; they are whole numbers.
 *
 * Errors: functions that allocate return tx_status (TX_ENOMEM); the others
 * cannot fail. NaN marks "unknown" where a sample may be missing (a cost
 * the broker could not price): summaries skip it and count it.
 */
#ifndef TACTUS_EVSTATS_H
#define TACTUS_EVSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* The resamples of every bootstrap interval, and their seed: fixed, so that
 * the same results always give the same report (issue 16). */
#define ES_BOOTSTRAP_RESAMPLES 10000
#define ES_BOOTSTRAP_SEED      0x7461637475735eedULL

typedef struct {
    double low, high;
} es_interval;

/* ---- the normal distribution ---------------------------------------------------------- */

/* The standard normal quantile Phi^-1(p) for 0 < p < 1 (Wichura's
 * algorithm AS241, about 1e-16 relative error); -inf/+inf at 0 and 1, NaN
 * outside. */
double es_normal_quantile(double p);
/* z of a two-sided interval at `confidence`: Phi^-1((1 + confidence) / 2). */
double es_z(double confidence);

/* ---- proportions ---------------------------------------------------------------------- */

/* The Wilson score interval of `passed` successes in `n` trials at
 * `confidence` (0 < confidence < 1). n = 0 gives [0, 1]: nothing known. */
es_interval es_wilson(double passed, double n, double confidence);
/* Newcombe's hybrid score interval (his method 10) for p1 - p2 of two
 * independent proportions passed1/n1 and passed2/n2, from their Wilson
 * intervals. An empty side gives [-1, 1]. */
es_interval es_newcombe(double passed1, double n1, double passed2, double n2, double confidence);

/* pass@k: the chance that at least one of k runs drawn without replacement
 * from n runs with c passes passes, 1 - C(n-c, k) / C(n, k). */
double es_pass_at_k(unsigned n, unsigned c, unsigned k);
/* pass^k (tau-bench): the chance that all k runs drawn so pass,
 * C(c, k) / C(n, k). Both are NaN when k = 0 or k > n. */
double es_pass_hat_k(unsigned n, unsigned c, unsigned k);
/* A case is flaky when it passed some runs and failed others. */
bool es_flaky(unsigned passed, unsigned n);

/* Builds a run's outcome signature: FNV-1a over the bytes given, starting
 * from ES_SIGNATURE_START (a signature tells outcomes apart; it need not
 * resist anyone). */
#define ES_SIGNATURE_START 0xcbf29ce484222325ULL
uint64_t es_signature(uint64_t h, const void *data, size_t n);
/* The share of runs whose outcome signature equals the most common one
 * (the original's consistency score); 1 for no runs. Signatures are hashes
 * of what a run did (which steps or evaluators passed, and the output). */
double es_consistency(const uint64_t *signatures, size_t n);

/* ---- samples -------------------------------------------------------------------------- */

typedef struct {
    size_t n;       /* known values */
    size_t unknown; /* NaN values, skipped */
    double mean, p50, p95, max;
} es_summary;

/* Percentiles by linear interpolation between order statistics (Hyndman
 * and Fan's type 7, as numpy and R default): p50 of 1, 2, 3, 4 is 2.5.
 * All zero when no value is known. TX_ENOMEM when the sorted copy cannot
 * be made. */
tx_status es_summarize(const double *values, size_t n, es_summary *out);
/* The q-quantile (0 <= q <= 1) of `sorted` (ascending, no NaN), type 7. */
double es_quantile_sorted(const double *sorted, size_t n, double q);

/* ---- the bootstrap -------------------------------------------------------------------- */

/* One case: its passed runs and its counted runs. */
typedef struct {
    double passed, runs;
} es_count;

/* splitmix64: a small generator with a fixed seed gives the same
 * resamples on every machine (rand() does not). */
typedef struct {
    uint64_t state;
} es_rng;

uint64_t es_rng_next(es_rng *r);
/* Uniform in [0, n) without modulo bias. */
uint64_t es_rng_below(es_rng *r, uint64_t n);

/* The case-clustered bootstrap interval of the pooled success rate
 * (sum passed / sum runs): cases are resampled with replacement, since runs
 * of one case are not independent of each other. Cases with no counted run
 * are left out. Percentile interval at `confidence` over `resamples`
 * resamples from `seed`. Fewer than one case with runs gives [0, 1]. */
tx_status es_bootstrap_clustered(const es_count *cases, size_t n, double confidence,
                                 size_t resamples, uint64_t seed, es_interval *out);
/* The paired bootstrap of the difference now - before of pooled success
 * rates over the same cases (now[i] and before[i] are one case in two
 * evaluations): pairs are resampled together. Percentile interval at
 * `confidence`; `p_drop` (may be NULL) is the share of resamples whose
 * difference is >= 0, a one-sided bootstrap p-value of "now is worse". */
tx_status es_bootstrap_paired(const es_count *now, const es_count *before, size_t n,
                              double confidence, size_t resamples, uint64_t seed, es_interval *out,
                              double *p_drop);

#endif
