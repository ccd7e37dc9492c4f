/* src/targets/gauss_image.c — a diagonal Gaussian over images, N(mean, std² I) with an analytic score and HVP
 * and exact draws, and its family smoothed by N(0, s² I) (noise levels): the test target of the image samplers
 * (`nis ebm sampler --target gauss784`). */
#include "nis/ops.h"
#include "nis/target.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* The family q_s = N(mean, (std² + s²) I) (the Gaussian smoothed by N(0, s² I)); log_prob is its member at s = 0:
 * x (B, dim), s (B, 1) -> (B,). */
static nis_tensor *gi_log_prob_at(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *s) {
    const gauss_image *g = t->data;
    nis_tensor *v = nis_add_scalar(ctx, nis_square(ctx, nis_reshape(ctx, s, 1, (int64_t[]){s->shape[0]})), g->std * g->std);
    return nis_div(ctx, nis_mul_scalar(ctx, nis_sum_axis(ctx, nis_square(ctx, gi_centered(ctx, t, x)), 1, false), -0.5), v);
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
                        .sample = gi_sample, .data = g, .log_prob_at = gi_log_prob_at, .level = 0};
    return &g->t;
}

void nis_gauss_image_target_free(nis_target *t) {
    if (!t) return;
    gauss_image *g = t->data;
    nis_free(g->mean);
    nis_free(g);
}

const nis_real *nis_gauss_image_target_mean(const nis_target *t) { return ((const gauss_image *)t->data)->mean; }

