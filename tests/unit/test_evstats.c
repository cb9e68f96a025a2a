/* Unit tests of evals/stats/: every statistic of `tactus eval` and `tactus
 * test --runs` against reference values computed independently, to 1e-9.
 *
 * The references come from tests/unit/evstats_reference.py (Python standard
 * library only): the normal quantile by bisection on a Maclaurin series of
 * erf in 80-digit decimal arithmetic (the code under test uses Wichura's
 * rational approximation instead); Wilson and Newcombe intervals from
 * their closed forms in 60-digit decimals; pass@k and pass^k as exact
 * fractions (math.comb); type-7 percentiles as exact fractions; the
 * bootstrap intervals from the documented procedure (splitmix64, the fixed
 * seed, rejection sampling, pooled rates, type-7 percentiles) written
 * again in Python. Hand checks where they are short: pass^3 of 7 of 10 is
 * C(7,3)/C(10,3) = 35/120; Wilson of 0/10 has lower bound 0 and upper
 * z^2/(n + z^2) = 3.8415/13.8415 = 0.27753. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evstats.h"

#define TOL 1e-9

static void near(double got, double want)
{
    if (fabs(got - want) > TOL) fail_msg("got %.17g, want %.17g", got, want);
}

static void normal_quantile(void **state)
{
    (void)state;
    near(es_normal_quantile(0.975), 1.9599639845400543);
    near(es_normal_quantile(0.995), 2.5758293035489008);
    near(es_normal_quantile(0.95), 1.6448536269514726);
    near(es_normal_quantile(0.5), 0.0);
    near(es_normal_quantile(0.001), -3.0902323061678136);
    near(es_normal_quantile(1e-10), -6.3613409024040566); /* the far tail (r > 5) */
    near(es_normal_quantile(0.9999999), 5.1993375821928165);
    near(es_z(0.95), 1.9599639845400543);
    near(es_z(0.99), 2.5758293035489008);
    assert_true(isinf(es_normal_quantile(0)) && es_normal_quantile(0) < 0);
    assert_true(isinf(es_normal_quantile(1)) && es_normal_quantile(1) > 0);
    assert_true(isnan(es_normal_quantile(-0.1)) && isnan(es_normal_quantile(NAN)));
}

static void wilson(void **state)
{
    (void)state;
    es_interval iv = es_wilson(0, 10, 0.95);
    near(iv.low, 0);
    near(iv.high, 0.27753279986288926);
    iv = es_wilson(10, 10, 0.95);
    near(iv.low, 0.72246720013711074);
    near(iv.high, 1);
    iv = es_wilson(7, 10, 0.95);
    near(iv.low, 0.39677814746114531);
    near(iv.high, 0.89220873259369893);
    iv = es_wilson(1, 1000, 0.95);
    near(iv.low, 0.000176546370626078);
    near(iv.high, 0.0056425585979579355);
    iv = es_wilson(3, 7, 0.95);
    near(iv.low, 0.1582198552514697);
    near(iv.high, 0.74954163547234276);
    iv = es_wilson(7, 10, 0.99);
    near(iv.low, 0.3200246792011025);
    near(iv.high, 0.92043368347693422);
    /* Nothing known: the whole range. */
    iv = es_wilson(0, 0, 0.95);
    assert_true(iv.low == 0 && iv.high == 1);
    /* Exactly 0 and 1 at the ends, never a rounding error past them. */
    for (int n = 1; n <= 200; n++) {
        assert_true(es_wilson(0, n, 0.95).low == 0);
        assert_true(es_wilson(n, n, 0.95).high == 1);
    }
}

static void newcombe(void **state)
{
    (void)state;
    es_interval iv = es_newcombe(7, 10, 9, 10, 0.95);
    near(iv.low, -0.5141461574374272);
    near(iv.high, 0.15979360150622521);
    iv = es_newcombe(10, 10, 0, 10, 0.95);
    near(iv.low, 0.60750935043052412);
    near(iv.high, 1);
    iv = es_newcombe(3, 0, 1, 4, 0.95);
    assert_true(iv.low == -1 && iv.high == 1);
}

static void pass_k(void **state)
{
    (void)state;
    near(es_pass_hat_k(10, 7, 3), 35.0 / 120.0); /* the issue's own example */
    near(es_pass_hat_k(10, 7, 3), 0.29166666666666669);
    near(es_pass_at_k(10, 7, 3), 0.9916666666666667);
    near(es_pass_hat_k(10, 7, 1), 0.7);
    near(es_pass_at_k(10, 7, 1), 0.7);
    near(es_pass_hat_k(10, 10, 3), 1);
    near(es_pass_at_k(10, 10, 3), 1);
    near(es_pass_hat_k(10, 0, 3), 0);
    near(es_pass_at_k(10, 0, 3), 0);
    near(es_pass_hat_k(5, 2, 3), 0);
    near(es_pass_at_k(5, 2, 3), 0.9);
    near(es_pass_hat_k(100, 93, 5), 0.69030409023965722);
    near(es_pass_at_k(100, 93, 5), 0.99999972106930868);
    /* k must be within 1..n. */
    assert_true(isnan(es_pass_hat_k(3, 2, 4)) && isnan(es_pass_at_k(3, 2, 0)));
    /* A case with many runs: no factorial overflows. */
    near(es_pass_hat_k(1000, 1000, 500), 1);
    assert_true(es_pass_hat_k(1000, 999, 500) > 0.49 && es_pass_hat_k(1000, 999, 500) < 0.51);
}

