/* src/train/objectives.c — the losses of DFT, KL and Fisher training and of score matching, for any
 * generator and score model (docs/dft.md has the derivations).
 *
 * Shapes: x0 = g_θ(z) (B, d), ε (B, d), x̃ = x0 + σ ε (B, d); per-sample sums over d, means over the batch.
 */
#include "nis/ops.h"
#include "nis/train.h"

/* sum over the last axis of t^2: (B, d) -> (B,) */
static nis_tensor *sqnorm(nis_ctx *c, nis_tensor *t) { return nis_sum_axis(c, nis_square(c, t), 1, false); }

static nis_tensor *report(nis_tensor *loss, double *monitor) {
    if (loss && monitor) *monitor = loss->data[0];
    return loss;
}

/* Divergence of f at x, (B,), from d backward passes with create_graph (exact; for small d).  f must be
 * built on x, which must require grad. */
static nis_tensor *divergence(nis_ctx *c, nis_tensor *f, nis_tensor *x) {
    int64_t B = x->shape[0], d = x->shape[1];
    nis_tensor *div = NULL;
    for (int64_t i = 0; i < d; i++) {
        nis_tensor *fi = nis_slice(c, f, 1, i, 1), *gi;
        if (!fi) return NULL;
        if (!fi->requires_grad) {
            gi = nis_zeros(c, 2, (int64_t[]){B, d});   /* f does not depend on x */
        } else if (nis_grad(c, 1, &fi, NULL, 1, &x, true, &gi) != NIS_OK) {
            return NULL;
        }
        nis_tensor *dii = nis_reshape(c, nis_slice(c, gi, 1, i, 1), 1, (int64_t[]){B});
        div = div ? nis_add(c, div, dii) : dii;
    }
    return div;
}

nis_tensor *nis_dft_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                              nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    nis_tensor *e = nis_mul_scalar(c, eps, 1.0 / sigma);
    nis_tensor *sq = nis_target_score(c, t, xt, true);   /* with create_graph: its x̃-gradient is an HVP */
    nis_tensor *sp = xt ? score(c, ud, xt) : NULL;
    return report(nis_mean(c, nis_sub(c, sqnorm(c, nis_add(c, sq, e)), sqnorm(c, nis_add(c, sp, e)))), monitor);
}

nis_tensor *nis_kl_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                             nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *xd = nis_detach(c, xt);
    nis_tensor *v = nis_sub(c, xd ? score(c, ud, xd) : NULL, nis_target_score(c, t, xd, false));
    nis_tensor *vv = nis_mean(c, sqnorm(c, v));
    nis_ctx_set_grad(c, saved);
    nis_tensor *loss = nis_mean(c, nis_sum_axis(c, nis_mul(c, xt, v), 1, false));
    if (loss && monitor) *monitor = vv->data[0];
    return loss;
}

nis_tensor *nis_fisher_objective(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_score_fn score, void *ud,
                                 double *monitor) {
    nis_tensor *sq = nis_target_score(c, t, x, true);
    nis_tensor *lap = nis_target_laplacian(c, t, x, true);
    nis_tensor *sp = x ? score(c, ud, x) : NULL;
    nis_tensor *divp = sp ? divergence(c, sp, x) : NULL;
    nis_tensor *a = nis_add(c, sqnorm(c, sq), nis_mul_scalar(c, lap, 2));
    nis_tensor *b = nis_add(c, sqnorm(c, sp), nis_mul_scalar(c, divp, 2));
    return report(nis_mean(c, nis_sub(c, a, b)), monitor);
}

nis_tensor *nis_dsm_objective(nis_ctx *c, nis_tensor *x0, nis_tensor *eps, double sigma, nis_score_fn score,
                              void *ud, double *monitor) {
    nis_tensor *xt = nis_detach(c, nis_add(c, x0, nis_mul_scalar(c, eps, sigma)));
    nis_tensor *target = nis_mul_scalar(c, eps, 1.0 / sigma);
    nis_tensor *sp = xt ? score(c, ud, xt) : NULL;
    return report(nis_mean(c, sqnorm(c, nis_add(c, sp, target))), monitor);
}

nis_tensor *nis_ssm_objective(nis_ctx *c, nis_tensor *x0, nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *x = nis_requires_grad(nis_detach(c, x0));
    nis_tensor *s = x ? score(c, ud, x) : NULL;
    return report(nis_mean(c, nis_add(c, sqnorm(c, s), nis_mul_scalar(c, s ? divergence(c, s, x) : NULL, 2))),
                  monitor);
}
