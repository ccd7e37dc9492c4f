/* src/train/ebm_train.c — maximum-likelihood training of an energy with persistent short-run Langevin chains
 * (replay buffer, a few restarts from noise) or with a one-step sampler trained alongside (joint training),
 * and an energy-magnitude regulariser (Du & Mordatch 2019). */
#include "internal.h"
#include "core/op.h"
#include "nis/ebm_train.h"
#include "nis/mcmc.h"
#include "nis/ops.h"

#include <inttypes.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AT(m) offsetof(nis_ebm_train_config, m)
static const nis_field fields[] = {
    {"batch", NIS_FIELD_INT, AT(batch), 64, 1, 1 << 20, NULL, "data and negative images per iteration", NULL, NULL, 1},
    {"buffer_size", NIS_FIELD_INT, AT(buffer_size), 10000, 1, 1e6, NULL,
     "replay buffer size (persistent chains; with --sampler the batch unless given)", "buffer", NULL, 1},
    {"langevin_steps", NIS_FIELD_INT, AT(langevin_steps), 40, 0, 10000, NULL,
     "Langevin steps K per iteration (with --sampler 0 unless given)", "steps", NULL, 1},
    {"reinit", NIS_FIELD_REAL, AT(reinit), 0.05, 0, 1, NULL, "fraction of negatives restarted from noise", NULL, NULL, 1},
    {"alpha", NIS_FIELD_REAL, AT(alpha), 1.0, 0, 1e6, NULL, "energy-magnitude regulariser", NULL, NULL, 1},
    {"lr", NIS_FIELD_REAL, AT(lr), 1e-4, 1e-12, 1, NULL, "Adam learning rate", NULL, NULL, 1},
    {"beta1", NIS_FIELD_REAL, AT(beta1), 0.0, 0, 0.999999, NULL, "Adam's beta1 (with --noise 0.9 unless given)", NULL,
     NULL, 1},
    {"clip", NIS_FIELD_REAL, AT(clip), 1.0, 0, 1e9, NULL, "gradient-norm clip (0: off)", NULL, NULL, 1},
    {"ema", NIS_FIELD_REAL, AT(ema), 0, 0, 0.999999, NULL,
     "decay of a moving average of the weights, which the energy file holds (0: off; with --noise 0.999 unless given)",
     NULL, NULL, 1},
    {"off_data", NIS_FIELD_INT, AT(off_data), 0, 0, 1 << 20, NULL,
     "noise-conditional DSM: extra rows per iteration at images that are not digits (dimmed, blended, flat, noise), "
     "their target the exact score of the training images smoothed at the row's level",
     NULL, NULL, 1},
};
/* Fields added after the first checkpoints were written: absent from a checkpoint, they take their default. */
static bool added_later(const char *name) { return !strcmp(name, "ema") || !strcmp(name, "off_data"); }

const nis_schema *nis_ebm_train_schema(void) {
    static const nis_schema s = {"ebm train config", fields, (int)(sizeof fields / sizeof fields[0])};
    return &s;
}

nis_ebm_train_config nis_ebm_train_defaults(void) {
    nis_ebm_train_config c;
    nis_schema_defaults(nis_ebm_train_schema(), &c);
    return c;
}

static nis_status fail(char *err, size_t errlen, nis_status s, const char *fmt, const char *what) {
    if (err && errlen) snprintf(err, errlen, fmt, what);
    return s;
}

