/* nis/metrics.h — sample-quality metrics (definitions in docs/metrics.md and the targets note).
 *
 * Samples are row-major arrays of n points in d dimensions (n x d nis_real values), owned by the caller.
 * Every function is deterministic for any thread count (per-row partial sums added in a fixed order).
 */
#ifndef NIS_METRICS_H
#define NIS_METRICS_H

#include "nis/core.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| between x (n x d) and y (m x d); the within-set
 * terms exclude i == j (U-statistics), so two sets from the same law give values scattered around 0. */
double nis_energy_distance(const nis_real *x, int64_t n, const nis_real *y, int64_t m, int d);

/* sqrt of the biased (V-statistic) squared MMD with the Gaussian kernel exp(-|a - b|^2 / (2 h^2)).
 * bandwidth h <= 0 picks the median heuristic: h = median pairwise distance of the pooled sample (computed on
 * at most its first 1000 points).  *h_used (may be NULL) receives h. */
double nis_mmd_rbf(const nis_real *x, int64_t n, const nis_real *y, int64_t m, int d, double bandwidth,
                   double *h_used);

/* Kernel Stein discrepancy with the IMQ kernel k(x, y) = (1 + |x - y|^2)^(-1/2) (Gorham & Mackey 2017):
 * V-statistic sqrt( sum_ij u(x_i, x_j) / n^2 ), with the Stein kernel
 * u = s_i.s_j k + s_i.grad_y k + s_j.grad_x k + tr(grad_x grad_y k).  score: n x d values of grad log q. */
double nis_ksd_imq(const nis_real *x, const nis_real *score, int64_t n, int d);

/* Moments: |mean(x) - mean(y)|_2 and |cov(x) - cov(y)|_F (covariances with 1/(n-1)). */
double nis_mean_error(const nis_real *x, int64_t n, const nis_real *y, int64_t m, int d);
double nis_cov_error(const nis_real *x, int64_t n, const nis_real *y, int64_t m, int d);

/* Fraction of points whose coordinate `axis` is > 0 (mog2's mode balance; ideal 0.5). */
double nis_fraction_positive(const nis_real *x, int64_t n, int d, int axis);

/* Everything the project reports about a set of samples of a target (docs/targets-2d.md's metrics). */
typedef struct {
    int64_t n;               /* samples evaluated (the first min(n, 5000)) */
    bool has_exact;          /* the target has an exact sampler: the two-sample metrics below are set */
    double ed, ed_floor;     /* energy distance to exact samples, and between two exact sets of the same size */
    double mmd, mmd_floor;   /* RBF MMD (median bandwidth of samples and exact set) and its floor */
    double ksd, ksd_floor;   /* IMQ KSD on the first min(n, 1000) samples, and on as many exact samples */
    double mean_err, cov_err;/* against the exact set */
    double frac_pos;         /* fraction with x0 > 0 (mog2's mode balance) */
    double ed_core;          /* funnel: energy distance on |x0| <= 3 only (NAN for other targets) */
    int64_t nonfinite;       /* samples with NaN/Inf coordinates (excluded from everything) */
} nis_eval_result;

/* Evaluate n samples x (n x t->dim) against target t, drawing the exact sets with a generator seeded by
 * `seed`.  NIS_ENOMEM, or the target's error; the message goes to err. */
nis_status nis_evaluate(const nis_target *t, const nis_real *x, int64_t n, uint64_t seed, nis_eval_result *r,
                        char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
