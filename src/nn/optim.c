/* src/nn/optim.c — Adam / AdamW and SGD (momentum, dampening, Nesterov) as in torch.optim, each one loop
 * over the flat parameter buffer.  Scalars that depend on the step (bias corrections) are computed in double
 * and cast once; the per-element arithmetic runs in nis_real, as PyTorch's runs in the parameter's dtype. */
#include "core/op.h" /* NIS_PAR_MIN, <tgmath.h> */
#include "nis/nn.h"

nis_adam nis_adam_default(double lr) {
    return (nis_adam){.lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0};
}

nis_sgd nis_sgd_default(double lr) { return (nis_sgd){.lr = lr}; }

/* p, g, m, v: (n,).  One Adam step with step size a = lr / (1 - b1^t), bias correction c2 = sqrt(1 - b2^t),
 * decay = weight decay folded into g (L2, wd) or applied to p (decoupled, p *= keep).  The weights of the
 * moving averages come in pairs (b1, 1 - b1) each rounded from double, as PyTorch passes them: 1 - (float)b2
 * would be off from 1 - b2 by 1e-5 relative, and the bias correction with it. */
NIS_VECTOR_CLONES static void adam_kernel(nis_real *restrict p, const nis_real *restrict g, nis_real *restrict m,
                        nis_real *restrict v, int64_t n, nis_real b1, nis_real one_b1, nis_real b2,
                        nis_real one_b2, nis_real a, nis_real c2, nis_real eps, nis_real wd, nis_real keep) {
    /* SIMD in both branches: gcc leaves the serial path of `parallel for simd if (...)` scalar */
#define ADAM_BODY                                                                                           \
    {                                                                                                       \
        nis_real pi = p[i] * keep, gi = g[i] + wd * pi;                                                     \
        m[i] = b1 * m[i] + one_b1 * gi;                                                                     \
        v[i] = b2 * v[i] + one_b2 * gi * gi;                                                                \
        p[i] = pi - a * m[i] / (sqrt(v[i]) / c2 + eps);                                                     \
    }
    if (n > NIS_PAR_MIN) {
#pragma omp parallel for simd schedule(static)
        for (int64_t i = 0; i < n; i++) ADAM_BODY
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) ADAM_BODY
    }
#undef ADAM_BODY
}

nis_status nis_adam_step(nis_adam *opt, nis_params *P) {
    if (P->status != NIS_OK) return P->status;
    if (!(opt->lr >= 0) || !(opt->beta1 >= 0 && opt->beta1 < 1) || !(opt->beta2 >= 0 && opt->beta2 < 1) ||
        !(opt->eps >= 0) || !(opt->weight_decay >= 0))
        return nis_params_fail(P, NIS_EINVAL,
                               "adam: bad hyper-parameters (lr %g, betas %g %g, eps %g, wd %g)", opt->lr,
                               opt->beta1, opt->beta2, opt->eps, opt->weight_decay);
    nis_status st = nis_params_alloc_moments(P, true);
    if (st != NIS_OK) return st;
    int64_t t = ++opt->step;
    double a = opt->lr / (1 - pow(opt->beta1, (double)t)), c2 = sqrt(1 - pow(opt->beta2, (double)t));
    double wd = opt->decoupled ? 0 : opt->weight_decay,
           keep = opt->decoupled ? 1 - opt->lr * opt->weight_decay : 1;
    adam_kernel(P->data, P->grad, P->m, P->v, P->n, (nis_real)opt->beta1, (nis_real)(1 - opt->beta1),
                (nis_real)opt->beta2, (nis_real)(1 - opt->beta2), (nis_real)a, (nis_real)c2,
                (nis_real)opt->eps, (nis_real)wd, (nis_real)keep);
    return NIS_OK;
}

/* p, g, buf: (n,).  One SGD step; mom = 0 skips the momentum buffer, first: buf := g; one_damp = 1 - damp. */
static void sgd_kernel(nis_real *restrict p, const nis_real *restrict g, nis_real *restrict buf, int64_t n,
                       nis_real lr, nis_real mom, nis_real one_damp, nis_real wd, bool nesterov, bool first) {
    NIS_PAR_FOR(n > NIS_PAR_MIN, i, n, {
        nis_real d = g[i] + wd * p[i];
        if (mom != 0) {
            buf[i] = first ? d : mom * buf[i] + one_damp * d;
            d = nesterov ? d + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    });
}

nis_status nis_sgd_step(nis_sgd *opt, nis_params *P) {
    if (P->status != NIS_OK) return P->status;
    if (!(opt->lr >= 0) || !(opt->momentum >= 0) || !(opt->weight_decay >= 0) || !isfinite(opt->dampening))
        return nis_params_fail(P, NIS_EINVAL,
                               "sgd: bad hyper-parameters (lr %g, momentum %g, dampening %g, wd %g)", opt->lr,
                               opt->momentum, opt->dampening, opt->weight_decay);
    if (opt->nesterov && (opt->momentum <= 0 || opt->dampening != 0))
        return nis_params_fail(P, NIS_EINVAL,
                               "sgd: Nesterov momentum requires a momentum and zero dampening");
    if (!P->finalized) return nis_params_fail(P, NIS_ESTATE, "sgd: step before finalize");
    if (opt->momentum != 0) {
        nis_status st = nis_params_alloc_moments(P, false);
        if (st != NIS_OK) return st;
    }
    bool first = opt->step == 0;
    opt->step++;
    sgd_kernel(P->data, P->grad, P->m, P->n, (nis_real)opt->lr, (nis_real)opt->momentum,
               (nis_real)(1 - opt->dampening), (nis_real)opt->weight_decay, opt->nesterov, first);
    return NIS_OK;
}
