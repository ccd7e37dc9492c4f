/* src/train/trainer.c — the trainer: its life cycle, one update top to bottom (nis_trainer_step) with the
 * schedules and the optimiser step it uses, the training loop and sampling.  The losses are the objective's
 * (objectives.c); the networks, the score model and the draws are nets.c's. */
#include "internal.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nis_trainer *nis__trainer_alloc(const nis_target *t, const nis_train_config *cfg, const nis_train_start *start,
                                char *err, size_t errlen) {
    if (!t || !t->log_prob) {
        snprintf(err, errlen, "trainer: no target");
        return NULL;
    }
    if (nis_train_config_check(cfg, t, err, errlen) != NIS_OK) return NULL;
    const nis_real *pm = start ? start->precond_mean : NULL, *pL = start ? start->precond_L : NULL;
    if (!pm != !pL || (pm && start->mean) || (pm && cfg->net != NIS_NET_MLP)) {
        snprintf(err, errlen, "trainer: %s", !pm != !pL ? "precond_mean and precond_L go together"
                                            : pm && start->mean ? "a start mean cannot be combined with a preconditioner (the start is u = 0)"
                                                                : "a preconditioner needs an MLP sampler");
        return NULL;
    }
    nis_trainer *tr = nis_calloc(1, sizeof *tr);
    if (!tr) {
        snprintf(err, errlen, "trainer: out of memory");
        return NULL;
    }
    tr->t = t;
    tr->cfg = nis__config_resolve(cfg, t);
    if (tr->cfg.score_warmup < 0) tr->cfg.score_warmup = 0;
    tr->obj = nis_objective_builtin(tr->cfg.method);
    const nis_target *q = t;
    if (pm) {   /* own copies: the caller's arrays are not kept */
        size_t d = (size_t)t->dim;
        tr->pre_m = nis_malloc(d * sizeof(nis_real));
        tr->pre_L = nis_malloc(d * d * sizeof(nis_real));
        if (!tr->pre_m || !tr->pre_L) {
            snprintf(err, errlen, "trainer: out of memory");
            nis_trainer_free(tr);
            return NULL;
        }
        memcpy(tr->pre_m, pm, d * sizeof(nis_real));
        memcpy(tr->pre_L, pL, d * d * sizeof(nis_real));
        nis_affine_target_init(&tr->affine, t, tr->pre_m, tr->pre_L);
        q = &tr->affine.target;
    }
    nis_counted_target_init(&tr->q, q);
    tr->ctx = nis_ctx_new(0);
    if (!tr->ctx || nis__nets_init(&tr->nets, &tr->cfg, t->dim, err, errlen) != NIS_OK) {
        if (!tr->ctx) snprintf(err, errlen, "trainer: out of memory");
        nis_trainer_free(tr);
        return NULL;
    }
    tr->opt_g = nis_adam_default(tr->cfg.lr);
    tr->opt_s = nis_adam_default(tr->cfg.lr_score);
    tr->rng = nis_rng_init((uint64_t)tr->cfg.seed, NIS_STREAM_TRAIN);
    tr->sigma = nis__sched_geometric(tr->cfg.sigma_start, tr->cfg.sigma, tr->cfg.anneal_iters, 0);
    return tr;
}

/* Fit g(z) ≈ mean + init_scale z[:, :dim] (zero-padded when latent < dim) by least squares with Adam, then forget
 * the optimiser's moments: the sampler starts as a broad Gaussian instead of a narrow random blob. */
static nis_status broad_start(nis_trainer *tr, const nis_real *mean) {
    const nis_train_config *c = &tr->cfg;
    nis_params *G = tr->nets.G;
    nis_adam opt = nis_adam_default(1e-3);
    nis_rng r = nis_rng_init((uint64_t)c->seed, NIS_STREAM_BROAD_START);
    int64_t B = c->batch, d = tr->t->dim, lz = c->latent;
    for (int64_t k = 0; k < c->init_steps; k++) {
        nis_ctx_reset(tr->ctx);
        nis_tensor *z = nis_new2(tr->ctx, B, lz), *y = nis_zeros(tr->ctx, 2, (int64_t[]){B, d});
        if (!z || !y) break;
        nis_rng_fill_normal(&r, z->data, z->n, 0, 1);
        for (int64_t i = 0; i < B; i++)
            for (int64_t j = 0; j < d; j++)
                y->data[i * d + j] = (nis_real)((mean ? mean[j] : 0) + (j < lz ? c->init_scale * z->data[i * lz + j] : 0));
        nis_tensor *g = nis__gen_forward(tr->ctx, &tr->nets.gen, z);
        nis_tensor *loss = nis_mean(tr->ctx, nis_square(tr->ctx, nis_sub(tr->ctx, g, y)));
        nis_params_zero_grad(G);
        if (!loss || nis_backward(tr->ctx, loss, NULL) != NIS_OK || nis_adam_step(&opt, G) != NIS_OK) break;
    }
    if (nis_ctx_status(tr->ctx) != NIS_OK || nis_params_status(G) != NIS_OK) {
        snprintf(tr->msg, sizeof tr->msg, "%s", nis_ctx_status(tr->ctx) ? nis_ctx_message(tr->ctx) : nis_params_message(G));
        return NIS_ESTATE;
    }
    if (G->m) memset(G->m, 0, (size_t)G->n * sizeof(nis_real));
    if (G->v) memset(G->v, 0, (size_t)G->n * sizeof(nis_real));
    return NIS_OK;
}

