/* src/targets/ebm.c — a conv-net energy E(x) = f(x) / T (DSM energies: T = 1; noise-conditional ones: T = the
 * level), its target view log q = -E, views at other levels, and the jump of a DSM energy. */
#include "nis/ebm.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nis_ebm_config nis_ebm_config_default(void) {
    return (nis_ebm_config){.c = 1, .h = 28, .w = 28, .n_conv = 3, .channels = {16, 32, 64}, .kernel = 3,
                            .act = NIS_ACT_SILU, .lambda = 10.0, .sigma = 0.01};
}

static nis_tensor *ebm_log_prob(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    return nis_neg(ctx, nis_ebm_energy(ctx, (const nis_ebm *)t->data, x));
}

/* log q_s = -f(x, s) / s: x (B, dim), s (B, 1) -> (B,) (noise-conditional energies) */
static nis_tensor *ebm_log_prob_at(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *s) {
    nis_tensor *f = nis_ebm_f_at(ctx, (const nis_ebm *)t->data, x, s);
    return f ? nis_neg(ctx, nis_div(ctx, f, nis_reshape(ctx, s, 1, (int64_t[]){s->shape[0]}))) : NULL;
}

static nis_status fail(char *err, size_t errlen, nis_status s, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "ebm: %s", msg);
    return s;
}

nis_status nis_ebm_init(nis_ebm *E, const nis_ebm_config *cfg, uint64_t seed, char *err, size_t errlen) {
    memset(E, 0, sizeof *E);
    if (err && errlen) err[0] = '\0';
    if (!cfg || cfg->c < 1 || cfg->h < 1 || cfg->w < 1 || cfg->n_conv < 1 || cfg->n_conv > NIS_CONVNET_MAX_LAYERS ||
        cfg->kernel < 1 || cfg->kernel > 15 || !(cfg->lambda > 0) || !(cfg->sigma > 0) || !isfinite(cfg->lambda) ||
        !isfinite(cfg->sigma) || !(cfg->noise >= 0) || !isfinite(cfg->noise) ||
        !(cfg->noise_max == 0 || (cfg->noise > 0 && cfg->noise_max > cfg->noise && isfinite(cfg->noise_max))) ||
        (int64_t)cfg->c * cfg->h * cfg->w > (1 << 24) || (cfg->arch != NIS_EBM_CONVNET && cfg->arch != NIS_EBM_UNET))
        return fail(err, errlen, NIS_EINVAL, "bad configuration (shape, conv layers 1..8, kernel, lambda, sigma, noise, noise_max)");
    if (cfg->level_features < 0 || cfg->level_features > 64 ||
        (cfg->level_features && (cfg->arch != NIS_EBM_CONVNET || !(cfg->noise_max > 0))))
        return fail(err, errlen, NIS_EINVAL, "bad configuration (level features: 0..64, a noise-conditional conv net only)");
    if (cfg->hidden < 0 || cfg->hidden > 65536 || (cfg->hidden && cfg->arch != NIS_EBM_CONVNET))
        return fail(err, errlen, NIS_EINVAL, "bad configuration (hidden units: 0..65536, a conv net only)");
    if (!(cfg->sigma_data >= 0) || !isfinite(cfg->sigma_data) || !isfinite(cfg->data_mean) ||
        (cfg->sigma_data > 0 && !cfg->level_features))
        return fail(err, errlen, NIS_EINVAL, "bad configuration (preconditioning: sigma_data >= 0, an energy with level features)");
    if (cfg->arch == NIS_EBM_UNET && (cfg->n_conv != 1 || cfg->h % 4 || cfg->w % 4))
        return fail(err, errlen, NIS_EINVAL, "bad configuration (a U-Net energy has one width and images divisible by 4)");
    for (int l = 0; l < cfg->n_conv; l++)
        if (cfg->channels[l] < 1 || cfg->channels[l] > 4096 || cfg->strides[l] < 0 || cfg->strides[l] > 8)
            return fail(err, errlen, NIS_EINVAL, "bad configuration (channels, strides)");
    E->cfg = *cfg;
    E->temperature = cfg->noise_max > 0 ? cfg->noise : cfg->noise > 0 ? 1 : cfg->sigma * cfg->sigma / (2 * cfg->lambda);
    E->P = nis_params_new();
    if (!E->P) return fail(err, errlen, NIS_ENOMEM, "out of memory");
    nis_conv_spec spec[NIS_CONVNET_MAX_LAYERS];
    for (int l = 0; l < cfg->n_conv; l++)
        spec[l] = (nis_conv_spec){.channels = cfg->channels[l], .kernel = cfg->kernel,
                                  .stride = cfg->strides[l] ? cfg->strides[l] : 2, .pad = cfg->kernel / 2};
    nis_status s = cfg->arch == NIS_EBM_UNET
                       ? nis_unet_add(&E->unet, E->P, "energy.unet", cfg->channels[0], cfg->c, cfg->h, cfg->w, cfg->act,
                                      false)
                       : nis_convnet_add(&E->net, E->P, "energy", cfg->c, cfg->h, cfg->w, cfg->n_conv, spec, cfg->act,
                                         cfg->hidden, 1);
    if (s == NIS_OK && cfg->level_features) s = nis_convnet_add_cond(&E->net, E->P, "energy", cfg->level_features);
    if (s == NIS_OK) s = nis_params_finalize(E->P);
    nis_rng rng = nis_rng_init(seed, NIS_STREAM_EBM_INIT);
    if (s == NIS_OK) s = nis_params_init(E->P, &rng);
    if (s != NIS_OK) {
        if (err && errlen) snprintf(err, errlen, "ebm: %s", nis_params_message(E->P));
        nis_ebm_free(E);
        return s;
    }
    E->target = (nis_target){.name = "ebm", .dim = cfg->c * cfg->h * cfg->w, .log_prob = ebm_log_prob,
                             .data = E};
    if (nis_ebm_is_conditional(E)) E->target.log_prob_at = ebm_log_prob_at, E->target.level = E->temperature;
    return NIS_OK;
}

