/* src/core/ops_unary.c — element-wise unary ops.  Each: a kernel loop, and a backward built from ops. */
#include "op.h"

/* Result shaped like x, values f(x[i]); the parallel loop every unary op shares. */
#define UNARY_KERNEL(out, x, expr)                                                                         \
    do {                                                                                                    \
        const nis_real *restrict xs_ = (x)->data;                                                           \
        nis_real *restrict ys_ = (out)->data;                                                               \
        int64_t n_ = (x)->n;                                                                                \
        _Pragma("omp parallel for if (n_ > NIS_PAR_MIN) schedule(static)")                                  \
        for (int64_t i_ = 0; i_ < n_; i_++) {                                                               \
            nis_real v = xs_[i_];                                                                           \
            ys_[i_] = (expr);                                                                               \
        }                                                                                                   \
    } while (0)

/* ---- neg: -x;  d = -g ---- */
static void neg_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_neg(ctx, g);
}
static const nis_op_info op_neg = {"neg", neg_backward};

nis_tensor *nis_neg(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x, NULL, NULL)) return NULL;
    nis_tensor *y = nis__result_like(ctx, &op_neg, x, x, NULL, NULL);
    if (y) UNARY_KERNEL(y, x, -v);
    return y;
}
