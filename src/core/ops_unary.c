/* src/core/ops_unary.c — element-wise unary ops.  Each: a kernel loop, and a backward built from ops.
 *
 * Every op here maps x of any shape to a result of the same shape in the context's arena.  Backwards reuse
 * the node's own output y where that is cheaper (exp, tanh, sigmoid, sqrt, elu); y is itself a
 * differentiable function of x, so the gradient graph can be differentiated again.
 */
#include "op.h"


/* The constructor of a parameterless unary op whose kernel is fname##_kernel(y, x): bail on NULL/error, make the
 * result, run the kernel. */
#define UNARY_CTOR(fname, op)                                                                              \
    nis_tensor *fname(nis_ctx *ctx, nis_tensor *x) {                                                        \
        if (nis__bail(ctx, x)) return NULL;                                                                 \
        nis_tensor *y = nis__result_like(ctx, &(op), x, x, NULL, NULL);                                     \
        if (y) fname##_kernel(y, x);                                                                        \
        return y;                                                                                           \
    }

/* A parameterless unary op y = expr(v), its kernel compiled per vector width (NIS_VECTOR_CLONES). */
#define UNARY_OP(fname, op, expr)                                                                          \
    NIS_VECTOR_CLONES static void fname##_kernel(nis_tensor *y, const nis_tensor *x) {                      \
        NIS_MAP_KERNEL(y, x, expr);                                                                         \
    }                                                                                                       \
    UNARY_CTOR(fname, op)

/* The constructor of a unary op with one parameter `param` (a double argument after x): as UNARY_OP, and the
 * parameter is kept in the node's p.f[0] (for the backward) and bound in expr to `a`, as nis_real. */
#define UNARY_OP_PARAM(fname, op, param, expr)                                                             \
    NIS_VECTOR_CLONES static void fname##_kernel(nis_tensor *y, const nis_tensor *x, const nis_real a) {    \
        NIS_MAP_KERNEL(y, x, expr);                                                                         \
    }                                                                                                       \
    nis_tensor *fname(nis_ctx *ctx, nis_tensor *x, double param) {                                          \
        if (nis__bail(ctx, x)) return NULL;                                                                 \
        nis_tensor *y = nis__result_like(ctx, &(op), x, x, NULL, NULL);                                     \
        if (!y) return NULL;                                                                                \
        y->p.f[0] = param;                                                                                  \
        fname##_kernel(y, x, (nis_real)param);                                                              \
        return y;                                                                                           \
    }

/* As UNARY_OP, for the logistic family: expr may use `e` = e^-v held to [-87, 87] (NIS_MAP_EXPNEG in op.h), so
 * 1 / (1 + e) is the logistic function, accurate to a few ulp for v >= -87 and 1.6e-38 below (the true value is
 * smaller still), never NaN, and libmvec's expf stays on its fast path. */
#define UNARY_OP_EXPNEG(fname, op, expr)                                                                   \
    NIS_VECTOR_CLONES static void fname##_kernel(nis_tensor *y, const nis_tensor *x) {                      \
        NIS_MAP_EXPNEG(x->n, x->data, y->data, expr);                                                       \
    }                                                                                                       \
    UNARY_CTOR(fname, op)

/* log(1 + e^v) = max(v, 0) + log1p(e^-|v|): exactly v for large v, ~e^v for very negative v, no overflow.
 * max(v, 0) is written (v + |v|) / 2 so the loop vectorises (fmax is a library call without fast-math). */
static inline nis_real softplus1(nis_real v) {
    return (nis_real)0.5 * (v + fabs(v)) + log1p(exp(-fabs(v)));
}

/* ---- neg: -x;  d = -g ---- */
static void neg_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_neg(ctx, g);
}
static const nis_op_info op_neg = {"neg", neg_backward};
/* -x, shaped like x. */
UNARY_OP(nis_neg, op_neg, -v)