void nis_ebm_free(nis_ebm *E) {
    if (!E) return;
    nis_params_free(E->P);
    memset(E, 0, sizeof *E);
}

/* The level features (B, k) of levels s (B,) or (B, 1), or of E's own level for every row when s is NULL. */
static nis_tensor *level_features(nis_ctx *ctx, const nis_ebm *E, int64_t B, const nis_tensor *s) {
    const int k = E->cfg.level_features;
    if (s && s->n != B) {
        nis_ctx_fail(ctx, NIS_ESHAPE, "ebm: %lld levels for %lld images", (long long)s->n, (long long)B);
        return NULL;
    }
    nis_tensor *c = nis_new2(ctx, B, k);
    if (!c) return NULL;
    const double span = log(E->cfg.noise_max / E->cfg.noise);
    for (int64_t b = 0; b < B; b++) {
        double u = log((s ? (double)s->data[b] : E->temperature) / E->cfg.noise) / span;
        for (int j = 0; j < k; j++) c->data[b * k + j] = (nis_real)cos(3.14159265358979323846 * (j + 1) * u);
    }
    return c;
}

/* EDM's preconditioning in energy form (nis_ebm_config.sigma_data): with xc = x - m and v = s² + sd² per image,
 * f = s ||xc||² / (2 v) + net(xc / √v, s).  x (B, d), feat (B, k) -> (B, 1). */
static nis_tensor *preconditioned(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x, nis_tensor *feat,
                                  const nis_tensor *s) {
    const int64_t B = x->shape[0];
    const double sd2 = E->cfg.sigma_data * E->cfg.sigma_data;
    nis_tensor *cin = nis_new2(ctx, B, 1), *cg = nis_new2(ctx, B, 1);
    if (!cin || !cg) return NULL;
    for (int64_t b = 0; b < B; b++) {
        const double lv = s ? (double)s->data[b] : E->temperature, v = lv * lv + sd2;
        cin->data[b] = (nis_real)(1 / sqrt(v));
        cg->data[b] = (nis_real)(lv / (2 * v));
    }
    nis_tensor *xc = nis_add_scalar(ctx, nis_reshape(ctx, x, 2, (int64_t[]){B, -1}), -E->cfg.data_mean);
    nis_tensor *net = nis_convnet_forward_cond(ctx, &E->net, nis_mul(ctx, xc, cin), feat);
    return nis_add(ctx, net, nis_mul(ctx, nis_sum_axis(ctx, nis_square(ctx, xc), 1, true), cg));
}

nis_tensor *nis_ebm_f_at(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x, nis_tensor *s) {
    if (!x || !E->cfg.level_features) return nis_ebm_f(ctx, E, x);
    nis_tensor *feat = level_features(ctx, E, x->shape[0], s);
    nis_tensor *y = E->cfg.sigma_data > 0 ? (feat ? preconditioned(ctx, E, x, feat, s) : NULL)
                                          : nis_convnet_forward_cond(ctx, &E->net, x, feat);
    return y ? nis_reshape(ctx, y, 1, (int64_t[]){y->shape[0]}) : NULL;
}

nis_status nis_ebm_config_precondition(nis_ebm_config *cfg, const nis_real *x, int64_t n, char *err, size_t errlen) {
    double sum = 0, sum2 = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i], sum2 += (double)x[i] * x[i];
    const double mean = n > 0 ? sum / (double)n : NAN, sd = sqrt(fmax(sum2 / (double)n - mean * mean, 0));
    if (!(sd > 0) || !isfinite(sd) || !isfinite(mean))
        return fail(err, errlen, NIS_EINVAL, "preconditioning: the training images are constant (no spread) or not finite");
    cfg->data_mean = mean, cfg->sigma_data = sd;
    return NIS_OK;
}

double nis_ebm_dsm_weight(const nis_ebm *E, double s) {
    const nis_ebm_config *c = &E->cfg;
    if (!(c->sigma_data > 0)) return 1;
    const double a = c->noise, b = c->noise_max, m2 = (b * b - a * a) / (2 * log(b / a)), sd2 = c->sigma_data * c->sigma_data;
    return (s * s + sd2) / (m2 + sd2);   /* E[s²] under the log-uniform levels: m2 */
}

