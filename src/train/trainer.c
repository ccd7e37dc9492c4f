/* src/train/trainer.c — trainer life cycle, one update (score steps + sampler step), sampling, saving. */
#include "update.h"
#include "internal.h"
#include "nis/checkpoint.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *nis_method_name(nis_method m) {
    switch (m) {
    case NIS_METHOD_DFT: return "dft";
    case NIS_METHOD_KL: return "kl";
    case NIS_METHOD_FISHER: return "fisher";
    }
    return "?";
}

bool nis_method_parse(const char *name, nis_method *out) {
    for (int m = NIS_METHOD_DFT; m <= NIS_METHOD_FISHER; m++)
        if (!strcmp(name, nis_method_name((nis_method)m))) {
            *out = (nis_method)m;
            return true;
        }
    return false;
}

nis_train_config nis_train_config_default(nis_method method) {
    nis_train_config c = {
        .method = method,
        .iters = 3000,
        .batch = 256,
        .latent = 2,
        .sampler_width = 64,
        .sampler_depth = 3,
        .score_width = 64,
        .score_depth = 3,
        .act = NIS_ACT_SILU,
        .lr_sampler = 1e-4,
        .lr_score = 1e-3,
        .score_steps = 5,
        .sigma = 0.1,
        .sigma_start = 0,
        .anneal_iters = 0,
        .antithetic = true,
        .noisy_output = method != NIS_METHOD_FISHER,
        .grad_clip = 10,
        .kl_warmup = 0,
        .init_scale = 2,
        .init_steps = 500,
        .seed = 0,
        .ema_decay = 0.999,
    };
    return c;
}

int nis__mlp_widths(int64_t *w, int64_t in, int width, int depth, int64_t out) {
    int n = 0;
    w[n++] = in;
    for (int i = 0; i < depth; i++) w[n++] = width;
    w[n++] = out;
    return n;
}

static bool config_ok(const nis_train_config *c, const nis_target *t, char *err, size_t errlen) {
    const char *bad = NULL;
    if (c->iters < 0) bad = "iters must be >= 0";
    else if (c->batch < 2 || (c->antithetic && c->batch % 2)) bad = "batch must be >= 2 (and even with antithetic noise)";
    else if (c->latent < 1) bad = "latent must be >= 1";
    else if (c->sampler_width < 1 || c->score_width < 1) bad = "widths must be >= 1";
    else if (c->sampler_depth < 0 || c->score_depth < 0 || c->sampler_depth >= NIS_MLP_MAX_LAYERS ||
             c->score_depth >= NIS_MLP_MAX_LAYERS) bad = "depths must be in [0, 15]";
    else if (!(c->lr_sampler > 0) || !(c->lr_score > 0)) bad = "learning rates must be > 0";
    else if (!(c->lr_final >= 0)) bad = "lr_final must be >= 0";
    else if (c->score_steps < 1) bad = "score_steps must be >= 1";
    else if (!(c->sigma > 0) && c->method != NIS_METHOD_FISHER) bad = "sigma must be > 0";
    else if (t->dim < 1) bad = "target dimension must be >= 1";
    else if (c->score_kde < 0 || c->target_smooth < 0) bad = "score_kde and target_smooth must be >= 0";
    else if (c->target_smooth > 0 && (c->stein_target || c->stein_score))
        bad = "target_smooth cannot be combined with the Stein forms";
    else if (c->score_kde > 0 && c->method == NIS_METHOD_FISHER) bad = "score_kde needs DFT or KL";
    else if (c->smooth_laplace && (c->target_smooth < 2 || t->dim > NIS_SMOOTH_LAPLACE_MAX_DIM))
        bad = "smooth_laplace needs target_smooth >= 2 and a target dimension <= 128";
    else if (c->levels < 0 || c->levels > NIS_TRAIN_MAX_LEVELS) bad = "levels must be in [0, 8]";
    else if (c->levels > 1 && (c->method != NIS_METHOD_DFT || !(c->sigma_max > c->sigma)))
        bad = "levels > 1 needs DFT and sigma_max > sigma";
    else if (!(c->ema_decay >= 0 && c->ema_decay < 1)) bad = "ema_decay must be in [0, 1)";
    else if (c->score_residual && (c->target_smooth > 0 || c->score_kde > 0))
        bad = "score_residual cannot be combined with target_smooth or score_kde (turn it off: the residual is "
              "taken against the unsmoothed target's score)";
    else if (!c->precond_mean != !c->precond_L) bad = "precond_mean and precond_L go together";
    else if (c->score_warmup < 0) bad = "score_warmup must be >= 0";
    else if (c->precond_mean && c->init_mean) bad = "init_mean cannot be combined with precond (the start is u = 0)";
    else if (!(c->kl_weight >= 0 && isfinite(c->kl_weight))) bad = "kl_weight must be finite and >= 0";
    else if (c->kl_weight > 0 && (c->method != NIS_METHOD_DFT || c->target_smooth > 0))
        bad = "kl_weight needs method dft without target_smooth (whose fixed point differs from KL's)";
    else if (c->temper_iters < 0) bad = "temper_iters must be >= 0";
    else if (c->temper_iters > 0 && !(c->temper_start >= 0 && c->temper_start < 1))
        bad = "temper_start must be in [0, 1)";
    if (bad) snprintf(err, errlen, "train config: %s", bad);
    return bad == NULL;
}