/* ---- square: x^2;  d = g 2x ---- */
static void square_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_mul(ctx, g, nis_mul_scalar(ctx, node->src[0], 2));
}
static const nis_op_info op_square = {"square", square_backward};
/* x^2, shaped like x. */
UNARY_OP(nis_square, op_square, v * v)

/* ---- sqrt: sqrt(x) (x >= 0);  d = g 0.5 / y ---- */
static void sqrt_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_div(ctx, nis_mul_scalar(ctx, g, 0.5), node);
}
static const nis_op_info op_sqrt = {"sqrt", sqrt_backward};
/* sqrt(x), shaped like x. */
UNARY_OP(nis_sqrt, op_sqrt, sqrt(v))

/* ---- exp: e^x;  d = g y ---- */
static void exp_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_mul(ctx, g, node);
}
static const nis_op_info op_exp = {"exp", exp_backward};
/* e^x, shaped like x. */
UNARY_OP(nis_exp, op_exp, exp(v))

/* ---- log: log(x) (x > 0);  d = g / x ---- */
static void log_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_div(ctx, g, node->src[0]);
}
static const nis_op_info op_log = {"log", log_backward};
/* log(x), shaped like x. */
UNARY_OP(nis_log, op_log, log(v))

/* ---- log1p: log(1 + x) (x > -1);  d = g / (1 + x) ---- */
static void log1p_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_div(ctx, g, nis_add_scalar(ctx, node->src[0], 1));
}
static const nis_op_info op_log1p = {"log1p", log1p_backward};
/* log(1 + x), accurate for small x; shaped like x. */
UNARY_OP(nis_log1p, op_log1p, log1p(v))

/* ---- tanh;  d = g (1 - y^2) ---- */
static void tanh_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad(ctx, NIS_ACTG_TANH_Y, node, g, 0);
}
static const nis_op_info op_tanh = {"tanh", tanh_backward};
/* tanh(x), shaped like x. */
UNARY_OP(nis_tanh, op_tanh, tanh(v))

/* ---- sigmoid: 1 / (1 + e^-x);  d = g y (1 - y) ---- */
static void sigmoid_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad(ctx, NIS_ACTG_SIGMOID_Y, node, g, 0);
}
static const nis_op_info op_sigmoid = {"sigmoid", sigmoid_backward};
/* 1 / (1 + e^-x) without overflow for any x; shaped like x. */
UNARY_OP_EXPNEG(nis_sigmoid, op_sigmoid, 1 / (1 + e))

/* ---- softplus: log(1 + e^x);  d = g sigmoid(x) ---- */
static void softplus_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad(ctx, NIS_ACTG_SOFTPLUS_X, node->src[0], g, 0);
}
static const nis_op_info op_softplus = {"softplus", softplus_backward};
/* log(1 + e^x), stable (x for large x, e^x for very negative x); shaped like x. */
UNARY_OP(nis_softplus, op_softplus, softplus1(v))

/* ---- silu: x s, s = sigmoid(x);  d = g (s + x s (1 - s)) = g (s + y (1 - s)) ---- */
static void silu_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad_silu(ctx, node->src[0], g, node->aux);
}
static const nis_op_info op_silu = {"silu", silu_backward};

/* y = x / d with d = 1 + e^-x held; when k is not NULL it keeps d in k[0, n), and for n <= NIS_SILU_KEEP_R also
 * r = 1 / d in k[n, 2n) (op.h).  y = v r: r is computed either way. */
NIS_VECTOR_CLONES static void silu_kernel(nis_tensor *y, const nis_tensor *x, nis_real *restrict k) {
    const int64_t n = x->n;
    if (k && n <= NIS_SILU_KEEP_R) NIS_MAP_EXPNEG(n, x->data, y->data, v * (k[n + i] = 1 / (k[i] = 1 + e)));
    else if (k) NIS_MAP_EXPNEG(n, x->data, y->data, v * (1 / (k[i] = 1 + e)));
    else NIS_MAP_EXPNEG(n, x->data, y->data, v * (1 / (1 + e)));
}

