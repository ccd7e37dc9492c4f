/* The RNG: Philox4x32-10 known-answer vectors (Random123's kat_vectors), moments of the uniform and normal
 * draws, determinism, stream independence, split. */
#include "check.h"
#include "nis/rng.h"

#include <math.h>
#include <string.h>

static void kat(const uint32_t ctr[4], const uint32_t key[2], const uint32_t want[4]) {
    uint32_t out[4];
    nis_philox4x32_10(ctr, key, out);
    for (int i = 0; i < 4; i++) CHECK(out[i] == want[i], "word %d: %08x, expected %08x", i, out[i], want[i]);
}

/* Mean and variance of n draws of f within 5 standard errors of (mu, var); m4 is the 4th central moment,
 * which sets the standard error of the sample variance: sqrt((m4 - var^2) / n). */
static void moments(const char *what, double (*f)(nis_rng *), nis_rng *r, double mu, double var, double m4) {
    const int n = 1000000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double x = f(r) - mu;
        s += x;
        s2 += x * x;
    }
    double mean = s / n, v = s2 / n - mean * mean;
    CHECK(fabs(mean) < 5 * sqrt(var / n), "%s: mean %g (expected %g)", what, mean + mu, mu);
    CHECK(fabs(v - var) < 5 * sqrt((m4 - var * var) / n), "%s: variance %g (expected %g)", what, v, var);
}

