/* src/core/ops_conv.c — conv2d, conv_transpose2d and conv2d_wgrad (NCHW, PyTorch semantics), through
 * im2col / col2im and one GEMM per chunk of images.
 *
 * The three ops are closed under differentiation.  With C the conv2d map x -> conv2d(x, w) (stride s, pad p):
 *   y = conv2d(x, w, b):           dx = C^T g = conv_transpose2d(g, w),  dw = conv2d_wgrad(x, g),
 *                                  db = sum of g over (N, H, W)
 *   y = conv_transpose2d(x, w, b): dx = conv2d(g, w),  dw = conv2d_wgrad(g, x) (g is the conv2d input here,
 *                                  x its output gradient),  db as above
 *   W = conv2d_wgrad(x, g):        with <G, W> = <g, conv2d(x, G)>: dx = conv_transpose2d(g, G),
 *                                  dg = conv2d(x, G)
 * where each conv_transpose2d takes the output padding (per axis) that gives back the conv2d input's size.
 *
 * Layout: a chunk of nb images is unfolded into one column matrix (K, nb P) (see im2col.h), so each chunk
 * is a single large GEMM; the (N, C, P) <-> (C, N P) reorderings around it are cheap copies.  Chunks bound
 * the arena scratch; their size depends on the shapes only, so results are the same for any thread count
 * (given BLAS's own determinism for a fixed thread count).  GEMMs run outside OpenMP regions.
 */
#include "im2col.h"
#include "op.h"

#include <stdio.h>
#include <string.h>

/* Column-matrix entries per chunk, at most (unless a single image needs more). */
#define COL_MAX ((int64_t)1 << 20)

/* Images per chunk for a column matrix of K rows and P columns per image (>= 1). */
static int64_t chunk_images(int64_t N, int64_t K, int64_t P) {
    int64_t per = K * P > 0 ? K * P : 1, nb = COL_MAX / per;
    if (nb > N) nb = N;
    return nb < 1 ? 1 : nb;
}

/* Scratch of n reals from the arena (n may be 0). */
static nis_real *scratch(nis_ctx *ctx, int64_t n) {
    return nis_ctx_alloc(ctx, (size_t)(n > 0 ? n : 1) * sizeof(nis_real));
}

/* Check stride and padding (EINVAL naming the op otherwise). */
static bool check_stride_pad(nis_ctx *ctx, const char *op, int stride, int pad) {
    if (stride >= 1 && pad >= 0) return true;
    nis_ctx_fail(ctx, NIS_EINVAL, "%s: stride %d must be >= 1 and pad %d >= 0", op, stride, pad);
    return false;
}

/* Fill g for images x (N, C, H, W), Co output channels and a kh x kw kernel; fails (ESHAPE, naming op and
 * the shapes of x and k) when a size is empty or the kernel is larger than the padded image. */
static bool make_geom(nis_ctx *ctx, const char *op, nis__conv_geom *g, const nis_tensor *x, int64_t Co,
                      int64_t kh, int64_t kw, int stride, int pad, const nis_tensor *k) {
    *g = (nis__conv_geom){.C = x->shape[1], .H = x->shape[2], .W = x->shape[3], .kh = kh, .kw = kw,
                          .stride = stride, .pad = pad};
    if (g->C < 1 || g->H < 1 || g->W < 1 || Co < 1 || kh < 1 || kw < 1) {
        nis__shape_error(ctx, op, "empty channel, image or kernel size", x, k);
        return false;
    }
    if (kh > g->H + 2 * (int64_t)pad || kw > g->W + 2 * (int64_t)pad) {
        char why[96];
        snprintf(why, sizeof why, "kernel %lldx%lld larger than the input padded by %d", (long long)kh,
                 (long long)kw, pad);
        nis__shape_error(ctx, op, why, x, k);
        return false;
    }
    g->Ho = (g->H + 2 * pad - kh) / stride + 1;
    g->Wo = (g->W + 2 * pad - kw) / stride + 1;
    return true;
}

