/* src/train/imgsampler.c — the image sampler's life cycle and updates: score-network DSM steps, the DFT or KL
 * generator step (objectives of nis/train.h on flattened images), EMA, sampling. */
#include "update.h"
#include "imgsampler_internal.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nis_imgsampler_config nis_imgsampler_config_default(nis_method method) {
    nis_imgsampler_config c = {
        .method = method,
        .img_c = 1,
        .img_h = 28,
        .img_w = 28,
        .batch = 64,
        .latent = 64,
        .gen_channels = 64,
        .score_channels = 16,
        .act = NIS_ACT_SILU,
        .lr_gen = 1e-4,
        .lr_score = 1e-3,
        .score_steps = 3,
        .sigma = 0.1,
        .sigma_start = 0,
        .anneal_iters = 0,
        .antithetic = true,
        .noisy_output = true,
        .sigmoid_output = true,
        .grad_clip = 10,
        .ema_decay = 0.999,
        .score_eps = true,
        .seed = 0,
    };
    return c;
}

bool nis__imgsampler_config_ok(const nis_imgsampler_config *c, int64_t dim, char *err, size_t errlen) {
    const char *bad = NULL;
    if (c->method != NIS_METHOD_DFT && c->method != NIS_METHOD_KL) bad = "method must be dft or kl";
    else if (c->img_c < 1 || c->img_h < 4 || c->img_w < 4 || c->img_h % 4 || c->img_w % 4 || c->img_c > 4096 ||
             c->img_h > 4096 || c->img_w > 4096)
        bad = "image shape: c >= 1 and h, w multiples of 4";
    else if (dim >= 0 && (int64_t)c->img_c * c->img_h * c->img_w != dim)
        bad = "image shape c*h*w differs from the target's dimension";
    else if (c->batch < 2 || (c->antithetic && c->batch % 2)) bad = "batch must be >= 2 (and even with antithetic noise)";
    else if (c->latent < 1) bad = "latent must be >= 1";
    else if (c->gen_channels < 2 || c->score_channels < 1) bad = "gen_channels must be >= 2, score_channels >= 1";
    else if (!(c->lr_gen > 0) || !(c->lr_score > 0)) bad = "learning rates must be > 0";
    else if (c->score_steps < 1) bad = "score_steps must be >= 1";
    else if (!(c->sigma > 0) || !isfinite(c->sigma) || !(c->sigma_start >= 0)) bad = "sigma must be > 0 (sigma_start >= 0)";
    else if (c->anneal_iters < 0) bad = "anneal_iters must be >= 0";
    else if (!(c->ema_decay >= 0 && c->ema_decay < 1)) bad = "ema_decay must be in [0, 1)";
    if (bad) snprintf(err, errlen, "image sampler config: %s", bad);
    return bad == NULL;
}

nis_imgsampler *nis__imgsampler_alloc(const nis_imgsampler_config *cfg, char *err, size_t errlen) {
    nis_imgsampler *s = nis_calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "image sampler: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->dim = (int64_t)cfg->img_c * cfg->img_h * cfg->img_w;
    s->G = nis_params_new();
    s->S = nis_params_new();
    s->ctx = nis_ctx_new(0);
    if (!s->G || !s->S || !s->ctx) {
        snprintf(err, errlen, "image sampler: out of memory");
        nis_imgsampler_free(s);
        return NULL;
    }
    nis__imggen_add(&s->gen, s->G, cfg->latent, cfg->gen_channels, cfg->img_c, cfg->img_h, cfg->img_w, cfg->act,
                    cfg->sigmoid_output);
    nis__unet_add(&s->score, s->S, cfg->score_channels, cfg->img_c, cfg->img_h, cfg->img_w, cfg->act);
    nis_rng init = nis_rng_init(cfg->seed, 0);
    nis_rng init_s = nis_rng_split(&init, 1);
    if (nis_params_finalize(s->G) || nis_params_init(s->G, &init) || nis_params_finalize(s->S) ||
        nis_params_init(s->S, &init_s) ||
        (cfg->ema_decay > 0 && nis_ema_init(&s->ema, s->G, cfg->ema_decay) != NIS_OK)) {
        snprintf(err, errlen, "image sampler: %s",
                 nis_params_status(s->G) ? nis_params_message(s->G) : nis_params_message(s->S));
        nis_imgsampler_free(s);
        return NULL;
    }
    s->has_ema = cfg->ema_decay > 0;
    s->opt_g = nis_adam_default(cfg->lr_gen);
    s->opt_s = nis_adam_default(cfg->lr_score);
    s->rng = nis_rng_init(cfg->seed, 1);
    s->sigma = nis__imgsampler_sigma_at(cfg, 0);
    return s;
}

