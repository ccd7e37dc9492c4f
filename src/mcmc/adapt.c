/* src/mcmc/adapt.c — warm-up step-size adaptation: Robbins-Monro on the log step size.
 *
 * After the m-th warm-up iteration with Metropolis acceptance probability a_m (target delta):
 *     log eps <- log eps + c m^-kappa (a_m - delta),   c = 2, kappa = 0.75,
 * and the last iterate is kept for sampling.  The gains sum to infinity (any starting eps is reached: the
 * first 20 iterations can move log eps by about +-7 (delta - 1), i.e. a factor of 10 either way) and their
 * squares are summable (the noise of a_m averages out).
 *
 * Why not the dual averaging of the NUTS paper (Hoffman & Gelman 2014, section 3.2)?  Implemented and
 * measured here (HMC, L = 10, 2000 chains, 200 warm-up iterations): its iterates oscillate across the
 * steep edge of the acceptance curve and its averaged iterate lands below the edge, so the sampling
 * acceptance came out 0.76-0.91 for a target of 0.65 (0.61-0.65 only after 1000 warm-up iterations).
 * This scheme gave 0.647-0.666 in the same runs, for both GLOBAL and PER_CHAIN.
 */
#include "common.h"

#include <math.h>

#define RM_GAIN 2.0
#define RM_KAPPA 0.75

nis_status nis__adapter_init(nis__adapter *a, nis_adapt_mode mode, int64_t n, double eps0, double target) {
    a->mode = mode;
    a->n = n;
    a->m = 0;
    a->target = target;
    a->eps = nis_malloc((size_t)n * sizeof *a->eps);
    if (!a->eps) return NIS_ENOMEM;
    for (int64_t i = 0; i < n; i++) a->eps[i] = eps0;
    return NIS_OK;
}

void nis__adapter_update(nis__adapter *a, const double *prob) {
    if (a->mode == NIS_ADAPT_NONE) return;
    double gain = RM_GAIN * pow((double)++a->m, -RM_KAPPA);
    if (a->mode == NIS_ADAPT_GLOBAL) {
        double mean = 0;
        for (int64_t i = 0; i < a->n; i++) mean += prob[i];
        double eps = a->eps[0] * exp(gain * (mean / (double)a->n - a->target));
        for (int64_t i = 0; i < a->n; i++) a->eps[i] = eps;
    } else {
        for (int64_t i = 0; i < a->n; i++) a->eps[i] *= exp(gain * (prob[i] - a->target));
    }
}

void nis__adapter_report(const nis__adapter *a, nis_mcmc_stats *stats) {
    if (!stats || !a->eps || a->n < 1) return;
    double sum = 0, lo = a->eps[0], hi = a->eps[0];
    for (int64_t i = 0; i < a->n; i++) {
        sum += a->eps[i];
        lo = fmin(lo, a->eps[i]);
        hi = fmax(hi, a->eps[i]);
    }
    stats->step_size = sum / (double)a->n;
    stats->step_size_min = lo;
    stats->step_size_max = hi;
}

void nis__adapter_free(nis__adapter *a) {
    nis_free(a->eps);
    a->eps = NULL;
}
