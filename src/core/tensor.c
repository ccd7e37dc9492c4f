/* src/core/tensor.c — making tensors in a context, and the helpers every op uses. */
#include "ctx.h"
#include "op.h"

#include <stdio.h>
#include <string.h>

static bool shape_ok(nis_ctx *ctx, const char *what, int ndim, const int64_t *shape, int64_t *n) {
    if (ndim < 0 || ndim > NIS_MAX_DIMS) {
        nis_ctx_fail(ctx, NIS_ESHAPE, "%s: %d dimensions (at most %d)", what, ndim, NIS_MAX_DIMS);
        return false;
    }
    int64_t m = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && m > INT64_MAX / 8 / shape[i])) {
            nis_ctx_fail(ctx, NIS_ESHAPE, "%s: bad size %lld in dimension %d", what, (long long)shape[i], i);
            return false;
        }
        m *= shape[i];
    }
    *n = m;
    return true;
}

/* A tensor header (no data) with the given shape, appended to nothing yet. */
static nis_tensor *header(nis_ctx *ctx, const char *what, int ndim, const int64_t *shape) {
    int64_t n;
    if (ctx->status != NIS_OK || !shape_ok(ctx, what, ndim, shape, &n)) return NULL;
    nis_tensor *t = nis_ctx_alloc(ctx, sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < NIS_MAX_DIMS; i++) t->shape[i] = i < ndim ? shape[i] : 1;
    t->n = n;
    return t;
}

nis_tensor *nis_tensor_new(nis_ctx *ctx, int ndim, const int64_t *shape) {
    nis_tensor *t = header(ctx, "tensor", ndim, shape);
    if (!t) return NULL;
    t->data = nis_ctx_alloc(ctx, (size_t)t->n * sizeof(nis_real));
    return t->data ? t : NULL;
}

nis_tensor *nis_new1(nis_ctx *ctx, int64_t a) { return nis_tensor_new(ctx, 1, (int64_t[]){a}); }
nis_tensor *nis_new2(nis_ctx *ctx, int64_t a, int64_t b) { return nis_tensor_new(ctx, 2, (int64_t[]){a, b}); }
nis_tensor *nis_new4(nis_ctx *ctx, int64_t a, int64_t b, int64_t c, int64_t d) {
    return nis_tensor_new(ctx, 4, (int64_t[]){a, b, c, d});
}

nis_tensor *nis_full(nis_ctx *ctx, int ndim, const int64_t *shape, nis_real value) {
    nis_tensor *t = nis_tensor_new(ctx, ndim, shape);
    if (t)
        for (int64_t i = 0; i < t->n; i++) t->data[i] = value;
    return t;
}

nis_tensor *nis_zeros(nis_ctx *ctx, int ndim, const int64_t *shape) {
    nis_tensor *t = nis_tensor_new(ctx, ndim, shape);
    if (t) memset(t->data, 0, (size_t)t->n * sizeof(nis_real));
    return t;
}

nis_tensor *nis_scalar(nis_ctx *ctx, nis_real value) { return nis_full(ctx, 0, NULL, value); }

nis_tensor *nis_tensor_from(nis_ctx *ctx, int ndim, const int64_t *shape, const nis_real *data) {
    nis_tensor *t = nis_tensor_new(ctx, ndim, shape);
    if (t) memcpy(t->data, data, (size_t)t->n * sizeof(nis_real));
    return t;
}

nis_tensor *nis_tensor_wrap(nis_ctx *ctx, int ndim, const int64_t *shape, nis_real *data) {
    nis_tensor *t = header(ctx, "tensor_wrap", ndim, shape);
    if (t) t->data = data;
    return t;
}

nis_tensor *nis_requires_grad(nis_tensor *t) {
    if (t) t->requires_grad = true;
    return t;
}

nis_tensor *nis_detach(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    nis_tensor *t = header(ctx, "detach", x->ndim, x->shape);
    if (t) t->data = x->data;
    return t;
}

bool nis_same_shape(const nis_tensor *a, const nis_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

char *nis_shape_str(const nis_tensor *t, char *buf, size_t size) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, size - k, "(");
    for (int i = 0; i < t->ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (k < size) snprintf(buf + k, size - k, t->ndim == 1 ? ",)" : ")");
    return buf;
}

/* ---- helpers for op implementations ---------------------------------------------------------------- */

bool nis__bail2(nis_ctx *ctx, const nis_tensor *a, const nis_tensor *b) {
    if (ctx == NULL || ctx->status != NIS_OK) return true;
    if (a && b) return false;
    nis_ctx_fail(ctx, NIS_EINVAL, "an op was given a NULL input tensor");
    return true;
}

bool nis__bail(nis_ctx *ctx, const nis_tensor *a) { return nis__bail2(ctx, a, a); }
nis_tensor *nis__result(nis_ctx *ctx, const nis_op_info *op, int ndim, const int64_t *shape, nis_tensor *a,
                        nis_tensor *b, nis_tensor *c) {
    nis_tensor *t = nis_tensor_new(ctx, ndim, shape);
    if (!t) return NULL;
    bool rg = ctx->grad_enabled && ((a && a->requires_grad) || (b && b->requires_grad) ||
                                    (c && c->requires_grad));
    if (rg) {
        t->requires_grad = true;
        t->op = op;
        t->src[0] = a;
        t->src[1] = b;
        t->src[2] = c;
        t->prev = ctx->last;
        ctx->last = t;
    }
    return t;
}

nis_tensor *nis__result_like(nis_ctx *ctx, const nis_op_info *op, const nis_tensor *x, nis_tensor *a,
                             nis_tensor *b, nis_tensor *c) {
    return nis__result(ctx, op, x->ndim, x->shape, a, b, c);
}

int nis__axis(nis_ctx *ctx, const char *op, const nis_tensor *x, int axis) {
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a >= x->ndim) {
        char s[80];
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: axis %d out of range for shape %s", op, axis,
                     nis_shape_str(x, s, sizeof s));
        return -1;
    }
    return a;
}

nis_tensor *nis__shape_error(nis_ctx *ctx, const char *op, const char *why, const nis_tensor *a,
                             const nis_tensor *b) {
    char sa[80], sb[80];
    if (b)
        nis_ctx_fail(ctx, NIS_ESHAPE, "%s: %s: shapes %s and %s", op, why, nis_shape_str(a, sa, sizeof sa),
                     nis_shape_str(b, sb, sizeof sb));
    else
        nis_ctx_fail(ctx, NIS_ESHAPE, "%s: %s: shape %s", op, why, nis_shape_str(a, sa, sizeof sa));
    return NULL;
}

bool nis__broadcast_shape(const nis_tensor *a, const nis_tensor *b, int *ndim, int64_t *out) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < nd; i++) {
        int ia = a->ndim - nd + i, ib = b->ndim - nd + i;
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) return false;
        out[i] = sa == 1 ? sb : sa;
    }
    *ndim = nd;
    return true;
}

void nis__bcast_strides(const nis_tensor *x, int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        int ix = x->ndim - ndim + i;
        int64_t sx = ix >= 0 ? x->shape[ix] : 1;
        strides[i] = (sx == 1 && shape[i] != 1) ? 0 : s;
        s *= sx;
    }
}
