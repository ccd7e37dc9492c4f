/* src/train/whiten.c — the whitened training's policy (nis_trainer_prepare): DFT's Fisher divergence is not
 * affine-invariant, so on a badly scaled target a Gaussian fit N(m, L Lᵀ) — the Laplace approximation at the mode
 * (nis_laplace_fit), short HMC chains in the Laplace coordinates (nis_whiten_hmc), or a first (pilot) run's samples
 * (nis_whiten_pilot) — gives the coordinates u of x = m + L u in which the run trains on q(m + L u), close to
 * standardised (docs/dft.md). */
#include "internal.h"
#include "nis/mcmc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nis_status nis_whiten_pilot(const nis_target *t, const nis_train_config *cfg, nis_train_progress_fn fn, void *ud,
                            nis_real *m, nis_real *L, char *err, size_t errlen) {
    nis_trainer *tr = nis_trainer_new(t, cfg, NULL, err, errlen);
    if (!tr) return NIS_EINVAL;
    nis_status st = nis_trainer_train(tr, cfg->iters, fn, ud);
    if (st != NIS_OK) snprintf(err, errlen, "pilot run (--whiten), update %lld: %s", (long long)nis_trainer_iter(tr) + 1,
                               nis_trainer_message(tr));
    const int64_t n = 4000;
    nis_real *x = st == NIS_OK ? nis_malloc((size_t)n * (size_t)t->dim * sizeof *x) : NULL;
    nis_rng g = nis_rng_init((uint64_t)cfg->seed, NIS_STREAM_PILOT);
    if (st == NIS_OK && !x) st = NIS_ENOMEM, snprintf(err, errlen, "pilot run (--whiten): out of memory");
    if (st == NIS_OK && (st = nis_trainer_sample(tr, &g, n, nis_trainer_config(tr)->noisy_output, x)) != NIS_OK)
        snprintf(err, errlen, "pilot run (--whiten): %s", nis_trainer_message(tr));
    if (st == NIS_OK && (st = nis_affine_fit(x, n, t->dim, m, L, err, errlen)) != NIS_OK) {
        char e2[300];
        snprintf(e2, sizeof e2, "%s", err);
        snprintf(err, errlen, "pilot run (--whiten): %s", e2);
    }
    nis_free(x);
    nis_trainer_free(tr);
    return st;
}

/* One round of nis_whiten_hmc: chains in u with x = m0 + L0 u from u ~ N(0, I), then m, L fitted to the draws. */
static nis_status hmc_round(const nis_target *t, nis_rng *g, const nis_real *m0, const nis_real *L0, int64_t warmup,
                            int64_t chains, int64_t n_draws, nis_real *u, nis_real *draws, nis_real *m, nis_real *L,
                            char *err, size_t errlen) {
    const int64_t d = t->dim;
    nis_affine_target at;
    nis_affine_target_init(&at, t, m0, L0);
    nis_mcmc_init_normal(g, u, chains, (int)d, 0, 1);
    nis_hmc_config h = nis_hmc_defaults();
    h.warmup = warmup, h.steps = n_draws, h.n_leapfrog = 8, h.jitter = 0.2, h.target_accept = 0.8;
    h.reject_nonfinite = true, h.step_size = 1.0 / pow((double)d, 0.25);
    nis_status st = nis_hmc_run(&at.target, &h, g, u, chains, draws, NULL, err, errlen);
    for (int64_t r = 0; st == NIS_OK && r < chains * n_draws; r += chains) {   /* u -> x, in place */
        memcpy(u, draws + r * d, (size_t)(chains * d) * sizeof *u);
        nis_affine_target_to_x(&at, u, chains, draws + r * d);
    }
    return st == NIS_OK ? nis_affine_fit(draws, chains * n_draws, (int)d, m, L, err, errlen) : st;
}

/* The largest change between two fits, coordinate by coordinate: |Δmean| in the new fit's sds, and |log| of the
 * ratio of the sds (sd_i = the norm of row i of L). */
static double fit_change(const nis_real *m0, const nis_real *L0, const nis_real *m, const nis_real *L, int64_t d) {
    double worst = 0;
    for (int64_t i = 0; i < d; i++) {
        double s0 = 0, s = 0;
        for (int64_t j = 0; j < d; j++) s0 += (double)L0[i * d + j] * L0[i * d + j], s += (double)L[i * d + j] * L[i * d + j];
        s0 = sqrt(s0), s = sqrt(s);
        if (!(s > 0 && s0 > 0)) return INFINITY;
        double dm = fabs((double)m[i] - m0[i]) / s, dl = fabs(log(s / s0));
        if (!(dm <= worst && dl <= worst)) worst = isnan(dm) || isnan(dl) ? INFINITY : fmax(worst, fmax(dm, dl));
    }
    return worst;
}

