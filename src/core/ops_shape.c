/* src/core/ops_shape.c — reshape, transpose, slice, pad_axis, concat. */
#include "op.h"

#include <stdio.h>
#include <string.h>

/* ---- reshape: same values, new shape; backward reshapes back ---- */
static void reshape_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    gs[0] = nis_reshape(ctx, g, x->ndim, x->shape);
}
static const nis_op_info op_reshape = {"reshape", reshape_backward};

nis_tensor *nis_reshape(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape) {
    if (nis__bail(ctx, x)) return NULL;
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

/* ---- transpose (2-D): y[j, i] = x[i, j]; backward transposes back ---- */
static void transpose_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_transpose(ctx, g);
}
static const nis_op_info op_transpose = {"transpose", transpose_backward};

/* Tile edge of the cache-blocked transpose: a TB x TB tile of source and destination stays in L1. */
#define TB 32

/* x (R, C) -> y (C, R), copied tile by tile. */
static void transpose_kernel(nis_real *restrict y, const nis_real *restrict x, int64_t R, int64_t C) {
    int64_t nbr = (R + TB - 1) / TB;
    NIS_PAR_FOR(R * C > NIS_PAR_MIN, bi, nbr, {
        int64_t i0 = bi * TB, i1 = i0 + TB < R ? i0 + TB : R;
        for (int64_t j0 = 0; j0 < C; j0 += TB) {
            int64_t j1 = j0 + TB < C ? j0 + TB : C;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++) y[j * R + i] = x[i * C + j];
        }
    });
}

/* x: (R, C) -> new (C, R) tensor (a copy). */
nis_tensor *nis_transpose(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    if (x->ndim != 2) return nis__shape_error(ctx, "transpose", "needs a 2-D tensor", x, NULL);
    int64_t R = x->shape[0], C = x->shape[1];
    nis_tensor *y = nis__result(ctx, &op_transpose, 2, (int64_t[]){C, R}, x, NULL, NULL);
    if (y) transpose_kernel(y->data, x->data, R, C);
    return y;
}

/* ---- slice / pad_axis along one axis (each other's adjoint) ---- */

/* View a shape as (outer, len, inner) around `axis`. */
static void split_axis(const nis_tensor *x, int axis, int64_t *outer, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= x->shape[i];
}

/* Band copy along the middle axis, x viewed as (outer, lx, inner) and y as (outer, ly, inner):
 *   y[o, off + l, :] = x[o, src_off + l, :] for l < cnt. */
static void copy_band(nis_real *y, int64_t ly, int64_t off, const nis_real *x, int64_t lx, int64_t src_off,
                      int64_t cnt, int64_t outer, int64_t inner) {
    size_t bytes = (size_t)(cnt * inner) * sizeof(nis_real);
    if (!bytes) return;
    NIS_PAR_FOR(outer * cnt * inner > NIS_PAR_MIN, o, outer, {
        memcpy(y + (o * ly + off) * inner, x + (o * lx + src_off) * inner, bytes);
    });
}

static void slice_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    int a = (int)node->p.i[0];
    gs[0] = nis_pad_axis(ctx, g, a, node->p.i[1], x->shape[a]);
}
static const nis_op_info op_slice = {"slice", slice_backward};

static void pad_axis_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    int a = (int)node->p.i[0];
    gs[0] = nis_slice(ctx, g, a, node->p.i[1], x->shape[a]);
}
static const nis_op_info op_pad_axis = {"pad_axis", pad_axis_backward};

/* The body of nis_slice (pad false, size = len) and nis_pad_axis (pad true, size = total), below: check
 * the range, make x's shape with the axis resized to size, copy the band (zeros around it for pad). */
