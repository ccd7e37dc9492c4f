/* src/targets/laplace.c — the Laplace approximation N(m, Σ) of a target: Newton's method on log q to a mode m,
 * then Σ = (-∇² log q(m))⁻¹ from Hessian-vector products (a whitening in seconds instead of a pilot run). */
#include "core/linalg.h"
#include "nis/target.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { HVP_ROWS = 64 };   /* rows of e_i per batched HVP call: bounds the tape at 64 copies of one evaluation */

/* log q (lq), score (g, d) and the Hessian's negative (nH, d x d, row-major, symmetrised) at x (d), in double.
 * xs and eye are scratch (HVP_ROWS x d each). */
static nis_status eval_at(nis_ctx *c, const nis_target *t, const double *x, double *lq, double *g, double *nH,
                          nis_real *xs, nis_real *eye) {
    const int64_t d = t->dim;
    for (int64_t r = 0; r < HVP_ROWS && r < d; r++)
        for (int64_t i = 0; i < d; i++) xs[r * d + i] = (nis_real)x[i];
    nis_tensor *x1 = nis_tensor_wrap(c, 2, (int64_t[]){1, d}, xs);
    nis_tensor *l = t->log_prob(c, t, x1), *s = nis_target_score(c, t, x1, false);
    if (!l || !s) return nis_ctx_status(c);
    *lq = l->data[0];
    for (int64_t i = 0; i < d; i++) g[i] = s->data[i];
    nis_ctx_reset(c);
    for (int64_t r0 = 0; r0 < d; r0 += HVP_ROWS) {   /* rows r0.. of the Hessian: H e_r */
        int64_t nr = d - r0 < HVP_ROWS ? d - r0 : HVP_ROWS;
        memset(eye, 0, (size_t)(nr * d) * sizeof *eye);
        for (int64_t r = 0; r < nr; r++) eye[r * d + r0 + r] = 1;
        nis_tensor *h = nis_target_hvp(c, t, nis_tensor_wrap(c, 2, (int64_t[]){nr, d}, xs),
                                       nis_tensor_wrap(c, 2, (int64_t[]){nr, d}, eye));
        if (!h) return nis_ctx_status(c);
        for (int64_t k = 0; k < nr * d; k++) nH[r0 * d + k] = -(double)h->data[k];
        nis_ctx_reset(c);
    }
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < i; j++) nH[i * d + j] = nH[j * d + i] = 0.5 * (nH[i * d + j] + nH[j * d + i]);
    bool finite = isfinite(*lq);
    for (int64_t i = 0; i < d * d; i++) finite = finite && isfinite(nH[i]);
    for (int64_t i = 0; i < d; i++) finite = finite && isfinite(g[i]);
    return finite ? NIS_OK : NIS_ENUMERIC;
}

static double log_q_at(nis_ctx *c, const nis_target *t, const double *x, nis_real *xs) {
    for (int64_t i = 0; i < t->dim; i++) xs[i] = (nis_real)x[i];
    nis_tensor *l = t->log_prob(c, t, nis_tensor_wrap(c, 2, (int64_t[]){1, t->dim}, xs));
    double v = l && isfinite(l->data[0]) ? l->data[0] : -INFINITY;
    nis_ctx_reset(c);
    return v;
}

