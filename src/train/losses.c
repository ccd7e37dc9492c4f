/* src/train/losses.c — the trainer's losses: fresh noise, the MLP generator, and the objectives of
 * objectives.c with the MLP score network. */
#include "internal.h"
#include "nis/ops.h"

/* The network part of s_φ at x: the MLP's output, divided by σ when score_eps (then the network predicts -ε,
 * of unit scale, instead of a score of scale 1/σ).  With score_residual this is r_φ, and s_φ = s_q + r_φ. */
static nis_tensor *net_score(nis_ctx *c, void *ud, nis_tensor *x) {
    nis_trainer *tr = ud;
    nis_tensor *y;
    if (tr->cfg.score_energy) {   /* y = -∇_x E(x), kept differentiable (in x and in φ) */
        if (!x) return NULL;
        bool saved = nis_ctx_set_grad(c, true);
        nis_tensor *xr = x->requires_grad ? x : nis_requires_grad(nis_detach(c, x));
        nis_tensor *E = xr ? nis_mlp_forward(c, &tr->score[tr->lvl], xr) : NULL, *g = NULL;
        if (E && nis_grad(c, 1, &E, NULL, 1, &xr, true, &g) != NIS_OK) g = NULL;
        nis_ctx_set_grad(c, saved);
        y = nis_neg(c, g);
    } else {
        y = nis_mlp_forward(c, &tr->score[tr->lvl], x);
    }
    return tr->cfg.score_eps && tr->cfg.method != NIS_METHOD_FISHER ? nis_mul_scalar(c, y, 1.0 / tr->sigma) : y;
}

/* s_φ(x): net_score, plus s_q(x) with score_residual (differentiable in x when x requires grad). */
static nis_tensor *mlp_score(nis_ctx *c, void *ud, nis_tensor *x) {
    nis_trainer *tr = ud;
    nis_tensor *y = net_score(c, ud, x);
    if (!tr->cfg.score_residual || !y) return y;
    return nis_add(c, y, nis_target_score(c, tr->q, x, x->requires_grad));
}

/* KDE score of the pool P (N, d) with bandwidth σ at x (B, d):  s(x) = (softmax_j(<x, P_j>/σ² - |P_j|²/(2σ²)) P - x)/σ²,
 * the score of (1/N) Σ_j N(x; P_j, σ² I); differentiable in x. */
static nis_tensor *kde_score(nis_ctx *c, void *ud, nis_tensor *x) {
    nis_trainer *tr = ud;
    double is2 = 1.0 / (tr->sigma * tr->sigma);
    nis_tensor *P = tr->kde_pool;
    nis_tensor *half = nis_mul_scalar(c, nis_reshape(c, nis_sum_axis(c, nis_square(c, P), 1, false), 2,
                                                     (int64_t[]){1, P->shape[0]}), 0.5 * is2);
    nis_tensor *w = nis_softmax(c, nis_sub(c, nis_mul_scalar(c, nis_matmul(c, x, P, false, true), is2), half));
    return nis_mul_scalar(c, nis_sub(c, nis_matmul(c, w, P, false, false), x), is2);
}

/* A fresh detached pool of cfg.score_kde generator samples for kde_score. */
static bool draw_pool(nis_trainer *tr) {
    nis_ctx *c = tr->ctx;
    int64_t N = tr->cfg.score_kde;
    nis_tensor *z = nis_new2(c, N, tr->cfg.latent);
    if (!z) return false;
    nis_rng_fill_normal(&tr->rng, z->data, z->n, 0, 1);
    bool saved = nis_ctx_set_grad(c, false);
    tr->kde_pool = nis_mlp_forward(c, &tr->gen, z);
    nis_ctx_set_grad(c, saved);
    return tr->kde_pool != NULL;
}

