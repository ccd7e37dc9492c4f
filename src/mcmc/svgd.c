/* src/mcmc/svgd.c — Stein variational gradient descent (Liu & Wang, NeurIPS 2016), RBF kernel.
 *
 * With k(a, b) = exp(-|a - b|^2 / h), grad_a k(a, b) = -2/h (a - b) k(a, b), so
 *     phi(x_i) = 1/n sum_j k(x_j, x_i) [ s(x_j) + 2/h (x_i - x_j) ]
 * (the first term pulls the particles toward high density, the second pushes them apart).  The bandwidth
 * follows the original code: h = med^2 / log(n + 1), med^2 the median squared pairwise distance.
 */
#include "common.h"

#include <math.h>

#define SVGD_MEDIAN_MAX 1000   /* the median heuristic looks at the first min(n, this) particles */
#define SVGD_FUDGE 1e-6        /* AdaGrad's denominator offset, as in the original code */
#define SVGD_PAR_MIN (1 << 20) /* pair-loop work (pairs x dim) above which threads pay off */

nis_svgd_config nis_svgd_defaults(void) {
    return (nis_svgd_config){.steps = 1000, .step_size = 0.01, .update = NIS_SVGD_ADAGRAD, .alpha = 0.9,
                             .bandwidth = 0};
}

/* The k-th smallest of a[0..n) (a is reordered): Hoare partitioning around a median-of-three pivot. */
static double select_kth(double *a, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double p0 = a[lo], p1 = a[lo + (hi - lo) / 2], p2 = a[hi];
        double pivot = fmax(fmin(p0, p1), fmin(fmax(p0, p1), p2));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                double tmp = a[i];
                a[i++] = a[j];
                a[j--] = tmp;
            }
        }
        /* now a[lo..j] <= pivot <= a[i..hi], and everything between equals pivot */
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

/* Median (upper, for an even count) of the squared distances |x_i - x_j|^2, i < j < m; x (m, d).
 * buf holds m (m - 1) / 2 doubles. */
static double median_sq_dist(const nis_real *x, int64_t m, int d, double *buf) {
    int64_t pairs = m * (m - 1) / 2;
    /* pair (i, j > i) goes to slot i (2m - i - 1) / 2 + (j - i - 1): each slot written once */
#pragma omp parallel for if (pairs * d > SVGD_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < m - 1; i++) {
        double *row = buf + i * (2 * m - i - 1) / 2;
        for (int64_t j = i + 1; j < m; j++) {
            double r2 = 0;
            for (int k = 0; k < d; k++) {
                double e = (double)x[i * d + k] - x[j * d + k];
                r2 += e * e;
            }
            row[j - i - 1] = r2;
        }
    }
    return select_kth(buf, pairs, pairs / 2);
}

/* phi (n, d) of the particles x (n, d) with scores s (n, d) and bandwidth h.  Row i sums over j in order,
 * so the result does not depend on the thread count. */
static void svgd_direction(const nis_real *x, const nis_real *s, int64_t n, int d, double h, double *phi) {
#pragma omp parallel for if (n * n * d > SVGD_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double *pi = phi + i * d;
        const nis_real *xi = x + i * d;
        for (int k = 0; k < d; k++) pi[k] = 0;
        for (int64_t j = 0; j < n; j++) {
            const nis_real *xj = x + j * d, *sj = s + j * d;
            double r2 = 0;
            for (int k = 0; k < d; k++) {
                double e = (double)xi[k] - xj[k];
                r2 += e * e;
            }
            double kij = exp(-r2 / h), c = 2 / h;
            for (int k = 0; k < d; k++) pi[k] += kij * (sj[k] + c * ((double)xi[k] - xj[k]));
        }
        for (int k = 0; k < d; k++) pi[k] /= (double)n;
    }
}

nis_status nis_svgd_run(const nis_target *t, const nis_svgd_config *cfg, nis_real *x, int64_t n,
                        nis_mcmc_stats *stats, char *err, size_t errlen) {
    nis__mcmc_run r;
    nis_status s = nis__mcmc_begin(&r, "svgd", t, x, n, 2, err, errlen);
    if (s != NIS_OK) return s;
    if (!cfg || cfg->steps < 0 || !(cfg->step_size > 0) || !isfinite(cfg->step_size) ||
        (cfg->update != NIS_SVGD_PLAIN && cfg->update != NIS_SVGD_ADAGRAD) || !(cfg->alpha >= 0 && cfg->alpha < 1) ||
        !isfinite(cfg->bandwidth))
        return nis__mcmc_end(&r, NULL, nis__mcmc_fail(&r, NIS_EINVAL, "needs cfg, steps >= 0, step_size > 0, "
                                                                      "a known update, 0 <= alpha < 1"));
    const int d = r.dim;
    const int64_t nd = n * d, m = n < SVGD_MEDIAN_MAX ? n : SVGD_MEDIAN_MAX;
    const bool median = !(cfg->bandwidth > 0);
    double h = cfg->bandwidth, step = cfg->step_size, a = cfg->alpha;
    nis_real *score = nis_malloc((size_t)nd * sizeof *score);
    double *phi = nis_malloc((size_t)nd * sizeof *phi);
    double *hist = cfg->update == NIS_SVGD_ADAGRAD ? nis_malloc((size_t)nd * sizeof *hist) : NULL;
    double *pairs = median ? nis_malloc((size_t)(m * (m - 1) / 2) * sizeof *pairs) : NULL;
    if (!score || !phi || (cfg->update == NIS_SVGD_ADAGRAD && !hist) || (median && !pairs))
        s = nis__mcmc_fail(&r, NIS_ENOMEM, "out of memory");
    int64_t done = 0;

    for (int64_t it = 1; s == NIS_OK && it <= cfg->steps; it++) {
        s = nis__mcmc_finite_score(&r, x, score, it, "particle");
        if (s != NIS_OK) break;
        if (median) {
            double med2 = median_sq_dist(x, m, d, pairs);
            h = med2 > 0 ? med2 / log((double)n + 1) : 1;   /* coincident particles: any h will do */
        }
        svgd_direction(x, score, n, d, h, phi);
        /* x, phi, hist: (n, d) element-wise */
#pragma omp parallel for if (nd > SVGD_PAR_MIN) schedule(static)
        for (int64_t j = 0; j < nd; j++) {
            double g = phi[j];
            if (hist) {
                hist[j] = it == 1 ? g * g : a * hist[j] + (1 - a) * g * g;
                g /= SVGD_FUDGE + sqrt(hist[j]);
            }
            x[j] = (nis_real)(x[j] + step * g);
        }
        s = nis__mcmc_check_moved(&r, x, it, "particle");
        done = it;
    }
    if (stats) {
        *stats = (nis_mcmc_stats){.accept_rate = 1, .step_size = step, .step_size_min = step,
                                  .step_size_max = step, .bandwidth = h, .steps = done};
    }
    nis_free(score);
    nis_free(phi);
    nis_free(hist);
    nis_free(pairs);
    return nis__mcmc_end(&r, stats, s);
}
