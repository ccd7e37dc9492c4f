/* src/core/ops_actgrad.c — fused activation gradients: out = g * f'(a), one pass instead of the four or
 * five element-wise ops the composed formula takes (PyTorch's silu_backward & co. do the same).
 *
 * `a` is the activation's input x, or its output y where f' is simplest in y (tanh, sigmoid).  The op is
 * itself differentiable, so second-order gradients still work:
 *   d/dg = G f'(a)           (the same op again)
 *   d/da = G g f''(a)        (composed from public ops: only second-order passes pay for it)
 */
#include "op.h"

/* po = pg * f'(pa) for n elements (kind: NIS_ACTG_*; al: the leaky slope or ELU's alpha).  Compiled per vector
 * width (NIS_VECTOR_CLONES). */
NIS_VECTOR_CLONES static void actg_kernel(int kind, const nis_real *restrict pa, const nis_real *restrict pg,
                                          nis_real *restrict po, int64_t n, nis_real al) {
    /* one loop per kind, so each is a straight-line body that `omp simd` vectorises (libmvec's expf) */
#define ACTG_LOOP(expr)                                                                                     \
    if (n > NIS_PAR_MIN) {                                                                                  \
        _Pragma("omp parallel for simd schedule(static)")                                                   \
        for (int64_t i = 0; i < n; i++) {                                                                   \
            const nis_real v = pa[i];                                                                       \
            po[i] = pg[i] * (expr);                                                                         \
        }                                                                                                   \
    } else {                                                                                                \
        _Pragma("omp simd")                                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                                   \
            const nis_real v = pa[i];                                                                       \
            po[i] = pg[i] * (expr);                                                                         \
        }                                                                                                   \
    }
    switch (kind) {
    case NIS_ACTG_TANH_Y: ACTG_LOOP(1 - v * v) break;
    case NIS_ACTG_SIGMOID_Y: ACTG_LOOP(v * (1 - v)) break;
    /* the logistic ones: e = e^-v held to [-87, 87] (NIS_MAP_EXPNEG), so libmvec's expf stays on its fast path */
    case NIS_ACTG_SOFTPLUS_X: NIS_MAP_EXPNEG(n, pa, po, pg[i] * (1 / (1 + e))); break;
    case NIS_ACTG_SILU_X: NIS_MAP_EXPNEG(n, pa, po, pg[i] * ((1 + v * (1 - 1 / (1 + e))) / (1 + e))); break;
    case NIS_ACTG_ELU_X: ACTG_LOOP(v > 0 ? 1 : al * exp(v)) break;
    case NIS_ACTG_RELU_X: ACTG_LOOP(v > 0 ? 1 : 0) break;
    default: ACTG_LOOP(v > 0 ? 1 : al) break;   /* NIS_ACTG_LEAKY_X */
    }
#undef ACTG_LOOP
}

/* SiLU's po = pg * f'(pa) from what the SiLU forward kept: d = 1 + e^-pa held in k[0, n), and for n <=
 * NIS_SILU_KEEP_R r = 1 / d in k[n, 2n).  The expression of actg_kernel's NIS_ACTG_SILU_X with 1 + e replaced by d
 * (and 1 / (1 + e) by r), so the same bits; with r one division instead of two.  Compiled per vector width. */
NIS_VECTOR_CLONES static void actg_silu_d_kernel(const nis_real *restrict pa, const nis_real *restrict pg,
                                                 const nis_real *restrict k, nis_real *restrict po, int64_t n) {
    const nis_real *restrict d = k, *restrict r = k + n;
    const bool has_r = n <= NIS_SILU_KEEP_R;
    NIS_PAR_FOR(n > NIS_PAR_MIN, b, (n + NIS_HELD_BLOCK - 1) / NIS_HELD_BLOCK, {
        const int64_t i0 = b * NIS_HELD_BLOCK, m = n - i0 < NIS_HELD_BLOCK ? n - i0 : NIS_HELD_BLOCK;
        if (has_r) {
            _Pragma("omp simd")
            for (int64_t i = i0; i < i0 + m; i++) po[i] = pg[i] * ((1 + pa[i] * (1 - r[i])) / d[i]);
        } else {
            _Pragma("omp simd")
            for (int64_t i = i0; i < i0 + m; i++) po[i] = pg[i] * ((1 + pa[i] * (1 - 1 / d[i])) / d[i]);
        }
    });
}

