/* Convolutions and pooling in double precision: conv2d against a direct 7-loop convolution, conv_transpose2d
 * as conv2d's adjoint, conv2d_wgrad against its defining sum, pools against direct loops; first- and
 * second-order gradient checks of every op (strides 1/2, pads 0/1, with and without bias, non-square
 * kernels and images, several channels); shape errors. */
#include "gradcheck.h"

/* ---- direct reference loops (double) ---- */

/* y (N, Co, Ho, Wo) = sum_{c,i,j} w[co, c, i, j] x[n, c, oy s + i - p, ox s + j - p] (+ b[co]). */
static void naive_conv(const nis_tensor *x, const nis_tensor *w, const nis_tensor *b, int s, int p,
                       double *y, int64_t Ho, int64_t Wo) {
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t Co = w->shape[0], kh = w->shape[2], kw = w->shape[3];
    for (int64_t n = 0; n < N; n++)
        for (int64_t co = 0; co < Co; co++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    double acc = b ? b->data[co] : 0;
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t iy = oy * s + i - p, ix = ox * s + j - p;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                acc += w->data[((co * C + c) * kh + i) * kw + j] *
                                       x->data[((n * C + c) * H + iy) * W + ix];
                            }
                    y[((n * Co + co) * Ho + oy) * Wo + ox] = acc;
                }
}

static nis_tensor *rand_tensor(nis_ctx *ctx, int64_t a, int64_t b, int64_t c, int64_t d) {
    nis_tensor *t = nis_new4(ctx, a, b, c, d);
    for (int64_t k = 0; k < t->n; k++) t->data[k] = test_uniform() * 2 - 1;
    return t;
}

static double dot(const nis_tensor *a, const nis_tensor *b) {
    double s = 0;
    for (int64_t k = 0; k < a->n; k++) s += a->data[k] * b->data[k];
    return s;
}

