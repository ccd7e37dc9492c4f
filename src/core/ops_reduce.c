/* src/core/ops_reduce.c — reductions: sum and mean (all, or one axis), logsumexp over an axis.
 *
 * Determinism: every sum is taken in an order fixed by the shape alone (fixed-size blocks whose partial
 * sums are added in block order), never by the thread count, so results are bit-identical for any number
 * of threads.
 */
#include "op.h"

#include <string.h>

/* Elements per partial sum of the blocked reductions (a constant: the summation order must not depend on
 * the number of threads). */
#define SUM_BLOCK 4096
/* Rows per group when sum_axis splits a long reduced axis into partial sums, at least. */
#define SUM_ROWS_MIN 64
/* Columns per task of sum_axis's column-wise kernel. */
#define SUM_COLS 1024

/* View x as (outer, len, inner) around `axis`. */
static void split_axis(const nis_tensor *x, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= x->shape[i];
    *len = x->shape[axis];
}

/* x's shape with `axis` set to 1 (the keepdim shape of a reduction over it). */
static void keep_shape(const nis_tensor *x, int axis, int64_t *shape) {
    for (int i = 0; i < x->ndim; i++) shape[i] = i == axis ? 1 : x->shape[i];
}

/* Output shape of a reduction of x over `axis`: the axis removed, or kept as 1.  Returns its ndim. */
static int reduced_shape(const nis_tensor *x, int axis, bool keepdim, int64_t *shape) {
    int nd = 0;
    for (int i = 0; i < x->ndim; i++)
        if (i != axis) shape[nd++] = x->shape[i];
        else if (keepdim) shape[nd++] = 1;
    return nd;
}

/* A reduction of x over one axis: the axis (normalised), the output shape (nd dims) and x seen as
 * (outer, len, inner) around the axis. */
typedef struct {
    int axis, nd;
    int64_t shape[NIS_MAX_DIMS], outer, len, inner;
} reduce_plan;

/* Fill r for op's reduction of x over axis (negative from the end; kept as 1 with keepdim).  False when the
 * op should return NULL: x NULL or the context in error (see nis__bail), or the axis out of range (EINVAL). */
static bool plan_reduce(nis_ctx *ctx, const char *op, nis_tensor *x, int axis, bool keepdim, reduce_plan *r) {
    if (nis__bail(ctx, x)) return false;
    r->axis = nis__axis(ctx, op, x, axis);
    if (r->axis < 0) return false;
    r->nd = reduced_shape(x, r->axis, keepdim, r->shape);
    split_axis(x, r->axis, &r->outer, &r->len, &r->inner);
    return true;
}

/* Helpers inlined into each vector clone of their callers (NIS_VECTOR_CLONES), so they run its width. */
#define NIS_INLINE __attribute__((always_inline)) static inline

/* Sum of p[0..n) in a fixed order: eight interleaved accumulators (vectorisable without reassociating),
 * or a plain loop for short rows. */
NIS_INLINE nis_real row_sum(const nis_real *restrict p, int64_t n) {
    nis_real s = 0;
    if (n < 16) {
        for (int64_t i = 0; i < n; i++) s += p[i];
        return s;
    }
    nis_real acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += p[i + k];
    s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += p[i];
    return s;
}

/* Row sums of x (outer, len): y[o] = sum_l x[o, l].  Rows of 2 (2-D samples) get their own loop, as a
 * call per row would cost more than the sum. */
NIS_VECTOR_CLONES static void row_sums(nis_real *restrict y, const nis_real *restrict x, int64_t outer, int64_t len) {
    if (len == 2) {
        NIS_PAR_FOR(outer * 2 > NIS_PAR_MIN, o, outer, {
            y[o] = x[2 * o] + x[2 * o + 1];
        });
        return;
    }
    NIS_PAR_FOR(outer * len > NIS_PAR_MIN, o, outer, {
        y[o] = row_sum(x + o * len, len);
    });
}

/* Column sums of a narrow block: dst[c] = sum_l x[l * w + c] over `rows` rows, w in {2, 4, 8} (w divides 8):
 * eight lanes run over the flat block, lane k holding column k % w, so short rows cost no per-row work. */
