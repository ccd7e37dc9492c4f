/* The six 2-D targets: the score (autodiff of log q) matches central differences of log q, the Hessian-
 * vector product matches central differences of the score, and each exact sampler has the analytic mean
 * and variance (within 5 standard errors of 200,000 draws).  Double precision. */
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

int main(void) {
    test_seed(21);
    for (const char *const *n = nis_target_2d_names(); *n; n++) check_derivatives(nis_target_2d(*n));
    CHECK(nis_target_2d("nope") == NULL, "unknown target found");
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
