/* The sampler objectives are unbiased: on q = N(0, I) with a linear sampler x = mu + s * z (per coordinate)
 * and the exact score of the sampler's (smoothed) distribution in place of the score network, the Monte
 * Carlo mean of each objective's gradient matches the analytic gradient within its standard error.
 *   DFT    (tau^2 = s^2 + sigma^2):  dD/dmu = 2 mu,  dD/ds = 2 s (1 - 1/tau^4)
 *   KL     (same smoothing):         dKL/dmu = mu,   dKL/ds = s (1 - 1/tau^2)
 *   Fisher (no noise, tau = s):      dD/dmu = 2 mu,  dD/ds = 2 s (1 - 1/s^4)  */
#include "check.h"
#include "nis/ops.h"
#include "nis/train.h"

#define D 2
#define B 4000
#define REPS 40

typedef struct { nis_tensor *mu, *tau2; } exact_score;   /* frozen copies */

/* -(x - mu) / tau^2 */
static nis_tensor *score_fn(nis_ctx *c, void *ud, nis_tensor *x) {
    exact_score *e = ud;
    return nis_neg(c, nis_div(c, nis_sub(c, x, e->mu), e->tau2));
}

enum { DFT, KL, FISHER };

static void check_method(int method, const char *name) {
    const nis_target *t = nis_target_2d("gauss");
    const double mu0[D] = {0.5, -0.3}, s0[D] = {0.8, 1.3}, sigma = method == FISHER ? 0 : 0.3;
    double sum[2 * D] = {0}, sq[2 * D] = {0};
    nis_ctx *c = nis_ctx_new(0);
    for (int r = 0; r < REPS; r++) {
        nis_ctx_reset(c);
        nis_tensor *mu = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){1, D}, mu0));
        nis_tensor *s = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){1, D}, s0));
        nis_tensor *z = nis_new2(c, B, D), *eps = nis_new2(c, B, D);
        for (int64_t i = 0; i < B * D; i++) z->data[i] = test_normal(), eps->data[i] = test_normal();
        exact_score e = {nis_tensor_from(c, 2, (int64_t[]){1, D}, mu0), nis_new2(c, 1, D)};
        for (int k = 0; k < D; k++) e.tau2->data[k] = s0[k] * s0[k] + sigma * sigma;
        nis_tensor *x0 = nis_add(c, mu, nis_mul(c, s, z));
        double mon;
        nis_tensor *loss = method == DFT  ? nis_dft_objective(c, t, x0, eps, sigma, score_fn, &e, &mon)
                           : method == KL ? nis_kl_objective(c, t, x0, eps, sigma, score_fn, &e, &mon)
                                          : nis_fisher_objective(c, t, x0, score_fn, &e, &mon);
        nis_tensor *in[2] = {mu, s}, *g[2];
        CHECK(loss && nis_grad(c, 1, &loss, NULL, 2, in, false, g) == NIS_OK, "%s: %s", name, nis_ctx_message(c));
        if (!loss) break;
        for (int k = 0; k < D; k++) {
            double a = g[0]->data[k], b = g[1]->data[k];
            sum[k] += a, sq[k] += a * a, sum[D + k] += b, sq[D + k] += b * b;
        }
    }
    for (int k = 0; k < D; k++) {
        double tau2 = s0[k] * s0[k] + sigma * sigma;
        double want_mu = method == KL ? mu0[k] : 2 * mu0[k];
        double want_s = method == KL ? s0[k] * (1 - 1 / tau2) : 2 * s0[k] * (1 - 1 / (tau2 * tau2));
        double want[2] = {want_mu, want_s};
        for (int j = 0; j < 2; j++) {
            double m = sum[j * D + k] / REPS, var = sq[j * D + k] / REPS - m * m;
            double se = sqrt(fmax(var, 0) / REPS);
            if (getenv("VERBOSE")) printf("%s d%s[%d] mc %.5f se %.5f want %.5f\n", name, j ? "s" : "mu", k, m, se, want[j]);
            CHECK(fabs(m - want[j]) < 4 * se + 1e-9, "%s: d/d%s[%d]: MC %.5f +- %.5f, analytic %.5f", name,
                  j ? "s" : "mu", k, m, se, want[j]);
            CHECK(se < 0.1 * fabs(want[j]) + 0.02, "%s: standard error %.4f too large to test anything", name, se);
        }
    }
    nis_ctx_free(c);
}

int main(void) {
    test_seed(11);
    check_method(DFT, "dft");
    check_method(KL, "kl");
    check_method(FISHER, "fisher");
    return check_done("test_objectives_f64");
}