NIS_INLINE void sum_narrow(nis_real *restrict dst, const nis_real *restrict x, int64_t rows, int w) {
    int64_t n = rows * w, i = 0;
    nis_real acc[8] = {0};
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k];
    for (int c = 0; c < w; c++) {
        nis_real s = 0;
        for (int k = c; k < 8; k += w) s += acc[k];
        dst[c] = s;
    }
    for (; i < n; i++) dst[i % w] += x[i];   /* i starts at a multiple of 8, hence of w */
}

/* dst[c] += src[c] for c < n, in runs of 8 (an inner loop of fixed length that -O2 vectorises). */
NIS_INLINE void add_row(nis_real *restrict dst, const nis_real *restrict src, int64_t n) {
    int64_t c = 0;
    for (; c + 8 <= n; c += 8)
        for (int k = 0; k < 8; k++) dst[c + k] += src[c + k];
    for (; c < n; c++) dst[c] += src[c];
}

/* Sum of x[0..n): blocks of SUM_BLOCK summed in parallel into `part` (nb entries, nb = ceil(n / SUM_BLOCK)),
 * then the partials added in order.  part may be NULL when nb <= 1. */
static nis_real blocked_sum(const nis_real *x, int64_t n, nis_real *part) {
    int64_t nb = (n + SUM_BLOCK - 1) / SUM_BLOCK;
    if (nb <= 1) return row_sum(x, n);
    NIS_PAR_FOR(n > NIS_PAR_MIN, b, nb, {
        int64_t i0 = b * SUM_BLOCK, m = n - i0 < SUM_BLOCK ? n - i0 : SUM_BLOCK;
        part[b] = row_sum(x + i0, m);
    });
    nis_real s = 0;
    for (int64_t b = 0; b < nb; b++) s += part[b];
    return s;
}

/* Scratch for blocked_sum of n values from the arena (NULL when not needed, or on ENOMEM: check status). */
static nis_real *blocked_scratch(nis_ctx *ctx, int64_t n) {
    int64_t nb = (n + SUM_BLOCK - 1) / SUM_BLOCK;
    return nb > 1 ? nis_ctx_alloc(ctx, (size_t)nb * sizeof(nis_real)) : NULL;
}

/* ---- sum of all elements -> scalar; backward: broadcast the scalar g back to x's shape ---- */
static void sum_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    gs[0] = nis_broadcast_to(ctx, g, x->ndim, x->shape);
}
static const nis_op_info op_sum = {"sum", sum_backward};

/* x: any shape -> scalar (ndim 0) holding the sum of its elements (0 for an empty x). */
nis_tensor *nis_sum(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    nis_real *part = blocked_scratch(ctx, x->n);
    if (nis_ctx_status(ctx) != NIS_OK) return NULL;
    nis_tensor *y = nis__result(ctx, &op_sum, 0, NULL, x, NULL, NULL);
    if (!y) return NULL;
    y->data[0] = blocked_sum(x->data, x->n, part);
    return y;
}

/* x: any shape -> scalar mean (NaN for an empty x).  Composed: sum(x) * (1 / n). */
nis_tensor *nis_mean(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    return nis_mul_scalar(ctx, nis_sum(ctx, x), 1.0 / (double)x->n);
}

/* ---- sum over one axis; backward: broadcast g (with the axis kept as 1) back to x's shape ---- */
static void sum_axis_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    int64_t kshape[NIS_MAX_DIMS];
    keep_shape(x, (int)node->p.i[0], kshape);
    gs[0] = nis_broadcast_to(ctx, nis_reshape(ctx, g, x->ndim, kshape), x->ndim, x->shape);
}
static const nis_op_info op_sum_axis = {"sum_axis", sum_axis_backward};

/* Rows per partial-sum group of sum_axis's column-wise kernel: the whole axis for small inputs, else enough
 * rows for a block of work (a function of the shape only, so the summation order is fixed). */