static void check_forward(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    /* conv2d against the direct loops: several strides, pads, kernels, non-square images */
    const int cases[][8] = {/* N, C, H, W, Co, kh, kw, stride/pad packed below */
                            {2, 3, 7, 9, 4, 3, 3, 0}, {2, 3, 7, 9, 4, 3, 2, 1}, {1, 2, 6, 5, 3, 2, 3, 2},
                            {3, 1, 5, 5, 2, 5, 5, 3}, {2, 2, 8, 6, 3, 1, 1, 4}};
    const int sp[][2] = {{1, 0}, {1, 1}, {2, 0}, {2, 2}, {3, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int *c = cases[k];
        int s = sp[c[7]][0], p = sp[c[7]][1];
        nis_tensor *x = rand_tensor(ctx, c[0], c[1], c[2], c[3]), *w = rand_tensor(ctx, c[4], c[1], c[5], c[6]);
        nis_tensor *b = nis_new1(ctx, c[4]);
        for (int64_t i = 0; i < b->n; i++) b->data[i] = test_uniform();
        nis_tensor *y = nis_conv2d(ctx, x, w, b, s, p);
        CHECK(y != NULL, "conv2d case %zu: %s", k, nis_ctx_message(ctx));
        if (!y) continue;
        int64_t Ho = (c[2] + 2 * p - c[5]) / s + 1, Wo = (c[3] + 2 * p - c[6]) / s + 1;
        CHECK(y->ndim == 4 && y->shape[0] == c[0] && y->shape[1] == c[4] && y->shape[2] == Ho &&
                  y->shape[3] == Wo,
              "conv2d case %zu: output shape", k);
        double *ref = malloc((size_t)y->n * sizeof *ref), err = 0;
        naive_conv(x, w, b, s, p, ref, Ho, Wo);
        for (int64_t i = 0; i < y->n; i++) err = fmax(err, fabs(y->data[i] - ref[i]));
        CHECK(err < 1e-12, "conv2d case %zu: max error %.3g against the direct loops", k, err);

        /* conv2d_wgrad against its defining sum: dW = sum_n,y,x g x_shifted, i.e. <conv(x, E_k), g> */
        nis_tensor *g = rand_tensor(ctx, c[0], c[4], Ho, Wo);
        nis_tensor *dw = nis_conv2d_wgrad(ctx, x, g, c[5], c[6], s, p);
        CHECK(dw && nis_same_shape(dw, w), "wgrad case %zu: %s", k, nis_ctx_message(ctx));
        double werr = 0;
        for (int64_t e = 0; dw && e < w->n; e++) {
            nis_tensor *ek = nis_zeros(ctx, 4, w->shape);
            ek->data[e] = 1;
            naive_conv(x, ek, NULL, s, p, ref, Ho, Wo);
            double v = 0;
            for (int64_t i = 0; i < g->n; i++) v += ref[i] * g->data[i];
            werr = fmax(werr, fabs(dw->data[e] - v));
        }
        CHECK(werr < 1e-12, "wgrad case %zu: max error %.3g", k, werr);
        free(ref);
        nis_ctx_reset(ctx);
    }

    /* conv_transpose2d is conv2d's adjoint: <conv(x), u> == <x, convT(u)>, out_pad 0 and 1 */
    const int64_t sizes[][2] = {{7, 9}, {8, 10}, {7, 7}};
    const int tp[][3] = {{2, 1, 0}, {2, 1, 1}, {1, 0, 0}};   /* stride, pad, out_pad */
    for (int k = 0; k < 3; k++) {
        int s = tp[k][0], p = tp[k][1], op = tp[k][2];
        nis_tensor *x = rand_tensor(ctx, 2, 3, sizes[k][0], sizes[k][1]), *w = rand_tensor(ctx, 4, 3, 3, 3);
        nis_tensor *y = nis_conv2d(ctx, x, w, NULL, s, p);
        nis_tensor *u = y ? rand_tensor(ctx, y->shape[0], y->shape[1], y->shape[2], y->shape[3]) : NULL;
        nis_tensor *xt = nis_conv_transpose2d(ctx, u, w, NULL, s, p, op);
        CHECK(xt && nis_same_shape(xt, x), "conv_transpose2d %d: shape (%s)", k, nis_ctx_message(ctx));
        if (xt) {
            double l = dot(y, u), r = dot(x, xt);
            CHECK(fabs(l - r) <= 1e-10 * fmax(1, fabs(l)), "adjoint %d: <conv x, u> %.15g, <x, convT u> %.15g",
                  k, l, r);
        }
        /* bias adds b[co] to every output */
        nis_tensor *b = nis_new1(ctx, 3);
        for (int i = 0; i < 3; i++) b->data[i] = i + 0.5;
        nis_tensor *xb = nis_conv_transpose2d(ctx, u, w, b, s, p, op);
        double berr = 0;
        for (int64_t i = 0; xb && xt && i < xb->n; i++)
            berr = fmax(berr, fabs(xb->data[i] - xt->data[i] - b->data[(i / (xb->shape[2] * xb->shape[3])) % 3]));
        CHECK(xb && berr < 1e-12, "conv_transpose2d %d bias: error %.3g", k, berr);
        nis_ctx_reset(ctx);
    }

    /* pools and upsampling against direct loops; sum_pool is upsample's adjoint */
    nis_tensor *x = rand_tensor(ctx, 2, 3, 6, 9);
    nis_tensor *sp3 = nis_sum_pool2d(ctx, x, 3), *ap3 = nis_avg_pool2d(ctx, x, 3);
    nis_tensor *up = nis_upsample_nearest2d(ctx, x, 2);
    CHECK(sp3 && ap3 && up, "pools: %s", nis_ctx_message(ctx));
    if (sp3 && ap3 && up) {
        CHECK(sp3->shape[2] == 2 && sp3->shape[3] == 3 && up->shape[2] == 12 && up->shape[3] == 18,
              "pool shapes");
        double perr = 0, uerr = 0;
        for (int64_t nc = 0; nc < 6; nc++)
            for (int64_t oy = 0; oy < 2; oy++)
                for (int64_t ox = 0; ox < 3; ox++) {
                    double s = 0;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) s += x->data[(nc * 6 + oy * 3 + i) * 9 + ox * 3 + j];
                    int64_t o = (nc * 2 + oy) * 3 + ox;
                    perr = fmax(perr, fabs(sp3->data[o] - s) + fabs(ap3->data[o] - s / 9));
                }
        for (int64_t nc = 0; nc < 6; nc++)
            for (int64_t yy = 0; yy < 12; yy++)
                for (int64_t xx = 0; xx < 18; xx++)
                    uerr = fmax(uerr, fabs(up->data[(nc * 12 + yy) * 18 + xx] -
                                           x->data[(nc * 6 + yy / 2) * 9 + xx / 2]));
        CHECK(perr < 1e-12 && uerr == 0, "pool error %.3g, upsample error %.3g", perr, uerr);
        nis_tensor *v = rand_tensor(ctx, 2, 3, 2, 3);
        double l = dot(sp3, v), r = dot(x, nis_upsample_nearest2d(ctx, v, 3));
        CHECK(fabs(l - r) < 1e-12, "sum_pool/upsample adjoint: %.15g vs %.15g", l, r);
    }
    nis_ctx_free(ctx);
}

