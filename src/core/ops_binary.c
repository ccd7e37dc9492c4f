/* src/core/ops_binary.c — broadcasting add, sub, mul, div; sum_to and broadcast_to (each other's adjoint). */
#include "op.h"

#include <string.h>

/* Shapes and strides padded on the left to 4 dims, for the general broadcasting loops. */
typedef struct { int64_t shape[4], sa[4], sb[4]; } bcast4;

static void bcast4_init(bcast4 *q, int nd, const int64_t *shape, const nis_tensor *a, const nis_tensor *b) {
    int64_t sa[4] = {0}, sb[4] = {0};
    nis__bcast_strides(a, nd, shape, sa);
    if (b) nis__bcast_strides(b, nd, shape, sb);
    for (int i = 0; i < 4; i++) {
        int j = i - (4 - nd);
        q->shape[i] = j >= 0 ? shape[j] : 1;
        q->sa[i] = j >= 0 ? sa[j] : 0;
        q->sb[i] = j >= 0 ? sb[j] : 0;
    }
}

enum { ADD, SUB, MUL, DIV };

static inline nis_real apply(int k, nis_real x, nis_real y) {
    switch (k) {
    case ADD: return x + y;
    case SUB: return x - y;
    case MUL: return x * y;
    default: return x / y;
    }
}

/* out[i] = a[i] (k) b[i] over the broadcast shape in q. */
NIS_VECTOR_CLONES static void binary_kernel(int k, nis_real *restrict out, const nis_real *a, const nis_real *b,
                                            int64_t n, bool same, const bcast4 *q) {
    if (same) {
        NIS_PAR_FOR(n > NIS_PAR_MIN, i, n, {
            out[i] = apply(k, a[i], b[i]);
        });
        return;
    }
    const int64_t *s = q->shape;
    int64_t rows = s[0] * s[1] * s[2];
    NIS_PAR_FOR(n > NIS_PAR_MIN, r, rows, {
        int64_t i0 = r / (s[1] * s[2]), i1 = (r / s[2]) % s[1], i2 = r % s[2];
        const nis_real *pa = a + i0 * q->sa[0] + i1 * q->sa[1] + i2 * q->sa[2];
        const nis_real *pb = b + i0 * q->sb[0] + i1 * q->sb[1] + i2 * q->sb[2];
        nis_real *po = out + r * s[3];
        int64_t ta = q->sa[3], tb = q->sb[3];
        for (int64_t j = 0; j < s[3]; j++) po[j] = apply(k, pa[j * ta], pb[j * tb]);
    });
}

static nis_tensor *binary(nis_ctx *ctx, const nis_op_info *op, int k, nis_tensor *a, nis_tensor *b) {
    if (nis__bail2(ctx, a, b)) return NULL;
    int nd;
    int64_t shape[NIS_MAX_DIMS];
    if (!nis__broadcast_shape(a, b, &nd, shape)) return nis__shape_error(ctx, op->name, "cannot broadcast", a, b);
    nis_tensor *out = nis__result(ctx, op, nd, shape, a, b, NULL);
    if (!out) return NULL;
    bool same = nis_same_shape(a, b);
    bcast4 q;
    if (!same) bcast4_init(&q, nd, shape, a, b);
    binary_kernel(k, out->data, a->data, b->data, out->n, same, &q);
    return out;
}

static nis_tensor *to_shape_of(nis_ctx *ctx, nis_tensor *g, const nis_tensor *x) {
    return nis_sum_to(ctx, g, x->ndim, x->shape);
}

static void add_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    if (nis__needs(node, 0)) gs[0] = to_shape_of(ctx, g, node->src[0]);
    if (nis__needs(node, 1)) gs[1] = to_shape_of(ctx, g, node->src[1]);
}
static void sub_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    if (nis__needs(node, 0)) gs[0] = to_shape_of(ctx, g, node->src[0]);
    if (nis__needs(node, 1)) gs[1] = nis_neg(ctx, to_shape_of(ctx, g, node->src[1]));
}
static void mul_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *a = node->src[0], *b = node->src[1];
    if (nis__needs(node, 0)) gs[0] = to_shape_of(ctx, nis_mul(ctx, g, b), a);
    if (nis__needs(node, 1)) gs[1] = to_shape_of(ctx, nis_mul(ctx, g, a), b);
}
static void div_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *a = node->src[0], *b = node->src[1];
    nis_tensor *ga = nis_div(ctx, g, b);   /* d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b */
    if (nis__needs(node, 0)) gs[0] = to_shape_of(ctx, ga, a);
    if (nis__needs(node, 1)) gs[1] = to_shape_of(ctx, nis_neg(ctx, nis_mul(ctx, ga, nis_div(ctx, a, b))), b);
}

static const nis_op_info op_add = {"add", add_backward};
static const nis_op_info op_sub = {"sub", sub_backward};
static const nis_op_info op_mul = {"mul", mul_backward};
static const nis_op_info op_div = {"div", div_backward};

nis_tensor *nis_add(nis_ctx *ctx, nis_tensor *a, nis_tensor *b) { return binary(ctx, &op_add, ADD, a, b); }
nis_tensor *nis_sub(nis_ctx *ctx, nis_tensor *a, nis_tensor *b) { return binary(ctx, &op_sub, SUB, a, b); }
nis_tensor *nis_mul(nis_ctx *ctx, nis_tensor *a, nis_tensor *b) { return binary(ctx, &op_mul, MUL, a, b); }
nis_tensor *nis_div(nis_ctx *ctx, nis_tensor *a, nis_tensor *b) { return binary(ctx, &op_div, DIV, a, b); }

