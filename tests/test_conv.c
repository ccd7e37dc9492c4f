/* Convolutions in float32 (the library's precision): conv2d, conv_transpose2d and conv2d_wgrad against
 * direct loops accumulated in double, on sizes that span several im2col chunks; repeat runs are
 * bit-identical with 2 threads; a repeated forward + backward + double-backward step after nis_ctx_reset
 * makes no heap allocation. */
#include "check.h"
#include "nis/rng.h"
#include "nis/core.h"
#include "nis/ops.h"

#include <string.h>

typedef struct { int64_t N, C, H, W, Co, kh, kw; int s, p; } conv_case;

static nis_tensor *rand_tensor(nis_ctx *ctx, int64_t a, int64_t b, int64_t c, int64_t d) {
    nis_tensor *t = nis_new4(ctx, a, b, c, d);
    for (int64_t k = 0; t && k < t->n; k++) t->data[k] = (nis_real)(test_uniform() * 2 - 1);
    return t;
}

/* Largest |got - ref| / (sum of |terms| of ref), i.e. the error relative to the size of the sum. */
static double rel_err(const nis_tensor *got, const double *ref, const double *mag) {
    double e = 0;
    for (int64_t i = 0; i < got->n; i++) e = fmax(e, fabs(got->data[i] - ref[i]) / fmax(mag[i], 1e-30));
    return e;
}

/* The three ops against direct loops: y = conv(x, w) + b, x2 = convT(y-shaped u, w), dw = wgrad(x, u). */
static void check_case(nis_ctx *ctx, const conv_case *c) {
    nis_ctx_reset(ctx);
    const int64_t Ho = (c->H + 2 * c->p - c->kh) / c->s + 1, Wo = (c->W + 2 * c->p - c->kw) / c->s + 1;
    nis_tensor *x = rand_tensor(ctx, c->N, c->C, c->H, c->W), *w = rand_tensor(ctx, c->Co, c->C, c->kh, c->kw);
    nis_tensor *u = rand_tensor(ctx, c->N, c->Co, Ho, Wo), *b = nis_new1(ctx, c->Co);
    for (int64_t i = 0; i < c->Co; i++) b->data[i] = (nis_real)test_uniform();
    int op = (int)((c->H + 2 * c->p - c->kh) % c->s);   /* sizes below have equal remainders in H and W */
    nis_tensor *y = nis_conv2d(ctx, x, w, b, c->s, c->p);
    nis_tensor *xt = nis_conv_transpose2d(ctx, u, w, NULL, c->s, c->p, op);
    nis_tensor *dw = nis_conv2d_wgrad(ctx, x, u, (int)c->kh, (int)c->kw, c->s, c->p);
    CHECK(y && xt && dw, "ops failed: %s", nis_ctx_message(ctx));
    if (!y || !xt || !dw) return;
    CHECK(y->shape[2] == Ho && y->shape[3] == Wo && nis_same_shape(xt, x) && nis_same_shape(dw, w), "shapes");

    double *ry = calloc((size_t)y->n, sizeof(double)), *my = calloc((size_t)y->n, sizeof(double));
    double *rx = calloc((size_t)x->n, sizeof(double)), *mx = calloc((size_t)x->n, sizeof(double));
    double *rw = calloc((size_t)w->n, sizeof(double)), *mw = calloc((size_t)w->n, sizeof(double));
    const int64_t C = c->C, Co = c->Co, H = c->H, W = c->W, kh = c->kh, kw = c->kw;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t co = 0; co < Co; co++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    int64_t yo = ((n * Co + co) * Ho + oy) * Wo + ox;
                    ry[yo] = my[yo] = b->data[co];
                    my[yo] = fabs(my[yo]);
                    for (int64_t ci = 0; ci < C; ci++)
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t iy = oy * c->s + i - c->p, ix = ox * c->s + j - c->p;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                int64_t xo = ((n * C + ci) * H + iy) * W + ix;
                                int64_t wo = ((co * C + ci) * kh + i) * kw + j;
                                double xv = x->data[xo], wv = w->data[wo], uv = u->data[yo];
                                ry[yo] += wv * xv, my[yo] += fabs(wv * xv);
                                rx[xo] += wv * uv, mx[xo] += fabs(wv * uv);
                                rw[wo] += uv * xv, mw[wo] += fabs(uv * xv);
                            }
                }
    double ey = rel_err(y, ry, my), ex = rel_err(xt, rx, mx), ew = rel_err(dw, rw, mw);
    CHECK(ey < 1e-5, "conv2d N=%lld C=%lld %lldx%lld s=%d p=%d: relative error %.3g", (long long)c->N,
          (long long)C, (long long)H, (long long)W, c->s, c->p, ey);
    CHECK(ex < 1e-5, "conv_transpose2d (s=%d p=%d): relative error %.3g", c->s, c->p, ex);
    CHECK(ew < 1e-5, "conv2d_wgrad (s=%d p=%d): relative error %.3g", c->s, c->p, ew);
    free(ry), free(my), free(rx), free(mx), free(rw), free(mw);
}

/* One training-like step: conv -> silu -> conv (stride 2) -> avg_pool -> mean of squares; the gradient
 * w.r.t. the input with create_graph, and the gradient of its squared norm w.r.t. the weights. */