nis_status nis_ebm_trainer_init(nis_ebm_trainer *T, nis_ebm *E, const nis_ebm_train_config *cfg, uint64_t seed,
                                char *err, size_t errlen) {
    memset(T, 0, sizeof *T);
    if (err && errlen) err[0] = '\0';
    if (!E || !E->P || !cfg) return fail(err, errlen, NIS_EINVAL, "ebm train: %s", "needs an energy and a configuration");
    if (nis_schema_check(nis_ebm_train_schema(), cfg, err, errlen) != NIS_OK) return NIS_EINVAL;
    if (cfg->buffer_size < cfg->batch || cfg->buffer_size > ((int64_t)1 << 28) / E->target.dim)
        return fail(err, errlen, NIS_EINVAL, "ebm train config: %s",
                    "buffer_size must be at least batch and hold at most 2^28 values");
    if (cfg->off_data > 0 && !(E->cfg.noise > 0 && E->cfg.noise_max > 0))
        return fail(err, errlen, NIS_EINVAL, "ebm train config: %s",
                    "off_data needs a noise-conditional DSM energy (noise and noise_max)");
    const int64_t d = E->target.dim;
    T->E = E;
    T->cfg = *cfg;
    T->seed = seed;
    T->opt = nis_adam_default(cfg->lr);
    T->opt.beta1 = cfg->beta1;
    T->buffer = nis_malloc((size_t)(cfg->buffer_size * d) * sizeof *T->buffer);
    T->neg = nis_malloc((size_t)(cfg->batch * d) * sizeof *T->neg);
    T->slot = nis_malloc((size_t)cfg->batch * sizeof *T->slot);
    T->ctx = nis_ctx_new(0);
    if (!T->buffer || !T->neg || !T->slot || !T->ctx) {
        nis_ebm_trainer_free(T);
        return fail(err, errlen, NIS_ENOMEM, "ebm train: %s", "out of memory");
    }
    nis_rng r = nis_rng_init(seed, NIS_STREAM_EBM_BUFFER);
    nis_rng_fill_uniform(&r, T->buffer, cfg->buffer_size * d, 0, 1);
    memcpy(T->neg, T->buffer, (size_t)(cfg->batch * d) * sizeof *T->neg);
    return NIS_OK;
}

void nis_ebm_trainer_free(nis_ebm_trainer *T) {
    if (!T) return;
    nis_free(T->buffer);
    nis_free(T->neg);
    nis_free(T->slot);
    nis_ema_free(&T->ema);
    free(T->data_sq);
    nis_ctx_free(T->ctx);
    memset(T, 0, sizeof *T);
}

nis_status nis_ebm_trainer_use_sampler(nis_ebm_trainer *T, nis_trainer *s, char *err, size_t errlen) {
    if (s) {
        const nis_train_config *c = nis_trainer_config(s);
        if (c->net != NIS_NET_CONV || c->img_c != T->E->cfg.c || c->img_h != T->E->cfg.h || c->img_w != T->E->cfg.w)
            return fail(err, errlen, NIS_EINVAL, "ebm train: %s", "the sampler's image shape differs from the energy's");
    }
    T->sampler = s;
    return NIS_OK;
}

/* Joint training's negatives: one sampler update against the current (frozen) energy, then `batch` outputs. */
static nis_status sampler_negatives(nis_ebm_trainer *T, nis_rng *rng, nis_ebm_step_stats *ss, char *err,
                                    size_t errlen) {
    nis_train_stats ts = {0};
    nis_status st = nis_trainer_step(T->sampler, &ts);
    if (st == NIS_OK)
        st = nis_trainer_sample_live(T->sampler, rng, T->cfg.batch, nis_trainer_config(T->sampler)->noisy_output, T->neg);
    if (st != NIS_OK) return fail(err, errlen, st, "sampler: %s", nis_trainer_message(T->sampler));
    ss->sampler_loss = ts.sampler_loss;
    ss->score_loss = ts.score_loss;
    return NIS_OK;
}

/* `batch` distinct buffer slots into T->slot, their chains into T->neg, each restarted from noise with
 * probability reinit. */
static void buffer_negatives(nis_ebm_trainer *T, nis_rng *rng) {
    const int64_t B = T->cfg.batch, d = T->E->target.dim;
    for (int64_t b = 0; b < B; b++) {
        int32_t s;
        bool dup;
        do {
            s = (int32_t)nis_rng_below(rng, (uint32_t)T->cfg.buffer_size);
            dup = false;
            for (int64_t j = 0; j < b && !dup; j++) dup = T->slot[j] == s;
        } while (dup);
        T->slot[b] = s;
        if (nis_rng_uniform(rng) < T->cfg.reinit) nis_rng_fill_uniform(rng, T->neg + b * d, d, 0, 1);
        else memcpy(T->neg + b * d, T->buffer + (int64_t)s * d, (size_t)d * sizeof *T->neg);
    }
}

/* Negatives: buffer chains (or, in joint training, the sampler's outputs), advanced by K Langevin steps
 * (parameters frozen) and written back to the buffer (not in joint training). */