static void flaky_and_consistency(void **state)
{
    (void)state;
    assert_false(es_flaky(0, 10));
    assert_false(es_flaky(10, 10));
    assert_true(es_flaky(1, 10));
    assert_false(es_flaky(0, 0));
    uint64_t s[] = {7, 3, 7, 7, 9, 3, 7, 1, 7, 3};
    near(es_consistency(s, 10), 0.5); /* five 7s of ten */
    near(es_consistency(s, 1), 1);
    near(es_consistency(NULL, 0), 1);
    uint64_t all[] = {4, 4, 4};
    near(es_consistency(all, 3), 1);
    /* Out of memory: the same figure the slow way. */
    tx_alloc_fail_after(0);
    near(es_consistency(s, 10), 0.5);
    tx_alloc_fail_after(-1);
}

static void summaries(void **state)
{
    (void)state;
    double v[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
    es_summary s;
    assert_int_equal(es_summarize(v, 11, &s), TX_OK);
    assert_int_equal(s.n, 11);
    near(s.mean, 4);
    near(s.p50, 4);
    near(s.p95, 7.5);
    near(s.max, 9);
    double with_unknown[] = {2, NAN, 4};
    assert_int_equal(es_summarize(with_unknown, 3, &s), TX_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.unknown, 1);
    near(s.mean, 3);
    near(s.p50, 3); /* type 7 interpolates between the two */
    double one[] = {1, 2, 3, 4};
    assert_int_equal(es_summarize(one, 4, &s), TX_OK);
    near(s.p50, 2.5);
    assert_int_equal(es_summarize(NULL, 0, &s), TX_OK);
    assert_true(s.n == 0 && s.mean == 0 && s.max == 0);
    tx_alloc_fail_after(0);
    assert_int_equal(es_summarize(v, 11, &s), TX_ENOMEM);
    tx_alloc_fail_after(-1);
}

static void rng(void **state)
{
    (void)state;
    /* splitmix64 from seed 0: the sequence Vigna's reference code prints. */
    es_rng r = {0};
    assert_true(es_rng_next(&r) == 0xe220a8397b1dcdafULL);
    assert_true(es_rng_next(&r) == 0x6e789e6aa1b965f4ULL);
    r.state = 42;
    for (int i = 0; i < 1000; i++)
        assert_true(es_rng_below(&r, 7) < 7);
}

static void bootstrap(void **state)
{
    (void)state;
    es_count cases[] = {{7, 10}, {10, 10}, {0, 10}, {5, 10}, {9, 10}};
    es_interval iv;
    assert_int_equal(
        es_bootstrap_clustered(cases, 5, 0.95, ES_BOOTSTRAP_RESAMPLES, ES_BOOTSTRAP_SEED, &iv),
        TX_OK);
    near(iv.low, 0.28000000000000003);
    near(iv.high, 0.90000000000000002);
    /* Same input, same interval: the seed is fixed. */
    es_interval again;
    es_bootstrap_clustered(cases, 5, 0.95, ES_BOOTSTRAP_RESAMPLES, ES_BOOTSTRAP_SEED, &again);
    assert_true(iv.low == again.low && iv.high == again.high);
    /* Cases without counted runs carry nothing; no case: nothing known. */
    es_count none[] = {{0, 0}};
    es_bootstrap_clustered(none, 1, 0.95, 100, 1, &iv);
    assert_true(iv.low == 0 && iv.high == 1);
    es_count same[] = {{3, 4}, {3, 4}};
    es_bootstrap_clustered(same, 2, 0.95, 100, 1, &iv);
    near(iv.low, 0.75);
    near(iv.high, 0.75);

    es_count before[] = {{9, 10}, {10, 10}, {2, 10}, {8, 10}, {9, 10}};
    double p_drop;
    assert_int_equal(es_bootstrap_paired(cases, before, 5, 0.95, ES_BOOTSTRAP_RESAMPLES,
                                         ES_BOOTSTRAP_SEED, &iv, &p_drop),
                     TX_OK);
    near(iv.low, -0.23999999999999999);
    near(iv.high, -0.039999999999999925);
    near(p_drop, 0.010200000000000001);
    tx_alloc_fail_after(0);
    assert_int_equal(es_bootstrap_clustered(cases, 5, 0.95, 10, 1, &iv), TX_ENOMEM);
    assert_int_equal(es_bootstrap_paired(cases, before, 5, 0.95, 10, 1, &iv, NULL), TX_ENOMEM);
    tx_alloc_fail_after(-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normal_quantile),
        cmocka_unit_test(wilson),
        cmocka_unit_test(newcombe),
        cmocka_unit_test(pass_k),
        cmocka_unit_test(flaky_and_consistency),
        cmocka_unit_test(summaries),
        cmocka_unit_test(rng),
        cmocka_unit_test(bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