nis_status nis_whiten_hmc(const nis_target *t, uint64_t seed, nis_real *m, nis_real *L, char *err, size_t errlen) {
    enum { CHAINS = 16, DRAWS = 250, MAX_ROUNDS = 8 };   /* 4000 draws per round, as the pilot's fit */
    const double settled = 0.2;   /* rounds end when no mean moves by 0.2 sd and no sd by a factor e^0.2 */
    if (!t || t->dim < 1 || !m || !L) {
        snprintf(err, errlen, "whitening (--whiten-by hmc): needs a target, mean and L");
        return NIS_EINVAL;
    }
    const int64_t d = t->dim;
    char e2[400];
    nis_real *m0 = nis_malloc((size_t)(d + d * d) * sizeof *m0), *L0 = m0 ? m0 + d : NULL;
    nis_real *u = nis_malloc((size_t)(CHAINS * d) * sizeof *u);
    nis_real *draws = nis_malloc((size_t)(CHAINS * DRAWS * d) * sizeof *draws);
    nis_status st = m0 && u && draws ? NIS_OK : NIS_ENOMEM;
    if (st != NIS_OK) snprintf(e2, sizeof e2, "out of memory for dimension %lld", (long long)d);
    if (st == NIS_OK) st = nis_laplace_fit(t, NULL, m0, L0, NULL, e2, sizeof e2);
    nis_rng g = nis_rng_init(seed, NIS_STREAM_PILOT);
    /* round 1 in the Laplace coordinates (the bulk may lie many of the mode's sds away: a longer warm-up), each
     * next round in the last round's fit, until two fits agree */
    for (int r = 0; st == NIS_OK && r < MAX_ROUNDS; r++) {
        st = hmc_round(t, &g, m0, L0, r ? 200 : 300, CHAINS, DRAWS, u, draws, m, L, e2, sizeof e2);
        if (st != NIS_OK || (r && fit_change(m0, L0, m, L, d) < settled)) break;
        memcpy(m0, m, (size_t)d * sizeof *m0), memcpy(L0, L, (size_t)(d * d) * sizeof *L0);
    }
    if (st != NIS_OK) snprintf(err, errlen, "whitening (--whiten-by hmc): %s", e2);
    nis_free(m0), nis_free(u), nis_free(draws);
    return st;
}

nis_train_config nis_whitened_config(const nis_train_config *pilot) {
    nis_train_config c = *pilot;
    c.lr = pilot->white_lr, c.lr_final = pilot->white_lr_final;   /* the whitened target is well conditioned */
    c.init_scale = 1;                                             /* start at u ~ N(0, I): the pilot's Gaussian fit */
    if (c.score_warmup < 0) c.score_warmup = 1000;                /* no sampler step on an untrained score net */
    return c;
}

nis_trainer *nis_trainer_prepare(const nis_target *t, const nis_train_config *cfg, nis_train_progress_fn fn, void *ud,
                                 char *err, size_t errlen) {
    if (!cfg->whiten) return nis_trainer_new(t, cfg, NULL, err, errlen);
    const size_t d = t ? (size_t)t->dim : 0;
    nis_real *pre = d ? nis_malloc((d + d * d) * sizeof *pre) : NULL;   /* m (d) then L (d, d) */
    if (!pre) {
        snprintf(err, errlen, "%s", d ? "out of memory for the whitening" : "no target");
        return NULL;
    }
    nis_trainer *tr = NULL;
    nis_status st;
    if (cfg->whiten_by == NIS_WHITEN_LAPLACE) {
        char e2[400];
        if ((st = nis_laplace_fit(t, NULL, pre, pre + d, NULL, e2, sizeof e2)) != NIS_OK)
            snprintf(err, errlen, "whitening (--whiten-by laplace): %s", e2);
    } else if (cfg->whiten_by == NIS_WHITEN_HMC) {
        st = nis_whiten_hmc(t, (uint64_t)cfg->seed, pre, pre + d, err, errlen);
    } else {
        st = nis_whiten_pilot(t, cfg, fn, ud, pre, pre + d, err, errlen);
    }
    if (st == NIS_OK) {
        nis_train_config run = nis_whitened_config(cfg);
        nis_train_start start = {.precond_mean = pre, .precond_L = pre + d};   /* copied by the trainer */
        tr = nis_trainer_new(t, &run, &start, err, errlen);
    }
    nis_free(pre);
    return tr;
}
