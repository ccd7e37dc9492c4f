/* The sampler objectives are unbiased: on q = N(0, I) with a linear sampler x = mu + s * z (per coordinate)
 * and the exact score of the sampler's (smoothed) distribution in place of the score network, the Monte
 * Carlo mean of each objective's gradient matches the analytic gradient within its standard error.
 *   DFT    (tau^2 = s^2 + sigma^2):  dD/dmu = 2 mu,  dD/ds = 2 s (1 - 1/tau^4)
 *   KL     (same smoothing):         dKL/dmu = mu,   dKL/ds = s (1 - 1/tau^2)
 *   Fisher (no noise, tau = s):      dD/dmu = 2 mu,  dD/ds = 2 s (1 - 1/s^4)
 * The residual forms (nis_dft/kl_residual_objective, s_phi = s_q + r) get r = exact score - s_q = score + x. */
#include "linear_sampler.h"
#include "nis/train.h"

#define B 4000
#define REPS 40

enum { DFT, KL, FISHER, DFT_RES, KL_RES };

/* r(x) = s_p(x) - s_q(x) = s_p(x) + x for q = N(0, I) */
static nis_tensor *resid_fn(nis_ctx *c, void *ud, nis_tensor *x) { return nis_add(c, score_fn(c, ud, x), x); }

static void check_method(int method, const char *name) {
    const nis_target *t = nis_target_2d("gauss");
    const double sigma = method == FISHER ? 0 : 0.3;
    const bool kl = method == KL || method == KL_RES;
    ls_stats st = {0};
    nis_ctx *c = nis_ctx_new(0);
    for (int r = 0; r < REPS; r++) {
        nis_ctx_reset(c);
        ls_batch b;
        ls_make(c, B, sigma, &b);
        double mon;
        nis_tensor *loss = method == DFT  ? nis_dft_objective(c, t, b.x0, b.eps, sigma, score_fn, &b.e, &mon)
                           : method == KL ? nis_kl_objective(c, t, b.x0, b.eps, sigma, score_fn, &b.e, &mon)
                           : method == DFT_RES
                               ? nis_dft_residual_objective(c, t, b.x0, b.eps, sigma, resid_fn, &b.e, &mon)
                           : method == KL_RES ? nis_kl_residual_objective(c, b.x0, b.eps, sigma, resid_fn, &b.e, &mon)
                                              : nis_fisher_objective(c, t, b.x0, score_fn, &b.e, &mon);
        if (!ls_add(&st, c, loss, &b, name)) break;
    }
    double want_mu[D], want_s[D];
    for (int k = 0; k < D; k++) {
        double tau2 = LS_S0[k] * LS_S0[k] + sigma * sigma;
        want_mu[k] = kl ? LS_MU0[k] : 2 * LS_MU0[k];
        want_s[k] = kl ? LS_S0[k] * (1 - 1 / tau2) : 2 * LS_S0[k] * (1 - 1 / (tau2 * tau2));
    }
    ls_check(&st, name, want_mu, want_s, 0);
    nis_ctx_free(c);
}

int main(void) {
    test_seed(11);
    check_method(DFT, "dft");
    check_method(KL, "kl");
    check_method(FISHER, "fisher");
    check_method(DFT_RES, "dft residual");
    check_method(KL_RES, "kl residual");
    return check_done("test_objectives_f64");
}
