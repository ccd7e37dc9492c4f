/* src/train/smooth_score.c — the score of the smoothed target q_σ = q * N(0, σ² I) by importance sampling
 * from a local Laplace proposal (used by DFT against the smoothed target, nis_dft_smooth_objective).
 *
 * ∇ log q_σ(x) = E_π[s_q(X)] with π(X | x) ∝ q(X) N(X; x, σ² I).  Where q is thinner than σ (a ridge, a
 * funnel's neck) the prior proposal N(x, σ² I) puts almost every draw off the ridge and the self-normalised
 * estimate needs thousands of draws.  Here the proposal is a defensive mixture: half of the draws from the
 * Laplace approximation of π at x — precision σ⁻² I + H⁺ (H⁺: the Hessian of −log q at x with negative
 * eigenvalues clipped to 0), mean one Newton step x + Σ s_q(x), covariance inflated by κ = 2 — and half from
 * N(x, σ² I), which keeps the weights bounded where the Laplace step is poor.
 *
 * Since E_π[s_q(X)] = E_π[(X − x)/σ²] (Tweedie), each draw contributes the control-variate combination
 * u_k = A s_q(X_k) + (I − A)(X_k − x)/σ² with A = Σ/σ² (Σ the Laplace covariance): s_q varies most across
 * thin directions and (X − x)/σ² across broad ones, and for a Gaussian q u_k does not vary at all.
 * The draws X_k, their proposal density and A are constants (computed from x's value without a graph):
 *     ŝ(x) = Σ_k w_k u_k(x),   w = softmax_k(log q(X_k) − log r(X_k) − |X_k − x|² / (2σ²)).
 * For fixed draws this is a consistent estimate of ∇ log q_σ in a neighbourhood of x, and its Jacobian a
 * consistent estimate of ∇² log q_σ, so the sampler gradient needs no double backward through q: log q and
 * s_q are evaluated once per draw (tests/test_smooth_laplace_f64.c: exact on a Gaussian; on rosenbrock
 * K = 64 agrees with the prior-proposal estimate at K = 65536 to 1%). */
#include "core/linalg.h"
#include "nis/ops.h"
#include "nis/train.h"

#include <math.h>
#include <string.h>

#define KAPPA 2.0

/* Draws and their constant log-weight parts for one row: x (d) the point, s (d) s_q(x), H (d x d) the
 * Hessian of −log q at x (overwritten by A = Σ/σ², Σ the Laplace covariance before inflation), eta (K x d)
 * standard normal.  Writes X (K x d) and c (K) with c_k = −log r(X_k) up to a per-row constant, r the
 * mixture proposal. */
static nis_status row_proposal(const nis_real *x, const double *s, double *H, const nis_real *eta, int64_t K,
                               int d, double sigma, double *work, nis_real *X, double *c, char *err, size_t errlen) {
    double *lam = work, *V = work + d, *prec = V + d * d, *m = prec + d, *u = m + d;
    memcpy(V, H, sizeof(double) * (size_t)(d * d));
    nis_status st = nis__sym_eig(V, d, lam, true, "smoothed_target_score_laplace", err, errlen);
    if (st != NIS_OK) return st;
    for (int i = 0; i < d; i++)   /* column-major eigenvectors -> V[i d + j] = component i of eigenvector j */
        for (int j = 0; j < i; j++) {
            double a = V[i * d + j];
            V[i * d + j] = V[j * d + i], V[j * d + i] = a;
        }
    double is2 = 1 / (sigma * sigma), logdet_l = 0, logdet_p = 2 * d * log(sigma);
    for (int i = 0; i < d; i++) {
        prec[i] = is2 + (lam[i] > 0 ? lam[i] : 0);   /* eigenvalues of Σ⁻¹ */
        logdet_l += log(KAPPA / prec[i]);
    }
    for (int i = 0; i < d; i++) {   /* m = x + V diag(1/prec) Vᵀ s */
        double a = 0;
        for (int j = 0; j < d; j++) a += V[j * d + i] * s[j];
        u[i] = a / prec[i];
    }
    for (int i = 0; i < d; i++) {
        double a = 0;
        for (int j = 0; j < d; j++) a += V[i * d + j] * u[j];
        m[i] = x[i] + a;
    }
    for (int i = 0; i < d; i++)   /* A = V diag(σ⁻² / prec) Vᵀ */
        for (int j = 0; j < d; j++) {
            double a = 0;
            for (int k = 0; k < d; k++) a += V[i * d + k] * (is2 / prec[k]) * V[j * d + k];
            H[i * d + j] = a;
        }
    int64_t half = K / 2;
    for (int64_t k = 0; k < K; k++) {
        const nis_real *e = eta + k * d;
        nis_real *xk = X + k * d;
        if (k < half) {   /* Laplace: X = m + V diag(sqrt(κ/prec)) η */
            for (int i = 0; i < d; i++) {
                double a = 0;
                for (int j = 0; j < d; j++) a += V[i * d + j] * sqrt(KAPPA / prec[j]) * e[j];
                xk[i] = (nis_real)(m[i] + a);
            }
        } else {          /* prior: X = x + σ η */
            for (int i = 0; i < d; i++) xk[i] = (nis_real)(x[i] + sigma * e[i]);
        }
        double ql = 0, qp = 0;   /* quadratic forms of the two components at X_k */
        for (int i = 0; i < d; i++) {
            double a = 0;
            for (int j = 0; j < d; j++) a += V[j * d + i] * ((double)xk[j] - m[j]);
            ql += a * a * prec[i] / KAPPA;
            double b = (double)xk[i] - x[i];
            qp += b * b * is2;
        }
        double ll = -0.5 * (ql + logdet_l), lp = -0.5 * (qp + logdet_p);
        double mx = ll > lp ? ll : lp;
        c[k] = -(mx + log(0.5 * exp(ll - mx) + 0.5 * exp(lp - mx)));
    }
    return NIS_OK;
}