nis_status nis_laplace_fit(const nis_target *t, const nis_real *start, nis_real *mean, nis_real *L,
                           nis_laplace_info *info, char *err, size_t errlen) {
    if (!t || t->dim < 1 || !t->log_prob || !mean || !L) {
        snprintf(err, errlen, "laplace: needs a target, mean and L");
        return NIS_EINVAL;
    }
    if (t->stochastic) {
        snprintf(err, errlen, "laplace: %s is a random estimate (minibatch); the fit needs the exact log q", t->name);
        return NIS_EINVAL;
    }
    const int64_t d = t->dim, rows = d < HVP_ROWS ? d : HVP_ROWS;
    nis_laplace_info in = {0};
    double *x = nis_calloc((size_t)(4 * d + 2 * d * d), sizeof(double));
    double *g = x ? x + d : NULL, *step = x ? x + 2 * d : NULL, *w = x ? x + 3 * d : NULL;
    double *nH = x ? x + 4 * d : NULL, *V = x ? nH + d * d : NULL;
    nis_real *xs = nis_malloc((size_t)(2 * rows * d) * sizeof *xs), *eye = xs ? xs + rows * d : NULL;
    nis_ctx *c = nis_ctx_new(0);
    nis_status st = x && xs && c ? NIS_OK : NIS_ENOMEM;
    if (st != NIS_OK) snprintf(err, errlen, "laplace: out of memory for dimension %lld", (long long)d);
    if (st == NIS_OK && start)
        for (int64_t i = 0; i < d; i++) x[i] = start[i];
    else if (st == NIS_OK && t->mode) {   /* the target's own (rough) mode: Newton from there converges in a few */
        st = t->mode(t, xs, err, errlen);
        for (int64_t i = 0; i < d; i++) x[i] = xs[i];
    }
    /* Newton's method with the Hessian's eigenvalues made positive (|λ|, floored at 1e-8 of the largest) and
     * backtracking; stops when the predicted gain gᵀ(-H)⁻¹g / 2 is below 1e-12 (nats), or log q stops rising */
    double lq = -INFINITY;
    for (int it = 0; st == NIS_OK; it++) {
        if ((st = eval_at(c, t, x, &lq, g, nH, xs, eye)) != NIS_OK) {
            snprintf(err, errlen, "laplace: %s at Newton iteration %d",
                     st == NIS_ENUMERIC && !nis_ctx_message(c)[0] ? "log q, its score or its Hessian is not finite"
                                                                  : nis_ctx_message(c), it);
            break;
        }
        memcpy(V, nH, (size_t)(d * d) * sizeof *V);
        if ((st = nis__sym_eig(V, d, w, true, "laplace", err, errlen)) != NIS_OK) break;
        double lmax = fmax(fabs(w[0]), fabs(w[d - 1])), gain = 0, gn = 0;
        in.min_curv = w[0], in.max_curv = w[d - 1], in.log_q = lq, in.iters = it;
        for (int64_t i = 0; i < d; i++) gn += g[i] * g[i];
        in.grad_norm = sqrt(gn);
        for (int64_t i = 0; i < d; i++) step[i] = 0;
        for (int64_t k = 0; k < d; k++) {   /* step = V diag(1/λ') Vᵀ g */
            double p = 0, lam = fmax(fabs(w[k]), 1e-8 * lmax);
            for (int64_t i = 0; i < d; i++) p += V[i + k * d] * g[i];
            gain += p * p / lam;
            for (int64_t i = 0; i < d; i++) step[i] += V[i + k * d] * p / lam;
        }
        if (!(lmax > 0)) {
            snprintf(err, errlen, "laplace: the Hessian of log q is zero at Newton iteration %d", it);
            st = NIS_ENUMERIC;
            break;
        }
        if (gain / 2 < 1e-12 || it == 100) break;
        double f = 1, lq2 = -INFINITY;
        for (int k = 0; k < 40; k++, f /= 2) {
            for (int64_t i = 0; i < d; i++) w[i] = x[i] + f * step[i];   /* w: the trial point (scratch) */
            if ((lq2 = log_q_at(c, t, w, xs)) >= lq) break;
        }
        if (!(lq2 >= lq)) break;   /* no ascent along Newton's direction: float precision's floor */
        memcpy(x, w, (size_t)d * sizeof *x);
    }
    if (st == NIS_OK) {   /* L = V diag(λ^-1/2) Vᵀ with the eigenvalues of -H at the mode, floored as above */
        memcpy(V, nH, (size_t)(d * d) * sizeof *V);
        st = nis__sym_eig(V, d, w, true, "laplace", err, errlen);
        double lmax = w[d - 1];
        in.min_curv = w[0], in.max_curv = lmax;
        if (st == NIS_OK && !(lmax > 0)) {
            snprintf(err, errlen, "laplace: log q has no curvature at its mode (the largest eigenvalue of -H is %g)",
                     lmax);
            st = NIS_ENUMERIC;
        }
        for (int64_t k = 0; st == NIS_OK && k < d; k++) {
            if (w[k] < 1e-8 * lmax) in.floored++;
            w[k] = 1 / sqrt(fmax(w[k], 1e-8 * lmax));
        }
        for (int64_t i = 0; st == NIS_OK && i < d; i++) {
            mean[i] = (nis_real)x[i];
            for (int64_t j = 0; j < d; j++) {
                double s = 0;
                for (int64_t k = 0; k < d; k++) s += V[i + k * d] * w[k] * V[j + k * d];
                L[i * d + j] = (nis_real)s;
            }
        }
    }
    if (info) *info = in;
    nis_ctx_free(c);
    nis_free(x), nis_free(xs);
    return st;
}