/* Fit g(z) ≈ init_mean + init_scale * z[:, :dim] (zero-padded when latent < dim) by least squares with Adam, then forget
 * the optimiser state: the sampler starts as a broad Gaussian instead of a narrow random blob. */
static nis_status broad_start(nis_trainer *tr) {
    const nis_train_config *c = &tr->cfg;
    nis_adam opt = nis_adam_default(1e-3);
    nis_rng r = nis_rng_init(c->seed, 2);
    int64_t B = c->batch, d = tr->t->dim, lz = c->latent;
    for (int64_t k = 0; k < c->init_steps; k++) {
        nis_ctx_reset(tr->ctx);
        nis_tensor *z = nis_new2(tr->ctx, B, lz), *y = nis_zeros(tr->ctx, 2, (int64_t[]){B, d});
        if (!z || !y) break;
        nis_rng_fill_normal(&r, z->data, z->n, 0, 1);
        for (int64_t i = 0; i < B; i++)
            for (int64_t j = 0; j < d; j++)
                y->data[i * d + j] = (nis_real)((c->init_mean ? c->init_mean[j] : 0) +
                                                (j < lz ? c->init_scale * z->data[i * lz + j] : 0));
        nis_tensor *loss = nis_mean(tr->ctx, nis_square(tr->ctx, nis_sub(tr->ctx, nis_mlp_forward(tr->ctx, &tr->gen, z), y)));
        nis_params_zero_grad(tr->G);
        if (!loss || nis_backward(tr->ctx, loss, NULL) != NIS_OK || nis_adam_step(&opt, tr->G) != NIS_OK) break;
    }
    if (nis_ctx_status(tr->ctx) != NIS_OK || nis_params_status(tr->G) != NIS_OK) {
        snprintf(tr->msg, sizeof tr->msg, "%s",
                 nis_ctx_status(tr->ctx) ? nis_ctx_message(tr->ctx) : nis_params_message(tr->G));
        return NIS_ESTATE;
    }
    if (tr->G->m) memset(tr->G->m, 0, (size_t)tr->G->n * sizeof(nis_real));
    if (tr->G->v) memset(tr->G->v, 0, (size_t)tr->G->n * sizeof(nis_real));
    return NIS_OK;
}