/* The output padding with which conv_transpose2d maps conv2d's output size back to the input size n (along
 * one axis, kernel size k). */
static int out_pad(int64_t n, int64_t k, int stride, int pad) {
    return (int)((n + 2 * (int64_t)pad - k) % stride);
}

/* db = sum of g (N, C, H, W) over N, H and W -> (C,). */
static nis_tensor *bias_grad(nis_ctx *ctx, nis_tensor *g) {
    int64_t s[3] = {g->shape[0], g->shape[1], g->shape[2] * g->shape[3]};
    return nis_sum_axis(ctx, nis_sum_axis(ctx, nis_reshape(ctx, g, 3, s), 2, false), 0, false);
}

static nis_tensor *conv_transpose(nis_ctx *ctx, nis_tensor *x, nis_tensor *w, nis_tensor *b, int stride,
                                  int pad, int oph, int opw);
static nis_tensor *conv2d_wgrad(nis_ctx *ctx, nis_tensor *x, nis_tensor *g, int kh, int kw, int stride, int pad,
                                const nis_real *cols);

/* ---- conv2d ------------------------------------------------------------------------------------------- */

static void conv2d_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0], *w = node->src[1];
    int stride = (int)node->p.i[0], pad = (int)node->p.i[1];
    const int64_t kh = w->shape[2], kw = w->shape[3];
    if (nis__needs(node, 0))
        gs[0] = conv_transpose(ctx, g, w, NULL, stride, pad, out_pad(x->shape[2], kh, stride, pad),
                               out_pad(x->shape[3], kw, stride, pad));
    if (nis__needs(node, 1)) gs[1] = conv2d_wgrad(ctx, x, g, (int)kh, (int)kw, stride, pad, node->aux);
    if (nis__needs(node, 2)) gs[2] = bias_grad(ctx, g);
}
static const nis_op_info op_conv2d = {"conv2d", conv2d_backward};

/* y (N, Co, Ho, Wo) = conv of x (N, C, H, W) with w (Co, C kh kw) (+ bias (Co,) or NULL), per chunk:
 * col = im2col(x), tmp (Co, nb P) = w col, y = swap(tmp) + bias.  col: K nbmax P, tmp: Co nbmax P. */
static void conv2d_run(const nis__conv_geom *g, int64_t N, int64_t Co, const nis_real *x, const nis_real *w,
                       const nis_real *bias, int64_t nbmax, nis_real *col, nis_real *tmp, nis_real *y, bool keep) {
    const int64_t K = g->C * g->kh * g->kw, P = g->Ho * g->Wo;
    for (int64_t n0 = 0; n0 < N; n0 += nbmax) {
        int64_t nb = N - n0 < nbmax ? N - n0 : nbmax;
        if (keep) col += n0 ? K * nbmax * P : 0;   /* keep: every chunk's columns, chunk after chunk */
        nis__im2col(g, x + n0 * g->C * g->H * g->W, nb, col, nb * P);
        nis__gemm(false, false, Co, nb * P, K, 1, w, K, col, nb * P, 0, tmp, nb * P);
        nis__swap01(tmp, Co, nb, P, bias, y + n0 * Co * P);
    }
}

