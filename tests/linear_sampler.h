/* tests/linear_sampler.h — the Gaussian check shared by the objective tests: q = N(0, I) in D = 2 dims, a
 * linear sampler x0 = mu + s * z (per coordinate, mu = LS_MU0, s = LS_S0), and the exact score of the
 * sampler's smoothed law N(mu, tau^2 I), tau^2 = s^2 + sigma^2, as a frozen stand-in for the score network.
 * Monte Carlo means of objective gradients in (mu, s) are compared with analytic values. */
#ifndef NIS_TESTS_LINEAR_SAMPLER_H
#define NIS_TESTS_LINEAR_SAMPLER_H

#include "check.h"
#include "nis/ops.h"

#define D 2

static const double LS_MU0[D] = {0.5, -0.3}, LS_S0[D] = {0.8, 1.3};

typedef struct { nis_tensor *mu, *tau2, *s2; } exact_score;

/* -(x - mu) / tau^2 with mu, tau^2 frozen; with per-row levels sig (B, 1), tau_b^2 = s^2 + sig_b^2 (e->s2 = s^2). */
static inline nis_tensor *score_fn(nis_ctx *c, void *ud, nis_tensor *x, nis_tensor *sig) {
    exact_score *e = ud;
    nis_tensor *tau2 = sig ? nis_add(c, e->s2, nis_square(c, sig)) : e->tau2;
    return nis_neg(c, nis_div(c, nis_sub(c, x, e->mu), tau2));
}

/* One batch in c: mu, s (1, D) requiring grad, x0 = mu + s z, eps (batch, D), and the frozen exact score. */
typedef struct { nis_tensor *mu, *s, *x0, *eps; exact_score e; } ls_batch;

static inline void ls_make(nis_ctx *c, int64_t batch, double sigma, ls_batch *b) {
    b->mu = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){1, D}, LS_MU0));
    b->s = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){1, D}, LS_S0));
    nis_tensor *z = nis_new2(c, batch, D);
    b->eps = nis_new2(c, batch, D);
    for (int64_t i = 0; i < batch * D; i++) z->data[i] = test_normal(), b->eps->data[i] = test_normal();
    b->e.mu = nis_tensor_from(c, 2, (int64_t[]){1, D}, LS_MU0);
    b->e.tau2 = nis_new2(c, 1, D);
    b->e.s2 = nis_new2(c, 1, D);
    for (int k = 0; k < D; k++)
        b->e.s2->data[k] = LS_S0[k] * LS_S0[k], b->e.tau2->data[k] = LS_S0[k] * LS_S0[k] + sigma * sigma;
    b->x0 = nis_add(c, b->mu, nis_mul(c, b->s, z));
}

/* Running sums of the gradients (dmu[0..D), ds[0..D)). */
typedef struct { double sum[2 * D], sq[2 * D]; int n; } ls_stats;

/* Add the gradient of loss in (mu, s); false (and a failed check) if it cannot be computed. */
static inline bool ls_add(ls_stats *st, nis_ctx *c, nis_tensor *loss, const ls_batch *b, const char *name) {
    nis_tensor *in[2] = {b->mu, b->s}, *g[2];
    bool ok = loss && nis_grad(c, 1, &loss, NULL, 2, in, false, g) == NIS_OK;
    CHECK(ok, "%s: %s", name, nis_ctx_message(c));
    if (!ok) return false;
    for (int k = 0; k < D; k++)
        for (int j = 0; j < 2; j++) {
            double v = g[j]->data[k];
            st->sum[j * D + k] += v, st->sq[j * D + k] += v * v;
        }
    st->n++;
    return true;
}

/* Check the Monte Carlo means against want_mu, want_s within 4 standard errors (+ bias_frac of the value,
 * for estimators with a known small bias) and that the standard error is small enough to test anything.
 * Returns the largest standard error. */
static inline double ls_check(const ls_stats *st, const char *name, const double want_mu[D], const double want_s[D],
                              double bias_frac) {
    double worst = 0;
    for (int k = 0; k < D; k++)
        for (int j = 0; j < 2; j++) {
            double want = j ? want_s[k] : want_mu[k];
            double m = st->sum[j * D + k] / st->n, var = st->sq[j * D + k] / st->n - m * m;
            double se = sqrt(fmax(var, 0) / st->n);
            worst = fmax(worst, se);
            if (getenv("VERBOSE"))
                printf("%s d%s[%d] mc %.5f se %.5f want %.5f\n", name, j ? "s" : "mu", k, m, se, want);
            CHECK(fabs(m - want) < 4 * se + bias_frac * fabs(want) + 1e-9, "%s: d/d%s[%d]: MC %.5f +- %.5f, analytic %.5f",
                  name, j ? "s" : "mu", k, m, se, want);
            CHECK(se < 0.1 * fabs(want) + 0.02, "%s: standard error %.4f too large to test anything", name, se);
        }
    return worst;
}

#endif
