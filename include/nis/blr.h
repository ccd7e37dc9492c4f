/* nis/blr.h — the Bayesian logistic regression posterior as a nis_target (issue 4, SVGD's set-up).
 *
 * Data: rows x_i (d features, usually standardised with an intercept column, see nis/data.h), labels
 * y_i in {0, 1}, N rows.  Likelihood p(y = 1 | x, w) = sigmoid(w·x).  Priors:
 *   NIS_BLR_PRIOR_HIER    w | α ~ N(0, α⁻¹ I), α ~ Gamma(a, rate b), sampled in θ = [w, log α] (D = d + 1):
 *                         log p(θ) = Σ_i log σ(±w·x_i) + (d/2 + a) log α − α (‖w‖²/2 + b)   (+ const;
 *                         the Jacobian of α = e^{θ_D} is included)
 *   NIS_BLR_PRIOR_NORMAL  w ~ N(0, I), θ = w (D = d):  log p(θ) = Σ_i log σ(±w·x_i) − ‖w‖²/2.
 *   NIS_BLR_PRIOR_HIER_NC the hierarchical posterior in non-centred coordinates θ' = [v, log α], w = v/√α
 *                         (target name "blr-nc", D = d + 1): log p(θ') = Σ_i log σ(±w·x_i) − ‖v‖²/2 + a log α
 *                         − b α.  Same posterior, without the density spike of the centred form at the
 *                         funnel's neck (w → 0, α → (d/2 + a)/b), into which Fisher-divergence samplers (DFT)
 *                         fall.  Score and HVP by autodiff.  nis_blr_nc_to_theta maps samples back to θ.
 *   NIS_BLR_PRIOR_HIER_MARG the same hierarchical posterior with α integrated out (target "blr-marg", D = d):
 *                         w has a multivariate Student-t prior, log p(w) = Σ_i log σ(±w·x_i) − (a + d/2)
 *                         log(b + ‖w‖²/2), and α | w ~ Gamma(a + d/2, rate b + ‖w‖²/2) exactly, so a sampler of
 *                         w plus one Gamma draw per sample (nis_blr_marg_to_theta) samples θ = [w, log α].
 *                         No funnel at all.  Score and HVP by autodiff.
 * Log-sigmoids are softplus (stable).  One evaluation of log p, the score or an HVP for a batch θ (B, D) is
 * one (B, d) x (d, M) GEMM (two for the HVP), M = N or the minibatch size.
 *
 * Minibatches (opts.minibatch = M with 0 < M < N): every call of log_prob, score or hvp draws a fresh
 * minibatch of M distinct rows (uniform, without replacement) from the target's own Philox stream (seed
 * opts.seed) and scales the likelihood by N / M, so each call is an unbiased estimate of the full-batch
 * value; all B rows of one call share the minibatch.  The target is then marked `stochastic` (see
 * nis/target.h and nis_dft_objective in nis/train.h).  The draws mutate the target: one target must not be
 * used from two threads at once.  Results are deterministic given the seed and the sequence of calls.
 */
#ifndef NIS_BLR_H
#define NIS_BLR_H

#include "nis/core.h"
#include "nis/data.h"
#include "nis/dist.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NIS_BLR_PRIOR_HIER = 0, NIS_BLR_PRIOR_NORMAL, NIS_BLR_PRIOR_HIER_NC, NIS_BLR_PRIOR_HIER_MARG } nis_blr_prior;

typedef struct {
    nis_blr_prior prior;
    int64_t minibatch;               /* 0 (or >= N) = full batch */
    double gamma_shape, gamma_rate;  /* HIER: α ~ Gamma(shape, rate) */
    uint64_t seed;                   /* minibatch draws */
    const nis_dist *dist;            /* a group: this rank keeps its share of the rows (nis_dist_share) and the
                                      * likelihood is summed over the ranks inside the graph (nis_dist_sum), the
                                      * prior added once; log q, score and HVP are the whole data's on every rank.
                                      * Full batch only.  Borrowed; NULL: every row here */
} nis_blr_opts;

/* HIER, full batch, Gamma(1, rate 0.01), seed 0. */
nis_blr_opts nis_blr_defaults(void);