nis_trainer *nis_trainer_new(const nis_target *t, const nis_train_config *cfg, char *err, size_t errlen) {
    if (!config_ok(cfg, t, err, errlen)) return NULL;
    nis_trainer *tr = nis_calloc(1, sizeof *tr);
    if (!tr) {
        snprintf(err, errlen, "trainer: out of memory");
        return NULL;
    }
    tr->t = tr->q = t;
    tr->cfg = *cfg;
    if (cfg->precond_mean) {   /* own copies: the caller's arrays are not kept */
        size_t d = (size_t)t->dim;
        tr->pre_m = nis_malloc(d * sizeof(nis_real));
        tr->pre_L = nis_malloc(d * d * sizeof(nis_real));
        if (!tr->pre_m || !tr->pre_L) {
            snprintf(err, errlen, "trainer: out of memory");
            nis_trainer_free(tr);
            return NULL;
        }
        memcpy(tr->pre_m, cfg->precond_mean, d * sizeof(nis_real));
        memcpy(tr->pre_L, cfg->precond_L, d * d * sizeof(nis_real));
        tr->cfg.precond_mean = tr->pre_m, tr->cfg.precond_L = tr->pre_L;
        nis_affine_target_init(&tr->affine, t, tr->pre_m, tr->pre_L);
        tr->q = &tr->affine.target;
    }
    if (cfg->temper_iters > 0) {
        nis_tempered_target_init(&tr->tempered, tr->q, cfg->temper_start);
        tr->q = &tr->tempered.target;
    }
    tr->n_levels = cfg->levels > 1 ? cfg->levels : 1;
    tr->G = nis_params_new();
    tr->ctx = nis_ctx_new(0);
    bool ok = tr->G && tr->ctx;
    for (int l = 0; l < tr->n_levels; l++) ok = ok && (tr->S[l] = nis_params_new()) != NULL;
    if (!ok) {
        snprintf(err, errlen, "trainer: out of memory");
        nis_trainer_free(tr);
        return NULL;
    }
    int64_t w[NIS_MLP_MAX_LAYERS + 2];
    int n = nis__mlp_widths(w, cfg->latent, cfg->sampler_width, cfg->sampler_depth, t->dim);
    nis_mlp_add(&tr->gen, tr->G, "sampler", n, w, cfg->act);
    n = nis__mlp_widths(w, t->dim, cfg->score_width, cfg->score_depth, cfg->score_energy ? 1 : t->dim);
    nis_rng init = nis_rng_init(cfg->seed, 0);
    bool bad = nis_params_finalize(tr->G) || nis_params_init(tr->G, &init);
    const char *bad_msg = bad ? nis_params_message(tr->G) : NULL;
    for (int l = 0; l < tr->n_levels && !bad; l++) {   /* level 0 draws exactly what the single network did */
        nis_rng init_s = nis_rng_split(&init, 1 + (uint64_t)l);
        nis_mlp_add(&tr->score[l], tr->S[l], "score", n, w, cfg->act);
        bad = nis_params_finalize(tr->S[l]) || nis_params_init(tr->S[l], &init_s);
        if (bad) bad_msg = nis_params_message(tr->S[l]);
    }
    if (bad) {
        snprintf(err, errlen, "trainer: %s", bad_msg);
        nis_trainer_free(tr);
        return NULL;
    }
    if (cfg->init_scale > 0 && broad_start(tr) != NIS_OK) {
        snprintf(err, errlen, "trainer: initial fit: %s", tr->msg);
        nis_trainer_free(tr);
        return NULL;
    }
    tr->cfg.init_mean = NULL;   /* the caller's array is not kept */
    if (cfg->ema_decay > 0 && nis_ema_init(&tr->ema, tr->G, cfg->ema_decay) != NIS_OK) {   /* averages from the start */
        snprintf(err, errlen, "trainer: %s", nis_params_message(tr->G));
        nis_trainer_free(tr);
        return NULL;
    }
    tr->opt_g = nis_adam_default(cfg->lr_sampler);
    for (int l = 0; l < tr->n_levels; l++) tr->opt_s[l] = nis_adam_default(cfg->lr_score);
    tr->rng = nis_rng_init(cfg->seed, 1);
    tr->sigma = cfg->sigma;
    return tr;
}

