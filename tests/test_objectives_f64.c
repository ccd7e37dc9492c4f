/* The sampler objectives are unbiased: on q = N(0, I) with a linear sampler x = mu + s * z (per coordinate)
 * and the exact score of the sampler's (smoothed) distribution in place of the score network, the Monte
 * Carlo mean of each objective's gradient matches the analytic gradient within its standard error.
 *   DFT    (tau^2 = s^2 + sigma^2):  dD/dmu = 2 mu,  dD/ds = 2 s (1 - 1/tau^4)
 *   KL     (same smoothing):         dKL/dmu = mu,   dKL/ds = s (1 - 1/tau^2)
 *   Fisher (no noise, tau = s):      dD/dmu = 2 mu,  dD/ds = 2 s (1 - 1/s^4)
 * The residual forms (nis_dft/kl_residual_objective, s_phi = s_q + r) get r = exact score - s_q = score + x.
 * Levels (the objectives' sig): a family q_v = N(0, (1 + v^2) I) (N(0, I) smoothed by N(0, v^2 I)), rows with fixed
 * levels sig_b, each row weighted by (sig_b / sigma)^2: the mean over rows of the weighted per-level gradients,
 * with v_b = 1 + sig_b^2 and tau_b^2 = s^2 + sig_b^2,
 *   DFT  dD/dmu = 2 mu / v_b^2,  dD/ds = 2 s (1/v_b^2 - 1/tau_b^4);   KL  dKL/dmu = mu / v_b,  dKL/ds = s (1/v_b - 1/tau_b^2). */
#include "linear_sampler.h"
#include "nis/train.h"

#define B 4000
#define REPS 40

enum { DFT, KL, FISHER, DFT_RES, KL_RES };

/* r(x) = s_p(x) - s_q(x) = s_p(x) + x for q = N(0, I); with levels, s_q = -x / (1 + sig^2) */
static nis_tensor *resid_fn(nis_ctx *c, void *ud, nis_tensor *x, nis_tensor *sig) {
    if (!sig) return nis_add(c, score_fn(c, ud, x, NULL), x);
    return nis_add(c, score_fn(c, ud, x, sig), nis_div(c, x, nis_add_scalar(c, nis_square(c, sig), 1)));
}

/* The level family q_v = N(0, (1 + v^2) I) in D dims: log q_v = -||x||^2 / (2 (1 + v^2)); log_prob at level 0.3. */
static nis_tensor *lv_lp_at(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *s) {
    (void)t;
    nis_tensor *v = nis_reshape(c, nis_add_scalar(c, nis_square(c, s), 1), 1, (int64_t[]){s->shape[0]});
    return nis_neg(c, nis_div(c, nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, x), 1, false), 0.5), v));
}
static nis_tensor *lv_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    return nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, x), 1, false), -0.5 / (1 + t->level * t->level));
}

/* The loss of `method` on batch b (sig: per-row levels or NULL; Fisher ignores it). */
static nis_tensor *method_loss(int method, nis_ctx *c, const nis_target *t, ls_batch *b, double sigma, nis_tensor *sig,
                               double *mon) {
    return method == DFT       ? nis_dft_objective(c, t, b->x0, b->eps, sigma, sig, score_fn, &b->e, mon)
           : method == KL      ? nis_kl_objective(c, t, b->x0, b->eps, sigma, sig, score_fn, &b->e, mon)
           : method == DFT_RES ? nis_dft_residual_objective(c, t, b->x0, b->eps, sigma, sig, resid_fn, &b->e, mon)
           : method == KL_RES  ? nis_kl_residual_objective(c, b->x0, b->eps, sigma, sig, resid_fn, &b->e, mon)
                               : nis_fisher_objective(c, t, b->x0, score_fn, &b->e, mon);
}

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
        if (!ls_add(&st, c, method_loss(method, c, t, &b, sigma, NULL, &mon), &b, name)) break;
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

/* The same with per-row levels: rows alternate between levels 0.3 and 0.6 (base sigma 0.3). */
static void check_levels(int method, const char *name) {
    const double sigma = 0.3, lv[2] = {0.3, 0.6};
    const bool kl = method == KL || method == KL_RES;
    nis_target t = {.name = "levels", .dim = D, .log_prob = lv_lp, .log_prob_at = lv_lp_at, .level = sigma};
    ls_stats st = {0};
    nis_ctx *c = nis_ctx_new(0);
    for (int r = 0; r < REPS; r++) {
        nis_ctx_reset(c);
        ls_batch b;
        ls_make(c, B, sigma, &b);
        nis_tensor *sig = nis_new2(c, B, 1);
        for (int i = 0; i < B; i++) sig->data[i] = (nis_real)lv[i % 2];
        double mon;
        if (!ls_add(&st, c, method_loss(method, c, &t, &b, sigma, sig, &mon), &b, name)) break;
    }
    double want_mu[D] = {0}, want_s[D] = {0};
    for (int l = 0; l < 2; l++) {
        double w = lv[l] * lv[l] / (sigma * sigma) / 2, v = 1 + lv[l] * lv[l];   /* half the rows at each level */
        for (int k = 0; k < D; k++) {
            double tau2 = LS_S0[k] * LS_S0[k] + lv[l] * lv[l];
            want_mu[k] += w * (kl ? LS_MU0[k] / v : 2 * LS_MU0[k] / (v * v));
            want_s[k] += w * (kl ? LS_S0[k] * (1 / v - 1 / tau2) : 2 * LS_S0[k] * (1 / (v * v) - 1 / (tau2 * tau2)));
        }
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
    check_levels(DFT, "dft levels");
    check_levels(KL, "kl levels");
    check_levels(DFT_RES, "dft residual levels");
    check_levels(KL_RES, "kl residual levels");
    return check_done("test_objectives_f64");
}
