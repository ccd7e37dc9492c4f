/* src/targets/toy2d.c — the six 2-D targets of docs/targets-2d.md: log q with ops, exact samplers. */
#include "nis/ops.h"
#include "nis/target.h"

#include <math.h>
#include <string.h>

/* Column i of x (B, 2) as a (B,) tensor. */
static nis_tensor *col(nis_ctx *c, nis_tensor *x, int i) {
    return nis_reshape(c, nis_slice(c, x, 1, i, 1), 1, (int64_t[]){x->shape[0]});
}

/* ---- gauss: -|x|^2 / 2 ---- */
static nis_tensor *gauss_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    return nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, x), 1, false), -0.5);
}
static void gauss_sample(const nis_target *t, nis_rng *r, nis_real *out, int64_t n) {
    (void)t;
    for (int64_t i = 0; i < 2 * n; i++) out[i] = (nis_real)nis_rng_normal(r);
}

/* ---- mog2: log(½ N(x; (-2,0), 0.25 I) + ½ N(x; (2,0), 0.25 I)) = logsumexp_k(-2 |x - mu_k|^2) + C ---- */
static nis_tensor *mog2_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    nis_tensor *x0 = col(c, x, 0), *x1sq = nis_square(c, col(c, x, 1));
    int64_t B = x->shape[0];
    nis_tensor *ka = nis_add(c, nis_square(c, nis_add_scalar(c, x0, 2.0)), x1sq);
    nis_tensor *kb = nis_add(c, nis_square(c, nis_add_scalar(c, x0, -2.0)), x1sq);
    nis_tensor *both[2] = {nis_reshape(c, nis_mul_scalar(c, ka, -2.0), 2, (int64_t[]){B, 1}),
                           nis_reshape(c, nis_mul_scalar(c, kb, -2.0), 2, (int64_t[]){B, 1})};
    return nis_logsumexp(c, nis_concat(c, 2, both, 1), 1, false);
}
static void mog2_sample(const nis_target *t, nis_rng *r, nis_real *out, int64_t n) {
    (void)t;
    for (int64_t i = 0; i < n; i++) {
        double mu = nis_rng_uniform(r) < 0.5 ? -2.0 : 2.0;
        out[2 * i] = (nis_real)(mu + 0.5 * nis_rng_normal(r));
        out[2 * i + 1] = (nis_real)(0.5 * nis_rng_normal(r));
    }
}

/* ---- rosenbrock: -a (x0 - mu)^2 - b (x1 - x0^2)^2, a = 1/2, b = 5, mu = 1 ---- */
static nis_tensor *rosen_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    nis_tensor *x0 = col(c, x, 0), *x1 = col(c, x, 1);
    nis_tensor *u = nis_square(c, nis_add_scalar(c, x0, -1.0));
    nis_tensor *v = nis_square(c, nis_sub(c, x1, nis_square(c, x0)));
    return nis_neg(c, nis_add(c, nis_mul_scalar(c, u, 0.5), nis_mul_scalar(c, v, 5.0)));
}
static void rosen_sample(const nis_target *t, nis_rng *r, nis_real *out, int64_t n) {
    (void)t;
    for (int64_t i = 0; i < n; i++) {
        double x0 = 1.0 + nis_rng_normal(r) / sqrt(2 * 0.5);
        out[2 * i] = (nis_real)x0;
        out[2 * i + 1] = (nis_real)(x0 * x0 + nis_rng_normal(r) / sqrt(2 * 5.0));
    }
}

/* ---- donut: -(|x| - 2.6)^2 / 0.033 ---- */
static nis_tensor *donut_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    nis_tensor *r = nis_sqrt(c, nis_sum_axis(c, nis_square(c, x), 1, false));
    return nis_mul_scalar(c, nis_square(c, nis_add_scalar(c, r, -2.6)), -1.0 / 0.033);
}
/* radius density ∝ r exp(-(r - 2.6)^2 / 0.033): rejection from N(2.6, 0.033 / 2) with acceptance r / r_max */
static void donut_sample(const nis_target *t, nis_rng *rng, nis_real *out, int64_t n) {
    (void)t;
    const double sd = sqrt(0.033 / 2), rmax = 2.6 + 8 * sd;
    for (int64_t i = 0; i < n; i++) {
        double r;
        do r = 2.6 + sd * nis_rng_normal(rng);
        while (r <= 0 || r > rmax || nis_rng_uniform(rng) * rmax > r);
        double a = 6.283185307179586 * nis_rng_uniform(rng);
        out[2 * i] = (nis_real)(r * cos(a));
        out[2 * i + 1] = (nis_real)(r * sin(a));
    }
}