/* ---- sum_to / broadcast_to -------------------------------------------------------------------------- */

static void sum_to_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    gs[0] = nis_broadcast_to(ctx, g, x->ndim, x->shape);
}
static void broadcast_to_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const nis_tensor *x = node->src[0];
    gs[0] = nis_sum_to(ctx, g, x->ndim, x->shape);
}
static const nis_op_info op_sum_to = {"sum_to", sum_to_backward};
static const nis_op_info op_broadcast_to = {"broadcast_to", broadcast_to_backward};

/* True if `small` (ndim, shape) broadcasts to big's shape, i.e. big = broadcast(small). */
static bool broadcasts_to(int nd_small, const int64_t *small, const nis_tensor *big) {
    if (nd_small > big->ndim) {
        /* leading size-1 dims of small beyond big's rank are allowed */
        for (int i = 0; i < nd_small - big->ndim; i++)
            if (small[i] != 1) return false;
        small += nd_small - big->ndim;
        nd_small = big->ndim;
    }
    for (int i = 0; i < nd_small; i++) {
        int64_t s = small[i], b = big->shape[big->ndim - nd_small + i];
        if (s != b && s != 1) return false;
    }
    return true;
}

nis_tensor *nis_sum_to(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape) {
    if (nis__bail(ctx, x)) return NULL;
    if (ndim < 0 || ndim > NIS_MAX_DIMS || !broadcasts_to(ndim, shape, x)) {
        nis_ctx_fail(ctx, NIS_ESHAPE, "sum_to: target shape does not broadcast to %s",
                     nis_shape_str(x, (char[80]){0}, 80));
        return NULL;
    }
    nis_tensor *out = nis__result(ctx, &op_sum_to, ndim, shape, x, NULL, NULL);
    if (!out) return NULL;
    if (out->n == x->n) {
        memcpy(out->data, x->data, (size_t)x->n * sizeof(nis_real));
        return out;
    }
    memset(out->data, 0, (size_t)out->n * sizeof(nis_real));
    /* walk x; the strides of `out` seen from x's shape are 0 on reduced dims */
    bcast4 q;
    bcast4_init(&q, x->ndim, x->shape, out, NULL);
    const int64_t *s = q.shape;
    const nis_real *px = x->data;
    for (int64_t i0 = 0; i0 < s[0]; i0++)
        for (int64_t i1 = 0; i1 < s[1]; i1++)
            for (int64_t i2 = 0; i2 < s[2]; i2++) {
                nis_real *po = out->data + i0 * q.sa[0] + i1 * q.sa[1] + i2 * q.sa[2];
                if (q.sa[3] == 0) {
                    nis_real acc = 0;
                    for (int64_t j = 0; j < s[3]; j++) acc += px[j];
                    po[0] += acc;
                } else {
                    for (int64_t j = 0; j < s[3]; j++) po[j] += px[j];
                }
                px += s[3];
            }
    return out;
}

/* One output row of broadcast_to: po[j] = px[j * step] for j < n (step 0: a fill, 1: a copy). */
static inline void bcast_row(nis_real *restrict po, const nis_real *px, int64_t n, int64_t step) {
    if (step == 0) {   /* the innermost axis broadcast: a fill (vectorised), the common case (a sum's g) */
        const nis_real v = px[0];
        if (n < 16) {   /* a few values (a 2-D sum's g): the vector loop's set-up would cost more */
            for (int64_t j = 0; j < n; j++) po[j] = v;
        } else {
            _Pragma("omp simd")
            for (int64_t j = 0; j < n; j++) po[j] = v;
        }
    } else if (step == 1) {
        memcpy(po, px, (size_t)n * sizeof *po);
    } else {
        for (int64_t j = 0; j < n; j++) po[j] = px[j * step];
    }
}

nis_tensor *nis_broadcast_to(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape) {
    if (nis__bail(ctx, x)) return NULL;
    nis_tensor *tmp = nis_tensor_wrap(ctx, ndim, shape, NULL);  /* for the shape check only */
    if (!tmp) return NULL;
    if (!broadcasts_to(x->ndim, x->shape, tmp))
        return nis__shape_error(ctx, "broadcast_to", "cannot broadcast", x, tmp);
    nis_tensor *out = nis__result(ctx, &op_broadcast_to, ndim, shape, x, NULL, NULL);
    if (!out) return NULL;
    bcast4 q;
    bcast4_init(&q, ndim, shape, x, NULL);
    const int64_t *s = q.shape;
    int64_t rows = s[0] * s[1] * s[2];
    if (out->n > NIS_PAR_MIN) {
        NIS_PAR_FOR(true, r, rows, {
            int64_t i0 = r / (s[1] * s[2]), i1 = (r / s[2]) % s[1], i2 = r % s[2];
            bcast_row(out->data + r * s[3], x->data + i0 * q.sa[0] + i1 * q.sa[1] + i2 * q.sa[2], s[3], q.sa[3]);
        });
        return out;
    }
    nis_real *po = out->data;   /* one thread: the rows in order, without a division per row */
    for (int64_t i0 = 0; i0 < s[0]; i0++)
        for (int64_t i1 = 0; i1 < s[1]; i1++)
            for (int64_t i2 = 0; i2 < s[2]; i2++, po += s[3])
                bcast_row(po, x->data + i0 * q.sa[0] + i1 * q.sa[1] + i2 * q.sa[2], s[3], q.sa[3]);
    return out;
}