static nis_status negatives(nis_ebm_trainer *T, nis_rng *rng, nis_ebm_step_stats *ss, char *err, size_t errlen) {
    const int64_t B = T->cfg.batch, d = T->E->target.dim;
    nis_status st = NIS_OK;
    if (T->sampler) {
        nis_params_set_requires_grad(T->E->P, false);
        st = sampler_negatives(T, rng, ss, err, errlen);
        nis_params_set_requires_grad(T->E->P, true);
        if (st != NIS_OK) return st;
    } else {
        buffer_negatives(T, rng);
    }
    nis_ula_config u = {.steps = T->cfg.langevin_steps, .step_size = nis_ebm_ula_step(T->E)};
    nis_mcmc_stats ms = {0};
    if (u.steps > 0) {
        nis_params_set_requires_grad(T->E->P, false);
        st = nis_ula_run(nis_ebm_target(T->E), &u, rng, T->neg, B, &ms, err, errlen);
        nis_params_set_requires_grad(T->E->P, true);
    }
    if (st != NIS_OK) return st;
    ss->grad_evals = ms.grad_evals;
    for (int64_t b = 0; b < B && !T->sampler; b++)   /* back to the buffer */
        memcpy(T->buffer + (int64_t)T->slot[b] * d, T->neg + b * d, (size_t)d * sizeof *T->neg);
    return NIS_OK;
}

nis_tensor *nis_ebm_dsm_objective(nis_ctx *ctx, const nis_ebm *E, nis_tensor *y, nis_tensor *s_b, nis_tensor *eps,
                                  double *f_mean) {
    if (!y || !eps) return NULL;
    const double s = nis_ebm_is_conditional(E) ? 1 : E->cfg.noise;   /* s_b ∇E_{s_b} = ∇f at every level */
    nis_tensor *yd = y->requires_grad ? y : nis_requires_grad(nis_detach(ctx, y)), *g = NULL;
    nis_tensor *f = nis_ebm_f_at(ctx, E, yd, s_b);
    if (!f || nis_grad(ctx, 1, &f, NULL, 1, &yd, true, &g) != NIS_OK) return NULL;
    if (f_mean) {
        double sum = 0;
        for (int64_t b = 0; b < f->n; b++) sum += f->data[b];
        *f_mean = sum / (double)f->n;
    }
    nis_tensor *r = nis_sub(ctx, nis_mul_scalar(ctx, g, s), eps);
    nis_tensor *rows = nis_sum_axis(ctx, nis_square(ctx, r), 1, false);
    if (E->cfg.sigma_data > 0 && s_b && rows) {   /* EDM's weight per row (nis_ebm_dsm_weight) */
        nis_tensor *w = nis_new1(ctx, rows->n);
        if (!w) return NULL;
        for (int64_t b = 0; b < rows->n; b++) w->data[b] = (nis_real)nis_ebm_dsm_weight(E, (double)s_b->data[b]);
        rows = nis_mul(ctx, rows, w);
    }
    return nis_mean(ctx, rows);
}

/* out (n,) = ||x_i||² of the n rows of x (n, d), in double; returns out. */
static double *sq_norms(const nis_real *x, int64_t n, int64_t d, double *out) {
    for (int64_t i = 0; i < n; i++) {
        double a = 0;
        for (int64_t j = 0; j < d; j++) a += (double)x[i * d + j] * x[i * d + j];
        out[i] = a;
    }
    return out;
}

nis_status nis_smoothed_eps(const nis_real *x, int64_t n, int64_t d, const double *x_sq, const nis_real *y,
                            const nis_real *s, int64_t m, nis_real *eps) {
    if (!x || !y || !s || !eps || n < 1 || d < 1 || m < 0) return NIS_EINVAL;
    if (m == 0) return NIS_OK;
    for (int64_t k = 0; k < m; k++)
        if (!(s[k] > 0)) return NIS_EINVAL;
    nis_real *L = malloc((size_t)(m * n) * sizeof *L), *xh = malloc((size_t)(m * d) * sizeof *xh);
    double *sq = x_sq ? NULL : malloc((size_t)n * sizeof *sq);
    if (!L || !xh || (!x_sq && !sq)) {
        free(L), free(xh), free(sq);
        return NIS_ENOMEM;
    }
    if (!x_sq) x_sq = sq_norms(x, n, d, sq);
    nis__gemm(false, true, m, n, d, 1, y, d, x, d, 0, L, n);   /* y_k · x_i; -||y_k||² / 2 s² cancels */
    for (int64_t k = 0; k < m; k++) {
        nis_real *l = L + k * n;
        const double inv = 1.0 / ((double)s[k] * s[k]);
        double mx = -INFINITY, z = 0;
        for (int64_t i = 0; i < n; i++) mx = fmax(mx, ((double)l[i] - 0.5 * x_sq[i]) * inv);
        for (int64_t i = 0; i < n; i++) {
            l[i] = (nis_real)exp(((double)l[i] - 0.5 * x_sq[i]) * inv - mx);
            z += (double)l[i];
        }
        for (int64_t i = 0; i < n; i++) l[i] = (nis_real)(l[i] / z);
    }
    nis__gemm(false, false, m, d, n, 1, L, n, x, d, 0, xh, d);   /* x̂ = P x */
    for (int64_t k = 0; k < m; k++)
        for (int64_t j = 0; j < d; j++) eps[k * d + j] = (nis_real)(((double)y[k * d + j] - xh[k * d + j]) / s[k]);
    free(L), free(xh), free(sq);
    return NIS_OK;
}