/* ---- funnel: log N(x0; 0, 9) + log N(x1; 0, e^{x0}) = -x0^2/18 - x1^2 e^{-x0} / 2 - x0 / 2 ---- */
static nis_tensor *funnel_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    nis_tensor *x0 = col(c, x, 0), *x1 = col(c, x, 1);
    nis_tensor *a = nis_mul_scalar(c, nis_square(c, x0), -1.0 / 18);
    nis_tensor *b = nis_mul_scalar(c, nis_mul(c, nis_square(c, x1), nis_exp(c, nis_neg(c, x0))), -0.5);
    return nis_add(c, nis_add(c, a, b), nis_mul_scalar(c, x0, -0.5));
}
static void funnel_sample(const nis_target *t, nis_rng *r, nis_real *out, int64_t n) {
    (void)t;
    for (int64_t i = 0; i < n; i++) {
        double x0 = 3 * nis_rng_normal(r);
        out[2 * i] = (nis_real)x0;
        out[2 * i + 1] = (nis_real)(exp(x0 / 2) * nis_rng_normal(r));
    }
}

/* ---- squiggle: log N(y; 0, S), y = (x0, x1 + sin(5 x0)), S = [[2, .25], [.25, .5]] ----
 * S^-1 = [[0.5, -0.25], [-0.25, 2]] / det, det = 2 * 0.5 - 0.0625 = 0.9375. */
static nis_tensor *squiggle_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    const double det = 0.9375, p00 = 0.5 / det, p01 = -0.25 / det, p11 = 2.0 / det;
    nis_tensor *y0 = col(c, x, 0);
    nis_tensor *y1 = nis_add(c, col(c, x, 1), nis_sin(c, nis_mul_scalar(c, y0, 5.0)));
    nis_tensor *q = nis_add(c, nis_mul_scalar(c, nis_square(c, y0), p00),
                            nis_add(c, nis_mul_scalar(c, nis_mul(c, y0, y1), 2 * p01),
                                    nis_mul_scalar(c, nis_square(c, y1), p11)));
    return nis_mul_scalar(c, q, -0.5);
}
static void squiggle_sample(const nis_target *t, nis_rng *r, nis_real *out, int64_t n) {
    (void)t;
    /* L L^T = S: L = [[sqrt 2, 0], [0.25 / sqrt 2, sqrt(0.5 - 0.03125)]] */
    const double l00 = sqrt(2.0), l10 = 0.25 / sqrt(2.0), l11 = sqrt(0.5 - 0.25 * 0.25 / 2);
    for (int64_t i = 0; i < n; i++) {
        double z0 = nis_rng_normal(r), z1 = nis_rng_normal(r);
        double y0 = l00 * z0, y1 = l10 * z0 + l11 * z1;
        out[2 * i] = (nis_real)y0;
        out[2 * i + 1] = (nis_real)(y1 - sin(5 * y0));
    }
}

static const nis_target targets[] = {
    {.name = "gauss", .dim = 2, .log_prob = gauss_lp, .sample = gauss_sample, .plot_box = {-4, 4, -4, 4}},
    {.name = "mog2", .dim = 2, .log_prob = mog2_lp, .sample = mog2_sample, .plot_box = {-4, 4, -4, 4}},
    {.name = "rosenbrock", .dim = 2, .log_prob = rosen_lp, .sample = rosen_sample, .plot_box = {-2, 4, -2, 10}},
    {.name = "donut", .dim = 2, .log_prob = donut_lp, .sample = donut_sample, .plot_box = {-3.5, 3.5, -3.5, 3.5}},
    {.name = "funnel", .dim = 2, .log_prob = funnel_lp, .sample = funnel_sample, .plot_box = {-8, 8, -10, 10}},
    {.name = "squiggle", .dim = 2, .log_prob = squiggle_lp, .sample = squiggle_sample, .plot_box = {-5, 5, -4, 4}},
};
static const char *const names[] = {"gauss", "mog2", "rosenbrock", "donut", "funnel", "squiggle", NULL};
const nis_target *nis_target_2d(const char *name) {
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (name && strcmp(targets[i].name, name) == 0) return &targets[i];
    return NULL;
}

const char *const *nis_target_2d_names(void) { return names; }