/* ---- gradient checks: each f returns y * y so that second derivatives involve every op's backward ---- */

typedef struct { int stride, pad, out_pad, kh, kw, k; } conv_ud;

static nis_tensor *sq(nis_ctx *c, nis_tensor *y) { return nis_mul(c, y, y); }

static nis_tensor *f_conv(nis_ctx *c, nis_tensor *const *x, void *ud) {
    const conv_ud *u = ud;
    return sq(c, nis_conv2d(c, x[0], x[1], u->k ? x[2] : NULL, u->stride, u->pad));
}
static nis_tensor *f_convt(nis_ctx *c, nis_tensor *const *x, void *ud) {
    const conv_ud *u = ud;
    return sq(c, nis_conv_transpose2d(c, x[0], x[1], u->k ? x[2] : NULL, u->stride, u->pad, u->out_pad));
}
static nis_tensor *f_wgrad(nis_ctx *c, nis_tensor *const *x, void *ud) {
    const conv_ud *u = ud;
    return sq(c, nis_conv2d_wgrad(c, x[0], x[1], u->kh, u->kw, u->stride, u->pad));
}
static nis_tensor *f_sum_pool(nis_ctx *c, nis_tensor *const *x, void *ud) {
    return sq(c, nis_sum_pool2d(c, x[0], ((const conv_ud *)ud)->k));
}
static nis_tensor *f_avg_pool(nis_ctx *c, nis_tensor *const *x, void *ud) {
    return sq(c, nis_avg_pool2d(c, x[0], ((const conv_ud *)ud)->k));
}
static nis_tensor *f_upsample(nis_ctx *c, nis_tensor *const *x, void *ud) {
    return sq(c, nis_upsample_nearest2d(c, x[0], ((const conv_ud *)ud)->k));
}
/* a small network: conv (stride 2) -> tanh -> transposed conv back -> avg_pool -> upsample */
static nis_tensor *f_net(nis_ctx *c, nis_tensor *const *x, void *ud) {
    (void)ud;
    nis_tensor *h = nis_tanh(c, nis_conv2d(c, x[0], x[1], NULL, 2, 1));
    nis_tensor *z = nis_conv_transpose2d(c, h, x[2], NULL, 2, 1, 1);
    return sq(c, nis_upsample_nearest2d(c, nis_avg_pool2d(c, z, 2), 2));
}

