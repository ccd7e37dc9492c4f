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

/* ||s_q(x̃) + e||² (B,) with e = ε/σ, with create_graph (its x̃-gradient is an HVP).  For a stochastic target
 * (ŝ a fresh unbiased estimate per call) the square of one draw is biased by tr Var ŝ; two independent draws
 * give the unbiased  ŝ1·ŝ2 + (ŝ1 + ŝ2)·e + ||e||²  (and an unbiased x̃-gradient, J1ᵀŝ2 + J2ᵀŝ1 + (J1 + J2)ᵀe). */
static nis_tensor *target_sq(nis_ctx *c, const nis_target *t, nis_tensor *xt, nis_tensor *e) {
    nis_tensor *s1 = nis_target_score(c, t, xt, true);
    if (!t->stochastic) return sqnorm(c, nis_add(c, s1, e));
    nis_tensor *s2 = nis_target_score(c, t, xt, true);
    nis_tensor *cross = nis_sum_axis(c, nis_mul(c, s1, s2), 1, false);
    nis_tensor *lin = nis_sum_axis(c, nis_mul(c, nis_add(c, s1, s2), e), 1, false);
    return nis_add(c, nis_add(c, cross, lin), sqnorm(c, e));
}

/* ||s_q(x)||² (B,): the product of two independent draws for a stochastic target (see target_sq). */
static nis_tensor *target_norm2(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    nis_tensor *s1 = nis_target_score(c, t, x, true);
    if (!t->stochastic) return sqnorm(c, s1);
    return nis_sum_axis(c, nis_mul(c, s1, nis_target_score(c, t, x, true)), 1, false);
}

nis_tensor *nis_dft_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                              nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    nis_tensor *e = nis_mul_scalar(c, eps, 1.0 / sigma);
    nis_tensor *a = xt ? target_sq(c, t, xt, e) : NULL;
    nis_tensor *sp = xt ? score(c, ud, xt) : NULL;
    return report(nis_mean(c, nis_sub(c, a, sqnorm(c, nis_add(c, sp, e)))), monitor);
}

/* ||f(x̃) + ε/σ||² (B,), or its conditional expectation given x̃'s mean by Stein's identity,
 * E_ε<f(x0 + σε), ε/σ> = E_ε[div f(x0 + σε)]:  ||f||² + 2 div f + d/σ²  (same expectation for every x0, so the
 * same expected θ-gradient, without the 1/σ noise factor).  div_f is div f (B,) when exact, else unused. */
static nis_tensor *dft_term(nis_ctx *c, nis_tensor *f, nis_tensor *div_f, nis_tensor *e, double sigma, bool exact) {
    if (!exact) return sqnorm(c, nis_add(c, f, e));
    double d = (double)f->shape[1];
    return nis_add_scalar(c, nis_add(c, sqnorm(c, f), nis_mul_scalar(c, div_f, 2)), d / (sigma * sigma));
}

nis_tensor *nis_dft_stein_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                                    nis_score_fn score, void *ud, bool target_exact, bool score_exact,
                                    double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    nis_tensor *e = nis_mul_scalar(c, eps, 1.0 / sigma);
    nis_tensor *a;
    if (!xt) return NULL;
    if (target_exact) {   /* ||s_q||² + 2 Δ log q + d/σ²; the Laplacian is linear in log q: one draw is unbiased */
        nis_tensor *lap = nis_target_laplacian(c, t, xt, true);
        a = nis_add_scalar(c, nis_add(c, target_norm2(c, t, xt), nis_mul_scalar(c, lap, 2)),
                           (double)xt->shape[1] / (sigma * sigma));
    } else {
        a = target_sq(c, t, xt, e);
    }
    nis_tensor *sp = score(c, ud, xt);
    nis_tensor *divp = score_exact && sp ? divergence(c, sp, xt) : NULL;
    if (!a || !sp || (score_exact && !divp)) return NULL;
    nis_tensor *b = dft_term(c, sp, divp, e, sigma, score_exact);
    return report(nis_mean(c, nis_sub(c, a, b)), monitor);
}