static int64_t sum_axis_rows(int64_t outer, int64_t len, int64_t inner) {
    if (outer * len * inner <= NIS_PAR_MIN) return len > 0 ? len : 1;
    int64_t r = (SUM_BLOCK + inner - 1) / inner;
    return r < SUM_ROWS_MIN ? SUM_ROWS_MIN : r;
}

/* Column-wise sum: x (outer, len, inner) -> y (outer, inner), y[o, c] = sum_l x[o, l, c].
 * Rows are taken in groups of R (G = ceil(len / R) groups); with G > 1 each group's sums go to
 * part (outer, G, inner) and are then added in group order.  Tasks are (o, group, column block). */
NIS_VECTOR_CLONES static void sum_cols_kernel(nis_real *restrict y, const nis_real *restrict x, nis_real *restrict part,
                            int64_t outer, int64_t len, int64_t inner, int64_t R) {
    int64_t G = len > R ? (len + R - 1) / R : 1, ncb = (inner + SUM_COLS - 1) / SUM_COLS;
    int64_t n = outer * len * inner;
    int64_t tasks = outer * G * ncb;
    bool narrow = inner == 2 || inner == 4 || inner == 8;
    NIS_PAR_FOR(n > NIS_PAR_MIN, t, tasks, {
        int64_t o = t / (G * ncb), gi = (t / ncb) % G, c0 = (t % ncb) * SUM_COLS;
        int64_t c1 = c0 + SUM_COLS < inner ? c0 + SUM_COLS : inner;
        int64_t l0 = gi * R, l1 = l0 + R < len ? l0 + R : len;
        nis_real *dst = (G == 1 ? y + o * inner : part + (o * G + gi) * inner) + c0;
        const nis_real *src = x + (o * len + l0) * inner + c0;
        if (narrow) {
            sum_narrow(dst, src, l1 - l0, (int)inner);
            continue;
        }
        memset(dst, 0, (size_t)(c1 - c0) * sizeof(nis_real));
        for (int64_t l = l0; l < l1; l++) add_row(dst, src + (l - l0) * inner, c1 - c0);
    });
    if (G == 1) return;
    NIS_PAR_FOR(n > NIS_PAR_MIN, t, outer * ncb, {
        int64_t o = t / ncb, c0 = (t % ncb) * SUM_COLS;
        int64_t c1 = c0 + SUM_COLS < inner ? c0 + SUM_COLS : inner;
        nis_real *py = y + o * inner + c0;
        memset(py, 0, (size_t)(c1 - c0) * sizeof(nis_real));
        for (int64_t gi = 0; gi < G; gi++) add_row(py, part + (o * G + gi) * inner + c0, c1 - c0);
    });
}

/* x: any shape (ndim >= 1), axis in [-ndim, ndim) -> x's shape without the axis (or with it as 1). */
nis_tensor *nis_sum_axis(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim) {
    reduce_plan r;
    if (!plan_reduce(ctx, "sum_axis", x, axis, keepdim, &r)) return NULL;
    const int64_t outer = r.outer, len = r.len, inner = r.inner;

    /* scratch first, so a failure leaves no half-made node */
    nis_real *part = NULL;
    int64_t R = 1;
    if (outer == 1 && inner == 1) {
        part = blocked_scratch(ctx, len);
    } else if (inner != 1) {
        R = sum_axis_rows(outer, len, inner);
        int64_t G = (len + R - 1) / R;
        if (G > 1) part = nis_ctx_alloc(ctx, (size_t)(outer * G * inner) * sizeof(nis_real));
    }
    if (nis_ctx_status(ctx) != NIS_OK) return NULL;
    nis_tensor *y = nis__result(ctx, &op_sum_axis, r.nd, r.shape, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = r.axis;

    if (inner == 1 && outer == 1) {
        y->data[0] = blocked_sum(x->data, len, part);
    } else if (inner == 1) {
        row_sums(y->data, x->data, outer, len);   /* last axis, e.g. (B, C) over axis 1 */
    } else {
        /* e.g. (B, C) over axis 0: rows added column-wise */
        sum_cols_kernel(y->data, x->data, part, outer, len, inner, R);
    }
    return y;
}

/* Mean over one axis (NaN where the axis is empty).  Composed: sum_axis(x) * (1 / len). */
nis_tensor *nis_mean_axis(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim) {
    reduce_plan r;
    if (!plan_reduce(ctx, "mean_axis", x, axis, keepdim, &r)) return NULL;
    return nis_mul_scalar(ctx, nis_sum_axis(ctx, x, r.axis, keepdim), 1.0 / (double)r.len);
}

/* ---- logsumexp over one axis: m + log(sum exp(x - m)), m the max;
 *      backward: g * exp(x - lse), with g and lse seen with the axis kept as 1 (broadcast back) ---- */
static void logsumexp_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0];
    int64_t kshape[NIS_MAX_DIMS];
    keep_shape(x, (int)node->p.i[0], kshape);
    nis_tensor *lse = nis_broadcast_to(ctx, nis_reshape(ctx, node, x->ndim, kshape), x->ndim, x->shape);
    nis_tensor *gb = nis_broadcast_to(ctx, nis_reshape(ctx, g, x->ndim, kshape), x->ndim, x->shape);
    gs[0] = nis_mul(ctx, gb, nis_exp(ctx, nis_sub(ctx, x, lse)));
}
static const nis_op_info op_logsumexp = {"logsumexp", logsumexp_backward};