nis_trainer *nis_trainer_new(const nis_target *t, const nis_train_config *cfg, const nis_train_start *start,
                             char *err, size_t errlen) {
    nis_trainer *tr = nis__trainer_alloc(t, cfg, start, err, errlen);
    if (!tr) return NULL;
    const nis_train_config *c = &tr->cfg;
    nis_real *mode = NULL;   /* the start's centre: given, or the target's mode (not in whitened coordinates) */
    const nis_real *mean = start ? start->mean : NULL;
    nis_status st = NIS_OK;
    if (c->init_scale > 0 && !mean && !tr->pre_m && c->init_at_mode && t->mode) {
        mode = nis_malloc((size_t)t->dim * sizeof *mode);
        st = mode ? t->mode(t, mode, err, errlen) : NIS_ENOMEM;
        if (!mode) snprintf(err, errlen, "trainer: out of memory");
        mean = mode;
    }
    if (st == NIS_OK && c->init_scale > 0 && broad_start(tr, mean) != NIS_OK) {
        snprintf(err, errlen, "trainer: initial fit: %s", tr->msg);
        st = NIS_ESTATE;
    }
    nis_free(mode);
    if (st == NIS_OK && c->ema > 0 && nis_ema_init(&tr->ema, tr->nets.G, c->ema) != NIS_OK) {   /* from the start */
        snprintf(err, errlen, "trainer: %s", nis_params_message(tr->nets.G));
        st = NIS_ENOMEM;
    }
    if (st != NIS_OK) {
        nis_trainer_free(tr);
        return NULL;
    }
    return tr;
}

void nis_trainer_free(nis_trainer *tr) {
    if (!tr) return;
    nis_ema_free(&tr->ema);
    nis__nets_free(&tr->nets);
    nis_free(tr->pre_m), nis_free(tr->pre_L), nis_free(tr->guard_x), nis_free(tr->mon_prev);
    nis_ctx_free(tr->ctx);
    nis_free(tr);
}

void nis_trainer_set_objective(nis_trainer *tr, const nis_objective *obj) { tr->obj = obj; }

nis_status nis_train_config_check_dist(const nis_train_config *c, const nis_dist *d, char *err, size_t errlen) {
    char what[64];
    snprintf(what, sizeof what, "the batch (%lld%s)", (long long)c->batch, c->antithetic ? ", in antithetic pairs" : "");
    return nis_dist_check(d, c->antithetic ? c->batch / 2 : c->batch, "trainer", what, err, errlen);
}

nis_status nis_trainer_set_dist(nis_trainer *tr, const nis_dist *d, char *err, size_t errlen) {
    nis_status st = nis_train_config_check_dist(&tr->cfg, d, err, errlen);
    if (st != NIS_OK) return st;
    tr->dist = d && d->size > 1 ? d : NULL;
    return NIS_OK;
}
const char *nis_trainer_message(const nis_trainer *tr) { return tr->msg; }
const nis_train_config *nis_trainer_config(const nis_trainer *tr) { return &tr->cfg; }
double nis_trainer_sigma(const nis_trainer *tr) { return tr->sigma; }
int64_t nis_trainer_iter(const nis_trainer *tr) { return tr->iter; }
int64_t nis_trainer_target_evals(const nis_trainer *tr) { return tr->q.rows; }
int64_t nis_trainer_stopped(const nis_trainer *tr) { return tr->stopped; }
nis_params *nis_trainer_generator(nis_trainer *tr) { return tr->nets.G; }
nis_params *nis_trainer_score_net(nis_trainer *tr) { return tr->nets.S; }
const nis_ema *nis_trainer_ema(const nis_trainer *tr) { return tr->ema.shadow ? &tr->ema : NULL; }

/* ---- the schedules: functions of the update number only ---- */

double nis__sched_geometric(double start, double end, int64_t n, int64_t it) {
    if (start <= 0 || n <= 0 || it >= n) return end;
    double f = (double)it / (double)n;
    return exp(log(start) + f * (log(end) - log(start)));
}

