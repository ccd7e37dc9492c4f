/* nis/metrics.h — sample-quality metrics (definitions in docs/metrics.md and the targets note).
 *
 * Samples are row-major arrays of n points in d dimensions (n x d nis_real values), owned by the caller.
 * Every function is deterministic for any thread count (per-row partial sums added in a fixed order).
 */
#ifndef NIS_METRICS_H
#define NIS_METRICS_H

#include "nis/core.h"
#include "nis/plot.h"
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

/* ---- MCMC convergence (src/metrics/convergence.c) ---------------------------------------------------------
 * x: C chains of `draws` draws of D coordinates, laid out (chains, draws, D) row-major.  Each chain is split in
 * halves (2C chains of draws/2).  Per coordinate k: rhat[k] = split-R̂ (Gelman et al., BDA3) and ess[k] = the
 * effective sample size by Geyer's initial monotone sequence over all split chains (as in Stan); with `rank`
 * the rank-normalised versions of Vehtari et al. (2021): R̂ = max(bulk, folded-tail) and the bulk ESS.
 * rhat, ess: caller-owned arrays of D (either may be NULL).  A coordinate with a non-finite draw gets NaN.
 * Deterministic for any thread count.  NIS_EINVAL (NULL x, chains < 1, draws < 8, D < 1), NIS_ENOMEM. */
nis_status nis_convergence(const nis_real *x, int chains, int64_t draws, int D, bool rank, double *rhat,
                           double *ess);
/* The same reduced to the largest R̂ and the smallest ESS over the D coordinates (NaN if any is NaN). */
nis_status nis_convergence_summary(const nis_real *x, int chains, int64_t draws, int D, bool rank,
                                   double *max_rhat, double *min_ess);

/* ---- Comparison with a gold standard (src/metrics/posterior.c) ----------------------------------------------
 * x (n, D) samples against gold-standard samples g (m, D).  Per coordinate k, in units of the gold standard's
 * standard deviation sd_g[k] (1/(m-1)):  mean error |mean_x[k] - mean_g[k]| / sd_g[k] and standard-deviation
 * error |sd_x[k] - sd_g[k]| / sd_g[k]; each reported as the mean over coordinates and the worst (with its
 * coordinate).  Energy distance between x and g on their first ed_dims coordinates (0 = skip), computed on at
 * most ed_max rows of each (evenly spaced rows; <= 0 means 2000). */
typedef struct {
    double mean_err_avg, mean_err_max;  /* standardised posterior-mean error: mean over coords, worst */
    int mean_err_argmax;
    double sd_err_avg, sd_err_max;      /* relative posterior-sd error: mean over coords, worst */
    int sd_err_argmax;
    double ed;                          /* energy distance on the first ed_dims coordinates (NaN if skipped) */
    int ed_dims;
} nis_posterior_cmp;

/* A known failure of a sampler on a target close to Gaussian, against a Gaussian fit N(m, L Lᵀ) of its bulk (short
 * HMC chains' nis_whiten_hmc, as `nis train` uses; the Laplace approximation nis_laplace_fit where the mode lies in
 * the bulk): n samples x (n, dim) in the same coordinates, any coordinate whose sample mean lies more than 10 of the
 * fit's sds from m (the sampler sits elsewhere: the funnel's neck of a centred hierarchical posterior, or it did not
 * arrive) or whose sample sd is below a tenth or above ten times the fit's sd (a collapsed or exploded scale).
 * true with one line in msg naming the worst coordinate (1-based) and the numbers; false (msg "") when none. */
bool nis_gaussian_check(const nis_real *x, int64_t n, int dim, const nis_real *m, const nis_real *L, char *msg,
                       size_t len);

/* Fill *out.  NIS_EINVAL (NULL arrays, n < 2, m < 2, D < 1, ed_dims > D), NIS_ENUMERIC (a non-finite value in x
 * or g, or a gold coordinate with sd 0), NIS_ENOMEM. */
nis_status nis_posterior_compare(const nis_real *x, int64_t n, const nis_real *g, int64_t m, int D, int ed_dims,
                                 int64_t ed_max, nis_posterior_cmp *out);

/* ---------------------------------------------------------------------------------------------------------
 * Pictures of samples against a target (src/metrics/plot_2d.c, drawn on the canvases of nis/plot.h).
 */
/* The default view of a 2-D target (the box that holds nearly all of its mass): its plot_box (nis/target.h),
 * [-4, 4]^2 when it has none. */
nis_extent nis_target_extent(const nis_target *t);
/* The density of target t (exp(log q), scaled to its maximum on the grid, square-rooted so thin rings
 * stay visible) as a heat map in the panel at (x0, y0) of size (pw, ph).  Evaluated in ctx (reset here;
 * on failure its status is returned and its message says why). */
nis_status nis_plot_density(nis_image *img, int x0, int y0, int pw, int ph, nis_ctx *ctx, const nis_target *t,
                            nis_extent e);

/* One panel: the target's density and the samples over it, written to path (size x size pixels). */
nis_status nis_plot_samples_2d(const char *path, nis_ctx *ctx, const nis_target *t, const nis_real *samples,
                               int64_t n, int size, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