/* x: (N, Cin, H, W), w: (Cout, Cin, kh, kw), b: (Cout,) or NULL -> new (N, Cout, Ho, Wo) in the arena. */
nis_tensor *nis_conv2d(nis_ctx *ctx, nis_tensor *x, nis_tensor *w, nis_tensor *b, int stride, int pad) {
    if (nis__bail2(ctx, x, w)) return NULL;
    if (x->ndim != 4 || w->ndim != 4)
        return nis__shape_error(ctx, "conv2d", "need x (N, Cin, H, W) and w (Cout, Cin, kh, kw)", x, w);
    if (x->shape[1] != w->shape[1]) return nis__shape_error(ctx, "conv2d", "channels of x and w differ", x, w);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return nis__shape_error(ctx, "conv2d", "bias must be (Cout,)", w, b);
    nis__conv_geom g;
    if (!check_stride_pad(ctx, "conv2d", stride, pad) ||
        !make_geom(ctx, "conv2d", &g, x, w->shape[0], w->shape[2], w->shape[3], stride, pad, w))
        return NULL;
    const int64_t N = x->shape[0], Co = w->shape[0], K = g.C * g.kh * g.kw, P = g.Ho * g.Wo;
    const int64_t nbmax = chunk_images(N, K, P);
    nis_tensor *y = nis__result(ctx, &op_conv2d, 4, (int64_t[]){N, Co, g.Ho, g.Wo}, x, w, b);
    if (!y) return NULL;
    /* When w's gradient will be wanted, keep the column matrices of all images for conv2d_wgrad (it would
     * unfold x again otherwise): K N P reals of arena until the next reset. */
    bool keep = y->op != NULL && w->requires_grad;
    nis_real *col = scratch(ctx, K * (keep ? N : nbmax) * P), *tmp = scratch(ctx, Co * nbmax * P);
    if (!col || !tmp) return NULL;
    y->p.i[0] = stride;
    y->p.i[1] = pad;
    conv2d_run(&g, N, Co, x->data, w->data, b ? b->data : NULL, nbmax, col, tmp, y->data, keep);
    y->aux = keep ? col : NULL;
    return y;
}

/* ---- conv_transpose2d ------------------------------------------------------------------------------- */

static void conv_transpose_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0], *w = node->src[1];
    int stride = (int)node->p.i[0], pad = (int)node->p.i[1];
    if (nis__needs(node, 0)) gs[0] = nis_conv2d(ctx, g, w, NULL, stride, pad);
    if (nis__needs(node, 1))
        gs[1] = nis_conv2d_wgrad(ctx, g, x, (int)w->shape[2], (int)w->shape[3], stride, pad);
    if (nis__needs(node, 2)) gs[2] = bias_grad(ctx, g);
}
static const nis_op_info op_conv_transpose2d = {"conv_transpose2d", conv_transpose_backward};

/* y (N, Co, Ho, Wo) = the adjoint conv of x (N, Ci, H, W) with w (Ci, Co kh kw) (+ bias), per chunk:
 * xt (Ci, nb P) = swap(x), col (K, nb P) = w^T xt, y = col2im(col) + bias.  g is the geometry of the conv
 * from y's size to x's (g.C = Co, g.Ho = H, g.Wo = W).  xt: Ci nbmax P, col: K nbmax P. */
static void conv_transpose_run(const nis__conv_geom *g, int64_t N, int64_t Ci, const nis_real *x,
                               const nis_real *w, const nis_real *bias, int64_t nbmax, nis_real *xt,
                               nis_real *col, nis_real *y) {
    const int64_t K = g->C * g->kh * g->kw, P = g->Ho * g->Wo, out = g->C * g->H * g->W;
    for (int64_t n0 = 0; n0 < N; n0 += nbmax) {
        int64_t nb = N - n0 < nbmax ? N - n0 : nbmax;
        nis__swap01(x + n0 * Ci * P, nb, Ci, P, NULL, xt);
        nis__gemm(true, false, K, nb * P, Ci, 1, w, K, xt, nb * P, 0, col, nb * P);
        nis__col2im(g, col, nb, nb * P, bias, y + n0 * out);
    }
}

/* conv_transpose2d with an output padding per axis (the public op uses the same for both; gradients of
 * conv2d / conv2d_wgrad need them separately).  Output size (H - 1) stride - 2 pad + kh + oph, likewise. */
