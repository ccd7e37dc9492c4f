/* src/metrics/posterior.c — samples against a gold standard: standardised mean / sd errors, energy distance. */
#include "nis/metrics.h"

#include <math.h>
#include <string.h>

/* Mean and sd (1/(n-1)) of column k of x (n, D); false if a value is not finite. */
static bool col_stats(const nis_real *x, int64_t n, int D, int k, double *mean, double *sd) {
    double m = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i * D + k];
        if (!isfinite(v)) return false;
        m += v;
    }
    m /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i * D + k] - m;
        s += v * v;
    }
    *mean = m;
    *sd = sqrt(s / (double)(n - 1));
    return true;
}

/* The first k coordinates of at most cap evenly spaced rows of x (n, D) -> a new (*rows, k) array. */
static nis_real *take(const nis_real *x, int64_t n, int D, int k, int64_t cap, int64_t *rows) {
    int64_t r = n < cap ? n : cap;
    nis_real *o = nis_malloc((size_t)(r * k) * sizeof *o);
    if (!o) return NULL;
    for (int64_t i = 0; i < r; i++) {
        int64_t src = (int64_t)((double)i * (double)n / (double)r);
        memcpy(o + i * k, x + src * D, (size_t)k * sizeof *o);
    }
    *rows = r;
    return o;
}

nis_status nis_posterior_compare(const nis_real *x, int64_t n, const nis_real *g, int64_t m, int D, int ed_dims,
                                 int64_t ed_max, nis_posterior_cmp *out) {
    if (!out) return NIS_EINVAL;
    memset(out, 0, sizeof *out);
    out->ed = NAN;
    if (!x || !g || n < 2 || m < 2 || D < 1 || ed_dims < 0 || ed_dims > D) return NIS_EINVAL;
    double msum = 0, ssum = 0;
    for (int k = 0; k < D; k++) {
        double mx, sx, mg, sg;
        if (!col_stats(x, n, D, k, &mx, &sx) || !col_stats(g, m, D, k, &mg, &sg) || !(sg > 0)) return NIS_ENUMERIC;
        double em = fabs(mx - mg) / sg, es = fabs(sx - sg) / sg;
        msum += em, ssum += es;
        if (em > out->mean_err_max || k == 0) out->mean_err_max = em, out->mean_err_argmax = k;
        if (es > out->sd_err_max || k == 0) out->sd_err_max = es, out->sd_err_argmax = k;
    }
    out->mean_err_avg = msum / D;
    out->sd_err_avg = ssum / D;
    out->ed_dims = ed_dims;
    if (ed_dims > 0) {
        int64_t cap = ed_max > 0 ? ed_max : 2000, rx = 0, rg = 0;
        nis_real *a = take(x, n, D, ed_dims, cap, &rx), *b = take(g, m, D, ed_dims, cap, &rg);
        if (!a || !b) {
            nis_free(a), nis_free(b);
            return NIS_ENOMEM;
        }
        out->ed = nis_energy_distance(a, rx, b, rg, ed_dims);
        nis_free(a), nis_free(b);
        if (isnan(out->ed)) return NIS_ENOMEM;   /* its only failure with n, m >= 2 */
    }
    return NIS_OK;
}
