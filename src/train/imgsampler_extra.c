/* src/train/imgsampler_extra.c — helpers of the image sampler: a diagonal Gaussian image target (tests, and
 * `nis ebm sampler --target gauss784`), a sample-grid PNG, and the timing of an update's parts. */
#include "imgsampler_internal.h"
#include "nis/ops.h"
#include "nis/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- N(mean, std² I) ------------------------------------------------------------------------------------ */
typedef struct {
    nis_target t;
    nis_real *mean;   /* (dim,) */
    double std;
    char name[64];
} gauss_image;

static nis_tensor *gi_centered(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    const gauss_image *g = t->data;
    nis_tensor *mu = nis_tensor_wrap(ctx, 2, (int64_t[]){1, t->dim}, g->mean);
    return nis_sub(ctx, x, mu);
}

static nis_tensor *gi_log_prob(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    const gauss_image *g = t->data;
    return nis_mul_scalar(ctx, nis_sum_axis(ctx, nis_square(ctx, gi_centered(ctx, t, x)), 1, false),
                          -0.5 / (g->std * g->std));
}

static nis_tensor *gi_score(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    const gauss_image *g = t->data;
    return nis_mul_scalar(ctx, gi_centered(ctx, t, x), -1.0 / (g->std * g->std));
}

static nis_tensor *gi_hvp(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    const gauss_image *g = t->data;
    return nis_mul_scalar(ctx, v, -1.0 / (g->std * g->std));
}

static void gi_sample(const nis_target *t, nis_rng *rng, nis_real *out, int64_t n) {
    const gauss_image *g = t->data;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < t->dim; j++) out[i * t->dim + j] = g->mean[j] + (nis_real)(g->std * nis_rng_normal(rng));
}

nis_target *nis_gauss_image_target_new(const char *name, int c, int h, int w, const nis_real *mean, double std) {
    if (c < 1 || h < 1 || w < 1 || (int64_t)c * h * w > (1 << 24) || !(std > 0)) return NULL;
    gauss_image *g = nis_calloc(1, sizeof *g);
    int dim = c * h * w;
    if (!g || !(g->mean = nis_malloc((size_t)dim * sizeof(nis_real)))) {
        nis_free(g);
        return NULL;
    }
    if (mean) {
        memcpy(g->mean, mean, (size_t)dim * sizeof(nis_real));
    } else {
        double r0 = h / 5.0;
        for (int k = 0; k < c; k++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    double dy = i - (h - 1) / 2.0, dx = j - (w - 1) / 2.0;
                    g->mean[(k * h + i) * w + j] = (nis_real)(0.1 + 0.8 * exp(-(dx * dx + dy * dy) / (2 * r0 * r0)));
                }
    }
    g->std = std;
    snprintf(g->name, sizeof g->name, "%s", name ? name : "gauss_image");
    g->t = (nis_target){.name = g->name, .dim = dim, .log_prob = gi_log_prob, .score = gi_score, .hvp = gi_hvp,
                        .sample = gi_sample, .data = g};
    return &g->t;
}

void nis_gauss_image_target_free(nis_target *t) {
    if (!t) return;
    gauss_image *g = t->data;
    nis_free(g->mean);
    nis_free(g);
}

const nis_real *nis_gauss_image_target_mean(const nis_target *t) { return ((const gauss_image *)t->data)->mean; }

/* ---- grid PNG ------------------------------------------------------------------------------------------- */
nis_status nis_imgsampler_write_grid(const char *path, const nis_real *imgs, int64_t n, int c, int h, int w,
                                     int cols, int scale, char *err, size_t errlen) {
    if (n < 1 || cols < 1 || scale < 1 || h < 1 || w < 1 || (c != 1 && c != 3) || n > 100000) {
        snprintf(err, errlen, "%s: bad grid arguments", path);
        return NIS_EINVAL;
    }
    if (cols > n) cols = (int)n;
    int rows = (int)((n + cols - 1) / cols);
    int cw = w * scale + 1, ch = h * scale + 1;
    nis_image im;
    if (nis_image_new(&im, cols * cw + 1, rows * ch + 1) != NIS_OK) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NIS_ENOMEM;
    }
    memset(im.rgb, 128, (size_t)im.w * im.h * 3);
    for (int64_t k = 0; k < n; k++) {
        int ox = (int)(k % cols) * cw + 1, oy = (int)(k / cols) * ch + 1;
        const nis_real *x = imgs + k * (int64_t)c * h * w;
        for (int i = 0; i < h * scale; i++)
            for (int j = 0; j < w * scale; j++)
                for (int q = 0; q < 3; q++) {
                    double v = x[((c == 3 ? q : 0) * h + i / scale) * w + j / scale];
                    v = v < 0 ? 0 : v > 1 ? 1 : v;
                    if (isnan(v)) v = 0;
                    im.rgb[((size_t)(oy + i) * im.w + ox + j) * 3 + q] = (unsigned char)lround(v * 255);
                }
    }
    nis_status st = nis_image_write_png(&im, path, err, errlen);
    nis_image_free(&im);
    return st;
}