/* Target "blr" of dim D = d + 1 (HIER: θ = [w, log α]; "blr-nc" for HIER_NC) or d (NORMAL: w ~ N(0, I);
 * "blr-marg" for HIER_MARG), d = train->d.  Copies what
 * it needs from train (train may be freed afterwards).  o may be NULL (defaults).  NULL on error (empty data,
 * a label not 0/1, a bad option, out of memory) with a one-line message in err.  Free with
 * nis_blr_target_free. */
nis_target *nis_blr_target_new(const nis_dataset *train, const nis_blr_opts *o, char *err, size_t errlen);
/* Free a target made by nis_blr_target_new.  NULL ok. */
void nis_blr_target_free(nis_target *t);

/* A point in the bulk of the posterior, into out (t->dim values, caller-owned): the full-batch mode in w with
 * α fixed, α reset to its conditional mode (d/2 + a)/(‖w‖²/2 + b) every 100 steps of 2000 Adam steps (NORMAL:
 * α = 1).  The joint density in θ = [w, log α] also peaks at the funnel's neck (w → 0, α → (d/2 + a)/b),
 * a spike of negligible mass that a sampler started near w = 0 can fall into; start samplers here instead
 * (the target's mode callback: nis_train_config.init_at_mode); for HIER_MARG only w (d values).  Costs 2000 passes over the data.  NIS_EINVAL (not a blr target),
 * NIS_ENOMEM, NIS_ENUMERIC. */
nis_status nis_blr_mode(const nis_target *t, nis_real *out, char *err, size_t errlen);

/* The parametrisation a one-step sampler trains on for prior p: HIER_NC for HIER (the same posterior without the
 * centred form's spike at the funnel's neck, into which DFT falls: bench/blr_notes.md), else p.  What `nis train
 * --target blr` uses when --prior is not given. */
nis_blr_prior nis_blr_prior_for_sampler(nis_blr_prior p);
/* The prior's name as the CLI and files spell it ("hier", "normal", "hier-nc", "hier-marg"), and back (false for an
 * unknown name). */
const char *nis_blr_prior_name(nis_blr_prior p);
bool nis_blr_prior_parse(const char *name, nis_blr_prior *out);
/* Map n samples x (n, D) of the non-centred target, [v, log α], to θ = [w, log α] in place: w = v e^{−log α/2}. */
void nis_blr_nc_to_theta(nis_real *x, int64_t n, int D);
/* The same as the non-centred target's report map (nis_target.report): x (n, t->dim) in place. */
void nis_blr_nc_report(const nis_target *t, nis_real *x, int64_t n);

/* Complete n samples w (n, d) of the marginal target t (HIER_MARG) to θ = [w, log α] (n, d + 1), caller-owned;
 * theta may be w itself if it has room for n (d + 1) values: log α = log of a Gamma(a + d/2, rate b + ‖w‖²/2)
 * draw from rng.  NIS_EINVAL (not a HIER_MARG blr target, NULL pointers), NIS_ENUMERIC (a non-finite log α;
 * all rows are still written). */
nis_status nis_blr_marg_to_theta(const nis_target *t, const nis_real *w, int64_t n, nis_rng *rng, nis_real *theta);

/* Posterior predictive on data (d = data->d columns): p_i = mean_s sigmoid(w_s·x_i) over the n samples theta
 * (n, D) row-major (only the first d coordinates of each row are w; D >= d).  *accuracy = mean_i 1[(p_i > 0.5)
 * == y_i], *loglik = mean_i log p(y_i | x_i) (computed as log mean_s sigmoid(±w_s·x_i), so a confident wrong
 * prediction costs its true log-probability, floored at log 1e-300).  Either output pointer may be NULL.
 * NIS_EINVAL for n < 1, D < d or an empty dataset; NIS_ENUMERIC if a sample is not finite; NIS_ENOMEM. */
nis_status nis_blr_predict(const nis_dataset *data, const nis_real *theta, int64_t n, int D, double *accuracy,
                           double *loglik);

#ifdef __cplusplus
}
#endif
#endif
