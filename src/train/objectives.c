/* src/train/objectives.c — the losses of DFT, KL and Fisher training and of score matching, for any
 * generator and score model (docs/dft.md has the derivations).
 *
 * Shapes: x0 = g_θ(z) (B, d), ε (B, d), x̃ = x0 + σ ε (B, d); per-sample sums over d, means over the batch.
 * At the bottom, the built-in objectives (nis_objective): the losses of one update from a nis_train_step.
 */
#include "internal.h"
#include "nis/ops.h"

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

/* The noise of a draw: per-row levels sig (B, 1), or σ for every row (sig NULL).  x̃ = x0 + σ_b ε (B, d), e = ε/σ_b
 * (B, d), and the weight (σ_b/σ)² (B,) that puts every level's loss on the scale of the base level σ (NULL: 1). */
static nis_tensor *noisy(nis_ctx *c, nis_tensor *x0, nis_tensor *eps, double sigma, nis_tensor *sig) {
    return nis_add(c, x0, sig ? nis_mul(c, eps, sig) : nis_mul_scalar(c, eps, sigma));
}
static nis_tensor *scaled_noise(nis_ctx *c, nis_tensor *eps, double sigma, nis_tensor *sig) {
    return sig ? nis_div(c, eps, sig) : nis_mul_scalar(c, eps, 1.0 / sigma);
}
static nis_tensor *weighted_mean(nis_ctx *c, nis_tensor *per_row, double sigma, nis_tensor *sig) {
    if (!sig) return nis_mean(c, per_row);
    nis_tensor *w = nis_square(c, nis_mul_scalar(c, nis_reshape(c, sig, 1, (int64_t[]){sig->shape[0]}), 1.0 / sigma));
    return nis_mean(c, nis_mul(c, per_row, w));
}

/* ||s_q(x̃) + e||² (B,) with e = ε/σ, with create_graph (its x̃-gradient is an HVP).  For a stochastic target
 * (ŝ a fresh unbiased estimate per call) the square of one draw is biased by tr Var ŝ; two independent draws
 * give the unbiased  ŝ1·ŝ2 + (ŝ1 + ŝ2)·e + ||e||²  (and an unbiased x̃-gradient, J1ᵀŝ2 + J2ᵀŝ1 + (J1 + J2)ᵀe). */
static nis_tensor *target_sq(nis_ctx *c, const nis_target *t, nis_tensor *xt, nis_tensor *sig, nis_tensor *e) {
    nis_tensor *s1 = nis_target_score_at(c, t, xt, sig, true);
    if (!t->stochastic) return sqnorm(c, nis_add(c, s1, e));
    nis_tensor *s2 = nis_target_score_at(c, t, xt, sig, true);
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
                              nis_tensor *sig, nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = noisy(c, x0, eps, sigma, sig);
    nis_tensor *e = scaled_noise(c, eps, sigma, sig);
    nis_tensor *a = xt ? target_sq(c, t, xt, sig, e) : NULL;
    nis_tensor *sp = xt ? score(c, ud, xt, sig) : NULL;
    return report(weighted_mean(c, nis_sub(c, a, sqnorm(c, nis_add(c, sp, e))), sigma, sig), monitor);
}

/* The KL surrogate mean_b w_b <v, x̃> for a constant v (B, d) (built without gradients); monitor mean_b w_b ||v||². */
static nis_tensor *kl_surrogate(nis_ctx *c, nis_tensor *xt, nis_tensor *v, double sigma, nis_tensor *sig,
                                double *monitor) {
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *vv = weighted_mean(c, sqnorm(c, v), sigma, sig);
    nis_ctx_set_grad(c, saved);
    nis_tensor *loss = weighted_mean(c, nis_sum_axis(c, nis_mul(c, xt, v), 1, false), sigma, sig);
    if (loss && vv && monitor) *monitor = vv->data[0];
    return loss;
}

nis_tensor *nis_kl_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                             nis_tensor *sig, nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = noisy(c, x0, eps, sigma, sig);
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *xd = nis_detach(c, xt);
    nis_tensor *v = nis_sub(c, xd ? score(c, ud, xd, sig) : NULL, nis_target_score_at(c, t, xd, sig, false));
    nis_ctx_set_grad(c, saved);
    return kl_surrogate(c, xt, v, sigma, sig, monitor);
}

nis_tensor *nis_dft_residual_objective(nis_ctx *c, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                                       nis_tensor *sig, nis_score_fn resid, void *ud, double *monitor) {
    nis_tensor *xt = noisy(c, x0, eps, sigma, sig);
    nis_tensor *e = scaled_noise(c, eps, sigma, sig);
    nis_tensor *sq = nis_target_score_at(c, t, xt, sig, true);
    nis_tensor *r = xt ? resid(c, ud, xt, sig) : NULL;
    nis_tensor *cross = nis_sum_axis(c, nis_mul(c, nis_add(c, sq, e), r), 1, false);
    return report(nis_neg(c, weighted_mean(c, nis_add(c, nis_mul_scalar(c, cross, 2), sqnorm(c, r)), sigma, sig)),
                  monitor);
}