void nis_trainer_free(nis_trainer *tr) {
    if (!tr) return;
    nis_ema_free(&tr->ema);
    nis_free(tr->pre_m), nis_free(tr->pre_L);
    nis_params_free(tr->G);
    for (int l = 0; l < NIS_TRAIN_MAX_LEVELS; l++) nis_params_free(tr->S[l]);
    nis_ctx_free(tr->ctx);
    nis_free(tr);
}

const char *nis_trainer_message(const nis_trainer *tr) { return tr->msg; }
const nis_train_config *nis_trainer_config(const nis_trainer *tr) { return &tr->cfg; }
double nis_trainer_sigma(const nis_trainer *tr) { return tr->sigma; }

/* σ of update `it`: geometric from sigma_start to sigma over anneal_iters, then sigma. */
static double sigma_at(const nis_train_config *c, int64_t it) {
    if (c->sigma_start <= 0 || c->anneal_iters <= 0 || it >= c->anneal_iters) return c->sigma;
    double f = (double)it / (double)c->anneal_iters;
    return exp(log(c->sigma_start) + f * (log(c->sigma) - log(c->sigma_start)));
}

/* Tempering β of update `it`: linear from temper_start to 1 over temper_iters, then 1. */
static double beta_at(const nis_train_config *c, int64_t it) {
    if (c->temper_iters <= 0 || it >= c->temper_iters) return 1;
    return c->temper_start + (1 - c->temper_start) * (double)it / (double)c->temper_iters;
}

/* Sampler learning rate of update `it`: cosine from lr_sampler to lr_final over iters (lr_final <= 0: constant). */
static double lr_at(const nis_train_config *c, int64_t it) {
    if (c->lr_final <= 0 || c->iters <= 1) return c->lr_sampler;
    double f = (double)(it < c->iters ? it : c->iters - 1) / (double)(c->iters - 1);
    return c->lr_final + 0.5 * (c->lr_sampler - c->lr_final) * (1 + cos(3.14159265358979323846 * f));
}

void nis__draw_noise(nis_trainer *tr, nis_tensor *z, nis_tensor *eps) {
    int64_t B = z->shape[0], half = tr->cfg.antithetic ? B / 2 : B;
    int64_t lz = z->shape[1], d = eps ? eps->shape[1] : 0;
    nis_rng_fill_normal(&tr->rng, z->data, half * lz, 0, 1);
    if (eps) nis_rng_fill_normal(&tr->rng, eps->data, half * d, 0, 1);
    if (half < B) {
        memcpy(z->data + half * lz, z->data, (size_t)(half * lz) * sizeof(nis_real));
        if (eps)
            for (int64_t i = 0; i < half * d; i++) eps->data[half * d + i] = -eps->data[i];
    }
}

/* One Adam update of P from loss (src/train/update.c). */
static nis_status update(nis_trainer *tr, nis_tensor *loss, double monitor, nis_params *P, nis_adam *opt,
                         const char *what) {
    return nis__update(tr->ctx, loss, monitor, P, opt, tr->cfg.grad_clip, tr->iter, what, tr->msg,
                       sizeof tr->msg);
}

/* σ of level l at the current update: level 0 is sigma_at(); the others are geometric up to sigma_max (scaled
 * alike while annealing). */
static double level_sigma(const nis_trainer *tr, double sigma0, int l) {
    if (tr->n_levels < 2) return sigma0;
    const nis_train_config *c = &tr->cfg;
    return sigma0 * exp((double)l / (tr->n_levels - 1) * log(c->sigma_max / c->sigma));
}