/* Fresh z and ε (antithetic as configured) and x0 = g(z), with the generator's graph if `graph`. */
static nis_tensor *draw(nis_trainer *tr, bool graph, nis_tensor **eps_out) {
    nis_ctx *c = tr->ctx;
    int64_t B = tr->cfg.batch;
    nis_tensor *z = nis_new2(c, B, tr->cfg.latent), *eps = nis_new2(c, B, tr->q->dim);
    if (!z || !eps) return NULL;
    nis__draw_noise(tr, z, eps);
    *eps_out = eps;
    bool saved = nis_ctx_set_grad(c, graph);
    nis_tensor *x0 = nis_mlp_forward(c, &tr->gen, z);
    nis_ctx_set_grad(c, saved);
    return x0;
}

nis_tensor *nis__dsm_loss(nis_trainer *tr, double *monitor) {
    nis_tensor *eps, *x0 = draw(tr, false, &eps);
    return x0 ? nis_dsm_objective(tr->ctx, x0, eps, tr->sigma, mlp_score, tr, monitor) : NULL;
}

nis_tensor *nis__ssm_loss(nis_trainer *tr, double *monitor) {
    nis_tensor *eps, *x0 = draw(tr, false, &eps);
    return x0 ? nis_ssm_objective(tr->ctx, x0, mlp_score, tr, monitor) : NULL;
}

nis_tensor *nis__dft_loss(nis_trainer *tr, double *monitor) {
    if (tr->cfg.score_kde > 0 && !draw_pool(tr)) return NULL;
    nis_score_fn sf = tr->cfg.score_kde > 0 ? kde_score : mlp_score;
    nis_tensor *eps, *x0 = draw(tr, true, &eps);
    if (!x0) return NULL;
    if (tr->cfg.target_smooth > 0) {
        int64_t K = tr->cfg.target_smooth, n = x0->shape[0] * K;
        nis_tensor *eta = nis_new2(tr->ctx, n, tr->q->dim);
        if (!eta) return NULL;
        /* antithetic inner draws (η, -η) for each point when K is even */
        int64_t d = tr->q->dim, h = K % 2 ? K : K / 2;
        for (int64_t b = 0; b < x0->shape[0]; b++) {
            nis_real *e = eta->data + b * K * d;
            nis_rng_fill_normal(&tr->rng, e, h * d, 0, 1);
            for (int64_t i = 0; i < (K - h) * d; i++) e[h * d + i] = -e[i];
        }
        return nis_dft_smooth_objective(tr->ctx, tr->q, x0, eps, eta, tr->sigma, tr->cfg.smooth_laplace, sf, tr,
                                        monitor);
    }
    if (tr->cfg.score_residual && !tr->cfg.stein_target && !tr->cfg.stein_score)   /* (never with score_kde) */
        return nis_dft_residual_objective(tr->ctx, tr->q, x0, eps, tr->sigma, net_score, tr, monitor);
    if (tr->cfg.stein_target || tr->cfg.stein_score)
        return nis_dft_stein_objective(tr->ctx, tr->q, x0, eps, tr->sigma, sf, tr, tr->cfg.stein_target,
                                       tr->cfg.stein_score, monitor);
    return nis_dft_objective(tr->ctx, tr->q, x0, eps, tr->sigma, sf, tr, monitor);
}

nis_tensor *nis__kl_loss(nis_trainer *tr, double *monitor) {
    if (tr->cfg.score_kde > 0 && !draw_pool(tr)) return NULL;
    nis_score_fn sf = tr->cfg.score_kde > 0 ? kde_score : mlp_score;
    nis_tensor *eps, *x0 = draw(tr, true, &eps);
    if (x0 && tr->cfg.score_residual)   /* (never with score_kde) */
        return nis_kl_residual_objective(tr->ctx, x0, eps, tr->sigma, net_score, tr, monitor);
    return x0 ? nis_kl_objective(tr->ctx, tr->q, x0, eps, tr->sigma, sf, tr, monitor) : NULL;
}

nis_tensor *nis__fisher_loss(nis_trainer *tr, double *monitor) {
    nis_tensor *eps, *x0 = draw(tr, true, &eps);
    return x0 ? nis_fisher_objective(tr->ctx, tr->q, x0, mlp_score, tr, monitor) : NULL;
}