/* x sigmoid(x), shaped like x.  When the node is recorded it keeps 1 + e^-x, and up to NIS_SILU_KEEP_R elements its
 * reciprocal too (x.n or 2 x.n reals of arena), for its backward. */
nis_tensor *nis_silu(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    nis_tensor *y = nis__result_like(ctx, &op_silu, x, x, NULL, NULL);
    if (!y) return NULL;
    nis_real *k = NULL;
    const int64_t kept = x->n <= NIS_SILU_KEEP_R ? 2 * x->n : x->n;
    if (y->op && !(k = nis_ctx_alloc(ctx, (size_t)(kept > 0 ? kept : 1) * sizeof *k))) return NULL;
    silu_kernel(y, x, k);
    y->aux = k;
    return y;
}

/* ---- relu: max(x, 0);  d = g step(x) ---- */
static void relu_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad(ctx, NIS_ACTG_RELU_X, node->src[0], g, 0);
}
static const nis_op_info op_relu = {"relu", relu_backward};
/* max(x, 0), shaped like x (gradient 0 at 0). */
UNARY_OP(nis_relu, op_relu, v > 0 ? v : 0)

/* ---- sin, cos;  d sin = g cos(x), d cos = -g sin(x) ---- */
static void sin_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_mul(ctx, g, nis_cos(ctx, node->src[0]));
}
static void cos_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_neg(ctx, nis_mul(ctx, g, nis_sin(ctx, node->src[0])));
}
static const nis_op_info op_sin = {"sin", sin_backward};
static const nis_op_info op_cos = {"cos", cos_backward};
/* sin(x), cos(x), shaped like x. */
UNARY_OP(nis_sin, op_sin, sin(v))
UNARY_OP(nis_cos, op_cos, cos(v))

/* ---- abs: |x|;  d = g sign(x) = g (step(x) - step(-x)), 0 at 0 ---- */
static void abs_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0];
    gs[0] = nis_mul(ctx, g, nis_sub(ctx, nis_step(ctx, x), nis_step(ctx, nis_neg(ctx, x))));
}
static const nis_op_info op_abs = {"abs", abs_backward};
/* |x|, shaped like x. */
UNARY_OP(nis_abs, op_abs, fabs(v))

/* ---- leaky_relu: x if x > 0 else slope x (slope in p.f[0]);  d = g (slope + (1 - slope) step(x)) ---- */
static void leaky_relu_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad(ctx, NIS_ACTG_LEAKY_X, node->src[0], g, node->p.f[0]);
}
static const nis_op_info op_leaky_relu = {"leaky_relu", leaky_relu_backward};

/* x if x > 0 else slope x, shaped like x. */
UNARY_OP_PARAM(nis_leaky_relu, op_leaky_relu, slope, v > 0 ? v : a * v)

/* ---- elu: x if x > 0 else alpha (e^x - 1) (alpha in p.f[0]);
 *      d = g (step(x) + (1 - step(x)) (y + alpha)), since for x <= 0 the slope alpha e^x is y + alpha ---- */
static void elu_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis__act_grad(ctx, NIS_ACTG_ELU_X, node->src[0], g, node->p.f[0]);
}
static const nis_op_info op_elu = {"elu", elu_backward};

/* x if x > 0 else alpha (e^x - 1), shaped like x. */
UNARY_OP_PARAM(nis_elu, op_elu, alpha, v > 0 ? v : a * expm1(v))

/* ---- step: 1 if x > 0 else 0.  A constant: no node is recorded and the result never requires grad. ---- */

/* step(x), shaped like x; a plain tensor in the arena (not part of the graph). */
nis_tensor *nis_step(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    nis_tensor *y = nis_tensor_new(ctx, x->ndim, x->shape);
    if (y) NIS_MAP_KERNEL(y, x, v > 0 ? (nis_real)1 : (nis_real)0);
    return y;
}
