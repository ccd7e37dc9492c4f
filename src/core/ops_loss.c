/* src/core/ops_loss.c — row-wise softmax and the softmax cross-entropy loss (mean over the batch). */
#include "op.h"

/* ---- softmax over the last axis of (B, C); backward: y * (g - sum(g * y, axis 1, keepdim)) ---- */
static void softmax_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *dot = nis_sum_axis(ctx, nis_mul(ctx, g, node), 1, true);   /* (B, 1) */
    gs[0] = nis_mul(ctx, node, nis_sub(ctx, g, dot));
}
static const nis_op_info op_softmax = {"softmax", softmax_backward};

/* x (B, C) -> y (B, C), y[b, :] = exp(x[b, :] - max) / sum exp(x[b, :] - max). */
static void softmax_kernel(nis_real *restrict y, const nis_real *restrict x, int64_t B, int64_t C) {
    NIS_PAR_FOR(B * C > NIS_PAR_MIN, b, B, {
        const nis_real *px = x + b * C;
        nis_real *py = y + b * C, m = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; c++) m = px[c] > m ? px[c] : m;
        for (int64_t c = 0; c < C; c++) s += py[c] = exp(px[c] - m);
        for (int64_t c = 0; c < C; c++) py[c] /= s;
    });
}

/* x: (B, C) -> new (B, C) tensor, each row a softmax (stable: the row max is subtracted first). */
nis_tensor *nis_softmax(nis_ctx *ctx, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    if (x->ndim != 2) return nis__shape_error(ctx, "softmax", "needs a 2-D tensor (B, C)", x, NULL);
    nis_tensor *y = nis__result_like(ctx, &op_softmax, x, x, NULL, NULL);
    if (y) softmax_kernel(y->data, x->data, x->shape[0], x->shape[1]);
    return y;
}

/* ---- softmax cross-entropy: mean_b (logsumexp(x[b, :]) - x[b, label_b]);
 *      backward (g scalar): g / B * (softmax(x) - onehot(labels)), from ops so it can be differentiated
 *      again (the onehot is a constant).  node->aux holds the B labels (arena copy). ---- */
static void xent_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0];
    const int32_t *labels = node->aux;
    int64_t B = x->shape[0], C = x->shape[1];
    nis_tensor *onehot = nis_zeros(ctx, 2, x->shape);
    if (!onehot) return;
    for (int64_t b = 0; b < B; b++) onehot->data[b * C + labels[b]] = 1;
    nis_tensor *d = nis_sub(ctx, nis_softmax(ctx, x), onehot);
    gs[0] = nis_mul(ctx, d, nis_mul_scalar(ctx, g, 1.0 / (double)B));
}
static const nis_op_info op_xent = {"softmax_cross_entropy", xent_backward};

/* x (B, C), labels[B] in [0, C) -> loss[b] = log sum_c exp(x[b, c]) - x[b, labels[b]] (stable). */
static void xent_kernel(nis_real *restrict loss, const nis_real *restrict x, const int32_t *labels, int64_t B,
                        int64_t C) {
    NIS_PAR_FOR(B * C > NIS_PAR_MIN, b, B, {
        const nis_real *px = x + b * C;
        nis_real m = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; c++) m = px[c] > m ? px[c] : m;
        for (int64_t c = 0; c < C; c++) s += exp(px[c] - m);
        loss[b] = m + log(s) - px[labels[b]];
    });
}

/* logits: (B, C); labels: B ints in [0, C), copied -> scalar mean loss (NaN for B = 0). */
nis_tensor *nis_softmax_cross_entropy(nis_ctx *ctx, nis_tensor *logits, const int32_t *labels) {
    static const char *name = "softmax_cross_entropy";
    if (nis__bail(ctx, logits)) return NULL;
    if (logits->ndim != 2) return nis__shape_error(ctx, name, "logits must be 2-D (B, C)", logits, NULL);
    int64_t B = logits->shape[0], C = logits->shape[1];
    if (B > 0 && !labels) {
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: labels is NULL", name);
        return NULL;
    }
    for (int64_t b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] >= C) {
            nis_ctx_fail(ctx, NIS_EINVAL, "%s: row %lld has label %d, out of range [0, %lld)", name,
                         (long long)b, (int)labels[b], (long long)C);
            return NULL;
        }
    int32_t *lab = nis_ctx_alloc(ctx, (size_t)B * sizeof *lab);
    nis_real *loss = nis_ctx_alloc(ctx, (size_t)B * sizeof *loss);
    if (!lab || !loss) return NULL;
    for (int64_t b = 0; b < B; b++) lab[b] = labels[b];
    nis_tensor *y = nis__result(ctx, &op_xent, 0, NULL, logits, NULL, NULL);
    if (!y) return NULL;
    y->aux = lab;
    xent_kernel(loss, logits->data, lab, B, C);
    nis_real s = 0;   /* rows added in order: deterministic */
    for (int64_t b = 0; b < B; b++) s += loss[b];
    y->data[0] = s / (nis_real)B;
    return y;
}
