/* src/metrics/moments.c — mean and covariance errors, mode balance. */
#include "nis/metrics.h"

#include <math.h>

#define MAXD 64   /* moment errors are for low-dimensional summaries; larger d uses the first 64 coords */

static void mean_cov(const nis_real *x, int64_t n, int d, int dd, double *mu, double *cov) {
    for (int a = 0; a < dd; a++) mu[a] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < dd; a++) mu[a] += x[i * d + a];
    for (int a = 0; a < dd; a++) mu[a] /= (double)n;
    if (!cov) return;
    for (int a = 0; a < dd * dd; a++) cov[a] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < dd; a++)
            for (int b = 0; b < dd; b++)
                cov[a * dd + b] += (x[i * d + a] - mu[a]) * (x[i * d + b] - mu[b]);
    for (int a = 0; a < dd * dd; a++) cov[a] /= (double)(n > 1 ? n - 1 : 1);
}

double nis_mean_error(const nis_real *x, int64_t n, const nis_real *y, int64_t m, int d) {
    int dd = d < MAXD ? d : MAXD;
    double mx[MAXD], my[MAXD], s = 0;
    mean_cov(x, n, d, dd, mx, NULL);
    mean_cov(y, m, d, dd, my, NULL);
    for (int a = 0; a < dd; a++) s += (mx[a] - my[a]) * (mx[a] - my[a]);
    return sqrt(s);
}

double nis_cov_error(const nis_real *x, int64_t n, const nis_real *y, int64_t m, int d) {
    int dd = d < MAXD ? d : MAXD;
    double mx[MAXD], my[MAXD], cx[MAXD * MAXD], cy[MAXD * MAXD], s = 0;
    mean_cov(x, n, d, dd, mx, cx);
    mean_cov(y, m, d, dd, my, cy);
    for (int a = 0; a < dd * dd; a++) s += (cx[a] - cy[a]) * (cx[a] - cy[a]);
    return sqrt(s);
}

double nis_fraction_positive(const nis_real *x, int64_t n, int d, int axis) {
    if (n < 1 || axis < 0 || axis >= d) return NAN;
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += x[i * d + axis] > 0;
    return (double)c / (double)n;
}