static nis_tensor *conv_transpose(nis_ctx *ctx, nis_tensor *x, nis_tensor *w, nis_tensor *b, int stride,
                                  int pad, int oph, int opw) {
    static const char *op = "conv_transpose2d";
    if (nis__bail2(ctx, x, w)) return NULL;
    if (x->ndim != 4 || w->ndim != 4)
        return nis__shape_error(ctx, op, "need x (N, Cin, H, W) and w (Cin, Cout, kh, kw)", x, w);
    if (x->shape[1] != w->shape[0]) return nis__shape_error(ctx, op, "channels of x and w differ", x, w);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[1]))
        return nis__shape_error(ctx, op, "bias must be (Cout,)", w, b);
    if (!check_stride_pad(ctx, op, stride, pad)) return NULL;
    if (oph < 0 || opw < 0 || oph >= stride || opw >= stride) {
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: output padding %d, %d must be in [0, stride %d)", op, oph, opw,
                     stride);
        return NULL;
    }
    const int64_t N = x->shape[0], Ci = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t Co = w->shape[1], kh = w->shape[2], kw = w->shape[3];
    if (Ci < 1 || H < 1 || W < 1 || Co < 1 || kh < 1 || kw < 1)
        return nis__shape_error(ctx, op, "empty channel, image or kernel size", x, w);
    const int64_t Ho = (H - 1) * stride - 2 * (int64_t)pad + kh + oph;
    const int64_t Wo = (W - 1) * stride - 2 * (int64_t)pad + kw + opw;
    if (Ho < 1 || Wo < 1) return nis__shape_error(ctx, op, "padding leaves an empty output", x, w);
    /* the conv2d that this op is the adjoint of: (Co, Ho, Wo) -> (H, W) (Ho + 2 pad >= kh holds) */
    nis__conv_geom g = {.C = Co, .H = Ho, .W = Wo, .kh = kh, .kw = kw, .stride = stride, .pad = pad,
                        .Ho = H, .Wo = W};
    const int64_t K = Co * kh * kw, P = H * W, nbmax = chunk_images(N, K, P);
    nis_real *xt = scratch(ctx, Ci * nbmax * P), *col = scratch(ctx, K * nbmax * P);
    if (!xt || !col) return NULL;
    nis_tensor *y = nis__result(ctx, &op_conv_transpose2d, 4, (int64_t[]){N, Co, Ho, Wo}, x, w, b);
    if (!y) return NULL;
    y->p.i[0] = stride;
    y->p.i[1] = pad;
    y->p.i[2] = oph;
    y->p.i[3] = opw;
    conv_transpose_run(&g, N, Ci, x->data, w->data, b ? b->data : NULL, nbmax, xt, col, y->data);
    return y;
}

/* x: (N, Cin, H, W), w: (Cin, Cout, kh, kw), b: (Cout,) or NULL, 0 <= out_pad < stride
 * -> new (N, Cout, (H - 1) stride - 2 pad + kh + out_pad, likewise for W) in the arena. */
nis_tensor *nis_conv_transpose2d(nis_ctx *ctx, nis_tensor *x, nis_tensor *w, nis_tensor *b, int stride,
                                 int pad, int out_pad) {
    return conv_transpose(ctx, x, w, b, stride, pad, out_pad, out_pad);
}

/* ---- conv2d_wgrad ----------------------------------------------------------------------------------- */

static void wgrad_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *G, nis_tensor **gs) {
    nis_tensor *x = node->src[0], *g = node->src[1];
    int stride = (int)node->p.i[0], pad = (int)node->p.i[1];
    const int64_t kh = node->p.i[2], kw = node->p.i[3];
    if (nis__needs(node, 0))
        gs[0] = conv_transpose(ctx, g, G, NULL, stride, pad, out_pad(x->shape[2], kh, stride, pad),
                               out_pad(x->shape[3], kw, stride, pad));
    if (nis__needs(node, 1)) gs[1] = nis_conv2d(ctx, x, G, NULL, stride, pad);
}
static const nis_op_info op_conv2d_wgrad = {"conv2d_wgrad", wgrad_backward};

