/* src/train/losses.c — the trainer's losses: fresh noise, the MLP generator, and the objectives of
 * objectives.c with the MLP score network. */
#include "internal.h"
#include "nis/ops.h"

/* s_φ(x): the MLP's output, divided by σ when score_eps (then the network predicts -ε, of unit scale,
 * instead of a score of scale 1/σ). */
static nis_tensor *mlp_score(nis_ctx *c, void *ud, nis_tensor *x) {
    nis_trainer *tr = ud;
    nis_tensor *y = nis_mlp_forward(c, &tr->score, x);
    return tr->cfg.score_eps && tr->cfg.method != NIS_METHOD_FISHER ? nis_mul_scalar(c, y, 1.0 / tr->sigma) : y;
}

/* Fresh z and ε (antithetic as configured) and x0 = g(z), with the generator's graph if `graph`. */
static nis_tensor *draw(nis_trainer *tr, bool graph, nis_tensor **eps_out) {
    nis_ctx *c = tr->ctx;
    int64_t B = tr->cfg.batch;
    nis_tensor *z = nis_new2(c, B, tr->cfg.latent), *eps = nis_new2(c, B, tr->t->dim);
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
    nis_tensor *eps, *x0 = draw(tr, true, &eps);
    return x0 ? nis_dft_objective(tr->ctx, tr->t, x0, eps, tr->sigma, mlp_score, tr, monitor) : NULL;
}

nis_tensor *nis__kl_loss(nis_trainer *tr, double *monitor) {
    nis_tensor *eps, *x0 = draw(tr, true, &eps);
    return x0 ? nis_kl_objective(tr->ctx, tr->t, x0, eps, tr->sigma, mlp_score, tr, monitor) : NULL;
}

nis_tensor *nis__fisher_loss(nis_trainer *tr, double *monitor) {
    nis_tensor *eps, *x0 = draw(tr, true, &eps);
    return x0 ? nis_fisher_objective(tr->ctx, tr->t, x0, mlp_score, tr, monitor) : NULL;
}