nis_tensor *nis_smoothed_target_score_laplace(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *eta,
                                              double sigma) {
    if (!x || !eta) return NULL;
    int64_t B = x->shape[0], d = x->shape[1], K = eta->shape[0] / (B > 0 ? B : 1);
    if (x->ndim != 2 || eta->ndim != 2 || eta->shape[0] != B * K || eta->shape[1] != d || K < 2 ||
        d > NIS_SMOOTH_LAPLACE_MAX_DIM || !(sigma > 0)) {
        char a[64], b[64];
        nis_ctx_fail(c, NIS_EINVAL, "smoothed_target_score_laplace: x %s, eta %s, sigma %g (need eta (B*K, d), "
                     "K >= 2, d <= %d, sigma > 0)", nis_shape_str(x, a, 64), nis_shape_str(eta, b, 64), sigma,
                     NIS_SMOOTH_LAPLACE_MAX_DIM);
        return NULL;
    }
    if (t->stochastic) {
        nis_ctx_fail(c, NIS_EINVAL, "smoothed_target_score_laplace: target %s is stochastic (minibatch)",
                     t->name ? t->name : "?");
        return NULL;
    }
    /* 1. The proposal, its draws and their constant log-weights, without a graph. */
    bool saved = nis_ctx_set_grad(c, false);
    nis_tensor *xd = nis_detach(c, x);
    nis_tensor *s = nis_target_score(c, t, xd, false);
    nis_tensor *xs = nis_new2(c, B * K, d), *cw = nis_new2(c, B, K);
    double *buf = nis_malloc(sizeof(double) * (size_t)(B * d * d + d + (4 + 2 * d) * d + K + 1));
    bool ok = s && xs && cw && buf;
    double *H = buf, *row = buf ? buf + B * d * d : NULL, *work = row ? row + d : NULL,
           *ck = work ? work + (4 + 2 * d) * d : NULL;
    for (int64_t j = 0; ok && j < d; j++) {   /* column j of ∇² log q at every row: an HVP with e_j */
        nis_tensor *v = nis_zeros(c, 2, (int64_t[]){B, d});
        if (!v) { ok = false; break; }
        for (int64_t b = 0; b < B; b++) v->data[b * d + j] = 1;
        nis_tensor *hv = nis_target_hvp(c, t, xd, v);
        if (!hv) { ok = false; break; }
        for (int64_t b = 0; b < B; b++)
            for (int64_t i = 0; i < d; i++) H[(b * d + i) * d + j] = -(double)hv->data[b * d + i];
    }
    for (int64_t b = 0; ok && b < B; b++) {
        double *Hb = H + b * d * d;
        for (int64_t i = 0; i < d; i++) {   /* symmetrise (autodiff HVPs agree to rounding) */
            row[i] = s->data[b * d + i];
            for (int64_t j = 0; j < i; j++) Hb[i * d + j] = Hb[j * d + i] = 0.5 * (Hb[i * d + j] + Hb[j * d + i]);
        }
        char msg[160];
        if (row_proposal(xd->data + b * d, row, Hb, eta->data + b * K * d, K, (int)d, sigma, work,
                         xs->data + b * K * d, ck, msg, sizeof msg) != NIS_OK) {
            nis_ctx_fail(c, NIS_ENUMERIC, "%s (row %lld)", msg, (long long)b);
            ok = false;
            break;
        }
        for (int64_t k = 0; k < K; k++) cw->data[b * K + k] = (nis_real)ck[k];
    }
    if (!ok && nis_ctx_status(c) == NIS_OK) nis_ctx_fail(c, NIS_ENOMEM, "smoothed_target_score_laplace: out of memory");
    nis_tensor *lq = ok ? t->log_prob(c, t, xs) : NULL;
    nis_tensor *sq = ok ? nis_target_score(c, t, xs, false) : NULL;
    /* A draw where q or s_q is not finite (far outside q's support: e.g. a Newton step into an overflow)
     * contributes nothing: weight 0 (log q → -1e30) and a zero contribution C_k below. */
    for (int64_t r = 0; lq && sq && r < B * K; r++) {
        bool bad = !isfinite(lq->data[r]);
        for (int64_t i = 0; i < d; i++) bad = bad || !isfinite(sq->data[r * d + i]);
        if (!bad) continue;
        lq->data[r] = (nis_real)-1e30;
        for (int64_t i = 0; i < d; i++) sq->data[r * d + i] = 0;
    }
    nis_tensor *base = nis_add(c, nis_reshape(c, lq, 2, (int64_t[]){B, K}), cw);
    /* Control variate: E_π[s_q(X)] = E_π[(X − x)/σ²], so  u_k = A s_q(X_k) + (I − A)(X_k − x)/σ²  has the same
     * expectation for any fixed A; A = Σ/σ² makes u_k constant in X for a Gaussian q (s_q varies most across
     * thin directions, (X − x)/σ² across broad ones).  u_k = C_k − M x with the constants
     * C_k = A s_q(X_k) + (I − A) X_k/σ² and M = (I − A)/σ². */
    nis_tensor *C = sq ? nis_new2(c, B * K, d) : NULL, *M = C ? nis_new4(c, B, 1, d, d) : NULL;
    double is2 = 1 / (sigma * sigma);
    for (int64_t b = 0; M && b < B; b++) {
        const double *A = H + b * d * d;
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < d; j++) M->data[(b * d + i) * d + j] = (nis_real)(((i == j) - A[i * d + j]) * is2);
        for (int64_t k = 0; k < K; k++) {
            const nis_real *sk = sq->data + (b * K + k) * d, *xk = xs->data + (b * K + k) * d;
            bool dropped = lq->data[b * K + k] == (nis_real)-1e30;   /* weight 0: keep 0 · C_k finite */
            for (int64_t i = 0; i < d; i++) {
                if (dropped) {
                    C->data[(b * K + k) * d + i] = 0;
                    continue;
                }
                double a = 0;
                for (int64_t j = 0; j < d; j++) a += A[i * d + j] * sk[j] + ((i == j) - A[i * d + j]) * is2 * xk[j];
                C->data[(b * K + k) * d + i] = (nis_real)a;
            }
        }
    }
    nis_free(buf);
    nis_ctx_set_grad(c, saved);
    /* 2. The parts that depend on x: the weights' factor −|X_k − x|² / (2σ²), and − M x. */
    nis_tensor *diff = nis_sub(c, nis_reshape(c, xs, 3, (int64_t[]){B, K, d}), nis_reshape(c, x, 3, (int64_t[]){B, 1, d}));
    nis_tensor *logit = nis_add(c, base, nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, diff), 2, false),
                                                        -0.5 / (sigma * sigma)));
    nis_tensor *w = nis_softmax(c, logit);
    nis_tensor *cbar = nis_sum_axis(c, nis_mul(c, nis_reshape(c, w, 3, (int64_t[]){B, K, 1}),
                                               nis_reshape(c, C, 3, (int64_t[]){B, K, d})), 1, false);
    nis_tensor *Mx = nis_sum_axis(c, nis_mul(c, nis_reshape(c, M, 3, (int64_t[]){B, d, d}),
                                             nis_reshape(c, x, 3, (int64_t[]){B, 1, d})), 2, false);
    return nis_sub(c, cbar, Mx);
}