/* dw (Co, K) = sum over chunks of gt (Co, nb P) col^T, col = im2col(x chunk), gt = swap(g chunk), added
 * in chunk order.  col: K nbmax P, gt: Co nbmax P. */
static void wgrad_run(const nis__conv_geom *geo, int64_t N, int64_t Co, const nis_real *x, const nis_real *g,
                      int64_t nbmax, nis_real *col, nis_real *gt, nis_real *dw, const nis_real *cols) {
    const int64_t K = geo->C * geo->kh * geo->kw, P = geo->Ho * geo->Wo;
    if (N == 0) memset(dw, 0, (size_t)(Co * K) * sizeof(nis_real));
    for (int64_t n0 = 0; n0 < N; n0 += nbmax) {
        int64_t nb = N - n0 < nbmax ? N - n0 : nbmax;
        const nis_real *c = cols ? cols + n0 * K * P : col;   /* the forward's columns, same chunking */
        if (!cols) nis__im2col(geo, x + n0 * geo->C * geo->H * geo->W, nb, col, nb * P);
        nis__swap01(g + n0 * Co * P, nb, Co, P, NULL, gt);
        nis__gemm(false, true, Co, K, nb * P, 1, gt, nb * P, c, nb * P, n0 ? 1 : 0, dw, K);
    }
}

/* x: (N, Cin, H, W), g: (N, Cout, Ho, Wo) with Ho, Wo conv2d's output size -> new (Cout, Cin, kh, kw). */
nis_tensor *nis_conv2d_wgrad(nis_ctx *ctx, nis_tensor *x, nis_tensor *g, int kh, int kw, int stride, int pad) {
    return conv2d_wgrad(ctx, x, g, kh, kw, stride, pad, NULL);
}

/* nis_conv2d_wgrad, with x's column matrices already made by conv2d's forward (cols, or NULL). */
static nis_tensor *conv2d_wgrad(nis_ctx *ctx, nis_tensor *x, nis_tensor *g, int kh, int kw, int stride, int pad,
                                const nis_real *cols) {
    static const char *op = "conv2d_wgrad";
    if (nis__bail2(ctx, x, g)) return NULL;
    if (x->ndim != 4 || g->ndim != 4)
        return nis__shape_error(ctx, op, "need x (N, Cin, H, W) and g (N, Cout, Ho, Wo)", x, g);
    nis__conv_geom geo;
    if (!check_stride_pad(ctx, op, stride, pad) ||
        !make_geom(ctx, op, &geo, x, g->shape[1], kh, kw, stride, pad, g))
        return NULL;
    if (g->shape[0] != x->shape[0] || g->shape[2] != geo.Ho || g->shape[3] != geo.Wo) {
        char why[96];
        snprintf(why, sizeof why, "g must be conv2d's output (N, Cout, %lld, %lld) for x",
                 (long long)geo.Ho, (long long)geo.Wo);
        return nis__shape_error(ctx, op, why, x, g);
    }
    const int64_t N = x->shape[0], Co = g->shape[1], K = geo.C * kh * kw, P = geo.Ho * geo.Wo;
    const int64_t nbmax = chunk_images(N, K, P);
    nis_real *col = cols ? NULL : scratch(ctx, K * nbmax * P), *gt = scratch(ctx, Co * nbmax * P);
    if ((!cols && !col) || !gt) return NULL;
    nis_tensor *dw = nis__result(ctx, &op_conv2d_wgrad, 4, (int64_t[]){Co, geo.C, kh, kw}, x, g, NULL);
    if (!dw) return NULL;
    dw->p.i[0] = stride;
    dw->p.i[1] = pad;
    dw->p.i[2] = kh;
    dw->p.i[3] = kw;
    wgrad_run(&geo, N, Co, x->data, g->data, nbmax, col, gt, dw->data, cols);
    return dw;
}