nis_imgsampler *nis_imgsampler_new(const nis_target *t, const nis_imgsampler_config *cfg, char *err,
                                   size_t errlen) {
    if (!t || !t->log_prob) {
        snprintf(err, errlen, "image sampler: no target");
        return NULL;
    }
    if (!nis__imgsampler_config_ok(cfg, t->dim, err, errlen)) return NULL;
    nis_imgsampler *s = nis__imgsampler_alloc(cfg, err, errlen);
    if (s) s->t = t;
    return s;
}

void nis_imgsampler_free(nis_imgsampler *s) {
    if (!s) return;
    nis_ema_free(&s->ema);
    nis_params_free(s->G);
    nis_params_free(s->S);
    nis_ctx_free(s->ctx);
    nis_free(s);
}

const char *nis_imgsampler_message(const nis_imgsampler *s) { return s->msg; }
const nis_imgsampler_config *nis_imgsampler_get_config(const nis_imgsampler *s) { return &s->cfg; }
double nis_imgsampler_sigma(const nis_imgsampler *s) { return s->sigma; }
int64_t nis_imgsampler_iter(const nis_imgsampler *s) { return s->iter; }
int64_t nis_imgsampler_target_evals(const nis_imgsampler *s) { return s->target_evals; }
nis_params *nis_imgsampler_generator_params(nis_imgsampler *s) { return s->G; }
nis_params *nis_imgsampler_score_params(nis_imgsampler *s) { return s->S; }
const nis_ema *nis_imgsampler_ema(const nis_imgsampler *s) { return s->has_ema ? &s->ema : NULL; }

double nis__imgsampler_sigma_at(const nis_imgsampler_config *c, int64_t it) {
    if (c->sigma_start <= 0 || c->anneal_iters <= 0 || it >= c->anneal_iters) return c->sigma;
    double f = (double)it / (double)c->anneal_iters;
    return exp(log(c->sigma_start) + f * (log(c->sigma) - log(c->sigma_start)));
}

/* The network part of s_φ(x): the U-Net's output, divided by σ with score_eps (r_φ with score_residual). */
static nis_tensor *unet_net(nis_ctx *c, void *ud, nis_tensor *x) {
    nis_imgsampler *s = ud;
    nis_tensor *y = nis__unet_forward(c, &s->score, x);
    return s->cfg.score_eps ? nis_mul_scalar(c, y, 1.0 / s->sigma) : y;
}

/* s_φ(x): unet_net, plus s_q(x) with score_residual (differentiable in x when x requires grad). */
static nis_tensor *unet_score(nis_ctx *c, void *ud, nis_tensor *x) {
    nis_imgsampler *s = ud;
    nis_tensor *y = unet_net(c, ud, x);
    if (!s->cfg.score_residual || !y) return y;
    return nis_add(c, y, nis_target_score(c, s->t, x, x->requires_grad));
}

/* Fresh z (B, L) and ε (B, dim), antithetic as configured, and x0 = g(z) (B, dim) with the generator's
 * graph if `graph`. */
static nis_tensor *draw(nis_imgsampler *s, bool graph, nis_tensor **eps_out) {
    nis_ctx *c = s->ctx;
    int64_t B = s->cfg.batch, L = s->cfg.latent, d = s->dim, half = s->cfg.antithetic ? B / 2 : B;
    nis_tensor *z = nis_new2(c, B, L), *eps = nis_new2(c, B, d);
    if (!z || !eps) return NULL;
    nis_rng_fill_normal(&s->rng, z->data, half * L, 0, 1);
    nis_rng_fill_normal(&s->rng, eps->data, half * d, 0, 1);
    if (half < B) {
        memcpy(z->data + half * L, z->data, (size_t)(half * L) * sizeof(nis_real));
        for (int64_t i = 0; i < half * d; i++) eps->data[half * d + i] = -eps->data[i];
    }
    *eps_out = eps;
    bool saved = nis_ctx_set_grad(c, graph);
    nis_tensor *x0 = nis__imggen_forward(c, &s->gen, z);
    nis_ctx_set_grad(c, saved);
    return x0;
}

/* One Adam update of P from loss (src/train/update.c). */
static nis_status update(nis_imgsampler *s, nis_tensor *loss, double monitor, nis_params *P, nis_adam *opt,
                         const char *what) {
    return nis__update(s->ctx, loss, monitor, P, opt, s->cfg.grad_clip, s->iter, what, s->msg,
                       sizeof s->msg);
}

nis_status nis__imgsampler_score_step(nis_imgsampler *s, double *monitor) {
    nis_ctx_reset(s->ctx);
    nis_tensor *eps, *x0 = draw(s, false, &eps);
    nis_tensor *l = x0 ? nis_dsm_objective(s->ctx, x0, eps, s->sigma, unet_score, s, monitor) : NULL;
    return update(s, l, *monitor, s->S, &s->opt_s, "score-network");
}

