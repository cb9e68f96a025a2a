/*
 * es_stats.c - the statistics of reliability scoring (evstats.h).
 *
 * Written for exactness before speed, but nothing here is slow: the
 * bootstrap of 100 cases is a million draws of a splitmix64 generator
 * (a few milliseconds), and every other figure is a closed form.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evstats.h"

/* ---- the normal distribution ---------------------------------------------------------- */

/* a[0] + a[1] x + ... + a[7] x^7, by Horner's rule. */
static double poly7(const double a[8], double x)
{
    double y = a[7];
    for (int i = 6; i >= 0; i--)
        y = y * x + a[i];
    return y;
}

/* Wichura, M. J. (1988), "Algorithm AS 241: The Percentage Points of the
 * Normal Distribution", Applied Statistics 37(3), 477-484: PPND16, three
 * rational approximations (central region, tails up to r = 5, far tails),
 * accurate to about 1 part in 10^16. The coefficients are the paper's,
 * lowest degree first. */
double es_normal_quantile(double p)
{
    static const double a[8] = {3.3871328727963666080e+0, 1.3314166789178437745e+2,
                                1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[8] = {1.0,
                                4.2313330701600911252e+1,
                                6.8718700749205790830e+2,
                                5.3941960214247511077e+3,
                                2.1213794301586595867e+4,
                                3.9307895800092710610e+4,
                                2.8729085735721942674e+4,
                                5.2264952788528545610e+3};
    static const double c[8] = {1.42343711074968357734e+0, 4.63033784615654529590e+0,
                                5.76949722146069140550e+0, 3.64784832476320460504e+0,
                                1.27045825245236838258e+0, 2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double d[8] = {1.0,
                                2.05319162663775882187e+0,
                                1.67638483018380384940e+0,
                                6.89767334985100004550e-1,
                                1.48103976427480074590e-1,
                                1.51986665636164571966e-2,
                                5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
    static const double e[8] = {6.65790464350110377720e+0, 5.46378491116411436990e+0,
                                1.78482653991729133580e+0, 2.96560571828504891230e-1,
                                2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double f[8] = {1.0,
                                5.99832206555887937690e-1,
                                1.36929880922735805310e-1,
                                1.48753612908506148525e-2,
                                7.86869131145613259100e-4,
                                1.84631831751005468180e-5,
                                1.42151175831644588870e-7,
                                2.04426310338993978564e-15};
    if (isnan(p) || p < 0 || p > 1) return NAN;
    if (p == 0) return -INFINITY;
    if (p == 1) return INFINITY;
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * poly7(a, r) / poly7(b, r);
    }
    double r = sqrt(-log(q < 0 ? p : 1.0 - p));
    double x =
        r <= 5.0 ? poly7(c, r - 1.6) / poly7(d, r - 1.6) : poly7(e, r - 5.0) / poly7(f, r - 5.0);
    return q < 0 ? -x : x;
}

double es_z(double confidence)
{
    return es_normal_quantile((1.0 + confidence) / 2.0);
}

/* ---- proportions ---------------------------------------------------------------------- */

/* Wilson (1927): the p whose score test at z does not reject,
 *   (p^ + z^2/2n +- z sqrt(p^(1-p^)/n + z^2/4n^2)) / (1 + z^2/n),
 * clamped to [0, 1] against rounding at 0/n and n/n. */
es_interval es_wilson(double passed, double n, double confidence)
{
    es_interval iv = {0.0, 1.0};
    if (!(n > 0)) return iv;
    double z = es_z(confidence), z2 = z * z;
    double p = passed / n;
    double centre = p + z2 / (2 * n);
    double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    double den = 1 + z2 / n;
    iv.low = (centre - half) / den;
    iv.high = (centre + half) / den;
    /* At 0/n the lower bound is exactly 0 and at n/n the upper exactly 1. */
    if (passed <= 0 || iv.low < 0) iv.low = 0;
    if (passed >= n || iv.high > 1) iv.high = 1;
    return iv;
}

/* Newcombe, R. G. (1998), "Interval estimation for the difference between
 * independent proportions", Statistics in Medicine 17, 873-890, method 10:
 *   L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),  U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
 * with [l, u] each side's Wilson interval. */
es_interval es_newcombe(double passed1, double n1, double passed2, double n2, double confidence)
{
    es_interval iv = {-1.0, 1.0};
    if (!(n1 > 0) || !(n2 > 0)) return iv;
    double p1 = passed1 / n1, p2 = passed2 / n2, d = p1 - p2;
    es_interval w1 = es_wilson(passed1, n1, confidence), w2 = es_wilson(passed2, n2, confidence);
    iv.low = d - sqrt((p1 - w1.low) * (p1 - w1.low) + (w2.high - p2) * (w2.high - p2));
    iv.high = d + sqrt((w1.high - p1) * (w1.high - p1) + (p2 - w2.low) * (p2 - w2.low));
    return iv;
}

/* prod_{i<k} (a - i) / (n - i) = C(a, k) / C(n, k) for a <= n: as a product
 * of ratios no factorial overflows, and each factor is exact to half an
 * ulp (C(7,3)/C(10,3) = 7/10 * 6/9 * 5/8 = 35/120). */
static double choose_ratio(unsigned a, unsigned n, unsigned k)
{
    if (k > a) return 0.0;
    double r = 1.0;
    for (unsigned i = 0; i < k; i++)
        r *= (double)(a - i) / (double)(n - i);
    return r;
}

double es_pass_at_k(unsigned n, unsigned c, unsigned k)
{
    if (k == 0 || k > n || c > n) return NAN;
    return 1.0 - choose_ratio(n - c, n, k);
}

double es_pass_hat_k(unsigned n, unsigned c, unsigned k)
{
    if (k == 0 || k > n || c > n) return NAN;
    return choose_ratio(c, n, k);
}

bool es_flaky(unsigned passed, unsigned n)
{
    return passed > 0 && passed < n;
}

uint64_t es_signature(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

double es_consistency(const uint64_t *signatures, size_t n)
{
    if (n == 0) return 1.0;
    size_t best = 0;
    uint64_t *s = tx_malloc(n * sizeof *s);
    if (s) {
        memcpy(s, signatures, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_u64);
        for (size_t i = 0, j; i < n; i = j) {
            for (j = i; j < n && s[j] == s[i]; j++) {
            }
            if (j - i > best) best = j - i;
        }
        tx_free(s);
    } else {
        /* Out of memory: the same figure, in quadratic time. */
        for (size_t i = 0; i < n; i++) {
            size_t same = 0;
            for (size_t j = 0; j < n; j++)
                same += signatures[j] == signatures[i];
            if (same > best) best = same;
        }
    }
    return (double)best / (double)n;
}

/* ---- samples -------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double es_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0) return 0.0;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

tx_status es_summarize(const double *values, size_t n, es_summary *out)
{
    memset(out, 0, sizeof *out);
    double *s = tx_malloc((n ? n : 1) * sizeof *s);
    if (!s) return TX_ENOMEM;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i])) {
            out->unknown++;
            continue;
        }
        s[out->n++] = values[i];
        sum += values[i];
    }
    if (out->n) {
        qsort(s, out->n, sizeof *s, cmp_double);
        out->mean = sum / (double)out->n;
        out->p50 = es_quantile_sorted(s, out->n, 0.50);
        out->p95 = es_quantile_sorted(s, out->n, 0.95);
        out->max = s[out->n - 1];
    }
    tx_free(s);
    return TX_OK;
}

/* ---- the bootstrap -------------------------------------------------------------------- */

/* Steele, Lea and Flood (2014), "Fast splittable pseudorandom number
 * generators": splitmix64, the generator Java's SplittableRandom uses. */
uint64_t es_rng_next(es_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Rejection of the top partial block (Lemire's "nearly divisionless" is
 * faster; this one is easier to re-implement for the reference). */
uint64_t es_rng_below(es_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = es_rng_next(r);
    } while (x >= limit);
    return x % n;
}

/* The percentile interval of `stats` (sorted in place). */
static es_interval percentile_interval(double *stats, size_t b, double confidence)
{
    qsort(stats, b, sizeof *stats, cmp_double);
    double alpha = 1.0 - confidence;
    es_interval iv = {es_quantile_sorted(stats, b, alpha / 2),
                      es_quantile_sorted(stats, b, 1.0 - alpha / 2)};
    return iv;
}

/* What both bootstraps share: the cases with counted runs (on both sides
 * when paired) drawn with replacement, `resamples` times from `seed`; for
 * each resample the pooled rate of `now`, minus that of `before` when
 * paired (before may be NULL). *stats (tx_free it) has the resamples'
 * figures, unsorted; none when no case has runs (*stats NULL, TX_OK). */
static tx_status resample(const es_count *now, const es_count *before, size_t n, size_t resamples,
                          uint64_t seed, double **stats)
{
    *stats = NULL;
    size_t *used = tx_malloc((n ? n : 1) * sizeof *used);
    double *out = tx_malloc((resamples ? resamples : 1) * sizeof *out);
    if (!used || !out) {
        tx_free(used);
        tx_free(out);
        return TX_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (now[i].runs > 0 && (!before || before[i].runs > 0)) used[m++] = i;
    if (m > 0 && resamples > 0) {
        es_rng rng = {seed};
        for (size_t b = 0; b < resamples; b++) {
            double pn = 0, rn = 0, pb = 0, rb = 0;
            for (size_t j = 0; j < m; j++) {
                size_t i = used[es_rng_below(&rng, m)];
                pn += now[i].passed;
                rn += now[i].runs;
                if (before) {
                    pb += before[i].passed;
                    rb += before[i].runs;
                }
            }
            out[b] = before ? pn / rn - pb / rb : pn / rn;
        }
        *stats = out;
        out = NULL;
    }
    tx_free(used);
    tx_free(out);
    return TX_OK;
}

tx_status es_bootstrap_clustered(const es_count *cases, size_t n, double confidence,
                                 size_t resamples, uint64_t seed, es_interval *out)
{
    out->low = 0.0;
    out->high = 1.0;
    double *stats;
    tx_status st = resample(cases, NULL, n, resamples, seed, &stats);
    if (stats) *out = percentile_interval(stats, resamples, confidence);
    tx_free(stats);
    return st;
}

tx_status es_bootstrap_paired(const es_count *now, const es_count *before, size_t n,
                              double confidence, size_t resamples, uint64_t seed, es_interval *out,
                              double *p_drop)
{
    out->low = -1.0;
    out->high = 1.0;
    if (p_drop) *p_drop = 1.0;
    double *stats;
    tx_status st = resample(now, before, n, resamples, seed, &stats);
    if (stats) {
        size_t not_worse = 0;
        for (size_t b = 0; b < resamples; b++)
            not_worse += stats[b] >= 0;
        if (p_drop) *p_drop = (double)not_worse / (double)resamples;
        *out = percentile_interval(stats, resamples, confidence);
    }
    tx_free(stats);
    return st;
}
