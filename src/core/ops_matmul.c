/* src/core/ops_matmul.c — matmul with transpose flags, and linear (x W^T + b), through BLAS. */
#include "op.h"

#include <string.h>

/* C = op(A) op(B).  Backward (with G = dC), each case again a matmul with flags:
 *   C = A B    : dA = G B^T,   dB = A^T G
 *   C = A B^T  : dA = G B,     dB = G^T A
 *   C = A^T B  : dA = B G^T,   dB = A G
 *   C = A^T B^T: dA = B^T G^T, dB = G^T A^T */
static void matmul_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *a = node->src[0], *b = node->src[1];
    bool ta = node->p.i[0], tb = node->p.i[1];
    if (nis__needs(node, 0))
        gs[0] = !ta ? nis_matmul(ctx, g, b, false, !tb) : nis_matmul(ctx, b, g, tb, true);
    if (nis__needs(node, 1))
        gs[1] = !tb ? nis_matmul(ctx, a, g, !ta, false) : nis_matmul(ctx, g, a, true, ta);
}
static const nis_op_info op_matmul = {"matmul", matmul_backward};

nis_tensor *nis_matmul(nis_ctx *ctx, nis_tensor *a, nis_tensor *b, bool trans_a, bool trans_b) {
    if (nis__bail2(ctx, a, b)) return NULL;
    if (a->ndim != 2 || b->ndim != 2) return nis__shape_error(ctx, "matmul", "operands must be 2-D", a, b);
    int64_t M = trans_a ? a->shape[1] : a->shape[0], K = trans_a ? a->shape[0] : a->shape[1];
    int64_t K2 = trans_b ? b->shape[1] : b->shape[0], N = trans_b ? b->shape[0] : b->shape[1];
    if (K != K2) return nis__shape_error(ctx, "matmul", "inner dimensions differ", a, b);
    nis_tensor *out = nis__result(ctx, &op_matmul, 2, (int64_t[]){M, N}, a, b, NULL);
    if (!out) return NULL;
    out->p.i[0] = trans_a;
    out->p.i[1] = trans_b;
    if (K == 0) {
        for (int64_t i = 0; i < out->n; i++) out->data[i] = 0;
        return out;
    }
    nis__gemm(trans_a, trans_b, M, N, K, 1, a->data, a->shape[1], b->data, b->shape[1], 0, out->data, N);
    return out;
}

/* y = x W^T + b.  dx = G W, dW = G^T x, db = sum over rows of G. */
static void linear_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0], *w = node->src[1];
    if (nis__needs(node, 0)) gs[0] = nis_matmul(ctx, g, w, false, false);
    if (nis__needs(node, 1)) gs[1] = nis_matmul(ctx, g, x, true, false);
    if (nis__needs(node, 2)) gs[2] = nis_sum_axis(ctx, g, 0, false);
}
static const nis_op_info op_linear = {"linear", linear_backward};

/* y (B, n) = the bias b (n) in every row: a copy (the same bits whatever does it).  memcpy per row: glibc's
 * vector copy, where the plain loop compiles to one 4-byte store per element, 19% of a 2-D DFT update (perf), and
 * a 2000-update DFT run on donut took 4.3-4.4 s of CPU against 5.1-6.1 s (docs/benchmarks.md). */
static void bias_rows(nis_real *restrict y, const nis_real *restrict b, int64_t B, int64_t n) {
    for (int64_t i = 0; i < B; i++) memcpy(y + i * n, b, (size_t)n * sizeof(nis_real));
}

nis_tensor *nis_linear(nis_ctx *ctx, nis_tensor *x, nis_tensor *W, nis_tensor *b) {
    if (nis__bail2(ctx, x, W)) return NULL;
    if (x->ndim != 2 || W->ndim != 2 || x->shape[1] != W->shape[1])
        return nis__shape_error(ctx, "linear", "need x (B, in) and W (out, in)", x, W);
    int64_t B = x->shape[0], in = x->shape[1], out_f = W->shape[0];
    if (b && (b->ndim != 1 || b->shape[0] != out_f))
        return nis__shape_error(ctx, "linear", "bias must be (out,)", W, b);
    nis_tensor *y = nis__result(ctx, &op_linear, 2, (int64_t[]){B, out_f}, x, W, b);
    if (!y) return NULL;
    nis_real beta = 0;
    if (b) {
        bias_rows(y->data, b->data, B, out_f);
        beta = 1;
    } else if (in == 0) {
        for (int64_t i = 0; i < y->n; i++) y->data[i] = 0;
    }
    if (in > 0) nis__gemm(false, true, B, out_f, in, 1, x->data, in, W->data, in, beta, y->data, out_f);
    return y;
}
