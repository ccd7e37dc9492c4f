/* src/train/whiten.c — the whitened training's policy (nis_trainer_prepare): DFT's Fisher divergence is not
 * affine-invariant, so on a badly scaled target a Gaussian fit N(m, L Lᵀ) — the Laplace approximation at the mode
 * (nis_laplace_fit), or a first (pilot) run's samples (nis_whiten_pilot) — gives the coordinates u of x = m + L u
 * in which the run trains on q(m + L u), close to standardised (docs/dft.md). */
#include "internal.h"

#include <stdio.h>

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
