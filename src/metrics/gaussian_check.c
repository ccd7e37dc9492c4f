/* src/metrics/gaussian_check.c — a sampler's known failures found against a Gaussian fit of its target's bulk
 * (nis_gaussian_check): samples far from the bulk, or a collapsed or exploded scale. */
#include "nis/metrics.h"

#include <math.h>
#include <stdio.h>

bool nis_gaussian_check(const nis_real *x, int64_t n, int dim, const nis_real *m, const nis_real *L, char *msg,
                       size_t len) {
    if (msg && len) msg[0] = '\0';
    if (!x || n < 2 || dim < 1 || !m || !L) return false;
    int worst = -1, kind = 0;   /* kind 1: the mean is off; 2: the spread */
    double worst_z = 0, worst_r = 1, mean_w = 0, sd_w = 0, lsd_w = 0;
    for (int i = 0; i < dim; i++) {
        double s = 0, s2 = 0, lv = 0;
        for (int64_t r = 0; r < n; r++) s += (double)x[r * dim + i];
        double mean = s / (double)n;
        for (int64_t r = 0; r < n; r++) s2 += ((double)x[r * dim + i] - mean) * ((double)x[r * dim + i] - mean);
        for (int k = 0; k < dim; k++) lv += (double)L[i * dim + k] * (double)L[i * dim + k];   /* (L Lᵀ)_ii */
        double sd = sqrt(s2 / (double)(n - 1)), lsd = sqrt(lv), z = fabs(mean - (double)m[i]) / lsd;
        double r = sd / lsd, rr = r > 1 ? r : 1 / r;
        if (!(z <= 10) && (kind != 1 || z > worst_z)) worst = i, kind = 1, worst_z = z, mean_w = mean, lsd_w = lsd;
        else if (kind != 1 && !(rr <= 10) && rr > worst_r) worst = i, kind = 2, worst_r = rr, sd_w = sd, lsd_w = lsd;
    }
    if (worst < 0) return false;
    if (msg && len && kind == 1)
        snprintf(msg, len, "coordinate %d of the samples has mean %.4g, %.3g sds of the posterior's Gaussian fit from its "
                 "mean %.4g: the sampler sits elsewhere than the posterior's bulk", worst + 1, mean_w, worst_z, (double)m[worst]);
    else if (msg && len)
        snprintf(msg, len, "coordinate %d of the samples has sd %.4g against the posterior's Gaussian fit's %.4g: a %s scale",
                 worst + 1, sd_w, lsd_w, sd_w < lsd_w ? "collapsed" : "exploded");
    return true;
}
