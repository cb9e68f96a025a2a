#!/usr/bin/env python3
"""Reference values for tests/unit/test_evstats.c, computed independently of
evals/stats/es_stats.c (Python standard library only).

    python3 tests/unit/evstats_reference.py

How each is computed:

- Phi^-1(p): bisection to 60 significant digits on Phi(x) = (1 + erf(x/sqrt 2))/2,
  with erf summed from its Maclaurin series in decimal arithmetic at 80
  digits (no rational approximation, unlike the code under test, which uses
  Wichura's AS241).
- Wilson and Newcombe intervals: their closed forms, evaluated in decimal
  arithmetic at 60 digits from that z.
- pass@k and pass^k: exact fractions, C(c,k)/C(n,k) with math.comb.
- Percentiles (type 7): exact fractions of the sorted values.
- The bootstrap intervals: the documented procedure (splitmix64 from the
  fixed seed, cases drawn by rejection sampling, pooled rate per resample,
  type-7 percentiles), written again here from the definitions; the pooled
  rates are IEEE double divisions of whole numbers, as in C.

The printed values are pasted into the unit test, which must match them to
1e-9 (most match to the last bit).
"""
from decimal import Decimal, getcontext
from fractions import Fraction
from math import comb

getcontext().prec = 80


def erf(x):
    """erf by its Maclaurin series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))."""
    x = Decimal(x)
    total, term, n = Decimal(0), x, 0
    while True:
        add = term / (2 * n + 1)
        total += add
        if abs(add) < Decimal(10) ** -75:
            break
        n += 1
        term = -term * x * x / n
    return 2 / pi().sqrt() * total


def pi():
    """pi by Machin's formula, 80 digits."""
    def arctan_inv(k):
        x = Decimal(1) / k
        total, term, n, sign = Decimal(0), x, 1, 1
        while term > Decimal(10) ** -85:
            total += sign * term / n
            term = term / (k * k)
            n += 2
            sign = -sign
        return total
    return 16 * arctan_inv(5) - 4 * arctan_inv(239)


def phi(x):
    return (1 + erf(Decimal(x) / Decimal(2).sqrt())) / 2


def quantile(p):
    p = Decimal(p)
    lo, hi = Decimal(-9), Decimal(9)
    for _ in range(220):
        mid = (lo + hi) / 2
        if phi(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def z_of(confidence):
    return quantile((1 + Decimal(confidence)) / 2)


def wilson(passed, n, confidence):
    z = z_of(confidence)
    p = Decimal(passed) / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    half = z * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    den = 1 + z2 / n
    low, high = (centre - half) / den, (centre + half) / den
    return max(low, Decimal(0)), min(high, Decimal(1))


def newcombe(c1, n1, c2, n2, confidence):
    p1, p2 = Decimal(c1) / n1, Decimal(c2) / n2
    l1, u1 = wilson(c1, n1, confidence)
    l2, u2 = wilson(c2, n2, confidence)
    d = p1 - p2
    return (d - ((p1 - l1) ** 2 + (u2 - p2) ** 2).sqrt(),
            d + ((u1 - p1) ** 2 + (p2 - l2) ** 2).sqrt())


def pass_hat(n, c, k):
    return Fraction(comb(c, k), comb(n, k))


def pass_at(n, c, k):
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def quantile7(values, q):
    s = sorted(Fraction(v) for v in values)
    h = (len(s) - 1) * Fraction(q)
    lo = int(h)
    if lo >= len(s) - 1:
        return s[-1]
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo])


MASK = (1 << 64) - 1
SEED = 0x7461637475735EED


class SplitMix64:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        limit = MASK - (MASK % n)
        while True:
            x = self.next()
            if x < limit:
                return x % n


def float_quantile7(s, q):
    """Type 7 on sorted doubles, in double arithmetic as the C code does."""
    h = (len(s) - 1) * q
    lo = int(h // 1)
    if lo >= len(s) - 1:
        return s[-1]
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo])


def bootstrap_clustered(cases, confidence, resamples=10000, seed=SEED):
    used = [c for c in cases if c[1] > 0]
    rng = SplitMix64(seed)
    stats = []
    for _ in range(resamples):
        p = r = 0.0
        for _ in range(len(used)):
            c = used[rng.below(len(used))]
            p += c[0]
            r += c[1]
        stats.append(p / r)
    stats.sort()
    alpha = 1.0 - confidence
    return float_quantile7(stats, alpha / 2), float_quantile7(stats, 1.0 - alpha / 2)


def bootstrap_paired(now, before, confidence, resamples=10000, seed=SEED):
    idx = [i for i in range(len(now)) if now[i][1] > 0 and before[i][1] > 0]
    rng = SplitMix64(seed)
    stats = []
    for _ in range(resamples):
        pn = rn = pb = rb = 0.0
        for _ in range(len(idx)):
            i = idx[rng.below(len(idx))]
            pn += now[i][0]
            rn += now[i][1]
            pb += before[i][0]
            rb += before[i][1]
        stats.append(pn / rn - pb / rb)
    p_drop = sum(1 for s in stats if s >= 0) / resamples
    stats.sort()
    alpha = 1.0 - confidence
    return float_quantile7(stats, alpha / 2), float_quantile7(stats, 1.0 - alpha / 2), p_drop


def show(name, value):
    print("%-40s %.17g" % (name, float(value)))


def main():
    for p in ("0.975", "0.995", "0.95", "0.5", "0.001", "1e-10", "0.9999999"):
        show("quantile(%s)" % p, quantile(p))
    for c, n in ((0, 10), (10, 10), (7, 10), (1, 1000), (3, 7)):
        lo, hi = wilson(c, n, "0.95")
        show("wilson95(%d/%d).low" % (c, n), lo)
        show("wilson95(%d/%d).high" % (c, n), hi)
    lo, hi = wilson(7, 10, "0.99")
    show("wilson99(7/10).low", lo)
    show("wilson99(7/10).high", hi)
    lo, hi = newcombe(7, 10, 9, 10, "0.95")
    show("newcombe95(7/10-9/10).low", lo)
    show("newcombe95(7/10-9/10).high", hi)
    lo, hi = newcombe(10, 10, 0, 10, "0.95")
    show("newcombe95(10/10-0/10).low", lo)
    show("newcombe95(10/10-0/10).high", hi)
    for n, c, k in ((10, 7, 1), (10, 7, 3), (10, 10, 3), (10, 0, 3), (5, 2, 3), (100, 93, 5)):
        show("pass_hat(%d,%d,%d)" % (n, c, k), pass_hat(n, c, k))
        show("pass_at(%d,%d,%d)" % (n, c, k), pass_at(n, c, k))
    sample = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    show("p50(sample)", quantile7(sample, "0.5"))
    show("p95(sample)", quantile7(sample, "0.95"))
    show("mean(sample)", Fraction(sum(Fraction(v) for v in sample), len(sample)))
    cases = [(7, 10), (10, 10), (0, 10), (5, 10), (9, 10)]
    lo, hi = bootstrap_clustered(cases, 0.95)
    show("bootstrap95(cases).low", lo)
    show("bootstrap95(cases).high", hi)
    before = [(9, 10), (10, 10), (2, 10), (8, 10), (9, 10)]
    lo, hi, p = bootstrap_paired(cases, before, 0.95)
    show("paired95(cases-before).low", lo)
    show("paired95(cases-before).high", hi)
    show("paired95(cases-before).p_drop", p)


if __name__ == "__main__":
    main()
