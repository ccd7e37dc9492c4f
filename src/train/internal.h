/* src/train/internal.h — the trainer's state, shared by the files of src/train. */
#ifndef NIS_SRC_TRAIN_INTERNAL_H
#define NIS_SRC_TRAIN_INTERNAL_H

#include "nis/train.h"

struct nis_trainer {
    const nis_target *t;     /* the user's target q (name, dim) */
    const nis_target *q;     /* the density the losses use: t, &affine.target, or &tempered.target over either */
    nis_affine_target affine;       /* cfg.precond_*: t in u coordinates, x = m + L u (affine.target.data = 0: off) */
    nis_real *pre_m, *pre_L;        /* the trainer's copies of precond_mean (dim) and precond_L (dim, dim) */
    nis_tempered_target tempered;   /* cfg.temper_iters > 0: q^β N(0, I)^(1-β), β set at every update */
    nis_train_config cfg;
    nis_params *G;           /* generator parameters */
    nis_mlp gen;
    nis_adam opt_g;
    nis_ema ema;             /* EMA of the generator (shadow NULL when cfg.ema_decay is 0) */
    int n_levels;            /* noise levels (cfg.levels, at least 1); level 0 is σ, the finest */
    int lvl;                 /* the level whose σ and score network the losses use now */
    nis_params *S[NIS_TRAIN_MAX_LEVELS];   /* one score network per level */
    nis_mlp score[NIS_TRAIN_MAX_LEVELS];
    nis_adam opt_s[NIS_TRAIN_MAX_LEVELS];
    nis_ctx *ctx;
    nis_rng rng;             /* training noise */
    int64_t iter, target_evals;
    double sigma;            /* σ of the current update (of level lvl) */
    nis_tensor *kde_pool;    /* score_kde: this update's detached pool (N, d), in ctx */
    char msg[256];
};

/* The sampler's hidden widths as an MLP width list {in, w, ..., w, out}; returns the count. */
int nis__mlp_widths(int64_t *w, int64_t in, int width, int depth, int64_t out);

/* Losses of one update, built in tr->ctx (reset by the caller).  Each returns the scalar loss to
 * back-propagate, or NULL with the context's error set; *monitor gets the value to report. */
nis_tensor *nis__dsm_loss(nis_trainer *tr, double *monitor);        /* score net, denoising SM */
nis_tensor *nis__ssm_loss(nis_trainer *tr, double *monitor);        /* score net, exact SM (Fisher) */
nis_tensor *nis__dft_loss(nis_trainer *tr, double *monitor);        /* sampler, DFT */
nis_tensor *nis__kl_loss(nis_trainer *tr, double *monitor);         /* sampler, KL */
nis_tensor *nis__fisher_loss(nis_trainer *tr, double *monitor);     /* sampler, Fisher without noise */

/* z ~ N(0, I) (B, latent) and ε ~ N(0, I) (B, dim), antithetic pairs if configured (second half of the
 * batch = first half's z with -ε). */
void nis__draw_noise(nis_trainer *tr, nis_tensor *z, nis_tensor *eps);

/* n samples of gen into out (n, dim), caller-owned, in chunks built in ctx (reset; its grad flag restored):
 * u = gen(z) (+ σε when noisy), z ~ N(0, I) (latent), and with aff (else NULL) x = m + L u.  Errors name the
 * context's message in err (src/train/generate.c). */
nis_status nis__generate(nis_ctx *ctx, const nis_mlp *gen, int latent, int64_t dim, bool noisy, double sigma,
                         const nis_affine_target *aff, nis_rng *rng, int64_t n, nis_real *out, char *err,
                         size_t errlen);

#endif