nis_tensor *nis_smoothed_target_score(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *eta, double sigma) {
    if (!x || !eta) return NULL;
    int64_t B = x->shape[0], d = x->shape[1], K = eta->shape[0] / (B > 0 ? B : 1);
    if (eta->ndim != 2 || eta->shape[0] != B * K || eta->shape[1] != d || K < 1) {
        char a[64], b[64];
        nis_ctx_fail(c, NIS_ESHAPE, "smoothed_target_score: x %s and eta %s (need (B*K, d))", nis_shape_str(x, a, 64),
                     nis_shape_str(eta, b, 64));
        return NULL;
    }
    nis_tensor *y = nis_reshape(c, nis_broadcast_to(c, nis_reshape(c, x, 3, (int64_t[]){B, 1, d}), 3,
                                                    (int64_t[]){B, K, d}), 2, (int64_t[]){B * K, d});
    nis_tensor *xs = nis_add(c, y, nis_mul_scalar(c, eta, sigma));
    nis_tensor *lq = xs ? t->log_prob(c, t, xs) : NULL;
    nis_tensor *w = nis_softmax(c, nis_reshape(c, lq, 2, (int64_t[]){B, K}));
    nis_tensor *sq = nis_reshape(c, nis_target_score(c, t, xs, true), 3, (int64_t[]){B, K, d});
    return nis_sum_axis(c, nis_mul(c, nis_reshape(c, w, 3, (int64_t[]){B, K, 1}), sq), 1, false);
}

nis_tensor *nis_dft_smooth_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps,
                                     nis_tensor *eta, double sigma, bool laplace, nis_score_fn score, void *ud,
                                     double *monitor) {
    if (t->stochastic) {   /* self-normalised weights of noisy log q values: no cheap unbiased form */
        nis_ctx_fail(c, NIS_EINVAL, "dft_smooth_objective: target %s is stochastic (minibatch); use full batch",
                     t->name ? t->name : "?");
        return NULL;
    }
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    nis_tensor *e = nis_mul_scalar(c, eps, 1.0 / sigma);
    nis_tensor *sq = laplace ? nis_smoothed_target_score_laplace(c, t, xt, eta, sigma)
                             : nis_smoothed_target_score(c, t, xt, eta, sigma);
    nis_tensor *sp = xt ? score(c, ud, xt) : NULL;
    return report(nis_mean(c, nis_sub(c, sqnorm(c, nis_add(c, sq, e)), sqnorm(c, nis_add(c, sp, e)))), monitor);
}

/* The KL surrogate mean_b <v, x̃> for a constant v (B, d) (built without gradients); monitor mean_b ||v||². */
static nis_tensor *kl_surrogate(nis_ctx *c, nis_tensor *xt, nis_tensor *v, double *monitor) {
    nis_tensor *vv = nis_mean(c, sqnorm(c, v));
    nis_tensor *loss = nis_mean(c, nis_sum_axis(c, nis_mul(c, xt, v), 1, false));
    if (loss && monitor) *monitor = vv->data[0];
    return loss;
}

nis_tensor *nis_kl_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                             nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *xd = nis_detach(c, xt);
    nis_tensor *v = nis_sub(c, xd ? score(c, ud, xd) : NULL, nis_target_score(c, t, xd, false));
    nis_ctx_set_grad(c, saved);
    return kl_surrogate(c, xt, v, monitor);
}

nis_tensor *nis_dft_residual_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                                       nis_score_fn resid, void *ud, double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    nis_tensor *e = nis_mul_scalar(c, eps, 1.0 / sigma);
    nis_tensor *sq = nis_target_score(c, t, xt, true);
    nis_tensor *r = xt ? resid(c, ud, xt) : NULL;
    nis_tensor *cross = nis_sum_axis(c, nis_mul(c, nis_add(c, sq, e), r), 1, false);
    return report(nis_neg(c, nis_mean(c, nis_add(c, nis_mul_scalar(c, cross, 2), sqnorm(c, r)))), monitor);
}

nis_tensor *nis_kl_residual_objective(nis_ctx *c, nis_tensor *x0, nis_tensor *eps, double sigma, nis_score_fn resid,
                                      void *ud, double *monitor) {
    nis_tensor *xt = nis_add(c, x0, nis_mul_scalar(c, eps, sigma));
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *xd = nis_detach(c, xt);
    nis_tensor *v = xd ? resid(c, ud, xd) : NULL;
    nis_ctx_set_grad(c, saved);
    return kl_surrogate(c, xt, v, monitor);
}

nis_tensor *nis_fisher_objective(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_score_fn score, void *ud,
                                 double *monitor) {
    nis_tensor *sq2 = x ? target_norm2(c, t, x) : NULL;   /* unbiased for a stochastic target too */
    nis_tensor *lap = nis_target_laplacian(c, t, x, true);
    nis_tensor *sp = x ? score(c, ud, x) : NULL;
    nis_tensor *divp = sp ? divergence(c, sp, x) : NULL;
    nis_tensor *a = nis_add(c, sq2, nis_mul_scalar(c, lap, 2));
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