nis_status nis_trainer_step(nis_trainer *tr, nis_train_stats *stats) {
    const nis_train_config *c = &tr->cfg;
    const double sigma0 = sigma_at(c, tr->iter), beta = beta_at(c, tr->iter);
    if (tr->q != tr->t) tr->tempered.beta = beta;
    tr->opt_g.lr = lr_at(c, tr->iter);
    double score_mon = NAN, mon = NAN;
    nis_status st = NIS_OK;
    int64_t score_steps = c->score_kde > 0 && c->method != NIS_METHOD_FISHER ? 0 : c->score_steps;
    if (tr->iter == 0 && score_steps > 0) score_steps += c->score_warmup;   /* before the first sampler update */
    for (int l = 0; l < tr->n_levels && st == NIS_OK; l++) {
        tr->lvl = l, tr->sigma = level_sigma(tr, sigma0, l);
        for (int64_t k = 0; k < score_steps && st == NIS_OK; k++) {
            nis_ctx_reset(tr->ctx);
            nis_tensor *ls = c->method == NIS_METHOD_FISHER ? nis__ssm_loss(tr, &score_mon)
                                                            : nis__dsm_loss(tr, &score_mon);
            st = update(tr, ls, score_mon, tr->S[l], &tr->opt_s[l], "score-network");
        }
    }
    if (st != NIS_OK) return st;

    nis_ctx_reset(tr->ctx);
    for (int l = 0; l < tr->n_levels; l++)
        nis_params_set_requires_grad(tr->S[l], false);   /* sg(s_φ): gradients flow through x only */
    nis_tensor *loss = NULL;
    tr->lvl = 0, tr->sigma = sigma0;   /* KL and Fisher use level 0; DFT visits every level, then returns here */
    if (c->method == NIS_METHOD_KL || (c->method == NIS_METHOD_DFT && tr->iter < c->kl_warmup)) {
        loss = nis__kl_loss(tr, &mon);
    } else if (c->method == NIS_METHOD_DFT) {
        /* Σ_l w_l D_l with w_l = σ_l² / Σ σ_l² (one level: D_0) */
        double wsum = 0;
        for (int l = 0; l < tr->n_levels; l++) wsum += pow(level_sigma(tr, sigma0, l), 2);
        mon = 0;
        for (int l = 0; l < tr->n_levels; l++) {
            double m = NAN, wl;
            tr->lvl = l, tr->sigma = level_sigma(tr, sigma0, l);
            wl = tr->sigma * tr->sigma / wsum;
            nis_tensor *ll = nis__dft_loss(tr, &m);
            ll = tr->n_levels > 1 ? nis_mul_scalar(tr->ctx, ll, wl) : ll;
            loss = l ? nis_add(tr->ctx, loss, ll) : ll;
            mon += wl * m;
        }
        tr->lvl = 0, tr->sigma = sigma0;
        if (c->kl_weight > 0 && loss) {   /* the hybrid: + λ L_KL on its own draw (level 0's score network) */
            double m_kl;
            loss = nis_add(tr->ctx, loss, nis_mul_scalar(tr->ctx, nis__kl_loss(tr, &m_kl), c->kl_weight));
        }
    } else {
        loss = nis__fisher_loss(tr, &mon);
    }
    st = update(tr, loss, mon, tr->G, &tr->opt_g, "sampler");
    for (int l = 0; l < tr->n_levels; l++) nis_params_set_requires_grad(tr->S[l], true);
    /* decay warmed up as min(decay, (1 + t) / (10 + t)) so the broad start's weights fade out early */
    if (tr->ema.shadow) tr->ema.decay = fmin(tr->cfg.ema_decay, (1.0 + (double)tr->iter) / (10.0 + (double)tr->iter));
    if (st == NIS_OK && tr->ema.shadow && nis_ema_update(&tr->ema, tr->G) != NIS_OK) {
        snprintf(tr->msg, sizeof tr->msg, "sampler EMA: %s", nis_params_message(tr->G));
        st = NIS_ESTATE;
    }
    if (st != NIS_OK) return st;
    tr->iter++;
    bool kl_phase = c->method == NIS_METHOD_KL || (c->method == NIS_METHOD_DFT && tr->iter <= c->kl_warmup);
    bool smooth = c->method == NIS_METHOD_DFT && c->target_smooth > 0 && !kl_phase;
    bool resid = c->score_residual;   /* never with target_smooth or score_kde (config_ok) */
    bool resid_obj = resid && !c->stein_target && !c->stein_score && c->method != NIS_METHOD_FISHER;
    bool twice = !kl_phase && !resid_obj && tr->t->stochastic;   /* two draws of a stochastic score (nis_dft_objective) */
    /* target scores per sample: the sampler loss (smoothed target: K each, + d HVPs for the Laplace proposal; the
     * residual KL loss none; a generic loss with the residual model one more, inside s_φ), then the residual
     * model's s_q in every DSM step */
    int64_t per = smooth ? c->target_smooth + (c->smooth_laplace ? tr->t->dim : 0) : twice ? 2 : 1;
    if (resid_obj && kl_phase) per = 0;
    else if (resid && !resid_obj) per += 1;
    int nl = c->method == NIS_METHOD_DFT && !kl_phase ? tr->n_levels : 1;
    int64_t hybrid = !kl_phase && c->kl_weight > 0 ? (resid ? 0 : 1) : 0;   /* the KL term's s_q (residual: none) */
    tr->target_evals += c->batch * (per * nl + hybrid + (resid ? (int64_t)score_steps * tr->n_levels : 0));
    if (stats) {
        stats->iter = tr->iter;
        stats->sampler_loss = mon;
        stats->score_loss = score_mon;
        stats->sigma = tr->sigma;
        stats->beta = beta;
        stats->target_grad_evals = tr->target_evals;
    }
    return NIS_OK;
}

