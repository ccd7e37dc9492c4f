/* src/core/ops_reduce.c — reductions: sum and mean (all, or one axis), logsumexp over an axis. */
#include "op.h"

#include <string.h>

/* View x as (outer, len, inner) around `axis`. */
static void split_axis(const nis_tensor *x, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= x->shape[i];
    *len = x->shape[axis];
}

/* ---- sum over one axis; backward: broadcast g (with the axis kept as 1) back to x's shape ---- */
static void sum_axis_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    int64_t kshape[NIS_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) kshape[i] = i == node->p.i[0] ? 1 : x->shape[i];
    gs[0] = nis_broadcast_to(ctx, nis_reshape(ctx, g, x->ndim, kshape), x->ndim, x->shape);
}
static const nis_op_info op_sum_axis = {"sum_axis", sum_axis_backward};

nis_tensor *nis_sum_axis(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim) {
    if (nis__bail(ctx, x, NULL, NULL)) return NULL;
    int a = nis__axis(ctx, "sum_axis", x, axis);
    if (a < 0) return NULL;
    int64_t shape[NIS_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++)
        if (i != a) shape[nd++] = x->shape[i];
        else if (keepdim) shape[nd++] = 1;
    nis_tensor *y = nis__result(ctx, &op_sum_axis, nd, shape, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = a;
    int64_t outer, len, inner;
    split_axis(x, a, &outer, &len, &inner);
    memset(y->data, 0, (size_t)y->n * sizeof(nis_real));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t l = 0; l < len; l++) {
            const nis_real *px = x->data + (o * len + l) * inner;
            nis_real *py = y->data + o * inner;
            for (int64_t i = 0; i < inner; i++) py[i] += px[i];
        }
    return y;
}
