/* The posterior preset's Gaussian fit and its check: nis_whiten_hmc finds the bulk where the Laplace approximation
 * finds the mode (a skewed coordinate: log q = x − eˣ, mode 0 and curvature 1, but mean −γ and sd π/√6), the same
 * bits for the same seed; nis_gaussian_check flags samples far from the fit and a collapsed or exploded scale, and
 * nothing for samples of the fit itself; the preset's rule drops the Laplace-type whitening on a minibatch target. */
#include "check.h"
#include "nis/metrics.h"
#include "nis/train.h"

#include <math.h>
#include <string.h>

enum { D = 2 };
static const double MU2 = 3, SD2 = 0.5;   /* coordinate 2: N(3, 0.5²) */

/* log q(x) = x₁ − e^{x₁} − (x₂ − 3)² / (2 · 0.25), its score and its Hessian times v */
static int sk_logq(void *ud, const nis_real *x, int64_t n, nis_real *out) {
    (void)ud;
    for (int64_t r = 0; r < n; r++) {
        double a = x[r * D], b = (x[r * D + 1] - MU2) / SD2;
        out[r] = (nis_real)(a - exp(a) - b * b / 2);
    }
    return 0;
}
static int sk_score(void *ud, const nis_real *x, int64_t n, nis_real *out) {
    (void)ud;
    for (int64_t r = 0; r < n; r++) {
        out[r * D] = (nis_real)(1 - exp(x[r * D]));
        out[r * D + 1] = (nis_real)(-(x[r * D + 1] - MU2) / (SD2 * SD2));
    }
    return 0;
}
static int sk_hvp(void *ud, const nis_real *x, const nis_real *v, int64_t n, nis_real *out) {
    (void)ud;
    for (int64_t r = 0; r < n; r++) {
        out[r * D] = (nis_real)(-exp(x[r * D]) * v[r * D]);
        out[r * D + 1] = (nis_real)(-v[r * D + 1] / (SD2 * SD2));
    }
    return 0;
}

static double row_sd(const nis_real *L, int i) { return sqrt((double)L[i * D] * L[i * D] + (double)L[i * D + 1] * L[i * D + 1]); }

int main(void) {
    char err[400], msg[300];
    nis_target *t = nis_foreign_target_new("skew", D, sk_score, sk_hvp, sk_logq, NULL);
    CHECK(t != NULL, "target");
    if (!t) return check_done("test_whiten");
    const double gamma = 0.5772156649, sd1 = 3.14159265358979 / sqrt(6.0);

    nis_real lm[D], lL[D * D], m[D], L[D * D], m2[D], L2[D * D];
    CHECK(nis_laplace_fit(t, NULL, lm, lL, NULL, err, sizeof err) == NIS_OK, "laplace: %s", err);
    CHECK(fabs(lm[0]) < 1e-4 && fabs(row_sd(lL, 0) - 1) < 1e-3, "laplace: the mode 0 and sd 1, not %g and %g", lm[0],
          row_sd(lL, 0));
    CHECK(nis_whiten_hmc(t, 5, m, L, err, sizeof err) == NIS_OK, "hmc fit: %s", err);
    /* 4000 correlated draws: the mean within 0.1 and the sd within 8% (the mode is 0.58 away, its sd 22% smaller) */
    CHECK(fabs(m[0] + gamma) < 0.1 && fabs(row_sd(L, 0) / sd1 - 1) < 0.08, "hmc fit: mean %g (want %g), sd %g (want %g)",
          m[0], -gamma, row_sd(L, 0), sd1);
    CHECK(fabs(m[1] - MU2) < 0.05 && fabs(row_sd(L, 1) / SD2 - 1) < 0.08, "hmc fit, coordinate 2: mean %g, sd %g", m[1],
          row_sd(L, 1));
    CHECK(nis_whiten_hmc(t, 5, m2, L2, err, sizeof err) == NIS_OK && !memcmp(m, m2, sizeof m) && !memcmp(L, L2, sizeof L),
          "hmc fit: the same seed gives the same bits");

    /* nis_gaussian_check against N(m, L Lᵀ) = N((0, 0), I) */
    enum { N = 2000 };
    static nis_real x[N * D];
    const nis_real z[D] = {0, 0}, I[D * D] = {1, 0, 0, 1};
    test_seed(3);
    for (int i = 0; i < N * D; i++) x[i] = (nis_real)test_normal();
    CHECK(!nis_gaussian_check(x, N, D, z, I, msg, sizeof msg) && !msg[0], "check: samples of the fit flagged: %s", msg);
    for (int i = 0; i < N; i++) x[i * D + 1] += 12;
    CHECK(nis_gaussian_check(x, N, D, z, I, msg, sizeof msg) && strstr(msg, "coordinate 2") && strstr(msg, "elsewhere"),
          "check: a mean 12 sds away: %s", msg);
    for (int i = 0; i < N; i++) x[i * D + 1] = (nis_real)((x[i * D + 1] - 12) * 0.05);
    CHECK(nis_gaussian_check(x, N, D, z, I, msg, sizeof msg) && strstr(msg, "collapsed"), "check: sd 0.05: %s", msg);
    for (int i = 0; i < N; i++) x[i * D + 1] = (nis_real)(x[i * D + 1] * 300);
    CHECK(nis_gaussian_check(x, N, D, z, I, msg, sizeof msg) && strstr(msg, "exploded"), "check: sd 15: %s", msg);

    /* the preset: whitened by the HMC fit; its rule turns that off on a minibatch target unless asked for */
    nis_train_config c = nis_train_config_posterior(NIS_METHOD_DFT);
    CHECK(c.whiten && c.whiten_by == NIS_WHITEN_HMC, "preset: whitened by the hmc fit");
    CHECK(nis_train_config_check(&c, t, err, sizeof err) == NIS_OK, "preset valid: %s", err);
    nis_target mb = *t;
    mb.stochastic = true;
    nis_train_config_for_posterior(&c, &mb, false);
    CHECK(!c.whiten, "preset on a minibatch target: not whitened");
    c = nis_train_config_posterior(NIS_METHOD_KL);
    nis_train_config_for_posterior(&c, &mb, true);
    CHECK(c.whiten, "preset on a minibatch target with --whiten given: whitened");
    nis_train_config_for_posterior(&c, t, false);
    CHECK(c.whiten, "preset on an exact target: whitened");
    nis_foreign_target_free(t);
    return check_done("test_whiten");
}