static nis_tensor *step(nis_ctx *ctx, nis_tensor *x, nis_tensor *w1, nis_tensor *w2, nis_tensor **gw) {
    nis_tensor *h = nis_silu(ctx, nis_conv2d(ctx, x, w1, NULL, 1, 1));
    nis_tensor *y = nis_avg_pool2d(ctx, nis_conv2d(ctx, h, w2, NULL, 2, 1), 2);
    nis_tensor *loss = nis_sum(ctx, nis_mul(ctx, y, y)), *gx;
    if (!loss || nis_grad(ctx, 1, &loss, NULL, 1, &x, true, &gx) != NIS_OK) return NULL;
    nis_tensor *pen = nis_sum(ctx, nis_mul(ctx, gx, gx));
    nis_tensor *ws[2] = {w1, w2};
    if (!pen || nis_grad(ctx, 1, &pen, NULL, 2, ws, false, gw) != NIS_OK) return NULL;
    return pen;
}

static void check_step(void) {
    nis_set_threads(2);
    nis_ctx *ctx = nis_ctx_new(0);
    const int64_t sx[4] = {8, 3, 16, 16}, s1[4] = {8, 3, 3, 3}, s2[4] = {16, 8, 3, 3};
    nis_real *vx = malloc(sizeof(nis_real) * 8 * 3 * 16 * 16), *v1 = malloc(sizeof(nis_real) * 8 * 3 * 9);
    nis_real *v2 = malloc(sizeof(nis_real) * 16 * 8 * 9), *first = malloc(sizeof(nis_real) * (8 * 27 + 16 * 72));
    for (int i = 0; i < 8 * 3 * 256; i++) vx[i] = (nis_real)(test_uniform() * 2 - 1);
    for (int i = 0; i < 8 * 27; i++) v1[i] = (nis_real)(test_uniform() - 0.5);
    for (int i = 0; i < 16 * 72; i++) v2[i] = (nis_real)(test_uniform() - 0.5) / 4;
    uint64_t allocs = 0;
    bool same = true;
    for (int it = 0; it < 3; it++) {
        nis_ctx_reset(ctx);
        if (it == 2) allocs = nis_alloc_count();
        nis_tensor *x = nis_requires_grad(nis_tensor_wrap(ctx, 4, sx, vx));
        nis_tensor *w1 = nis_requires_grad(nis_tensor_wrap(ctx, 4, s1, v1));
        nis_tensor *w2 = nis_requires_grad(nis_tensor_wrap(ctx, 4, s2, v2)), *gw[2];
        nis_tensor *pen = step(ctx, x, w1, w2, gw);
        CHECK(pen != NULL, "step %d failed: %s", it, nis_ctx_message(ctx));
        if (!pen) break;
        if (it == 0) {
            memcpy(first, gw[0]->data, sizeof(nis_real) * 8 * 27);
            memcpy(first + 8 * 27, gw[1]->data, sizeof(nis_real) * 16 * 72);
        } else {
            same = same && !memcmp(first, gw[0]->data, sizeof(nis_real) * 8 * 27) &&
                   !memcmp(first + 8 * 27, gw[1]->data, sizeof(nis_real) * 16 * 72);
        }
        if (it == 2) CHECK(nis_alloc_count() == allocs, "a repeated step made %llu heap allocations",
                           (unsigned long long)(nis_alloc_count() - allocs));
    }
    CHECK(same, "repeated steps with 2 threads must be bit-identical");
    free(vx), free(v1), free(v2), free(first);
    nis_ctx_free(ctx);
    nis_set_threads(1);
}

/* conv2d keeps the forward's column matrices for the weight gradient when w requires grad: the gradient
 * from backward (cached columns, several chunks) equals nis_conv2d_wgrad's (columns made again), bit for bit. */
static void check_cached_columns(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_rng r = nis_rng_init(5, 0);
    nis_tensor *x = nis_new4(ctx, 64, 8, 20, 20), *w = nis_requires_grad(nis_new4(ctx, 6, 8, 3, 3));
    nis_rng_fill_normal(&r, x->data, x->n, 0, 1);
    nis_rng_fill_normal(&r, w->data, w->n, 0, 1);
    nis_tensor *y = nis_conv2d(ctx, x, w, NULL, 1, 1), *gw;   /* K P N = 72 * 400 * 64: two chunks */
    CHECK(y && y->aux != NULL, "conv2d did not keep its columns");
    nis_tensor *loss = nis_sum(ctx, nis_square(ctx, y));
    CHECK(loss && nis_grad(ctx, 1, &loss, NULL, 1, &w, false, &gw) == NIS_OK, "%s", nis_ctx_message(ctx));
    nis_tensor *gy = nis_mul_scalar(ctx, y, 2);
    nis_tensor *ref = nis_conv2d_wgrad(ctx, x, gy, 3, 3, 1, 1);
    CHECK(ref && gw && memcmp(ref->data, gw->data, (size_t)ref->n * sizeof(nis_real)) == 0,
          "weight gradient from cached columns differs from nis_conv2d_wgrad");
    nis_ctx_free(ctx);
}

int main(void) {
    test_seed(3);
    nis_ctx *ctx = nis_ctx_new(0);
    /* the first case spans five column-matrix chunks (K P = 144 * 1024 per image, 30 images) */
    const conv_case cases[] = {
        {30, 16, 32, 32, 8, 3, 3, 1, 1},
        {6, 4, 17, 13, 5, 3, 3, 2, 1},
        {4, 3, 12, 10, 6, 4, 2, 2, 0},
        {3, 2, 9, 9, 3, 5, 5, 3, 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) check_case(ctx, &cases[k]);
    nis_ctx_free(ctx);
    check_step();
    check_cached_columns();
    return check_done("test_conv");
}