/* ||x_i||² of the training images, kept while the same data come back (off_data rows). */
static const double *data_sq(nis_ebm_trainer *T, const nis_real *x, int64_t n, int64_t d) {
    if (T->data_sq_of == x && T->data_sq_n == n) return T->data_sq;
    free(T->data_sq);
    T->data_sq_of = NULL;
    if (!(T->data_sq = malloc((size_t)n * sizeof *T->data_sq))) return NULL;
    sq_norms(x, n, d, T->data_sq);
    T->data_sq_of = x, T->data_sq_n = n;
    return T->data_sq;
}

/* The DSM loss of one iteration: `batch` data images x, ε ~ N(0, I), y = x + s ε, with s = noise, or for a
 * noise-conditional energy a level per image, log-uniform in [noise, noise_max].  The batch's draws come in that
 * order (indices, ε, levels); in a group this rank's rows [a, b) only (every index is drawn, since a rejection draw
 * cannot be skipped; ε and the levels are skipped past).  Then, with off_data = M > 0, M rows at images that are
 * not digits, drawn after the batch in the same way (per row: a kind, two indices, a mixing weight, for the fourth
 * kind its pixels; then ε; then the levels), one of four kinds with equal chance: a digit dimmed by α ~ U[0, 1)
 * (α near 0: nearly blank), a blend λ x_i + (1 - λ) x_j, a flat image at U[0, 1), or U[0, 1) noise (where the walk
 * starts); noised as the data rows, their target the exact score of the smoothed training set
 * (nis_smoothed_eps), so that the energy learns what q_s is away from the digits too. */