/* m + log(s) for a max m and a sum s = sum exp(x - m): -inf for an all -inf (or empty) slice, +inf if m
 * is +inf (where x - m would make NaN). */
static inline nis_real lse_finish(nis_real m, nis_real s) {
    return isinf(m) ? m : m + log(s);
}

/* x (outer, len, inner) -> y (outer, inner) = log sum_l exp(x[o, l, c]); tmp: outer * inner scratch
 * (used when inner > 1). */
static void logsumexp_kernel(nis_real *restrict y, const nis_real *restrict x, nis_real *restrict tmp,
                             int64_t outer, int64_t len, int64_t inner) {
    int64_t n = outer * len * inner;
    if (inner == 1) {
        NIS_PAR_FOR(n > NIS_PAR_MIN, o, outer, {
            const nis_real *px = x + o * len;
            nis_real m = -INFINITY, s = 0;
            for (int64_t l = 0; l < len; l++) m = px[l] > m ? px[l] : m;
            if (!isinf(m))
                for (int64_t l = 0; l < len; l++) s += exp(px[l] - m);
            y[o] = lse_finish(m, s);
        });
        return;
    }
    NIS_PAR_FOR(n > NIS_PAR_MIN, o, outer, {
        const nis_real *px = x + o * len * inner;
        nis_real *m = y + o * inner, *s = tmp + o * inner;
        for (int64_t c = 0; c < inner; c++) m[c] = -INFINITY, s[c] = 0;
        for (int64_t l = 0; l < len; l++)
            for (int64_t c = 0; c < inner; c++) m[c] = px[l * inner + c] > m[c] ? px[l * inner + c] : m[c];
        for (int64_t l = 0; l < len; l++)
            for (int64_t c = 0; c < inner; c++)
                if (!isinf(m[c])) s[c] += exp(px[l * inner + c] - m[c]);
        for (int64_t c = 0; c < inner; c++) m[c] = lse_finish(m[c], s[c]);
    });
}

/* x: any shape (ndim >= 1) -> x's shape without `axis` (or with it as 1); stable for large |x|. */
nis_tensor *nis_logsumexp(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim) {
    reduce_plan r;
    if (!plan_reduce(ctx, "logsumexp", x, axis, keepdim, &r)) return NULL;
    nis_real *tmp = NULL;
    if (r.inner > 1 && !(tmp = nis_ctx_alloc(ctx, (size_t)(r.outer * r.inner) * sizeof(nis_real)))) return NULL;
    nis_tensor *y = nis__result(ctx, &op_logsumexp, r.nd, r.shape, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = r.axis;
    logsumexp_kernel(y->data, x->data, tmp, r.outer, r.len, r.inner);
    return y;
}
