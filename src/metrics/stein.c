/* src/metrics/stein.c — kernel Stein discrepancy with the inverse multiquadric kernel. */
#include "nis/metrics.h"
#include "rowsum.h"

#include <math.h>

/* Stein kernel of k(x, y) = (1 + r^2)^(-1/2), r = x - y, for one pair (x, sx), (y, sy) in d dims:
 *   grad_x k = -(1 + r^2)^(-3/2) r,  grad_y k = +(1 + r^2)^(-3/2) r,
 *   tr(grad_x grad_y k) = d (1 + r^2)^(-3/2) - 3 |r|^2 (1 + r^2)^(-5/2). */
static double stein_kernel(const nis_real *x, const nis_real *sx, const nis_real *y, const nis_real *sy, int d) {
    double r2 = 0, ss = 0, sxr = 0, syr = 0;
    for (int k = 0; k < d; k++) {
        double r = (double)x[k] - (double)y[k];
        r2 += r * r;
        ss += (double)sx[k] * sy[k];
        sxr += sx[k] * r;
        syr += sy[k] * r;
    }
    double b = 1 + r2, k0 = 1 / sqrt(b), k3 = k0 / b, k5 = k3 / b;
    return ss * k0 + sxr * k3 - syr * k3 + d * k3 - 3 * r2 * k5;
}

double nis_ksd_imq(const nis_real *x, const nis_real *score, int64_t n, int d) {
    if (n < 1) return NAN;
    double *rows = nis_rowsum_begin(n);
    if (!rows) return NAN;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double row = 0;
        for (int64_t j = 0; j < n; j++) row += stein_kernel(x + i * d, score + i * d, x + j * d, score + j * d, d);
        rows[i] = row;
    }
    double s = nis_rowsum_end(rows, n) / ((double)n * n);
    return sqrt(s > 0 ? s : 0);
}