static nis_tensor *dsm_loss(nis_ebm_trainer *T, const nis_real *data, int64_t n_data, nis_rng *rng, double *f_mean) {
    nis_ctx *ctx = T->ctx;
    const int64_t N = T->cfg.batch, M = T->cfg.off_data, d = T->E->target.dim;
    int64_t a = 0, b = N, a2 = 0, b2 = M;
    if (T->dist) nis_dist_share(N, T->dist->rank, T->dist->size, &a, &b);
    if (T->dist) nis_dist_share(M, T->dist->rank, T->dist->size, &a2, &b2);
    const int64_t B = b - a, B2 = b2 - a2;
    const nis_ebm_config *c = &T->E->cfg;
    nis_tensor *y = nis_new2(ctx, B + B2, d), *eps = nis_new2(ctx, B + B2, d), *lv = nis_new1(ctx, B + B2);
    if (!y || !eps || !lv) return NULL;
    for (int64_t k = 0; k < N; k++) {
        int64_t i = nis_rng_below(rng, (uint32_t)n_data);
        if (k >= a && k < b) memcpy(y->data + (k - a) * d, data + i * d, (size_t)d * sizeof *y->data);
    }
    nis_rng_skip_normals(rng, (uint64_t)(a * d));
    nis_rng_fill_normal(rng, eps->data, B * d, 0, 1);
    nis_rng_skip_normals(rng, (uint64_t)((N - b) * d));
    if (c->noise_max > 0) nis_rng_skip_uniforms(rng, (uint64_t)a);
    for (int64_t k = 0; k < B; k++) {
        double s = c->noise;
        if (c->noise_max > 0) s = c->noise * exp(nis_rng_uniform(rng) * log(c->noise_max / c->noise));
        lv->data[k] = (nis_real)s;
        for (int64_t j = k * d; j < (k + 1) * d; j++) y->data[j] += (nis_real)(s * eps->data[j]);
    }
    if (M > 0) {
        nis_rng_skip_uniforms(rng, (uint64_t)(N - b));   /* off_data needs levels (nis_ebm_trainer_init) */
        nis_real *yo = y->data + B * d, *eo = eps->data + B * d, *lo = lv->data + B;
        for (int64_t k = 0; k < M; k++) {
            uint32_t kind = nis_rng_below(rng, 4), i = nis_rng_below(rng, (uint32_t)n_data),
                     j = nis_rng_below(rng, (uint32_t)n_data);
            double u = nis_rng_uniform(rng);
            if (k < a2 || k >= b2) {   /* another rank's row: its draws skipped past */
                if (kind == 3) nis_rng_skip_uniforms(rng, (uint64_t)d);
                continue;
            }
            nis_real *o = yo + (k - a2) * d;
            if (kind == 3) {   /* U[0, 1) noise, where the walk starts */
                nis_rng_fill_uniform(rng, o, d, 0, 1);
                continue;
            }
            for (int64_t p = 0; p < d; p++)
                o[p] = (nis_real)(kind == 0 ? u * data[i * d + p]
                                  : kind == 1 ? u * data[i * d + p] + (1 - u) * data[j * d + p]
                                              : u);
        }
        nis_rng_skip_normals(rng, (uint64_t)(a2 * d));
        nis_rng_fill_normal(rng, eo, B2 * d, 0, 1);
        nis_rng_skip_normals(rng, (uint64_t)((M - b2) * d));
        nis_rng_skip_uniforms(rng, (uint64_t)a2);
        for (int64_t k = 0; k < B2; k++) {
            double s = c->noise * exp(nis_rng_uniform(rng) * log(c->noise_max / c->noise));
            lo[k] = (nis_real)s;
            for (int64_t p = k * d; p < (k + 1) * d; p++) yo[p] += (nis_real)(s * eo[p]);
        }
        const double *sq = data_sq(T, data, n_data, d);
        nis_status st = sq ? nis_smoothed_eps(data, n_data, d, sq, yo, lo, B2, eo) : NIS_ENOMEM;
        if (st != NIS_OK) {
            nis_ctx_fail(ctx, st, "off_data: %s", st == NIS_ENOMEM ? "out of memory" : "bad rows");
            return NULL;
        }
    }
    return nis_ebm_dsm_objective(ctx, T->E, y, lv, eps, f_mean);
}

nis_status nis_ebm_trainer_set_dist(nis_ebm_trainer *T, const nis_dist *d, char *err, size_t errlen) {
    char what[48];
    snprintf(what, sizeof what, "the batch (%lld)", (long long)T->cfg.batch);
    if (nis_dist_check(d, T->cfg.batch, "ebm train", what, err, errlen) != NIS_OK) return NIS_EINVAL;
    snprintf(what, sizeof what, "off_data (%lld)", (long long)T->cfg.off_data);
    if (T->cfg.off_data > 0 && nis_dist_check(d, T->cfg.off_data, "ebm train", what, err, errlen) != NIS_OK)
        return NIS_EINVAL;
    if (d && d->size > 1 && !(T->E->cfg.noise > 0))
        return fail(err, errlen, NIS_EINVAL, "ebm train: %s",
                    "a group trains denoising (--noise) energies only: the replay buffer is one process's");
    T->dist = d && d->size > 1 ? d : NULL;
    return NIS_OK;
}

/* After an update: the moving average of the weights (started from them at the first update). */
static nis_status average(nis_ebm_trainer *T, char *err, size_t errlen) {
    if (!(T->cfg.ema > 0)) return NIS_OK;
    nis_status s = T->ema.shadow ? NIS_OK : nis_ema_init(&T->ema, T->E->P, T->cfg.ema);
    if (s == NIS_OK) s = nis_ema_update_warm(&T->ema, T->E->P, T->cfg.ema);
    if (s != NIS_OK && err && errlen) snprintf(err, errlen, "ebm train: %s", nis_params_message(T->E->P));
    return s;
}

void nis_ebm_trainer_swap_average(nis_ebm_trainer *T) {
    if (T && T->ema.shadow) nis_ema_swap(&T->ema, T->E->P);
}

