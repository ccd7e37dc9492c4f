/* The DFT variants of docs/dft-experiments.md.
 * 1. Stein forms (nis_dft_stein_objective): with either or both terms as ||f||² + 2 div f + d/σ², the
 *    gradient stays unbiased: on q = N(0, I) with a linear sampler x = mu + s * z and the exact score of
 *    p * N(0, σ²) in place of the score network, its Monte Carlo mean matches dD/dmu = 2 mu,
 *    dD/ds = 2 s (1 - 1/tau^4) (tau^2 = s^2 + σ^2), and its standard error is no larger than plain DFT's.
 * 2. Smoothed target (nis_smoothed_target_score): for q = N(0, I), q * N(0, σ²) has score -x / (1 + σ²).
 * 3. DFT against the smoothed target (nis_dft_smooth_objective): its gradient matches the Fisher divergence
 *    between N(mu, tau^2) and N(0, 1 + σ^2):  dD/dmu = 2 mu c^2,  dD/ds = 2 s (c^2 - 1/tau^4), c = 1/(1+σ^2).
 * 4. The trainer runs with a conservative score network (score_energy) and with each new option. */
#include "linear_sampler.h"
#include "nis/train.h"

#include <string.h>

#define B 4000
#define REPS 40

enum { PLAIN, STEIN_T, STEIN_S, STEIN_TS, SMOOTH };

/* Check variant v's gradient on the linear sampler; returns the largest standard error. */
static double check_variant(int v, const char *name, int reps, int64_t batch, int K) {
    const nis_target *t = nis_target_2d("gauss");
    const double sigma = 0.3, c2 = 1 / ((1 + sigma * sigma) * (1 + sigma * sigma));
    ls_stats st = {0};
    nis_ctx *c = nis_ctx_new(0);
    for (int r = 0; r < reps; r++) {
        nis_ctx_reset(c);
        ls_batch b;
        ls_make(c, batch, sigma, &b);
        nis_tensor *loss;
        double mon;
        if (v == PLAIN) {
            loss = nis_dft_objective(c, t, b.x0, b.eps, sigma, score_fn, &b.e, &mon);
        } else if (v == SMOOTH) {
            nis_tensor *eta = nis_new2(c, batch * K, D);
            for (int64_t i = 0; i < eta->n; i++) eta->data[i] = test_normal();
            loss = nis_dft_smooth_objective(c, t, b.x0, b.eps, eta, sigma, false, score_fn, &b.e, &mon);
        } else {
            loss = nis_dft_stein_objective(c, t, b.x0, b.eps, sigma, score_fn, &b.e, v != STEIN_S, v != STEIN_T, &mon);
        }
        if (!ls_add(&st, c, loss, &b, name)) break;
    }
    double want_mu[D], want_s[D];
    for (int k = 0; k < D; k++) {
        double tau2 = LS_S0[k] * LS_S0[k] + sigma * sigma, w = v == SMOOTH ? c2 : 1;
        want_mu[k] = 2 * LS_MU0[k] * w;
        want_s[k] = 2 * LS_S0[k] * (w - 1 / (tau2 * tau2));
    }
    /* SMOOTH: the self-normalised estimate is biased O(1/K); allow 2% of the value for it */
    double worst = ls_check(&st, name, want_mu, want_s, v == SMOOTH ? 0.02 : 0);
    nis_ctx_free(c);
    return worst;
}

/* nis_smoothed_target_score on q = N(0, I) against -x / (1 + σ²), averaged over many rows. */
static void check_smoothed_score(void) {
    const nis_target *t = nis_target_2d("gauss");
    const int64_t n = 2000, K = 256;
    const double sigma = 0.3;
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_new2(c, n, D), *eta = nis_new2(c, n * K, D);
    for (int64_t i = 0; i < x->n; i++) x->data[i] = 1.5 * test_normal();
    for (int64_t i = 0; i < eta->n; i++) eta->data[i] = test_normal();
    nis_tensor *s = nis_smoothed_target_score(c, t, x, eta, sigma);
    CHECK(s && s->shape[0] == n && s->shape[1] == D, "smoothed score: %s", nis_ctx_message(c));
    double err = 0, ref = 0;
    for (int64_t i = 0; s && i < n * D; i++) {
        double want = -x->data[i] / (1 + sigma * sigma);
        err += (s->data[i] - want) * (s->data[i] - want), ref += want * want;
    }
    CHECK(s && sqrt(err / ref) < 0.03, "smoothed score: relative error %.4f", sqrt(err / ref));
    nis_tensor *bad = nis_smoothed_target_score(c, t, x, nis_new2(c, n * K + 1, D), sigma);
    CHECK(!bad && nis_ctx_status(c) == NIS_ESHAPE, "smoothed score: eta of the wrong shape accepted");
    nis_ctx_free(c);
}