int main(void) {
    /* Random123 kat_vectors, philox4x32_10 */
    kat((uint32_t[]){0, 0, 0, 0}, (uint32_t[]){0, 0},
        (uint32_t[]){0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    kat((uint32_t[]){0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, (uint32_t[]){0xffffffff, 0xffffffff},
        (uint32_t[]){0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    kat((uint32_t[]){0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, (uint32_t[]){0xa4093822, 0x299f31d0},
        (uint32_t[]){0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});

    /* the generator's words are the blocks philox((i, stream), seed) in order */
    {
        nis_rng r = nis_rng_init(0x299f31d0a4093822ull, 0x0370734413198a2eull);
        uint32_t want[4];
        nis_philox4x32_10((uint32_t[]){0, 0, 0x13198a2e, 0x03707344}, (uint32_t[]){0xa4093822, 0x299f31d0},
                          want);
        for (int i = 0; i < 4; i++) CHECK(nis_rng_u32(&r) == want[i], "block 0 word %d", i);
        nis_philox4x32_10((uint32_t[]){1, 0, 0x13198a2e, 0x03707344}, (uint32_t[]){0xa4093822, 0x299f31d0},
                          want);
        CHECK(nis_rng_u32(&r) == want[0], "block 1 word 0");
    }

    /* skip-ahead: the state after skipping is the state after drawing, from any position (mid-block, with a
     * spare normal) and for any count (within a block, across blocks, odd numbers of normals) */
    for (uint64_t pre = 0; pre < 7; pre++)
        for (uint64_t m = 0; m < 23; m++) {
            nis_rng a = nis_rng_init(7, 3), b;
            for (uint64_t i = 0; i < pre; i++) (void)nis_rng_normal(&a);   /* leaves a spare when pre is odd */
            (void)nis_rng_u32(&a);                                          /* and a block part used */
            b = a;
            nis_rng c = a, d = a, e = a, f = a;
            for (uint64_t i = 0; i < m; i++) (void)nis_rng_u32(&a);
            nis_rng_skip_u32(&b, m);
            CHECK(nis_rng_u32(&a) == nis_rng_u32(&b) && nis_rng_u32(&a) == nis_rng_u32(&b), "skip_u32 %llu after %llu",
                  (unsigned long long)m, (unsigned long long)pre);
            for (uint64_t i = 0; i < m; i++) (void)nis_rng_normal(&c);
            nis_rng_skip_normals(&d, m);
            double c1 = nis_rng_normal(&c), d1 = nis_rng_normal(&d), c2 = nis_rng_normal(&c), d2 = nis_rng_normal(&d);
            CHECK(c1 == d1 && c2 == d2, "skip_normals %llu after %llu", (unsigned long long)m, (unsigned long long)pre);
            for (uint64_t i = 0; i < m; i++) (void)nis_rng_uniform(&e);
            nis_rng_skip_uniforms(&f, m);
            CHECK(nis_rng_uniform(&e) == nis_rng_uniform(&f), "skip_uniforms %llu after %llu", (unsigned long long)m,
                  (unsigned long long)pre);
        }
    {   /* a share of a fill is the fill's rows, and the generator ends where the whole fill leaves it */
        enum { N = 37, A = 11, B = 26 };
        nis_real whole[N], part[N];
        nis_rng a = nis_rng_init(9, 1), b = a;
        (void)nis_rng_normal(&a), (void)nis_rng_normal(&b);   /* start with a spare */
        nis_rng_fill_normal(&a, whole, N, 0, 1);
        nis_rng_skip_normals(&b, A);
        nis_rng_fill_normal(&b, part, B - A, 0, 1);
        nis_rng_skip_normals(&b, N - B);
        CHECK(!memcmp(whole + A, part, (B - A) * sizeof *part), "a share of fill_normal is its rows");
        CHECK(nis_rng_normal(&a) == nis_rng_normal(&b), "and the generator ends where the whole fill leaves it");
    }

    /* moments: U[0,1): mean 1/2, var 1/12, m4 1/80;  N(0,1): var 1, m4 3 */
    nis_rng r = nis_rng_init(42, 0);
    moments("uniform", nis_rng_uniform, &r, 0.5, 1.0 / 12, 1.0 / 80);
    moments("normal", nis_rng_normal, &r, 0.0, 1.0, 3.0);

    /* fills: ranges and moments of a shifted, scaled normal */
    {
        enum { N = 200000 };
        static nis_real buf[N];
        nis_rng_fill_uniform(&r, buf, N, -2.0, 3.0);
        double lo = 1e9, hi = -1e9, s = 0;
        for (int i = 0; i < N; i++) {
            lo = fmin(lo, buf[i]);
            hi = fmax(hi, buf[i]);
            s += buf[i];
        }
        CHECK(lo >= -2.0 && hi < 3.0, "fill_uniform range [%g, %g]", lo, hi);
        CHECK(lo < -1.99 && hi > 2.99, "fill_uniform covers [-2, 3): [%g, %g]", lo, hi);
        CHECK(fabs(s / N - 0.5) < 5 * sqrt(25.0 / 12 / N), "fill_uniform mean %g", s / N);
        nis_rng_fill_normal(&r, buf, N, 1.5, 0.25);
        double s1 = 0, s2 = 0;
        for (int i = 0; i < N; i++) {
            s1 += buf[i];
            s2 += (buf[i] - 1.5) * (buf[i] - 1.5);
        }
        CHECK(fabs(s1 / N - 1.5) < 5 * 0.25 / sqrt(N), "fill_normal mean %g", s1 / N);
        CHECK(fabs(s2 / N - 0.0625) < 5 * 0.0625 * sqrt(2.0 / N), "fill_normal variance %g", s2 / N);
    }

    /* below(n): in range, every value reached, roughly uniform */
    {
        int hist[7] = {0};
        bool in_range = true;
        for (int i = 0; i < 70000; i++) {
            uint32_t k = nis_rng_below(&r, 7);
            if (k >= 7)
                in_range = false;
            else
                hist[k]++;
        }
        CHECK(in_range, "below(7) out of range");
        for (int k = 0; k < 7; k++)
            CHECK(abs(hist[k] - 10000) < 500, "below(7): %d drawn %d times", k, hist[k]);
    }

    /* determinism; different seeds / streams / split children differ; split ignores the position */
    {
        nis_rng a = nis_rng_init(7, 3), b = nis_rng_init(7, 3), c = nis_rng_init(7, 4),
                d = nis_rng_init(8, 3);
        int same_ab = 0, same_ac = 0, same_ad = 0;
        for (int i = 0; i < 1000; i++) {
            uint32_t x = nis_rng_u32(&a);
            same_ab += x == nis_rng_u32(&b);
            same_ac += x == nis_rng_u32(&c);
            same_ad += x == nis_rng_u32(&d);
        }
        CHECK(same_ab == 1000, "same seed and stream differ (%d/1000 equal)", same_ab);
        CHECK(same_ac < 3 && same_ad < 3, "streams agree: %d, %d of 1000 words", same_ac, same_ad);

        nis_rng p = nis_rng_init(7, 3);
        nis_rng k0 = nis_rng_split(&p, 0), k1 = nis_rng_split(&p, 1);
        for (int i = 0; i < 5; i++) (void)nis_rng_u32(&p);
        nis_rng k0b = nis_rng_split(&p, 0);
        CHECK(memcmp(&k0, &k0b, sizeof k0) == 0, "split depends on the parent's position");
        nis_rng q = nis_rng_init(7, 3);
        int eq01 = 0, eq0p = 0;
        for (int i = 0; i < 1000; i++) {
            uint32_t x = nis_rng_u32(&k0);
            eq01 += x == nis_rng_u32(&k1);
            eq0p += x == nis_rng_u32(&q);
        }
        CHECK(eq01 < 3 && eq0p < 3, "split children not independent: %d, %d of 1000 words equal", eq01, eq0p);

        /* the cached Box-Muller value is part of the state: a copy continues identically */
        nis_rng n1 = nis_rng_init(1, 1);
        (void)nis_rng_normal(&n1);
        nis_rng n2 = n1;
        CHECK(nis_rng_normal(&n1) == nis_rng_normal(&n2), "copied state diverges");
        CHECK(nis_rng_normal(&n1) == nis_rng_normal(&n2), "copied state diverges");
    }
    {   /* Gamma(k, 1): mean k, variance k, E log X = digamma(k) (within 5 standard errors over 200,000 draws) */
        const double shapes[] = {0.3, 1.0, 2.5, 18.5};
        const double digam[] = {-3.502524222200133, -0.5772156649015329, 0.7031566406452432, 2.890500289371541};
        nis_rng g = nis_rng_init(11, 0);
        const int n = 200000;
        for (int k = 0; k < 4; k++) {
            double a = shapes[k], s1 = 0, s2 = 0, sl = 0, sl2 = 0;
            bool ok = true;
            for (int i = 0; i < n; i++) {
                double x = nis_rng_gamma(&g, a);
                ok = ok && x > 0 && isfinite(x);
                s1 += x, s2 += x * x, sl += log(x), sl2 += log(x) * log(x);
            }
            double m = s1 / n, v = s2 / n - m * m, ml = sl / n, vl = sl2 / n - ml * ml;
            CHECK(ok, "gamma(%g): a draw is not a finite positive number", a);
            CHECK(fabs(m - a) < 5 * sqrt(a / n), "gamma(%g): mean %.5f", a, m);
            CHECK(fabs(v - a) < 5 * sqrt((2 * a * a + 6 * a) / n), "gamma(%g): variance %.5f", a, v);
            CHECK(fabs(ml - digam[k]) < 5 * sqrt(vl / n), "gamma(%g): mean log %.5f, want %.5f", a, ml, digam[k]);
        }
        CHECK(isnan(nis_rng_gamma(&g, 0)) && isnan(nis_rng_gamma(&g, -1)), "gamma of a bad shape is not NaN");
    }
    return check_done("test_rng");
}