nis_status nis_ebm_train_step(nis_ebm_trainer *T, const nis_real *data, int64_t n_data, nis_ebm_step_stats *stats,
                              char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!T || !T->E || !data || n_data < 1 || n_data > UINT32_MAX)
        return fail(err, errlen, NIS_EINVAL, "ebm train: %s", "needs a trainer and data");
    const int64_t B = T->cfg.batch, d = T->E->target.dim;
    nis_rng base = nis_rng_init(T->seed, NIS_STREAM_EBM_STEP), rng = nis_rng_split(&base, (uint64_t)T->iter);
    nis_ebm_step_stats ss = {.sampler_loss = NAN, .score_loss = NAN, .f_neg = NAN};
    if (T->E->cfg.noise > 0) {   /* a DSM energy: no negatives */
        nis_ctx_reset(T->ctx);
        double lv, gn = NAN;
        char msg[256];
        nis_tensor *loss = dsm_loss(T, data, n_data, &rng, &ss.f_pos);
        lv = loss ? loss->data[0] : NAN;
        nis_status st = nis__update(T->ctx, T->dist, loss, &lv, T->E->P, &T->opt, T->cfg.clip, T->iter, "energy", &gn,
                                    msg, sizeof msg);
        if (st != NIS_OK) {
            if (err && errlen) snprintf(err, errlen, "ebm train: %s", msg);
            return st;
        }
        if ((st = average(T, err, errlen)) != NIS_OK) return st;
        T->iter++;
        if (stats) ss.iter = T->iter, ss.loss = lv, ss.grad_norm = gn, *stats = ss;
        return NIS_OK;
    }
    char e2[384];
    nis_status st = negatives(T, &rng, &ss, e2, sizeof e2);
    if (st != NIS_OK) {
        if (err && errlen) snprintf(err, errlen, "ebm train: iteration %" PRId64 ": %s", T->iter + 1, e2);
        return st;
    }
    /* x = [data batch; negatives] (2B, d) */
    nis_ctx *ctx = T->ctx;
    nis_ctx_reset(ctx);
    nis_tensor *x = nis_new2(ctx, 2 * B, d);
    if (x) {
        for (int64_t b = 0; b < B; b++) {
            int64_t i = nis_rng_below(&rng, (uint32_t)n_data);
            memcpy(x->data + b * d, data + i * d, (size_t)d * sizeof *x->data);
        }
        memcpy(x->data + B * d, T->neg, (size_t)(B * d) * sizeof *x->data);
    }
    nis_tensor *f = nis_ebm_f(ctx, T->E, x);
    nis_tensor *fp = nis_slice(ctx, f, 0, 0, B), *fn = nis_slice(ctx, f, 0, B, B);
    nis_tensor *mp = nis_mean(ctx, fp), *mn = nis_mean(ctx, fn);
    nis_tensor *reg = nis_add(ctx, nis_mean(ctx, nis_square(ctx, fp)), nis_mean(ctx, nis_square(ctx, fn)));
    nis_tensor *loss = nis_add(ctx, nis_sub(ctx, mp, mn), nis_mul_scalar(ctx, reg, T->cfg.alpha));
    double lv = loss ? loss->data[0] : NAN, gn = NAN;
    char msg[256];
    st = nis__update(ctx, NULL, loss, &lv, T->E->P, &T->opt, T->cfg.clip, T->iter, "energy", &gn, msg, sizeof msg);
    if (st != NIS_OK) {
        if (err && errlen) snprintf(err, errlen, "ebm train: %s", msg);
        return st;
    }
    if ((st = average(T, err, errlen)) != NIS_OK) return st;
    T->iter++;
    if (stats) {
        ss.iter = T->iter, ss.loss = lv, ss.f_pos = mp->data[0], ss.f_neg = mn->data[0], ss.grad_norm = gn;
        *stats = ss;
    }
    return NIS_OK;
}

/* ---- checkpoints ---------------------------------------------------------------------------------------- */

#define PREFIX "train."

