/* The six 2-D targets: the score (autodiff of log q) matches central differences of log q, the Hessian-
 * vector product matches central differences of the score, and each exact sampler has the analytic mean
 * and variance (within 5 standard errors of 200,000 draws).  The tempered target q^β N(0, I)^(1-β) and the affine
 * target q(m + L u) of each pass the same derivative checks (autodiff and hand-written paths); nis_affine_fit gives
 * the sample mean and a square root of the sample covariance; nis_laplace_fit finds the mode and the curvature of
 * a Gaussian and of a Gaussian with a quartic term.  Double precision. */
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

/* q(m + L u): derivatives against differences for both paths; log q_u(u) = log q(m + L u); to_x maps u to x. */
static void check_affine(const char *name) {
    const nis_target *t = nis_target_2d(name);
    handwritten_inner = t;
    nis_target hw = {.name = name, .dim = 2, .log_prob = hw_lp, .score = hw_score, .hvp = hw_hvp};
    static const nis_real m[2] = {0.3, -0.2}, L[4] = {0.7, 0.2, -0.3, 1.1};
    nis_affine_target aa, ah;
    nis_affine_target_init(&aa, t, m, L);
    nis_affine_target_init(&ah, &hw, m, L);
    CHECK(aa.target.score == NULL && aa.target.hvp == NULL && ah.target.score && ah.target.hvp && !aa.target.sample,
          "%s: affine target's optional callbacks", name);
    check_derivatives(&aa.target);
    check_derivatives(&ah.target);
    nis_ctx *c = nis_ctx_new(0);
    nis_real u[2 * B], x[2 * B];
    for (int i = 0; i < 2 * B; i++) u[i] = 2.0 * test_uniform() - 0.5;
    nis_affine_target_to_x(&aa, u, B, x);
    double ex = 0, el = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < 2; k++)
            ex = fmax(ex, fabs(x[2 * i + k] - (m[k] + L[2 * k] * u[2 * i] + L[2 * k + 1] * u[2 * i + 1])));
    nis_tensor *lu = aa.target.log_prob(c, &aa.target, nis_tensor_from(c, 2, (int64_t[]){B, 2}, u));
    nis_tensor *lx = t->log_prob(c, t, nis_tensor_from(c, 2, (int64_t[]){B, 2}, x));
    for (int i = 0; lu && lx && i < B; i++) el = fmax(el, fabs(lu->data[i] - lx->data[i]));
    CHECK(ex < 1e-14 && lu && lx && el < 1e-12, "%s: to_x error %.3g, log q_u - log q(x) %.3g", name, ex, el);
    nis_ctx_free(c);
}

/* nis_affine_fit: the sample mean, and a symmetric L with L Lᵀ = the sample covariance; bad input refused. */
static void check_affine_fit(void) {
    enum { N = 500 };
    static nis_real x[3 * N];
    for (int i = 0; i < N; i++) {
        double a = test_normal(), b = test_normal(), e = test_normal();
        x[3 * i] = 1 + 2 * a, x[3 * i + 1] = -1 + a + 0.5 * b, x[3 * i + 2] = 0.1 * e;
    }
    double mu[3] = {0}, S[9] = {0};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 3; j++) mu[j] += x[3 * i + j] / N;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) S[3 * j + k] += (x[3 * i + j] - mu[j]) * (x[3 * i + k] - mu[k]) / (N - 1);
    nis_real m[3], L[9];
    char err[200];
    CHECK(nis_affine_fit(x, N, 3, m, L, err, sizeof err) == NIS_OK, "affine fit: %s", err);
    double em = 0, es = 0, ea = 0;
    for (int j = 0; j < 3; j++) {
        em = fmax(em, fabs(m[j] - mu[j]));
        for (int k = 0; k < 3; k++) {
            double llt = 0;
            for (int r = 0; r < 3; r++) llt += L[3 * j + r] * L[3 * k + r];
            es = fmax(es, fabs(llt - S[3 * j + k])), ea = fmax(ea, fabs(L[3 * j + k] - L[3 * k + j]));
        }
    }
    CHECK(em < 1e-12 && es < 1e-10 && ea < 1e-10, "affine fit: mean error %.3g, L Lᵀ error %.3g, asymmetry %.3g", em,
          es, ea);
    CHECK(nis_affine_fit(x, 1, 3, m, L, err, sizeof err) == NIS_EINVAL, "affine fit accepted one sample");
    static nis_real same[3 * 4] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3};
    CHECK(nis_affine_fit(same, 4, 3, m, L, err, sizeof err) == NIS_ENUMERIC && strstr(err, "zero"),
          "affine fit of identical samples: %s", err);
    x[7] = NAN;
    CHECK(nis_affine_fit(x, N, 3, m, L, err, sizeof err) == NIS_ENUMERIC, "affine fit accepted a NaN sample");
}

