/* src/targets/affine.c — a target in affine coordinates, q_u(u) = q(m + L u): whitening with a mean m and a
 * factor L of a covariance (L Lᵀ = Σ), with the optional score and HVP present exactly when q's are. */
#include "core/linalg.h"
#include "nis/ops.h"
#include "nis/target.h"
#include "wrap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const nis_affine_target *state(const nis_target *t) { return t->data; }

/* x = m + u Lᵀ: u (B, dim) -> (B, dim) */
static nis_tensor *to_x(nis_ctx *c, const nis_affine_target *a, nis_tensor *u) {
    const int64_t d = a->inner->dim;
    nis_tensor *L = nis_tensor_from(c, 2, (int64_t[]){d, d}, a->L), *m = nis_tensor_from(c, 2, (int64_t[]){1, d}, a->mean);
    return nis_add(c, nis_matmul(c, u, L, false, true), m);
}

/* log q(m + L u): u (B, dim) -> (B,) (log |det L| is a constant and dropped) */
static nis_tensor *affine_lp(nis_ctx *c, const nis_target *t, nis_tensor *u) {
    const nis_affine_target *a = state(t);
    return a->inner->log_prob(c, a->inner, to_x(c, a, u));
}

/* Lᵀ s_q(m + L u): (B, dim) -> (B, dim) (only installed when q has a hand-written score) */
static nis_tensor *affine_score(nis_ctx *c, const nis_target *t, nis_tensor *u) {
    const nis_affine_target *a = state(t);
    const int64_t d = a->inner->dim;
    nis_tensor *L = nis_tensor_from(c, 2, (int64_t[]){d, d}, a->L);
    return nis_matmul(c, a->inner->score(c, a->inner, to_x(c, a, u)), L, false, false);
}

/* Lᵀ H_q(m + L u) (L v): (B, dim) -> (B, dim) (only installed when q has a hand-written HVP) */
static nis_tensor *affine_hvp(nis_ctx *c, const nis_target *t, nis_tensor *u, nis_tensor *v) {
    const nis_affine_target *a = state(t);
    const int64_t d = a->inner->dim;
    nis_tensor *L = nis_tensor_from(c, 2, (int64_t[]){d, d}, a->L);
    nis_tensor *h = a->inner->hvp(c, a->inner, to_x(c, a, u), nis_matmul(c, v, L, false, true));
    return nis_matmul(c, h, L, false, false);
}

void nis_affine_target_init(nis_affine_target *at, const nis_target *inner, const nis_real *mean, const nis_real *L) {
    at->inner = inner;
    at->mean = mean;
    at->L = L;
    at->target = nis__wrapped_target(inner, at, affine_lp, affine_score, affine_hvp);
}

void nis_affine_target_to_x(const nis_affine_target *at, const nis_real *u, int64_t n, nis_real *x) {
    const int64_t d = at->inner->dim;
    for (int64_t r = 0; r < n; r++) {
        const nis_real *ur = u + r * d;
        for (int64_t i = 0; i < d; i++) {
            double s = at->mean[i];
            for (int64_t j = 0; j < d; j++) s += (double)at->L[i * d + j] * ur[j];
            x[r * d + i] = (nis_real)s;
        }
    }
}

nis_status nis_affine_fit(const nis_real *x, int64_t n, int dim, nis_real *mean, nis_real *L, char *err,
                          size_t errlen) {
    const int64_t d = dim;
    if (n < 2 || d < 1 || !x || !mean || !L) {
        snprintf(err, errlen, "affine fit: need n >= 2 samples of dimension >= 1");
        return NIS_EINVAL;
    }
    double *m = nis_calloc((size_t)d, sizeof(double)), *S = nis_calloc((size_t)(d * d), sizeof(double));
    double *w = nis_calloc((size_t)d, sizeof(double));
    nis_status st = m && S && w ? NIS_OK : NIS_ENOMEM;
    if (st != NIS_OK) snprintf(err, errlen, "affine fit: out of memory");
    for (int64_t r = 0; r < n && st == NIS_OK; r++)
        for (int64_t i = 0; i < d; i++) m[i] += (double)x[r * d + i] / (double)n;
    for (int64_t r = 0; r < n && st == NIS_OK; r++)   /* lower triangle (row-major) = what nis__sym_eig reads */
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j <= i; j++)
                S[i * d + j] += ((double)x[r * d + i] - m[i]) * ((double)x[r * d + j] - m[j]) / (double)(n - 1);
    if (st == NIS_OK) st = nis__sym_eig(S, d, w, true, "affine fit", err, errlen);
    if (st == NIS_OK && !(w[d - 1] > 0)) {
        snprintf(err, errlen, "affine fit: the samples' covariance is zero");
        st = NIS_ENUMERIC;
    }
    if (st == NIS_OK) {   /* L = V diag(√λ) Vᵀ, the symmetric square root, λ floored at 1e-12 λ_max */
        for (int64_t k = 0; k < d; k++) w[k] = sqrt(fmax(w[k], 1e-12 * w[d - 1]));
        for (int64_t i = 0; i < d; i++) {
            mean[i] = (nis_real)m[i];
            for (int64_t j = 0; j < d; j++) {   /* eigenvector k is S[· + k d] (column-major) */
                double s = 0;
                for (int64_t k = 0; k < d; k++) s += S[i + k * d] * w[k] * S[j + k * d];
                L[i * d + j] = (nis_real)s;
            }
        }
    }
    nis_free(m), nis_free(S), nis_free(w);
    return st;
}