nis_status nis_imgsampler_step(nis_imgsampler *s, nis_train_stats *stats) {
    const nis_imgsampler_config *c = &s->cfg;
    s->sigma = nis__imgsampler_sigma_at(c, s->iter);
    double score_mon = NAN, mon = NAN;
    nis_status st = NIS_OK;
    for (int k = 0; k < c->score_steps && st == NIS_OK; k++) st = nis__imgsampler_score_step(s, &score_mon);
    if (st != NIS_OK) return st;

    nis_ctx_reset(s->ctx);
    nis_params_set_requires_grad(s->S, false);   /* sg(s_φ): gradients reach θ through x̃ only */
    nis_tensor *eps, *x0 = draw(s, true, &eps), *loss = NULL;
    if (x0 && c->method == NIS_METHOD_DFT)
        loss = c->score_residual ? nis_dft_residual_objective(s->ctx, s->t, x0, eps, s->sigma, unet_net, s, &mon)
                                 : nis_dft_objective(s->ctx, s->t, x0, eps, s->sigma, unet_score, s, &mon);
    else if (x0)
        loss = c->score_residual ? nis_kl_residual_objective(s->ctx, x0, eps, s->sigma, unet_net, s, &mon)
                                 : nis_kl_objective(s->ctx, s->t, x0, eps, s->sigma, unet_score, s, &mon);
    st = update(s, loss, mon, s->G, &s->opt_g, "generator");
    nis_params_set_requires_grad(s->S, true);
    if (st != NIS_OK) return st;
    if (s->has_ema) {
        /* warm-up of the averaging (as TensorFlow's num_updates): decay_t = min(decay, (1 + t) / (10 + t)) */
        double w = (1.0 + (double)s->ema.updates) / (10.0 + (double)s->ema.updates);
        s->ema.decay = w < c->ema_decay ? w : c->ema_decay;
        if (nis_ema_update(&s->ema, s->G) != NIS_OK) {
            snprintf(s->msg, sizeof s->msg, "ema: %s", nis_params_message(s->G));
            return nis_params_status(s->G);
        }
    }
    s->iter++;
    s->target_evals += c->batch * ((c->method == NIS_METHOD_DFT || !c->score_residual ? 1 : 0) +
                                   (c->score_residual ? c->score_steps : 0));
    if (stats) {
        stats->iter = s->iter;
        stats->sampler_loss = mon;
        stats->score_loss = score_mon;
        stats->sigma = s->sigma;
        stats->target_grad_evals = s->target_evals;
    }
    return NIS_OK;
}

nis_status nis_imgsampler_train(nis_imgsampler *s, int64_t iters, nis_imgsampler_progress_fn progress, void *ud) {
    nis_train_stats st = {0};
    while (s->iter < iters) {
        nis_status rc = nis_imgsampler_step(s, &st);
        if (rc != NIS_OK) return rc;
        if (progress && !progress(ud, &st)) break;
    }
    return NIS_OK;
}

nis_status nis_imgsampler_sample(nis_imgsampler *s, nis_rng *rng, int64_t n, bool noisy, bool use_ema,
                                 nis_real *out) {
    const int64_t chunk = 256, d = s->dim, L = s->cfg.latent;
    bool swap = use_ema && s->has_ema;
    if (swap && nis_ema_swap(&s->ema, s->G) != NIS_OK) {
        snprintf(s->msg, sizeof s->msg, "sample: %s", nis_params_message(s->G));
        return nis_params_status(s->G);
    }
    nis_status st = NIS_OK;
    for (int64_t i0 = 0; i0 < n && st == NIS_OK; i0 += chunk) {
        int64_t b = n - i0 < chunk ? n - i0 : chunk;
        nis_ctx_reset(s->ctx);
        bool saved = nis_ctx_set_grad(s->ctx, false);
        nis_tensor *z = nis_new2(s->ctx, b, L);
        if (z) nis_rng_fill_normal(rng, z->data, z->n, 0, 1);
        nis_tensor *x = nis__imggen_forward(s->ctx, &s->gen, z);
        nis_ctx_set_grad(s->ctx, saved);
        if (!x) {
            snprintf(s->msg, sizeof s->msg, "sample: %s", nis_ctx_message(s->ctx));
            st = nis_ctx_status(s->ctx);
            break;
        }
        for (int64_t j = 0; j < b * d; j++)
            out[i0 * d + j] = x->data[j] + (noisy ? (nis_real)(s->sigma * nis_rng_normal(rng)) : 0);
    }
    if (swap) nis_ema_swap(&s->ema, s->G);
    return st;
}
