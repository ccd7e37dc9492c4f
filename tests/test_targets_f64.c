/* The six 2-D targets: the score (autodiff of log q) matches central differences of log q, the Hessian-
 * vector product matches central differences of the score, and each exact sampler has the analytic mean
 * and variance (within 5 standard errors of 200,000 draws).  The tempered target q^β N(0, I)^(1-β) of each passes
 * the same derivative checks (autodiff and hand-written paths).  Double precision. */
#include "check.h"
#include "nis/ops.h"
#include "nis/target.h"

#include <string.h>

#define B 6

static double logq_at(nis_ctx *c, const nis_target *t, const double *x, int row) {
    nis_ctx_reset(c);
    nis_tensor *xt = nis_tensor_from(c, 2, (int64_t[]){1, 2}, x + 2 * row);
    nis_tensor *lp = t->log_prob(c, t, xt);
    return lp ? lp->data[0] : NAN;
}

static void check_derivatives(const nis_target *t) {
    nis_ctx *c = nis_ctx_new(0), *c2 = nis_ctx_new(0);
    double x[2 * B], v[2 * B];
    for (int i = 0; i < 2 * B; i++) x[i] = 2.0 * test_uniform() - 1.0, v[i] = test_normal();
    for (int i = 0; i < B; i++) x[2 * i] += 0.5;   /* keep donut's points off the singular origin */
    nis_tensor *xt = nis_tensor_from(c, 2, (int64_t[]){B, 2}, x), *vt = nis_tensor_from(c, 2, (int64_t[]){B, 2}, v);
    nis_tensor *s = nis_target_score(c, t, xt, false), *hv = nis_target_hvp(c, t, xt, vt);
    CHECK(s && hv, "%s: %s", t->name, nis_ctx_message(c));
    if (!s || !hv) return;
    const double h = 1e-5;
    double worst_s = 0, worst_h = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < 2; k++) {
            double xp[2 * B], xm[2 * B];
            memcpy(xp, x, sizeof x), memcpy(xm, x, sizeof x);
            xp[2 * i + k] += h, xm[2 * i + k] -= h;
            double fd = (logq_at(c2, t, xp, i) - logq_at(c2, t, xm, i)) / (2 * h);
            worst_s = fmax(worst_s, fabs(s->data[2 * i + k] - fd) / fmax(1, fabs(fd)));
        }
    /* H v by differences of the score along v */
    double xp[2 * B], xm[2 * B];
    for (int i = 0; i < 2 * B; i++) xp[i] = x[i] + h * v[i], xm[i] = x[i] - h * v[i];
    nis_ctx_reset(c2);
    nis_tensor *sp = nis_target_score(c2, t, nis_tensor_from(c2, 2, (int64_t[]){B, 2}, xp), false);
    nis_tensor *sm = nis_target_score(c2, t, nis_tensor_from(c2, 2, (int64_t[]){B, 2}, xm), false);
    for (int i = 0; i < 2 * B && sp && sm; i++) {
        double fd = (sp->data[i] - sm->data[i]) / (2 * h);
        worst_h = fmax(worst_h, fabs(hv->data[i] - fd) / fmax(1, fabs(fd)));
    }
    CHECK(worst_s < 1e-6, "%s: score error %.3g", t->name, worst_s);
    CHECK(worst_h < 1e-5, "%s: HVP error %.3g", t->name, worst_h);
    nis_ctx_free(c);
    nis_ctx_free(c2);
}

/* mean and variance of coordinate k (or of the radius, k = -1) against the analytic values */
static void check_moments(const nis_target *t, int k, double mean, double var, double var_of_var_factor) {
    enum { N = 200000 };
    static nis_real x[2 * N];
    nis_rng r = nis_rng_init(17, (uint64_t)k + 5);
    t->sample(t, &r, x, N);
    double s = 0, s2 = 0;
    for (int i = 0; i < N; i++) {
        double u = k < 0 ? hypot(x[2 * i], x[2 * i + 1]) : x[2 * i + k];
        s += u, s2 += u * u;
    }
    double m = s / N, v = s2 / N - m * m;
    double se_m = sqrt(var / N), se_v = var * sqrt(var_of_var_factor / N);
    CHECK(fabs(m - mean) < 5 * se_m, "%s coord %d: mean %.5f, want %.5f (se %.2g)", t->name, k, m, mean, se_m);
    CHECK(fabs(v - var) < 5 * se_v, "%s coord %d: variance %.5f, want %.5f (se %.2g)", t->name, k, v, var, se_v);
}