nis_status nis_ebm_trainer_save(const nis_ebm_trainer *T, const char *path, char *err, size_t errlen) {
    const nis_schema *sc = nis_ebm_train_schema();
    char v[3 + 16][40], k[16][48];
    const char *kv[2 * (3 + 16)] = {"train.iter", v[0], "train.seed", v[1]};
    snprintf(v[0], 40, "%" PRId64, T->iter);
    snprintf(v[1], 40, "%" PRIu64, T->seed);
    for (int i = 0; i < sc->count; i++) {   /* "train.<field>": the configuration, by its schema */
        snprintf(k[i], sizeof k[i], PREFIX "%s", sc->fields[i].name);
        nis_field_format(&sc->fields[i], &T->cfg, v[2 + i], sizeof v[2 + i]);
        kv[2 * (2 + i)] = k[i], kv[2 * (2 + i) + 1] = v[2 + i];
    }
    int n_meta = 2 + sc->count;
    nis_st_entry ex[2] = {{.name = "buffer", .dtype = NIS_DT_REAL, .ndim = 4,
                           .shape = {T->cfg.buffer_size, T->E->cfg.c, T->E->cfg.h, T->E->cfg.w}, .data = T->buffer},
                          {.name = "ema", .dtype = NIS_DT_REAL, .ndim = 1, .shape = {T->ema.n}, .data = T->ema.shadow}};
    if (T->ema.shadow) {   /* the moving average of the weights, flat, and how many updates it has seen */
        snprintf(v[2 + sc->count], 40, "%" PRId64, T->ema.updates);
        kv[2 * n_meta] = "ema.updates", kv[2 * n_meta + 1] = v[2 + sc->count], n_meta++;
    }
    return nis_ebm_save_extra(path, T->E, &T->opt, T->ema.shadow ? 2 : 1, ex, n_meta, kv, err, errlen);
}

/* A metadata integer >= 0 of f; NIS_EFORMAT naming the key if missing or bad. */
static nis_status meta_i64(const nis_st_file *f, const char *path, const char *key, int64_t *out, char *err,
                           size_t errlen) {
    if (nis_st_meta_int(f, key, 0, INT64_MAX, out)) return NIS_OK;
    snprintf(err, errlen, "%s: metadata '%s' is missing or invalid", path, key);
    return NIS_EFORMAT;
}

nis_status nis_ebm_checkpoint_config(const char *path, nis_ebm_train_config *cfg, uint64_t *seed, char *err,
                                     size_t errlen) {
    nis_st_file *f = NULL;
    nis_status s = nis_st_read(path, &f, err, errlen);
    if (s != NIS_OK) return s;
    const nis_schema *sc = nis_ebm_train_schema();
    nis_ebm_train_config c = nis_ebm_train_defaults();
    int64_t sd = 0;
    s = meta_i64(f, path, "train.seed", &sd, err, errlen);
    for (int i = 0; s == NIS_OK && i < sc->count; i++) {
        char key[48], e2[200];
        snprintf(key, sizeof key, PREFIX "%s", sc->fields[i].name);
        const char *v = nis_st_meta(f, key);
        if (!v && added_later(sc->fields[i].name)) continue;
        if (!v || nis_field_parse(&sc->fields[i], &c, v, e2, sizeof e2) != NIS_OK) {
            snprintf(err, errlen, "%s: metadata '%s' is missing or invalid", path, key);
            s = NIS_EFORMAT;
        }
    }
    nis_st_close(f);
    if (s == NIS_OK) {
        *cfg = c;
        *seed = (uint64_t)sd;
    }
    return s;
}

static bool same_config(const nis_ebm_config *a, const nis_ebm_config *b) {
    if (a->c != b->c || a->h != b->h || a->w != b->w || a->n_conv != b->n_conv || a->kernel != b->kernel ||
        a->act != b->act || a->lambda != b->lambda || a->sigma != b->sigma || a->noise != b->noise ||
        a->noise_max != b->noise_max || a->arch != b->arch || a->level_features != b->level_features ||
        a->hidden != b->hidden || a->sigma_data != b->sigma_data || a->data_mean != b->data_mean)
        return false;
    for (int l = 0; l < a->n_conv; l++)
        if (a->channels[l] != b->channels[l] || (a->strides[l] ? a->strides[l] : 2) != (b->strides[l] ? b->strides[l] : 2))
            return false;
    return true;
}

