/* src/core/ops_scalar.c — element-wise ops with a constant: x + c, x * c, c - x, x^p.
 *
 * Each maps x of any shape to a result of the same shape in the context's arena; the constant is kept in
 * the node's p.f[0] for the backward.  Backwards use only public ops, so they can be differentiated again.
 */
#include "op.h"

/* A result shaped like x for `op`, with the constant c stored in p.f[0] (NULL on a bail or ENOMEM). */
static nis_tensor *scalar_result(nis_ctx *ctx, const nis_op_info *op, nis_tensor *x, double c) {
    if (nis__bail(ctx, x)) return NULL;
    nis_tensor *y = nis__result_like(ctx, op, x, x, NULL, NULL);
    if (y) y->p.f[0] = c;
    return y;
}

/* ---- add_scalar: x + c;  d = g ---- */
static void add_scalar_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = g;
}
static const nis_op_info op_add_scalar = {"add_scalar", add_scalar_backward};

/* x + c, shaped like x. */
nis_tensor *nis_add_scalar(nis_ctx *ctx, nis_tensor *x, double c) {
    nis_tensor *y = scalar_result(ctx, &op_add_scalar, x, c);
    const nis_real k = (nis_real)c;
    if (y) NIS_MAP_KERNEL(y, x, v + k);
    return y;
}

/* ---- mul_scalar: x c;  d = g c ---- */
static void mul_scalar_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_mul_scalar(ctx, g, node->p.f[0]);
}
static const nis_op_info op_mul_scalar = {"mul_scalar", mul_scalar_backward};

/* x c, shaped like x. */
nis_tensor *nis_mul_scalar(nis_ctx *ctx, nis_tensor *x, double c) {
    nis_tensor *y = scalar_result(ctx, &op_mul_scalar, x, c);
    const nis_real k = (nis_real)c;
    if (y) NIS_MAP_KERNEL(y, x, v * k);
    return y;
}

/* ---- rsub_scalar: c - x;  d = -g ---- */
static void rsub_scalar_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_neg(ctx, g);
}
static const nis_op_info op_rsub_scalar = {"rsub_scalar", rsub_scalar_backward};

/* c - x, shaped like x. */
nis_tensor *nis_rsub_scalar(nis_ctx *ctx, nis_tensor *x, double c) {
    nis_tensor *y = scalar_result(ctx, &op_rsub_scalar, x, c);
    const nis_real k = (nis_real)c;
    if (y) NIS_MAP_KERNEL(y, x, k - v);
    return y;
}

/* ---- pow_scalar: x^p;  d = g p x^(p-1) (zero for p = 0, g for p = 1) ---- */
static void pow_scalar_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0];
    double p = node->p.f[0];
    if (p == 0) gs[0] = nis_zeros(ctx, x->ndim, x->shape);
    else if (p == 1) gs[0] = g;
    else gs[0] = nis_mul(ctx, g, nis_mul_scalar(ctx, nis_pow_scalar(ctx, x, p - 1), p));
}
static const nis_op_info op_pow_scalar = {"pow_scalar", pow_scalar_backward};

/* x^p, shaped like x (x > 0 unless p is an integer).  p = 0 gives ones (also at x = 0). */
nis_tensor *nis_pow_scalar(nis_ctx *ctx, nis_tensor *x, double p) {
    nis_tensor *y = scalar_result(ctx, &op_pow_scalar, x, p);
    if (!y) return NULL;
    const nis_real k = (nis_real)p;
    if (p == 1) NIS_MAP_KERNEL(y, x, v);
    else if (p == 2) NIS_MAP_KERNEL(y, x, v * v);
    else if (p == 0.5) NIS_MAP_KERNEL(y, x, sqrt(v));
    else NIS_MAP_KERNEL(y, x, pow(v, k));
    return y;
}
