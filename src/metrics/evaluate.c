/* src/metrics/evaluate.c — all metrics of a sample set against a target and its exact sampler. */
#include "nis/metrics.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_ED 5000
#define N_KSD 1000

/* KSD of the first n points of x, with the score from the target (one batch in a scratch context). */
static double ksd_of(const nis_target *t, const nis_real *x, int64_t n, nis_status *st, char *err, size_t errlen) {
    nis_ctx *c = nis_ctx_new(0);
    if (!c) {
        *st = NIS_ENOMEM;
        snprintf(err, errlen, "evaluate: out of memory");
        return NAN;
    }
    nis_tensor *xt = nis_tensor_from(c, 2, (int64_t[]){n, t->dim}, x);
    nis_tensor *s = nis_target_score(c, t, xt, false);
    double k = NAN;
    if (s) {
        k = nis_ksd_imq(x, s->data, n, t->dim);
    } else {
        *st = nis_ctx_status(c);
        snprintf(err, errlen, "evaluate: score of %s: %s", t->name, nis_ctx_message(c));
    }
    nis_ctx_free(c);
    return k;
}

/* Copy the rows of x with |x0| <= 3 into out; returns their count. */
static int64_t core_rows(const nis_real *x, int64_t n, int d, nis_real *out) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)x[i * d]) <= 3) memcpy(out + (m++) * d, x + i * d, (size_t)d * sizeof *x);
    return m;
}

nis_status nis_evaluate(const nis_target *t, const nis_real *x_in, int64_t n_in, uint64_t seed, nis_eval_result *r,
                        char *err, size_t errlen) {
    const int d = t->dim;
    memset(r, 0, sizeof *r);
    r->ed_core = NAN;
    int64_t n = n_in < N_ED ? n_in : N_ED;
    nis_real *x = nis_malloc((size_t)(n ? n : 1) * d * sizeof *x);
    nis_real *e1 = nis_malloc((size_t)(n ? n : 1) * d * sizeof *x), *e2 = nis_malloc((size_t)(n ? n : 1) * d * sizeof *x);
    nis_real *tmp1 = nis_malloc((size_t)(n ? n : 1) * d * sizeof *x), *tmp2 = nis_malloc((size_t)(n ? n : 1) * d * sizeof *x);
    nis_status st = NIS_OK;
    if (!x || !e1 || !e2 || !tmp1 || !tmp2) {
        snprintf(err, errlen, "evaluate: out of memory");
        st = NIS_ENOMEM;
        goto done;
    }
    /* finite samples only */
    int64_t m = 0;
    for (int64_t i = 0; i < n_in && m < n; i++) {
        bool ok = true;
        for (int k = 0; k < d; k++) ok = ok && isfinite(x_in[i * d + k]);
        if (ok) memcpy(x + (m++) * d, x_in + i * d, (size_t)d * sizeof *x);
        else r->nonfinite++;
    }
    for (int64_t i = n; i < n_in; i++)
        for (int k = 0; k < d; k++)
            if (!isfinite(x_in[i * d + k])) {
                r->nonfinite++;
                break;
            }
    n = m;
    r->n = n;
    if (n < 2) {
        snprintf(err, errlen, "evaluate: fewer than 2 finite samples");
        st = NIS_EINVAL;
        goto done;
    }
    int64_t nk = n < N_KSD ? n : N_KSD;
    r->ksd = ksd_of(t, x, nk, &st, err, errlen);
    r->frac_pos = nis_fraction_positive(x, n, d, 0);
    if (st != NIS_OK || !t->sample) goto done;
    r->has_exact = true;
    nis_rng g = nis_rng_init(seed, NIS_STREAM_EVAL);
    t->sample(t, &g, e1, n);
    t->sample(t, &g, e2, n);
    r->ed = nis_energy_distance(x, n, e1, n, d);
    r->ed_floor = nis_energy_distance(e2, n, e1, n, d);
    r->mmd = nis_mmd_rbf(x, n, e1, n, d, 0, NULL);
    r->mmd_floor = nis_mmd_rbf(e2, n, e1, n, d, 0, NULL);
    r->ksd_floor = ksd_of(t, e2, nk, &st, err, errlen);
    r->mean_err = nis_mean_error(x, n, e1, n, d);
    r->cov_err = nis_cov_error(x, n, e1, n, d);
    if (t->name && !strcmp(t->name, "funnel")) {
        int64_t a = core_rows(x, n, d, tmp1), b = core_rows(e1, n, d, tmp2);
        r->ed_core = a >= 2 && b >= 2 ? nis_energy_distance(tmp1, a, tmp2, b, d) : NAN;
    }
done:
    nis_free(x);
    nis_free(e1);
    nis_free(e2);
    nis_free(tmp1);
    nis_free(tmp2);
    return st;
}