/* Exchange the generator's weights with their EMA (no-op when off): before and after using the average. */
static void swap_ema(nis_trainer *tr) {
    if (tr->ema.shadow) nis_ema_swap(&tr->ema, tr->G);   /* sizes match by construction: cannot fail */
}

static nis_status sample_current(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out);

nis_status nis_trainer_sample(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out) {
    swap_ema(tr);
    nis_status st = sample_current(tr, rng, n, noisy, out);
    swap_ema(tr);
    return st;
}

/* n samples from the generator's current weights (see nis_trainer_sample). */
static nis_status sample_current(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out) {
    return nis__generate(tr->ctx, &tr->gen, tr->cfg.latent, tr->t->dim, noisy, tr->sigma,
                         tr->pre_m ? &tr->affine : NULL, rng, n, out, tr->msg, sizeof tr->msg);
}

nis_status nis_trainer_save(nis_trainer *tr, const char *path, char *err, size_t errlen) {
    const nis_train_config *c = &tr->cfg;
    char latent[32], dim[32], width[32], depth[32], sigma[48];
    snprintf(latent, sizeof latent, "%d", c->latent);
    snprintf(dim, sizeof dim, "%d", tr->t->dim);
    snprintf(width, sizeof width, "%d", c->sampler_width);
    snprintf(depth, sizeof depth, "%d", c->sampler_depth);
    snprintf(sigma, sizeof sigma, "%.17g", tr->sigma);
    const char *kv[] = {"format", "nis-sampler-1", "target", tr->t->name ? tr->t->name : "", "method",
                        nis_method_name(c->method), "latent", latent, "dim", dim, "width", width, "depth", depth,
                        "act", nis_act_name(c->act), "sigma", sigma, "noisy_output", c->noisy_output ? "1" : "0"};
    const int64_t d = tr->t->dim;
    nis_st_entry pre[2] = {{.name = "precond.mean", .dtype = NIS_DT_REAL, .ndim = 1, .shape = {d}, .data = tr->pre_m},
                           {.name = "precond.L", .dtype = NIS_DT_REAL, .ndim = 2, .shape = {d, d}, .data = tr->pre_L}};
    swap_ema(tr);
    nis_status st = nis_checkpoint_save_extra(path, tr->G, NULL, tr->pre_m ? 2 : 0, pre,
                                              (int)(sizeof kv / sizeof kv[0] / 2), kv, err, errlen);
    swap_ema(tr);
    return st;
}