nis_tensor *nis_ebm_f(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x) {
    if (x && E->cfg.level_features) return nis_ebm_f_at(ctx, E, x, NULL);
    if (E->cfg.arch == NIS_EBM_UNET) {   /* ½ ||x - U(x)||² per image */
        if (!x) return NULL;
        nis_tensor *x2 = nis_reshape(ctx, x, 2, (int64_t[]){x->shape[0], -1});
        nis_tensor *r = nis_sub(ctx, x2, nis_unet_forward(ctx, &E->unet, x2));
        return nis_mul_scalar(ctx, nis_sum_axis(ctx, nis_square(ctx, r), 1, false), 0.5);
    }
    nis_tensor *y = nis_convnet_forward(ctx, &E->net, x);
    return y ? nis_reshape(ctx, y, 1, (int64_t[]){y->shape[0]}) : NULL;
}

nis_tensor *nis_ebm_energy(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x) {
    return nis_mul_scalar(ctx, nis_ebm_f(ctx, E, x), 1.0 / E->temperature);
}

const nis_target *nis_ebm_target(const nis_ebm *E) { return &E->target; }

bool nis_ebm_is_conditional(const nis_ebm *E) { return E->cfg.noise_max > 0; }

nis_status nis_ebm_at_level(const nis_ebm *E, double s, nis_ebm *view, char *err, size_t errlen) {
    if (!nis_ebm_is_conditional(E) || !(s > 0) || !isfinite(s))
        return fail(err, errlen, NIS_EINVAL, "a level view needs a noise-conditional energy and a level s > 0");
    *view = *E;                 /* the same parameters and network; only the level differs */
    view->temperature = s;
    view->target.data = view;
    view->target.level = s;
    return NIS_OK;
}

double nis_ebm_ula_step(const nis_ebm *E) {
    return E->cfg.noise > 0 ? 0.3 * E->cfg.noise * E->cfg.noise : E->cfg.sigma * E->cfg.sigma / 2;
}

nis_status nis_ebm_denoise(const nis_ebm *E, nis_real *x, int64_t n, char *err, size_t errlen) {
    if (!(E->cfg.noise > 0)) return fail(err, errlen, NIS_EINVAL, "the jump needs a DSM energy (noise > 0)");
    nis_ctx *ctx = nis_ctx_new(0);
    if (!ctx) return fail(err, errlen, NIS_ENOMEM, "out of memory");
    const int64_t d = E->target.dim, chunk = 256;
    const double s2 = E->cfg.noise * E->cfg.noise;
    nis_status st = NIS_OK;
    nis_params_set_requires_grad(E->P, false);   /* only ∇_x: the weights need no gradient */
    for (int64_t i = 0; i < n && st == NIS_OK; i += chunk) {
        int64_t b = n - i < chunk ? n - i : chunk;
        nis_ctx_reset(ctx);
        nis_tensor *g = nis_target_score(ctx, &E->target, nis_tensor_wrap(ctx, 2, (int64_t[]){b, d}, x + i * d), false);
        if (!g) {   /* x <- x + noise² s(x), s = -∇E */
            st = nis_ctx_status(ctx);
            if (err && errlen) snprintf(err, errlen, "ebm: %s", nis_ctx_message(ctx));
            break;
        }
        for (int64_t j = 0; j < b * d; j++) x[i * d + j] += (nis_real)(s2 * g->data[j]);
    }
    nis_params_set_requires_grad(E->P, true);
    nis_ctx_free(ctx);
    return st;
}

nis_status nis_ebm_mean_energy(const nis_ebm *E, const nis_real *x, int64_t n, double *mean_E, double *mean_f,
                               char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    nis_ctx *ctx = nis_ctx_new(0);
    if (!ctx) return fail(err, errlen, NIS_ENOMEM, "out of memory");
    nis_ctx_set_grad(ctx, false);
    const int64_t d = E->target.dim, chunk = 256;
    double sum = 0;
    nis_status s = NIS_OK;
    for (int64_t i = 0; i < n && s == NIS_OK; i += chunk) {
        int64_t b = n - i < chunk ? n - i : chunk;
        nis_ctx_reset(ctx);
        nis_tensor *f = nis_ebm_f(ctx, E, nis_tensor_wrap(ctx, 2, (int64_t[]){b, d}, (nis_real *)x + i * d));
        if (!f) {
            s = nis_ctx_status(ctx);
            if (err && errlen) snprintf(err, errlen, "ebm: %s", nis_ctx_message(ctx));
            break;
        }
        for (int64_t j = 0; j < b; j++) sum += f->data[j];
    }
    nis_ctx_free(ctx);
    double mf = n > 0 ? sum / (double)n : NAN;
    if (mean_f) *mean_f = mf;
    if (mean_E) *mean_E = mf / E->temperature;
    return s;
}
