/* src/nn/clip_ema.c — gradient-norm clipping and an exponential moving average of the parameters. */
#include "core/op.h" /* NIS_PAR_MIN, <tgmath.h> */
#include "internal.h"

#include <string.h>

/* sum of g[i]^2 over (n,), in double.  The buffer is cut into a fixed number of blocks, each summed in
 * order and the block sums added in order, so the result does not depend on the thread count. */
static double sum_squares(const nis_real *g, int64_t n) {
    enum { NB = 64 };
    double part[NB];
    NIS_PAR_FOR(n > NIS_PAR_MIN, b, NB, {
        int64_t lo = n / NB * b + (b < n % NB ? b : n % NB);
        int64_t hi = lo + n / NB + (b < n % NB);
        double s = 0;
        for (int64_t i = lo; i < hi; i++) s += (double)g[i] * (double)g[i];
        part[b] = s;
    });
    double s = 0;
    for (int b = 0; b < NB; b++) s += part[b];
    return s;
}

double nis_grad_norm(const nis_params *P) { return P->grad ? sqrt(sum_squares(P->grad, P->n)) : 0.0; }

double nis_clip_grad_norm(nis_params *P, double max_norm) {
    double norm = nis_grad_norm(P);
    double coef = max_norm / (norm + 1e-6);
    if (!isfinite(norm) || !(coef < 1)) return norm;
    const nis_real c = (nis_real)coef;
    nis_real *g = P->grad;
    int64_t n = P->n;
    NIS_PAR_FOR(n > NIS_PAR_MIN, i, n, { g[i] *= c; });
    return norm;
}

nis_status nis_ema_init(nis_ema *E, nis_params *P, double decay) {
    memset(E, 0, sizeof *E);
    if (P->status != NIS_OK) return P->status;
    if (!P->finalized) return nis_params_fail(P, NIS_ESTATE, "ema: init before finalize");
    if (!(decay >= 0 && decay <= 1))
        return nis_params_fail(P, NIS_EINVAL, "ema: decay %g not in [0, 1]", decay);
    E->shadow = nis__alloc_reals(P->n, &E->raw);
    if (!E->shadow)
        return nis_params_fail(P, NIS_ENOMEM, "ema: out of memory (%lld values)", (long long)P->n);
    memcpy(E->shadow, P->data, (size_t)P->n * sizeof(nis_real));
    E->n = P->n;
    E->decay = decay;
    return NIS_OK;
}

void nis_ema_free(nis_ema *E) {
    nis_free(E->raw);
    memset(E, 0, sizeof *E);
}

/* False (error set) if E does not match P. */
static bool ema_fits(const nis_ema *E, nis_params *P) {
    if (P->status != NIS_OK) return false;
    if (E->shadow && P->finalized && E->n == P->n) return true;
    nis_params_fail(P, NIS_EINVAL, "ema: %lld averaged values for %lld parameters", (long long)E->n,
                    (long long)P->n);
    return false;
}

/* s, p: (n,) */
nis_status nis_ema_update(nis_ema *E, nis_params *P) {
    if (!ema_fits(E, P)) return P->status;
    const nis_real d = (nis_real)E->decay, e = (nis_real)(1 - E->decay);
    nis_real *restrict s = E->shadow;
    const nis_real *restrict p = P->data;
    int64_t n = E->n;
    NIS_PAR_FOR(n > NIS_PAR_MIN, i, n, { s[i] = d * s[i] + e * p[i]; });
    E->updates++;
    return NIS_OK;
}

nis_status nis_ema_update_warm(nis_ema *E, nis_params *P, double decay) {
    double w = (1.0 + (double)E->updates) / (10.0 + (double)E->updates);
    E->decay = w < decay ? w : decay;
    return nis_ema_update(E, P);
}

nis_status nis_ema_copy_to(const nis_ema *E, nis_params *P) {
    if (!ema_fits(E, P)) return P->status;
    memcpy(P->data, E->shadow, (size_t)E->n * sizeof(nis_real));
    return NIS_OK;
}

/* s, p: (n,) */
nis_status nis_ema_swap(nis_ema *E, nis_params *P) {
    if (!ema_fits(E, P)) return P->status;
    nis_real *restrict s = E->shadow, *restrict p = P->data;
    int64_t n = E->n;
    NIS_PAR_FOR(n > NIS_PAR_MIN, i, n, {
        nis_real t = s[i];
        s[i] = p[i];
        p[i] = t;
    });
    return NIS_OK;
}