nis_status nis_ebm_trainer_resume(nis_ebm_trainer *T, const char *path, char *err, size_t errlen) {
    nis_st_file *f = NULL;
    nis_status s = nis_st_read(path, &f, err, errlen);
    if (s != NIS_OK) return s;
    nis_params *P = T->E->P;
    const int64_t d = T->E->target.dim, nb = T->cfg.buffer_size;
    nis_ebm_config cfg;
    int64_t iter = 0, seed = 0, step = 0, ema_updates = 0;
    nis_real *tmp = NULL;
    s = nis_ebm_file_config(f, path, &cfg, err, errlen);
    if (s == NIS_OK && !same_config(&cfg, &T->E->cfg)) {
        snprintf(err, errlen, "%s: the energy's architecture differs from the one being trained", path);
        s = NIS_EFORMAT;
    }
    if (s == NIS_OK) s = meta_i64(f, path, "train.iter", &iter, err, errlen);
    if (s == NIS_OK) s = meta_i64(f, path, "train.seed", &seed, err, errlen);
    if (s == NIS_OK && iter > 0) s = meta_i64(f, path, "adam.step", &step, err, errlen);
    if (s == NIS_OK) {
        tmp = nis_malloc((size_t)(4 * P->n + nb * d) * sizeof *tmp);
        if (!tmp) {
            snprintf(err, errlen, "%s: out of memory", path);
            s = NIS_ENOMEM;
        }
    }
    /* everything into tmp first: data | m | v | buffer | ema */
    const bool has_ema = T->cfg.ema > 0 && nis_st_find(f, "ema");   /* older checkpoints: the average starts anew */
    char name[300];
    for (int i = 0; s == NIS_OK && i < P->count; i++) {
        const nis_param *p = &P->p[i];
        s = nis_st_load(f, p->t.name, NIS_DT_REAL, p->t.ndim, p->t.shape, tmp + p->offset, false, err, errlen);
        for (int k = 1; s == NIS_OK && k < 3; k++) {
            snprintf(name, sizeof name, "%s%s", p->t.name, k == 1 ? ".adam_m" : ".adam_v");
            if (step > 0)
                s = nis_st_load(f, name, NIS_DT_REAL, p->t.ndim, p->t.shape, tmp + k * P->n + p->offset, false,
                                err, errlen);
            else
                memset(tmp + k * P->n + p->offset, 0, (size_t)p->t.n * sizeof *tmp);
        }
    }
    if (s == NIS_OK)
        s = nis_st_load(f, "buffer", NIS_DT_REAL, 4, (int64_t[]){nb, T->E->cfg.c, T->E->cfg.h, T->E->cfg.w},
                        tmp + 3 * P->n, false, err, errlen);
    if (s == NIS_OK && has_ema) {
        s = nis_st_load(f, "ema", NIS_DT_REAL, 1, (int64_t[]){P->n}, tmp + 3 * P->n + nb * d, false, err, errlen);
        if (s == NIS_OK) s = meta_i64(f, path, "ema.updates", &ema_updates, err, errlen);
    }
    if (s == NIS_OK && (T->cfg.ema > 0 && !T->ema.shadow) && nis_ema_init(&T->ema, P, T->cfg.ema) != NIS_OK) {
        snprintf(err, errlen, "%s: out of memory", path);
        s = NIS_ENOMEM;
    }
    if (s == NIS_OK && nis_params_alloc_moments(P, true) != NIS_OK) {
        snprintf(err, errlen, "%s: out of memory", path);
        s = NIS_ENOMEM;
    }
    if (s == NIS_OK) {
        memcpy(P->data, tmp, (size_t)P->n * sizeof *tmp);
        memcpy(P->m, tmp + P->n, (size_t)P->n * sizeof *tmp);
        memcpy(P->v, tmp + 2 * P->n, (size_t)P->n * sizeof *tmp);
        memcpy(T->buffer, tmp + 3 * P->n, (size_t)(nb * d) * sizeof *tmp);
        memcpy(T->neg, T->buffer, (size_t)(T->cfg.batch * d) * sizeof *tmp);
        if (has_ema) {
            memcpy(T->ema.shadow, tmp + 3 * P->n + nb * d, (size_t)P->n * sizeof *tmp);
            T->ema.updates = ema_updates;
        } else if (T->ema.shadow) {   /* no average in the file: start it from the resumed weights */
            memcpy(T->ema.shadow, P->data, (size_t)P->n * sizeof *tmp);
            T->ema.updates = 0;
        }
        T->opt.step = step;
        T->iter = iter;
        T->seed = (uint64_t)seed;
    }
    nis_free(tmp);
    nis_st_close(f);
    return s;
}