static void check_gradients(void) {
    char name[96];
    /* conv2d: images 5x7 and 6x5 (out_pad differing between H and W in the backward), kernel 3x2 */
    const int64_t img[][2] = {{5, 7}, {6, 5}};
    for (int im = 0; im < 2; im++)
        for (int s = 1; s <= 2; s++)
            for (int p = 0; p <= 1; p++)
                for (int bias = 0; bias <= 1; bias++) {
                    conv_ud u = {.stride = s, .pad = p, .k = bias};
                    gc_spec sp[3] = {{4, {2, 2, img[im][0], img[im][1]}, -1, 1}, {4, {3, 2, 3, 2}, -1, 1},
                                     {1, {3}, -1, 1}};
                    snprintf(name, sizeof name, "conv2d %lldx%lld stride %d pad %d bias %d",
                             (long long)img[im][0], (long long)img[im][1], s, p, bias);
                    gc_check(name, f_conv, &u, 2 + bias, sp, 2, 1e-6);
                }
    /* conv_transpose2d: stride 2, pad 1, out_pad 0 and 1; stride 1 pad 0 */
    const int tp[][3] = {{2, 1, 0}, {2, 1, 1}, {1, 0, 0}};
    for (int k = 0; k < 3; k++)
        for (int bias = 0; bias <= 1; bias++) {
            conv_ud u = {.stride = tp[k][0], .pad = tp[k][1], .out_pad = tp[k][2], .k = bias};
            gc_spec sp[3] = {{4, {2, 2, 3, 4}, -1, 1}, {4, {2, 3, 3, 2}, -1, 1}, {1, {3}, -1, 1}};
            snprintf(name, sizeof name, "conv_transpose2d stride %d pad %d out_pad %d bias %d", tp[k][0],
                     tp[k][1], tp[k][2], bias);
            gc_check(name, f_convt, &u, 2 + bias, sp, 2, 1e-6);
        }
    /* conv2d_wgrad in both arguments: x (2, 2, 5, 7), g conv2d's output size */
    const int wp[][2] = {{1, 0}, {1, 1}, {2, 0}, {2, 1}};
    for (int k = 0; k < 4; k++) {
        int s = wp[k][0], p = wp[k][1];
        conv_ud u = {.stride = s, .pad = p, .kh = 3, .kw = 2};
        gc_spec sp[2] = {{4, {2, 2, 5, 7}, -1, 1},
                         {4, {2, 3, (5 + 2 * p - 3) / s + 1, (7 + 2 * p - 2) / s + 1}, -1, 1}};
        snprintf(name, sizeof name, "conv2d_wgrad stride %d pad %d", s, p);
        gc_check(name, f_wgrad, &u, 2, sp, 2, 1e-6);
    }
    /* pools and upsampling */
    conv_ud u2 = {.k = 2}, u3 = {.k = 3};
    gc_spec px[1] = {{4, {2, 2, 4, 6}, -1, 1}}, px3[1] = {{4, {1, 2, 3, 6}, -1, 1}};
    gc_check("sum_pool2d k 2", f_sum_pool, &u2, 1, px, 2, 1e-6);
    gc_check("avg_pool2d k 2", f_avg_pool, &u2, 1, px, 2, 1e-6);
    gc_check("avg_pool2d k 3", f_avg_pool, &u3, 1, px3, 2, 1e-6);
    gc_check("upsample_nearest2d k 2", f_upsample, &u2, 1, px, 2, 1e-6);
    gc_check("upsample_nearest2d k 3", f_upsample, &u3, 1, px3, 2, 1e-6);
    /* composed */
    gc_spec pn[3] = {{4, {2, 1, 6, 6}, -1, 1}, {4, {3, 1, 3, 3}, -1, 1}, {4, {3, 2, 3, 3}, -1, 1}};
    gc_check("conv net", f_net, NULL, 3, pn, 2, 1e-6);
}

