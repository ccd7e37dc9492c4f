/* src/core/ops_pool.c — k x k sum and average pooling with stride k, and nearest-neighbour upsampling by k.
 * sum_pool2d and upsample_nearest2d are each other's adjoint, so their gradients are each other:
 *   sum_pool2d: dx = upsample(g, k);  avg_pool2d: dx = upsample(g, k) / k^2;  upsample: dx = sum_pool2d(g, k).
 */
#include "op.h"

#include <stdio.h>

/* Check x is (N, C, H, W) and k >= 1, and with `divisible` that k divides H and W (fails naming op). */
static bool pool_check(nis_ctx *ctx, const char *op, const nis_tensor *x, int k, bool divisible) {
    if (x->ndim != 4) {
        nis__shape_error(ctx, op, "need x (N, C, H, W)", x, NULL);
        return false;
    }
    if (k < 1) {
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: factor k = %d must be >= 1", op, k);
        return false;
    }
    if (divisible && (x->shape[2] % k || x->shape[3] % k)) {
        char why[64];
        snprintf(why, sizeof why, "H and W must be divisible by k = %d", k);
        nis__shape_error(ctx, op, why, x, NULL);
        return false;
    }
    return true;
}

/* x (NC, H, W) -> y (NC, H/k, W/k): each k x k block summed in row order, then divided by denom. */
static void pool_kernel(const nis_real *x, int64_t NC, int64_t H, int64_t W, int64_t k, nis_real denom,
                        nis_real *y) {
    const int64_t Ho = H / k, Wo = W / k, rows = NC * Ho;
    NIS_PAR_FOR(NC * H * W > NIS_PAR_MIN, r, rows, {
        const nis_real *restrict xp = x + r * k * W;   /* first input row of output row r */
        nis_real *restrict yp = y + r * Wo;
        for (int64_t ox = 0; ox < Wo; ox++) {
            nis_real s = 0;
            for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < k; j++) s += xp[i * W + ox * k + j];
            yp[ox] = s / denom;
        }
    });
}

static nis_tensor *pool(nis_ctx *ctx, const nis_op_info *op, nis_tensor *x, int k, nis_real denom) {
    if (nis__bail(ctx, x) || !pool_check(ctx, op->name, x, k, true)) return NULL;
    const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    nis_tensor *y = nis__result(ctx, op, 4, (int64_t[]){N, C, H / k, W / k}, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = k;
    pool_kernel(x->data, N * C, H, W, k, denom, y->data);
    return y;
}

static void sum_pool_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_upsample_nearest2d(ctx, g, (int)node->p.i[0]);
}
static const nis_op_info op_sum_pool2d = {"sum_pool2d", sum_pool_backward};

static void avg_pool_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    double k = (double)node->p.i[0];
    gs[0] = nis_mul_scalar(ctx, nis_upsample_nearest2d(ctx, g, (int)node->p.i[0]), 1.0 / (k * k));
}
static const nis_op_info op_avg_pool2d = {"avg_pool2d", avg_pool_backward};

/* x: (N, C, H, W), k divides H and W -> new (N, C, H/k, W/k) of block sums. */
nis_tensor *nis_sum_pool2d(nis_ctx *ctx, nis_tensor *x, int k) {
    return pool(ctx, &op_sum_pool2d, x, k, 1);
}

/* x: (N, C, H, W), k divides H and W -> new (N, C, H/k, W/k) of block means. */
nis_tensor *nis_avg_pool2d(nis_ctx *ctx, nis_tensor *x, int k) {
    return pool(ctx, &op_avg_pool2d, x, k, (nis_real)k * (nis_real)k);
}

/* ---- upsample_nearest2d ---- */

static void upsample_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_sum_pool2d(ctx, g, (int)node->p.i[0]);
}
static const nis_op_info op_upsample_nearest2d = {"upsample_nearest2d", upsample_backward};

/* x (NC, H, W) -> y (NC, kH, kW), y[c, y, x] = x[c, y / k, x / k].  One task per input row. */
static void upsample_kernel(const nis_real *x, int64_t NC, int64_t H, int64_t W, int64_t k, nis_real *y) {
    const int64_t rows = NC * H, Wk = W * k;
    NIS_PAR_FOR(rows * W * k * k > NIS_PAR_MIN, r, rows, {
        const nis_real *restrict xp = x + r * W;
        nis_real *restrict y0 = y + r * k * Wk;   /* first of the k output rows of input row r */
        for (int64_t ix = 0; ix < W; ix++)
            for (int64_t j = 0; j < k; j++) y0[ix * k + j] = xp[ix];
        for (int64_t i = 1; i < k; i++)
            for (int64_t c = 0; c < Wk; c++) y0[i * Wk + c] = y0[c];
    });
}

/* x: (N, C, H, W), k >= 1 -> new (N, C, kH, kW), each value repeated over a k x k block. */
nis_tensor *nis_upsample_nearest2d(nis_ctx *ctx, nis_tensor *x, int k) {
    if (nis__bail(ctx, x) || !pool_check(ctx, "upsample_nearest2d", x, k, false)) return NULL;
    const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    nis_tensor *y = nis__result(ctx, &op_upsample_nearest2d, 4, (int64_t[]){N, C, H * k, W * k}, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = k;
    upsample_kernel(x->data, N * C, H, W, k, y->data);
    return y;
}
