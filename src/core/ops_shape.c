/* src/core/ops_shape.c — reshape, transpose, slice, pad_axis, concat. */
#include "op.h"

#include <string.h>

/* ---- reshape: same values, new shape; backward reshapes back ---- */
static void reshape_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    gs[0] = nis_reshape(ctx, g, x->ndim, x->shape);
}
static const nis_op_info op_reshape = {"reshape", reshape_backward};

nis_tensor *nis_reshape(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape) {
    if (nis__bail(ctx, x, NULL, NULL)) return NULL;
    if (ndim < 0 || ndim > NIS_MAX_DIMS) {
        nis_ctx_fail(ctx, NIS_ESHAPE, "reshape: %d dimensions (at most %d)", ndim, NIS_MAX_DIMS);
        return NULL;
    }
    int64_t s[NIS_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        s[i] = shape[i];
        if (s[i] == -1 && infer < 0) infer = i;
        else if (s[i] < 0) {
            nis_ctx_fail(ctx, NIS_ESHAPE, "reshape: bad size %lld", (long long)s[i]);
            return NULL;
        } else known *= s[i];
    }
    if (infer >= 0) s[infer] = known ? x->n / known : 0;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= s[i];
    if (n != x->n) {
        char a[80];
        nis_ctx_fail(ctx, NIS_ESHAPE, "reshape: %lld elements of %s cannot take a shape of %lld elements",
                     (long long)x->n, nis_shape_str(x, a, sizeof a), (long long)n);
        return NULL;
    }
    /* a view: the result shares x's data (tensors are never modified in place) */
    nis_tensor *y = nis__result(ctx, &op_reshape, 0, NULL, x, NULL, NULL);
    if (!y) return NULL;
    y->ndim = ndim;
    for (int i = 0; i < NIS_MAX_DIMS; i++) y->shape[i] = i < ndim ? s[i] : 1;
    y->n = n;
    y->data = x->data;
    return y;
}