/* Shape and argument errors name the op and the shapes. */
static void check_errors(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    const char *m;
#define EXPECT_FAIL(expr, status, s1, s2, s3)                                                               \
    do {                                                                                                    \
        nis_ctx_reset(ctx);                                                                                 \
        CHECK((expr) == NULL, "%s must fail", #expr);                                                       \
        m = nis_ctx_message(ctx);                                                                           \
        CHECK(nis_ctx_status(ctx) == (status) && strstr(m, s1) && strstr(m, s2) && strstr(m, s3),           \
              "%s: status %d, message '%s'", #expr, nis_ctx_status(ctx), m);                                \
    } while (0)
    EXPECT_FAIL(nis_conv2d(ctx, nis_new4(ctx, 2, 3, 5, 5), nis_new4(ctx, 4, 2, 3, 3), NULL, 1, 0), NIS_ESHAPE,
                "conv2d: channels", "(2, 3, 5, 5)", "(4, 2, 3, 3)");
    EXPECT_FAIL(nis_conv2d(ctx, nis_new4(ctx, 1, 1, 2, 2), nis_new4(ctx, 1, 1, 5, 5), NULL, 1, 1), NIS_ESHAPE,
                "conv2d: kernel 5x5 larger", "(1, 1, 2, 2)", "(1, 1, 5, 5)");
    EXPECT_FAIL(nis_conv2d(ctx, nis_new4(ctx, 1, 1, 5, 5), nis_new4(ctx, 2, 1, 3, 3), nis_new1(ctx, 3), 1, 1),
                NIS_ESHAPE, "conv2d: bias", "(2, 1, 3, 3)", "(3,)");
    EXPECT_FAIL(nis_conv2d(ctx, nis_new2(ctx, 5, 5), nis_new4(ctx, 2, 1, 3, 3), NULL, 1, 1), NIS_ESHAPE,
                "conv2d", "(5, 5)", "(2, 1, 3, 3)");
    EXPECT_FAIL(nis_conv2d(ctx, nis_new4(ctx, 1, 1, 5, 5), nis_new4(ctx, 2, 1, 3, 3), NULL, 0, 1), NIS_EINVAL,
                "conv2d", "stride 0", "pad 1");
    EXPECT_FAIL(nis_conv_transpose2d(ctx, nis_new4(ctx, 1, 2, 5, 5), nis_new4(ctx, 3, 2, 3, 3), NULL, 2, 1, 0),
                NIS_ESHAPE, "conv_transpose2d: channels", "(1, 2, 5, 5)", "(3, 2, 3, 3)");
    EXPECT_FAIL(nis_conv_transpose2d(ctx, nis_new4(ctx, 1, 2, 5, 5), nis_new4(ctx, 2, 3, 3, 3), NULL, 2, 1, 2),
                NIS_EINVAL, "conv_transpose2d", "output padding 2", "stride 2");
    EXPECT_FAIL(nis_conv_transpose2d(ctx, nis_new4(ctx, 1, 2, 1, 1), nis_new4(ctx, 2, 3, 1, 1), NULL, 1, 1, 0),
                NIS_ESHAPE, "conv_transpose2d: padding leaves an empty output", "(1, 2, 1, 1)", "(2, 3, 1, 1)");
    EXPECT_FAIL(nis_conv2d_wgrad(ctx, nis_new4(ctx, 2, 2, 5, 7), nis_new4(ctx, 2, 3, 3, 7), 3, 2, 1, 0),
                NIS_ESHAPE, "conv2d_wgrad: g must be conv2d's output (N, Cout, 3, 6)", "(2, 2, 5, 7)",
                "(2, 3, 3, 7)");
    EXPECT_FAIL(nis_avg_pool2d(ctx, nis_new4(ctx, 1, 1, 5, 6), 2), NIS_ESHAPE, "avg_pool2d", "divisible",
                "(1, 1, 5, 6)");
    EXPECT_FAIL(nis_sum_pool2d(ctx, nis_new4(ctx, 1, 1, 6, 5), 2), NIS_ESHAPE, "sum_pool2d", "divisible",
                "(1, 1, 6, 5)");
    EXPECT_FAIL(nis_upsample_nearest2d(ctx, nis_new4(ctx, 1, 1, 6, 5), 0), NIS_EINVAL, "upsample_nearest2d",
                "k = 0", "");
    EXPECT_FAIL(nis_upsample_nearest2d(ctx, nis_new1(ctx, 6), 2), NIS_ESHAPE, "upsample_nearest2d", "(6,)", "");
#undef EXPECT_FAIL
    /* a NULL input gives NULL and, on a context without error, EINVAL */
    nis_ctx_reset(ctx);
    CHECK(nis_conv2d(ctx, NULL, nis_new4(ctx, 1, 1, 1, 1), NULL, 1, 0) == NULL, "NULL x");
    CHECK(nis_ctx_status(ctx) == NIS_EINVAL, "a NULL input sets EINVAL");
    nis_ctx_free(ctx);
}

int main(void) {
    test_seed(7);
    check_forward();
    check_gradients();
    check_errors();
    return check_done("test_conv_f64");
}