/* A copy of t with "hand-written" score and HVP (delegating to t's autodiff), to test the tempered target's
 * hand-written path against its autodiff path. */
static const nis_target *handwritten_inner;
static nis_tensor *hw_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    return handwritten_inner->log_prob(c, handwritten_inner, x);
}
static nis_tensor *hw_score(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    return nis_target_score(c, handwritten_inner, x, true);
}
static nis_tensor *hw_hvp(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    (void)t;
    return nis_target_hvp(c, handwritten_inner, x, v);
}

/* q^β N(0, I)^(1-β): derivatives against differences for both paths (autodiff of the tempered log q, and the
 * tempered hand-written score/HVP); at β = 0 the score is -x; at β = 1 it is q's. */
static void check_tempered(const char *name) {
    const nis_target *t = nis_target_2d(name);
    handwritten_inner = t;
    nis_target hw = {.name = name, .dim = 2, .log_prob = hw_lp, .score = hw_score, .hvp = hw_hvp};
    nis_tempered_target ta, th;
    nis_tempered_target_init(&ta, t, 0.3);
    nis_tempered_target_init(&th, &hw, 0.3);
    CHECK(ta.target.score == NULL && ta.target.hvp == NULL && th.target.score && th.target.hvp && !ta.target.sample,
          "%s: tempered target's optional callbacks", name);
    check_derivatives(&ta.target);
    check_derivatives(&th.target);
    nis_ctx *c = nis_ctx_new(0);
    double x[2 * B];
    for (int i = 0; i < 2 * B; i++) x[i] = 2.0 * test_uniform() - 0.5;
    nis_tensor *xt = nis_tensor_from(c, 2, (int64_t[]){B, 2}, x);
    for (int k = 0; k < 2; k++) {
        nis_tempered_target *tt = k ? &th : &ta;
        tt->beta = 0;
        nis_tensor *s0 = nis_target_score(c, &tt->target, xt, false);
        tt->beta = 1;
        nis_tensor *s1 = nis_target_score(c, &tt->target, xt, false), *sq = nis_target_score(c, t, xt, false);
        double e0 = 0, e1 = 0;
        for (int i = 0; s0 && s1 && sq && i < 2 * B; i++)
            e0 = fmax(e0, fabs(s0->data[i] + x[i])), e1 = fmax(e1, fabs(s1->data[i] - sq->data[i]));
        CHECK(s0 && s1 && sq && e0 < 1e-12 && e1 < 1e-12, "%s (%s path): beta 0 score error %.3g, beta 1 %.3g", name,
              k ? "hand-written" : "autodiff", e0, e1);
    }
    nis_ctx_free(c);
}

int main(void) {
    test_seed(21);
    for (const char *const *n = nis_target_2d_names(); *n; n++) check_derivatives(nis_target_2d(*n));
    CHECK(nis_target_2d("nope") == NULL, "unknown target found");
    for (const char *const *n = nis_target_2d_names(); *n; n++) check_tempered(*n);
    /* var_of_var_factor: Var(sample variance) ~ factor * var^2 / N; 2 for a normal, larger for heavy tails */
    check_moments(nis_target_2d("gauss"), 0, 0, 1, 2);
    check_moments(nis_target_2d("gauss"), 1, 0, 1, 2);
    check_moments(nis_target_2d("mog2"), 0, 0, 4.25, 2);       /* ±2 with sd 0.5: 4 + 0.25 */
    check_moments(nis_target_2d("mog2"), 1, 0, 0.25, 2);
    check_moments(nis_target_2d("rosenbrock"), 0, 1, 1, 2);    /* x0 ~ N(1, 1) */
    check_moments(nis_target_2d("rosenbrock"), 1, 2, 6.1, 10); /* x1 = x0^2 + N(0, 0.1): E 2, Var(x0^2) 6 + 0.1 */
    check_moments(nis_target_2d("funnel"), 0, 0, 9, 2);        /* x0 ~ N(0, 9) */
    check_moments(nis_target_2d("squiggle"), 0, 0, 2, 2);      /* y0 ~ N(0, 2) */
    /* donut radius: density ∝ r exp(-(r - 2.6)^2 / 0.033); with s^2 = 0.0165 the moments are
     * E r = 2.6 + s^2 / 2.6 (to second order) and Var r = s^2 (1 - s^2 / 2.6^2) */
    const double s2 = 0.0165;
    check_moments(nis_target_2d("donut"), -1, 2.6 + s2 / 2.6, s2 * (1 - s2 / (2.6 * 2.6)), 2);
    return check_done("test_targets_f64");
}