/* A few trainer updates with each new option: finite, and the DFT monitor is a number. */
static void check_trainer(void) {
    const nis_target *t = nis_target_2d("rosenbrock");
    for (int o = 0; o < 6; o++) {
        nis_train_config cfg = nis_train_config_default(NIS_METHOD_DFT);
        cfg.iters = 5, cfg.batch = 32, cfg.init_steps = 5, cfg.score_steps = 2;
        cfg.sampler_width = cfg.score_width = 16;
        if (o == 0) cfg.score_energy = true;
        if (o == 1) cfg.stein_target = cfg.stein_score = true;
        if (o == 2) cfg.target_smooth = 4, cfg.noisy_output = false, cfg.score_residual = false;
        if (o == 3) cfg.score_kde = 64, cfg.score_residual = false;
        if (o == 4) cfg.score_energy = true, cfg.stein_score = true;
        if (o == 5)
            cfg.levels = 3, cfg.sigma_max = 0.4, cfg.target_smooth = 4, cfg.noisy_output = false, cfg.score_residual = false;
        char err[256];
        nis_trainer *tr = nis_trainer_new(t, &cfg, err, sizeof err);
        CHECK(tr != NULL, "option %d: %s", o, err);
        if (!tr) continue;
        nis_train_stats st = {0};
        for (int i = 0; i < 5; i++) {
            nis_status s = nis_trainer_step(tr, &st);
            CHECK(s == NIS_OK, "option %d update %d: %s", o, i, nis_trainer_message(tr));
            if (s != NIS_OK) break;
        }
        CHECK(st.iter == 5 && isfinite(st.sampler_loss), "option %d: %lld updates, loss %g", o, (long long)st.iter,
              st.sampler_loss);
        nis_real x[20];
        nis_rng r = nis_rng_init(3, 0);
        CHECK(nis_trainer_sample(tr, &r, 10, false, x) == NIS_OK && isfinite(x[0]) && isfinite(x[19]),
              "option %d: samples", o);
        nis_trainer_free(tr);
    }
}

/* Combinations that make no sense are refused with a message. */
static void check_config(void) {
    const nis_target *t = nis_target_2d("gauss");
    nis_train_config cfg = nis_train_config_default(NIS_METHOD_DFT);
    cfg.target_smooth = 4, cfg.stein_target = true, cfg.score_residual = false;
    char err[256] = "";
    nis_trainer *tr = nis_trainer_new(t, &cfg, err, sizeof err);
    CHECK(!tr && strstr(err, "target_smooth"), "target_smooth + stein accepted (%s)", err);
    nis_trainer_free(tr);
    cfg = nis_train_config_default(NIS_METHOD_DFT);   /* residual score model with a smoothed target */
    cfg.target_smooth = 4, cfg.noisy_output = false, cfg.score_residual = true;
    tr = nis_trainer_new(t, &cfg, err, sizeof err);
    CHECK(!tr && strstr(err, "score_residual"), "score_residual + target_smooth accepted (%s)", err);
    nis_trainer_free(tr);
    cfg = nis_train_config_default(NIS_METHOD_FISHER);
    cfg.score_kde = 16;
    tr = nis_trainer_new(t, &cfg, err, sizeof err);
    CHECK(!tr && strstr(err, "score_kde"), "score_kde with Fisher accepted (%s)", err);
    nis_trainer_free(tr);
    cfg = nis_train_config_default(NIS_METHOD_KL);
    cfg.levels = 2, cfg.sigma_max = 0.5;
    tr = nis_trainer_new(t, &cfg, err, sizeof err);
    CHECK(!tr && strstr(err, "levels"), "levels with KL accepted (%s)", err);
    nis_trainer_free(tr);
    cfg = nis_train_config_default(NIS_METHOD_DFT);
    cfg.levels = 2, cfg.sigma_max = cfg.sigma;
    tr = nis_trainer_new(t, &cfg, err, sizeof err);
    CHECK(!tr && strstr(err, "sigma_max"), "levels with sigma_max = sigma accepted (%s)", err);
    nis_trainer_free(tr);
    cfg.levels = NIS_TRAIN_MAX_LEVELS + 1, cfg.sigma_max = 1;
    tr = nis_trainer_new(t, &cfg, err, sizeof err);
    CHECK(!tr && strstr(err, "levels"), "levels > max accepted (%s)", err);
    nis_trainer_free(tr);
}

int main(void) {
    test_seed(14);
    double se_plain = check_variant(PLAIN, "dft", REPS, B, 0);
    double se_t = check_variant(STEIN_T, "dft stein-target", REPS, B, 0);
    double se_s = check_variant(STEIN_S, "dft stein-score", REPS, B, 0);
    double se_ts = check_variant(STEIN_TS, "dft stein-both", REPS, B, 0);
    if (getenv("VERBOSE")) printf("largest se: plain %.4f target %.4f score %.4f both %.4f\n", se_plain, se_t, se_s, se_ts);
    CHECK(se_ts <= se_plain, "Stein form has a larger standard error (%.4f) than plain DFT (%.4f)", se_ts, se_plain);
    check_variant(SMOOTH, "dft smooth", 20, 1000, 32);
    check_smoothed_score();
    check_trainer();
    check_config();
    return check_done("test_dftlab_f64");
}