/* A 4-D test density: log q = -(x-μ)ᵀP(x-μ)/2 - k Σ (x_i-μ_i)⁴/4: mode μ, -∇² log q(μ) = P for any k. */
enum { LD = 4 };
static const double lap_mu[LD] = {1, -2, 0.5, 3};
static const double lap_P[LD * LD] = {4, 1, 0, 0.5, 1, 3, 0.2, 0, 0, 0.2, 2, -0.3, 0.5, 0, -0.3, 0.25};
static int lap_score(void *ud, const nis_real *x, int64_t n, nis_real *out) {
    double k = *(double *)ud;
    for (int64_t r = 0; r < n; r++)
        for (int i = 0; i < LD; i++) {
            double s = 0, e = x[r * LD + i] - lap_mu[i];
            for (int j = 0; j < LD; j++) s -= lap_P[i * LD + j] * (x[r * LD + j] - lap_mu[j]);
            out[r * LD + i] = s - k * e * e * e;
        }
    return 0;
}
static int lap_hvp(void *ud, const nis_real *x, const nis_real *v, int64_t n, nis_real *out) {
    double k = *(double *)ud;
    for (int64_t r = 0; r < n; r++)
        for (int i = 0; i < LD; i++) {
            double s = 0, e = x[r * LD + i] - lap_mu[i];
            for (int j = 0; j < LD; j++) s -= lap_P[i * LD + j] * v[r * LD + j];
            out[r * LD + i] = s - 3 * k * e * e * v[r * LD + i];
        }
    return 0;
}
static int lap_logq(void *ud, const nis_real *x, int64_t n, nis_real *out) {
    double k = *(double *)ud;
    for (int64_t r = 0; r < n; r++) {
        double q = 0, f = 0;
        for (int i = 0; i < LD; i++) {
            double e = x[r * LD + i] - lap_mu[i];
            f += e * e * e * e;
            for (int j = 0; j < LD; j++) q += e * lap_P[i * LD + j] * (x[r * LD + j] - lap_mu[j]);
        }
        out[r] = -q / 2 - k * f / 4;
        if (k < 0) out[r] = NAN;   /* k < 0: a broken density */
    }
    return 0;
}

/* nis_laplace_fit: mean = μ and L Lᵀ P = I, from 0 and from a given start; a stochastic or NaN target refused */
static void check_laplace(void) {
    char err[200];
    for (int quartic = 0; quartic < 2; quartic++) {
        double k = quartic ? 0.5 : 0;
        nis_target *t = nis_foreign_target_new("lap", LD, lap_score, lap_hvp, lap_logq, &k);
        nis_real m[LD], L[LD * LD], start[LD] = {3, 3, -3, -3};
        for (int s = 0; t && s < 2; s++) {
            nis_laplace_info in;
            nis_status st = nis_laplace_fit(t, s ? start : NULL, m, L, &in, err, sizeof err);
            CHECK(st == NIS_OK, "laplace (quartic %d): %s", quartic, err);
            double em = 0, ei = 0;
            for (int i = 0; i < LD; i++) {
                em = fmax(em, fabs(m[i] - lap_mu[i]));
                for (int j = 0; j < LD; j++) {   /* (L Lᵀ P)_ij */
                    double a = 0;
                    for (int r = 0; r < LD; r++)
                        for (int c = 0; c < LD; c++) a += L[i * LD + r] * L[c * LD + r] * lap_P[c * LD + j];
                    ei = fmax(ei, fabs(a - (i == j)));
                }
            }
            CHECK(em < 1e-6 && ei < 1e-6 && in.floored == 0 && in.grad_norm < 1e-5,
                  "laplace (quartic %d, start %d): mean error %.3g, L Lᵀ P - I %.3g, %d iterations, |g| %.3g", quartic,
                  s, em, ei, in.iters, in.grad_norm);
            CHECK(quartic || in.iters == 1, "laplace of a Gaussian took %d Newton iterations, not 1", in.iters);
        }
        if (t) {
            t->stochastic = true;
            CHECK(nis_laplace_fit(t, NULL, m, L, NULL, err, sizeof err) == NIS_EINVAL && strstr(err, "minibatch"),
                  "laplace of a stochastic target: %s", err);
        }
        nis_foreign_target_free(t);
    }
    double bad = -1;
    nis_target *t = nis_foreign_target_new("lap", LD, lap_score, lap_hvp, lap_logq, &bad);
    nis_real m[LD], L[LD * LD];
    CHECK(t && nis_laplace_fit(t, NULL, m, L, NULL, err, sizeof err) == NIS_ENUMERIC && strstr(err, "not finite"),
          "laplace of a NaN density: %s", err);
    nis_foreign_target_free(t);
}

int main(void) {
    test_seed(21);
    for (const char *const *n = nis_target_2d_names(); *n; n++) check_derivatives(nis_target_2d(*n));
    CHECK(nis_target_2d("nope") == NULL, "unknown target found");
    for (const char *const *n = nis_target_2d_names(); *n; n++) check_tempered(*n);
    for (const char *const *n = nis_target_2d_names(); *n; n++) check_affine(*n);
    check_affine_fit();
    check_laplace();
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