/* ---- timing ---------------------------------------------------------------------------------------------- */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* One timed part: 0 on success, else the status. */
static nis_status part(nis_imgsampler *s, int which) {
    nis_ctx *c = s->ctx;
    int64_t B = s->cfg.batch, d = s->dim;
    nis_ctx_reset(c);
    nis_tensor *z = nis_new2(c, B, s->cfg.latent), *u = nis_new2(c, B, d), *x = nis_new2(c, B, d);
    if (!z || !u || !x) return nis_ctx_status(c);
    nis_rng r = nis_rng_init(99, 99);
    nis_rng_fill_normal(&r, z->data, z->n, 0, 1);
    nis_rng_fill_normal(&r, u->data, u->n, 0, 1);
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *x0 = nis__imggen_forward(c, &s->gen, z);
    nis_ctx_set_grad(c, saved);
    if (!x0) return nis_ctx_status(c);
    for (int64_t i = 0; i < x->n; i++) x->data[i] = x0->data[i] + (nis_real)(s->sigma * u->data[i]);
    nis_requires_grad(x);
    nis_tensor *g = NULL;
    nis_status st = NIS_OK;
    if (which == 0) {   /* generator forward + backward */
        nis_tensor *l = nis_sum(c, nis_mul(c, nis__imggen_forward(c, &s->gen, z), u));
        nis_params_zero_grad(s->G);
        st = l ? nis_backward(c, l, NULL) : nis_ctx_status(c);
    } else if (which == 1) {   /* target score with graph, then its backward (HVP) */
        nis_tensor *sq = nis_target_score(c, s->t, x, true);
        nis_tensor *l = nis_sum(c, nis_mul(c, sq, u));
        st = l ? nis_grad(c, 1, &l, NULL, 1, &x, false, &g) : nis_ctx_status(c);
    } else {   /* score network forward + backward to its input */
        nis_params_set_requires_grad(s->S, false);
        nis_tensor *l = nis_sum(c, nis_mul(c, nis__unet_forward(c, &s->score, x), u));
        st = l ? nis_grad(c, 1, &l, NULL, 1, &x, false, &g) : nis_ctx_status(c);
        nis_params_set_requires_grad(s->S, true);
    }
    if (st != NIS_OK) snprintf(s->msg, sizeof s->msg, "profile: %s", nis_ctx_message(c));
    return st;
}

nis_status nis_imgsampler_profile(nis_imgsampler *s, int reps, nis_imgsampler_timing *out) {
    memset(out, 0, sizeof *out);
    if (reps < 1) reps = 1;
    double *slot[3] = {&out->gen_fwd_bwd, &out->target_score_hvp, &out->score_vjp};
    for (int w = 0; w < 3; w++)
        for (int r = 0; r <= reps; r++) {
            double t0 = now();
            nis_status st = part(s, w);
            if (st != NIS_OK) return st;
            if (r > 0) *slot[w] += (now() - t0) / reps;
        }
    nis_status st = nis_imgsampler_step(s, NULL);
    if (st != NIS_OK) return st;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if ((st = nis_imgsampler_step(s, NULL)) != NIS_OK) return st;
        out->update += (now() - t0) / reps;
    }
    double mon;
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        if ((st = nis__imgsampler_score_step(s, &mon)) != NIS_OK) return st;
        if (r > 0) out->score_step += (now() - t0) / reps;
    }
    return NIS_OK;
}