nis_tensor *nis_kl_residual_objective(nis_ctx *c, nis_tensor *x0, nis_tensor *eps, double sigma, nis_tensor *sig,
                                      nis_score_fn resid, void *ud, double *monitor) {
    nis_tensor *xt = noisy(c, x0, eps, sigma, sig);
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *xd = nis_detach(c, xt);
    nis_tensor *v = xd ? resid(c, ud, xd, sig) : NULL;
    nis_ctx_set_grad(c, saved);
    return kl_surrogate(c, xt, v, sigma, sig, monitor);
}

nis_tensor *nis_fisher_objective(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_score_fn score, void *ud,
                                 double *monitor) {
    nis_tensor *sq2 = x ? target_norm2(c, t, x) : NULL;   /* unbiased for a stochastic target too */
    nis_tensor *lap = nis_target_laplacian(c, t, x, true);
    nis_tensor *sp = x ? score(c, ud, x, NULL) : NULL;
    nis_tensor *divp = sp ? divergence(c, sp, x) : NULL;
    nis_tensor *a = nis_add(c, sq2, nis_mul_scalar(c, lap, 2));
    nis_tensor *b = nis_add(c, sqnorm(c, sp), nis_mul_scalar(c, divp, 2));
    return report(nis_mean(c, nis_sub(c, a, b)), monitor);
}

nis_tensor *nis_dsm_objective(nis_ctx *c, nis_tensor *x0, nis_tensor *eps, double sigma, nis_tensor *sig,
                              nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *xt = nis_detach(c, noisy(c, x0, eps, sigma, sig));
    nis_tensor *target = scaled_noise(c, eps, sigma, sig);
    nis_tensor *sp = xt ? score(c, ud, xt, sig) : NULL;
    return report(weighted_mean(c, sqnorm(c, nis_add(c, sp, target)), sigma, sig), monitor);
}

nis_tensor *nis_ssm_objective(nis_ctx *c, nis_tensor *x0, nis_score_fn score, void *ud, double *monitor) {
    nis_tensor *x = nis_requires_grad(nis_detach(c, x0));
    nis_tensor *s = x ? score(c, ud, x, NULL) : NULL;
    return report(nis_mean(c, nis_add(c, sqnorm(c, s), nis_mul_scalar(c, s ? divergence(c, s, x) : NULL, 2))),
                  monitor);
}

/* ---- the built-in objectives: one update's losses from its nis_train_step ------------------------------------ */

/* Denoising score matching at the step's σ on fresh detached samples (DFT, KL). */
static nis_tensor *dsm_loss(const nis_train_step *s, double *monitor) {
    nis_tensor *eps, *sig, *x0 = nis_train_draw(s, false, &eps, &sig);
    return x0 ? nis_dsm_objective(s->ctx, x0, eps, s->sigma, sig, s->score, (void *)s, monitor) : NULL;
}

/* Exact score matching on fresh detached samples (Fisher). */
static nis_tensor *ssm_loss(const nis_train_step *s, double *monitor) {
    nis_tensor *eps, *x0 = nis_train_draw(s, false, &eps, NULL);
    return x0 ? nis_ssm_objective(s->ctx, x0, s->score, (void *)s, monitor) : NULL;
}

static nis_tensor *kl_loss(const nis_train_step *s, double *monitor) {
    nis_tensor *eps, *sig, *x0 = nis_train_draw(s, true, &eps, &sig);
    if (x0 && s->resid) return nis_kl_residual_objective(s->ctx, x0, eps, s->sigma, sig, s->resid, (void *)s, monitor);
    return x0 ? nis_kl_objective(s->ctx, s->q, x0, eps, s->sigma, sig, s->score, (void *)s, monitor) : NULL;
}

/* DFT, plus kl_weight times KL's loss on a draw of its own (the hybrid; its monitor stays DFT's). */
static nis_tensor *dft_loss(const nis_train_step *s, double *monitor) {
    nis_tensor *eps, *sig, *x0 = nis_train_draw(s, true, &eps, &sig), *loss;
    if (!x0) return NULL;
    loss = s->resid ? nis_dft_residual_objective(s->ctx, s->q, x0, eps, s->sigma, sig, s->resid, (void *)s, monitor)
                    : nis_dft_objective(s->ctx, s->q, x0, eps, s->sigma, sig, s->score, (void *)s, monitor);
    if (loss && s->cfg->kl_weight > 0) {
        double m_kl;
        loss = nis_add(s->ctx, loss, nis_mul_scalar(s->ctx, kl_loss(s, &m_kl), s->cfg->kl_weight));
    }
    return loss;
}

static nis_tensor *fisher_loss(const nis_train_step *s, double *monitor) {
    nis_tensor *eps, *x0 = nis_train_draw(s, true, &eps, NULL);
    return x0 ? nis_fisher_objective(s->ctx, s->q, x0, s->score, (void *)s, monitor) : NULL;
}

const nis_objective *nis_objective_builtin(nis_method m) {
    static const nis_objective obj[3] = {
        {"dft", dsm_loss, dft_loss},
        {"kl", dsm_loss, kl_loss},
        {"fisher", ssm_loss, fisher_loss},
    };
    return (int)m >= 0 && (int)m < 3 ? &obj[m] : NULL;
}