double nis__sched_cosine(double lr, double lr_final, int64_t n, int64_t it) {
    if (lr_final <= 0 || n <= 1) return lr;
    double f = (double)(it < n ? it : n - 1) / (double)(n - 1);
    return lr_final + 0.5 * (lr - lr_final) * (1 + cos(3.14159265358979323846 * f));
}

/* ---- one optimiser update of a network from its loss ---- */

nis_status nis__update(nis_ctx *ctx, const nis_dist *dist, nis_tensor *loss, double *monitor, nis_params *P,
                       nis_adam *opt, double clip, int64_t iter, const char *what, double *norm_out, char *msg,
                       size_t msglen) {
    if (!loss) {
        snprintf(msg, msglen, "%s loss: %s", what, nis_ctx_message(ctx));
        return nis_ctx_status(ctx) ? nis_ctx_status(ctx) : NIS_ESTATE;
    }
    double lm[2] = {*monitor, loss->data[0]};
    char derr[256];
    if (nis_dist_mean_double(dist, lm, 2, derr, sizeof derr) != NIS_OK) {
        snprintf(msg, msglen, "%s loss: %s", what, derr);
        return NIS_EIO;
    }
    *monitor = lm[0];
    if (!isfinite(lm[0]) || !isfinite(lm[1])) {
        snprintf(msg, msglen, "%s loss is not finite (%g) at update %lld", what, lm[0], (long long)iter + 1);
        return NIS_ENUMERIC;
    }
    nis_params_zero_grad(P);
    if (nis_backward(ctx, loss, NULL) != NIS_OK) {
        snprintf(msg, msglen, "%s backward: %s", what, nis_ctx_message(ctx));
        return nis_ctx_status(ctx);
    }
    if (nis_dist_mean_real(dist, P->grad, P->n, derr, sizeof derr) != NIS_OK) {
        snprintf(msg, msglen, "%s gradient: %s", what, derr);
        return NIS_EIO;
    }
    double norm = clip > 0 ? nis_clip_grad_norm(P, clip) : nis_grad_norm(P);
    if (norm_out) *norm_out = norm;
    if (!isfinite(norm)) {
        snprintf(msg, msglen, "%s gradient is not finite at update %lld", what, (long long)iter + 1);
        return NIS_ENUMERIC;
    }
    if (nis_adam_step(opt, P) != NIS_OK) {
        snprintf(msg, msglen, "%s optimiser: %s", what, nis_params_message(P));
        return nis_params_status(P);
    }
    return NIS_OK;
}

/* ---- the divergence guard ---- */

/* Root mean square of NIS__GUARD_N samples of the live sampler (in the target's coordinates), drawn from stream
 * NIS_STREAM_GUARD's child iter so that the training noise is untouched. */
static nis_status guard_rms(nis_trainer *tr, double *rms) {
    const int64_t n = NIS__GUARD_N, d = tr->t->dim;
    if (!tr->guard_x && !(tr->guard_x = nis_malloc((size_t)(n * d) * sizeof *tr->guard_x))) {
        snprintf(tr->msg, sizeof tr->msg, "divergence guard: out of memory");
        return NIS_ENOMEM;
    }
    nis_rng base = nis_rng_init((uint64_t)tr->cfg.seed, NIS_STREAM_GUARD), g = nis_rng_split(&base, (uint64_t)tr->iter);
    nis_status st = nis_trainer_sample_live(tr, &g, n, false, tr->guard_x);
    if (st != NIS_OK) return st;
    double s2 = 0;
    for (int64_t i = 0; i < n * d; i++) s2 += (double)tr->guard_x[i] * tr->guard_x[i];
    *rms = sqrt(s2 / (double)(n * d));
    return NIS_OK;
}

/* The rule of nis_trainer_step: every NIS__GUARD_EVERY updates, the samples' RMS against NIS__GUARD_FACTOR times
 * the reference (the RMS before this trainer's first update, at least 1). */
static nis_status guard_check(nis_trainer *tr) {
    double rms;
    nis_status st = guard_rms(tr, &rms);
    if (st != NIS_OK) return st;
    if (!(rms <= NIS__GUARD_FACTOR * tr->guard_ref)) {
        snprintf(tr->msg, sizeof tr->msg, "the run diverged: the samples' root mean square is %.3g, more than %g times "
                 "its %.3g before the first update (lower the learning rates, or clip gradients)", rms,
                 NIS__GUARD_FACTOR, tr->guard_ref);
        return NIS_ENUMERIC;
    }
    return NIS_OK;
}

/* ---- one update: schedule, score model, sampler, EMA ---- */