static nis_tensor *band_op(nis_ctx *ctx, nis_tensor *x, int axis, int64_t start, int64_t size, bool pad) {
    if (nis__bail(ctx, x)) return NULL;
    int a = nis__axis(ctx, pad ? "pad_axis" : "slice", x, axis);
    if (a < 0) return NULL;
    int64_t L = x->shape[a];
    int64_t band = pad ? L : size;       /* the length of the band copied */
    int64_t outside = pad ? size : L;    /* the length of the axis the band lies in */
    if (start < 0 || size < 0 || start > outside - band) {
        char s[80];
        if (pad)
            nis_ctx_fail(ctx, NIS_EINVAL,
                         "pad_axis: start %lld + size %lld exceeds total %lld on axis %d of shape %s",
                         (long long)start, (long long)L, (long long)size, axis, nis_shape_str(x, s, sizeof s));
        else
            nis_ctx_fail(ctx, NIS_EINVAL,
                         "slice: start %lld, len %lld out of range for axis %d (size %lld) of shape %s",
                         (long long)start, (long long)size, axis, (long long)L, nis_shape_str(x, s, sizeof s));
        return NULL;
    }
    int64_t shape[NIS_MAX_DIMS], outer, inner;
    for (int i = 0; i < x->ndim; i++) shape[i] = i == a ? size : x->shape[i];
    nis_tensor *y = nis__result(ctx, pad ? &op_pad_axis : &op_slice, x->ndim, shape, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = a;
    y->p.i[1] = start;
    if (pad) memset(y->data, 0, (size_t)y->n * sizeof(nis_real));
    split_axis(x, a, &outer, &inner);
    copy_band(y->data, size, pad ? start : 0, x->data, L, pad ? 0 : start, band, outer, inner);
    return y;
}

/* x: any shape (ndim >= 1); 0 <= start, 0 <= len, start + len <= x.shape[axis] -> x's shape with the axis
 * of size len holding x's elements [start, start + len) along it (a copy). */
nis_tensor *nis_slice(nis_ctx *ctx, nis_tensor *x, int axis, int64_t start, int64_t len) {
    return band_op(ctx, x, axis, start, len, false);
}

/* x: any shape (ndim >= 1); 0 <= start, start + x.shape[axis] <= total -> x's shape with the axis of size
 * total: zeros, with x at [start, start + x.shape[axis]) along the axis. */
nis_tensor *nis_pad_axis(nis_ctx *ctx, nis_tensor *x, int axis, int64_t start, int64_t total) {
    return band_op(ctx, x, axis, start, total, true);
}

/* ---- concat: one node of up to NIS_MAX_SRC inputs (the engine follows src[0..2]); more inputs make a
 *      tree of such nodes.  Backward: each input's band of g, sliced out. ---- */
static void concat_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    int a = (int)node->p.i[0];
    int64_t off = 0;
    for (int k = 0; k < NIS_MAX_SRC && node->src[k]; k++) {
        int64_t L = node->src[k]->shape[a];
        if (nis__needs(node, k)) gs[k] = nis_slice(ctx, g, a, off, L);
        off += L;
    }
}
static const nis_op_info op_concat = {"concat", concat_backward};

/* One concat node of n <= NIS_MAX_SRC inputs already checked to fit along axis a. */
static nis_tensor *concat_node(nis_ctx *ctx, int n, nis_tensor *const *xs, int a) {
    int64_t shape[NIS_MAX_DIMS], total = 0, outer, inner;
    for (int k = 0; k < n; k++) total += xs[k]->shape[a];
    for (int i = 0; i < xs[0]->ndim; i++) shape[i] = i == a ? total : xs[0]->shape[i];
    nis_tensor *y = nis__result(ctx, &op_concat, xs[0]->ndim, shape, xs[0], n > 1 ? xs[1] : NULL,
                                n > 2 ? xs[2] : NULL);
    if (!y) return NULL;
    y->p.i[0] = a;
    split_axis(xs[0], a, &outer, &inner);
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        int64_t L = xs[k]->shape[a];
        copy_band(y->data, total, off, xs[k]->data, L, 0, L, outer, inner);
        off += L;
    }
    return y;
}

/* n inputs (checked) -> a tree of concat nodes: up to NIS_MAX_SRC groups of about n / NIS_MAX_SRC inputs,
 * each concatenated recursively, then joined by one node. */
static nis_tensor *concat_tree(nis_ctx *ctx, int n, nis_tensor *const *xs, int a) {
    if (n <= NIS_MAX_SRC) return concat_node(ctx, n, xs, a);
    nis_tensor *parts[NIS_MAX_SRC];
    int start = 0;
    for (int k = 0; k < NIS_MAX_SRC; k++) {
        int m = (n - start) / (NIS_MAX_SRC - k);
        parts[k] = m == 1 ? xs[start] : concat_tree(ctx, m, xs + start, a);
        if (!parts[k]) return NULL;
        start += m;
    }
    return concat_node(ctx, NIS_MAX_SRC, parts, a);
}

/* xs: n >= 1 tensors with equal ndim (>= 1) and equal shapes outside `axis` -> their concatenation along
 * the axis (a copy; the axis has the sum of their lengths). */
nis_tensor *nis_concat(nis_ctx *ctx, int n, nis_tensor *const *xs, int axis) {
    if (!ctx || nis_ctx_status(ctx) != NIS_OK) return NULL;
    if (n < 1 || !xs) {
        nis_ctx_fail(ctx, NIS_EINVAL, "concat: needs at least one tensor (n = %d)", n);
        return NULL;
    }
    for (int k = 0; k < n; k++)
        if (!xs[k]) return NULL;
    int a = nis__axis(ctx, "concat", xs[0], axis);
    if (a < 0) return NULL;
    for (int k = 1; k < n; k++) {
        bool ok = xs[k]->ndim == xs[0]->ndim;
        for (int i = 0; ok && i < xs[0]->ndim; i++) ok = i == a || xs[k]->shape[i] == xs[0]->shape[i];
        if (!ok) {
            char why[96];
            snprintf(why, sizeof why, "tensor %d does not match tensor 0 outside axis %d", k, a);
            return nis__shape_error(ctx, "concat", why, xs[0], xs[k]);
        }
    }
    return concat_tree(ctx, n, xs, a);
}