/* f''(a) as a tensor, from public ops (for second-order passes only). */
static nis_tensor *fsecond(nis_ctx *ctx, int kind, nis_tensor *a, double alpha) {
    switch (kind) {
    case NIS_ACTG_TANH_Y: return nis_mul_scalar(ctx, a, -2);                          /* d(1 - y^2)/dy */
    case NIS_ACTG_SIGMOID_Y: return nis_rsub_scalar(ctx, nis_mul_scalar(ctx, a, 2), 1); /* d(y - y^2)/dy */
    case NIS_ACTG_SOFTPLUS_X: {                                                          /* s (1 - s) */
        nis_tensor *s = nis_sigmoid(ctx, a);
        return nis_mul(ctx, s, nis_rsub_scalar(ctx, s, 1));
    }
    case NIS_ACTG_SILU_X: {                                                              /* s(1-s)(2 + x(1-2s)) */
        nis_tensor *s = nis_sigmoid(ctx, a);
        nis_tensor *t = nis_add_scalar(ctx, nis_mul(ctx, a, nis_rsub_scalar(ctx, nis_mul_scalar(ctx, s, 2), 1)), 2);
        return nis_mul(ctx, nis_mul(ctx, s, nis_rsub_scalar(ctx, s, 1)), t);
    }
    case NIS_ACTG_ELU_X:                                                                 /* x > 0 ? 0 : alpha e^x */
        return nis_mul(ctx, nis_rsub_scalar(ctx, nis_step(ctx, a), 1), nis_mul_scalar(ctx, nis_exp(ctx, a), alpha));
    default: return nis_zeros(ctx, a->ndim, a->shape);                                 /* piecewise linear */
    }
}

static void act_grad_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *G, nis_tensor **gs) {
    nis_tensor *a = node->src[0], *g = node->src[1];
    int kind = (int)node->p.i[0];
    double alpha = node->p.f[1];
    if (nis__needs(node, 0)) gs[0] = nis_mul(ctx, nis_mul(ctx, G, g), fsecond(ctx, kind, a, alpha));
    if (nis__needs(node, 1))
        gs[1] = kind == NIS_ACTG_SILU_X ? nis__act_grad_silu(ctx, a, G, node->aux)
                                        : nis__act_grad(ctx, kind, a, G, alpha);
}
static const nis_op_info op_act_grad = {"act_grad", act_grad_backward};

nis_tensor *nis__act_grad(nis_ctx *ctx, int kind, nis_tensor *a, nis_tensor *g, double alpha) {
    if (nis__bail2(ctx, a, g)) return NULL;
    if (!nis_same_shape(a, g)) return nis__shape_error(ctx, "act_grad", "shapes differ", a, g);
    nis_tensor *out = nis__result_like(ctx, &op_act_grad, a, a, g, NULL);
    if (!out) return NULL;
    out->p.i[0] = kind;
    out->p.f[1] = alpha;
    actg_kernel(kind, a->data, g->data, out->data, a->n, (nis_real)alpha);
    return out;
}

nis_tensor *nis__act_grad_silu(nis_ctx *ctx, nis_tensor *a, nis_tensor *g, const nis_real *k) {
    if (!k) return nis__act_grad(ctx, NIS_ACTG_SILU_X, a, g, 0);
    if (nis__bail2(ctx, a, g)) return NULL;
    if (!nis_same_shape(a, g)) return nis__shape_error(ctx, "act_grad", "shapes differ", a, g);
    nis_tensor *out = nis__result_like(ctx, &op_act_grad, a, a, g, NULL);
    if (!out) return NULL;
    out->p.i[0] = NIS_ACTG_SILU_X;
    out->p.f[1] = 0;
    out->aux = (void *)k;   /* for this node's own backward (d/dg is the same op) */
    actg_silu_d_kernel(a->data, g->data, k, out->data, a->n);
    return out;
}