nis_status nis_trainer_step(nis_trainer *tr, nis_train_stats *stats) {
    const nis_train_config *c = &tr->cfg;
    nis__nets *N = &tr->nets;
    tr->failed = tr->iter + 1;
    /* 0. the divergence guard's reference: the samples' scale before this trainer's first update */
    if (tr->guard_ref == 0) {
        double rms;
        nis_status gs = guard_rms(tr, &rms);
        if (gs != NIS_OK) return gs;
        tr->guard_ref = isfinite(rms) && rms > 1 ? rms : 1;
    }
    /* 1. this update's σ and sampler learning rate */
    tr->sigma = nis__sched_geometric(c->sigma_start, c->sigma, c->anneal_iters, tr->iter);
    tr->opt_g.lr = nis__sched_cosine(c->lr, c->lr_final, c->iters, tr->iter);
    nis_train_step s = {.ctx = tr->ctx, .q = &tr->q.target, .cfg = c, .sigma = tr->sigma, .iter = tr->iter,
                  .score = nis__score, .resid = N->residual ? nis__resid : NULL, .nets = N, .rng = &tr->rng,
                  .dist = tr->dist};
    double score_mon = NAN, mon = NAN;
    nis_status st = NIS_OK;

    /* 2. the score model: score_steps updates (and the warm-up before the first sampler update) */
    int64_t k_score = c->score_steps + (tr->iter == 0 ? c->score_warmup : 0);
    for (int64_t k = 0; k < k_score && st == NIS_OK; k++) {
        nis_ctx_reset(tr->ctx);
        nis_tensor *loss = tr->obj->score_loss(&s, &score_mon);
        st = nis__update(tr->ctx, tr->dist, loss, &score_mon, N->S, &tr->opt_s, c->grad_clip, tr->iter,
                         "score-network", NULL, tr->msg, sizeof tr->msg);
    }
    if (st != NIS_OK) return st;

    /* 3. the sampler, with s_φ frozen (sg(s_φ): gradients reach θ through x̃ only) */
    nis_ctx_reset(tr->ctx);
    nis_params_set_requires_grad(N->S, false);
    nis_tensor *loss = tr->obj->sampler_loss(&s, &mon);
    st = nis__update(tr->ctx, tr->dist, loss, &mon, N->G, &tr->opt_g, c->grad_clip, tr->iter, "sampler", NULL,
                     tr->msg, sizeof tr->msg);
    nis_params_set_requires_grad(N->S, true);
    if (st != NIS_OK) return st;

    /* 4. the EMA of the sampler's weights */
    if (tr->ema.shadow && nis_ema_update_warm(&tr->ema, N->G, c->ema) != NIS_OK) {
        snprintf(tr->msg, sizeof tr->msg, "sampler EMA: %s", nis_params_message(N->G));
        return NIS_ESTATE;
    }
    tr->iter++;
    if (stats)
        *stats = (nis_train_stats){.iter = tr->iter, .sampler_loss = mon, .score_loss = score_mon, .sigma = tr->sigma,
                                   .lr = tr->opt_g.lr, .target_evals = tr->q.rows, .drift = NAN};
    /* 5. the divergence guard (finite runaway values; NaN and Inf are caught above) */
    tr->failed = tr->iter;
    if (tr->iter % NIS__GUARD_EVERY == 0 && (st = guard_check(tr)) != NIS_OK) return st;
    /* 6. the convergence monitor and the stopping rule (monitor.c) */
    if (c->monitor_every > 0 && tr->iter % c->monitor_every == 0) {
        double drift;
        if ((st = nis__monitor_check(tr, &drift)) != NIS_OK) return st;
        if (stats) stats->drift = drift;
    }
    return NIS_OK;
}

nis_status nis_trainer_train(nis_trainer *tr, int64_t iters, nis_train_progress_fn fn, void *ud) {
    nis_train_stats s = {0};
    while (tr->iter < iters && !tr->stopped) {
        nis_status st = nis_trainer_step(tr, &s);
        if (st != NIS_OK) return st;
        if (fn && !fn(ud, tr, &s)) break;
    }
    return NIS_OK;
}

/* n samples from the live weights, or from the EMA's swapped in and back (a swap of equal sizes cannot fail). */
static nis_status sample(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out, bool ema) {
    bool swap = ema && tr->ema.shadow;
    if (swap) nis_ema_swap(&tr->ema, tr->nets.G);
    nis_status st = nis__generate(tr->ctx, &tr->nets.gen, noisy, tr->sigma, tr->pre_m ? &tr->affine : NULL, rng, n,
                                  out, tr->msg, sizeof tr->msg);
    if (swap) nis_ema_swap(&tr->ema, tr->nets.G);
    return st;
}

nis_status nis_trainer_sample(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out) {
    return sample(tr, rng, n, noisy, out, true);
}

nis_status nis_trainer_sample_live(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out) {
    return sample(tr, rng, n, noisy, out, false);
}
