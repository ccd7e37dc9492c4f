/* nis/train.h — one-step neural samplers and their trainers: DFT (denoising Fisher training, Luo & Deng
 * 2024), KL training and Fisher training without noise (Luo et al. 2023).
 *
 * A sampler is an MLP g_θ: z ~ N(0, I_latent) -> x in R^dim.  Its training also uses a score network
 * s_φ: x -> R^dim, fitted by denoising score matching (DFT, KL) or exact score matching (Fisher) to the
 * sampler's own (noise-smoothed) output distribution.  See docs/dft.md for the losses.
 *
 * Which output is "the sample": DFT and KL drive p_θ * N(0, σ² I) towards q, so the sample that matches q is
 * x̃ = g_θ(z) + σ ε, and that is the default output (noisy_output = true); g_θ(z) alone is offered too.
 * Fisher training has no noise: its output is g_θ(z).
 */
#ifndef NIS_TRAIN_H
#define NIS_TRAIN_H

#include "nis/core.h"
#include "nis/nn.h"
#include "nis/rng.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------
 * The objectives, for any generator and score model (the trainer below uses them with MLPs; a conv
 * generator for images uses them as they are).  Shapes: x0 = g_θ(z) (B, d) built with the generator's
 * graph, eps (B, d) standard normal, σ > 0.  `score` evaluates s_φ on a (B, d) tensor with φ frozen (the
 * caller turns its parameters' requires_grad off), so gradients reach θ only through x̃ = x0 + σ ε.
 * Each returns the scalar to back-propagate (NULL with the context's error set) and writes the value to
 * report into *monitor. */
typedef nis_tensor *(*nis_score_fn)(nis_ctx *ctx, void *ud, nis_tensor *x);

/* DFT:  mean_b [ ||s_q(x̃) + ε/σ||² - ||s_φ(x̃) + ε/σ||² ];  its gradient in θ is the Fisher divergence's
 * when s_φ is the score of p_θ * N(0, σ² I).  Monitor: the loss (an estimate of that divergence).
 * Stochastic targets (t->stochastic, e.g. minibatch likelihoods, nis/blr.h): squaring one noisy score ŝ would
 * add tr Var ŝ(x̃) to the loss and a matching bias ∇ tr Var ŝ to its gradient.  Instead two independent draws
 * ŝ1, ŝ2 (two calls of the target) enter as  ŝ1·ŝ2 + (ŝ1 + ŝ2)·ε/σ + ||ε||²/σ²,  whose expectation over the
 * draws is ||s_q + ε/σ||² exactly, and so is its gradient's (tests/test_blr.c checks both).  Costs two score
 * evaluations per sample.  The Stein form (below) and Fisher training do the same for ||s_q||²; the smoothed
 * target (nis_dft_smooth_objective) rejects stochastic targets; KL training is linear in s_q and needs
 * nothing. */
nis_tensor *nis_dft_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                              nis_score_fn score, void *ud, double *monitor);
/* DFT with either or both of its terms in Stein form (a variance-reduced estimator of the same loss):
 * ||f(x̃) + ε/σ||² is replaced by ||f(x̃)||² + 2 div f(x̃) + d/σ², whose expectation over ε is the same for
 * every x0, so the expected θ-gradient is unchanged.  target_exact: f = s_q, div = Δ log q (dim backward
 * passes; its gradient needs third derivatives of log q); score_exact: f = s_φ, div s_φ by dim backward
 * passes (its gradient is a double backward of s_φ).  Both false: nis_dft_objective.  x̃ must require grad
 * for score_exact (it does when x0 comes from a trained generator). */
nis_tensor *nis_dft_stein_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                                    nis_score_fn score, void *ud, bool target_exact, bool score_exact,
                                    double *monitor);
/* Score of the smoothed target q_σ = q * N(0, σ² I) at x (B, d), by self-normalised importance sampling with
 * K inner draws per row: x_k = x + σ η_k, s ≈ Σ_k softmax_k(log q(x_k)) s_q(x_k)  (Tweedie: ∇log q_σ(x) =
 * E[s_q(X) | X + σE = x]).  eta (B*K, d) standard normal, rows b*K .. b*K+K-1 for row b.  Differentiable in
 * x (needs log q twice differentiable).  Biased for finite K (O(1/K)). */
nis_tensor *nis_smoothed_target_score(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *eta,
                                      double sigma);
/* The same score from a defensive-mixture proposal (src/train/smooth_score.c): half the K draws from the
 * Laplace approximation of π(X | x) ∝ q(X) N(X; x, σ²I) (precision σ⁻²I + the Hessian of −log q at x with
 * negative eigenvalues clipped, mean one Newton step, covariance ×2), half from N(x, σ²I), each draw
 * contributing A s_q(X_k) + (I − A)(X_k − x)/σ² (A = Σ/σ², a control variate from Tweedie's formula: exact
 * for a Gaussian q).  The draws are constants; the estimate depends on x through the weights' factor
 * N(X_k; x, σ²I) and the linear term only, so it needs d HVPs of log q per row and no double backward.  x (B, d), eta (B*K, d), K >= 2,
 * d <= NIS_SMOOTH_LAPLACE_MAX_DIM (a dense d x d eigendecomposition per row). */
#define NIS_SMOOTH_LAPLACE_MAX_DIM 128
nis_tensor *nis_smoothed_target_score_laplace(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *eta,
                                              double sigma);
/* DFT against the smoothed target:  mean_b [ ||s_{q_σ}(x̃) + ε/σ||² - ||s_φ(x̃) + ε/σ||² ], s_{q_σ} from
 * nis_smoothed_target_score with eta (nis_smoothed_target_score_laplace when laplace).  Its minimiser is
 * p_θ * N(0, σ²I) = q * N(0, σ²I), i.e. p_θ = q, so the sample is g_θ(z) (clean output).  Monitor: the loss (an estimate of the Fisher divergence between the two
 * smoothed densities). */
nis_tensor *nis_dft_smooth_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps,
                                     nis_tensor *eta, double sigma, bool laplace, nis_score_fn score, void *ud,
                                     double *monitor);
/* DFT with a residual score model s_φ = s_q + r_φ (`resid` evaluates r_φ):  mean_b [ -2 <s_q(x̃) + ε/σ, r_φ(x̃)>
 * - ||r_φ(x̃)||² ], which is nis_dft_objective's loss with that s_φ, term by term (the ||s_q + ε/σ||² parts
 * cancel).  Its x̃-gradient, -2 J_qᵀ r - 2 J_rᵀ (s_q + ε/σ + r), carries the 1/σ noise only through J_r, which
 * vanishes at the fixed point p_θ * N(0, σ²I) = q.  Linear in s_q: one draw of a stochastic target is
 * unbiased.  Monitor: the loss. */
nis_tensor *nis_dft_residual_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps,
                                       double sigma, nis_score_fn resid, void *ud, double *monitor);
/* KL training with the residual score model: surrogate mean_b <sg(r_φ(x̃)), x̃> (v = s_φ - s_q = r_φ; no
 * target evaluation).  Monitor: mean_b ||r_φ||². */
nis_tensor *nis_kl_residual_objective(nis_ctx *ctx, nis_tensor *x0, nis_tensor *eps, double sigma,
                                      nis_score_fn resid, void *ud, double *monitor);
/* KL training:  surrogate mean_b <sg(v), x̃>, v = s_φ(x̃) - s_q(x̃), whose θ-gradient is KL(p_θ,σ || q)'s.
 * Monitor: mean_b ||v||². */
nis_tensor *nis_kl_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                             nis_score_fn score, void *ud, double *monitor);
/* Fisher training without noise:  mean_b [ ||s_q(x)||² + 2 Δlog q(x) - ||s_φ(x)||² - 2 div s_φ(x) ], x = x0;
 * divergences exact by autodiff (d backward passes: small d only).  Monitor: the loss. */
nis_tensor *nis_fisher_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_score_fn score, void *ud,
                                 double *monitor);
/* Score-network objectives on detached samples x0 (their gradient goes to φ):
 * denoising score matching  mean_b ||s_φ(x0 + σ ε) + ε/σ||²  (minimiser: the score of p * N(0, σ² I)), and
 * exact score matching      mean_b [ ||s_φ(x0)||² + 2 div s_φ(x0) ]  (minimiser: the score of p). */
nis_tensor *nis_dsm_objective(nis_ctx *ctx, nis_tensor *x0, nis_tensor *eps, double sigma, nis_score_fn score,
                              void *ud, double *monitor);
nis_tensor *nis_ssm_objective(nis_ctx *ctx, nis_tensor *x0, nis_score_fn score, void *ud, double *monitor);

/* ---------------------------------------------------------------------------------------------------------
 * The trainer of MLP samplers.
 */
typedef enum { NIS_METHOD_DFT, NIS_METHOD_KL, NIS_METHOD_FISHER } nis_method;

/* Short name ("dft", "kl", "fisher") and its inverse (false if unknown). */
const char *nis_method_name(nis_method m);
bool nis_method_parse(const char *name, nis_method *out);

/* Everything a training run depends on.  nis_train_config_default gives the documented defaults (found by
 * the sweeps of docs/results-2d.md): 3000 updates of batch 256; sampler and score network MLPs with 3
 * hidden layers of 64 SiLU units, latent 2; Adam, sampler lr 1e-4, score lr 1e-3, 5 score updates per
 * sampler update; σ = 0.1 without annealing; antithetic noise; gradient clipping at norm 10; a broad start
 * (init_scale 2, 500 fitting steps); samples from an EMA of the sampler's weights (ema_decay 0.999); the plain
 * score model (score_residual off: measured better for DFT on a 3-D Gaussian, BLR and the MNIST energy, worse on
 * the 2-D squiggle and donut, for which `nis train` turns it on; docs/dft.md). */
typedef struct {
    nis_method method;
    int64_t iters;           /* sampler updates */
    int64_t batch;           /* samples per update (even: antithetic pairs) */
    int latent;              /* latent size of the sampler */
    int sampler_width, sampler_depth;   /* hidden width and number of hidden layers */
    int score_width, score_depth;
    nis_act act;
    double lr_sampler, lr_score;
    double lr_final;         /* > 0: the sampler lr decays from lr_sampler to this by a half cosine over iters */
    int score_steps;         /* score-network updates per sampler update */
    double sigma;            /* noise level σ (at the end of annealing) */
    double sigma_start;      /* σ at iteration 0; annealed geometrically to sigma over anneal_iters (<= 0: off) */
    int64_t anneal_iters;
    bool antithetic;         /* use ε and -ε for the same z */
    bool noisy_output;       /* samples are g(z) + σ ε (default for DFT/KL) rather than g(z) */
    double grad_clip;        /* max global gradient norm of each network (<= 0: off) */
    bool score_eps;          /* s_φ(x) = net(x) / σ (the net predicts -ε, unit scale) instead of net(x) */
    int64_t kl_warmup;       /* DFT only: this many KL updates first */
    double init_scale;       /* > 0: first fit g(z) ≈ init_scale * z[:dim] (a broad start that covers separated
                              * modes); <= 0: keep the random initialisation */
    int64_t init_steps;      /* regression steps of that fit */
    const nis_real *init_mean;   /* NULL, or dim values: the fit is g(z) ≈ init_mean + init_scale z[:dim] (e.g. a
                                  * posterior mode, nis_blr_mode).  Read by nis_trainer_new only (not kept). */
    uint64_t seed;
    /* Options added by the DFT experiments (docs/dft-experiments.md); zero/false keeps the behaviour above. */
    int64_t score_kde;       /* > 0: diagnostic. Replace s_φ by the exact score of (1/N) Σ_j N(x; g(z_j), σ² I) over a
                              * fresh detached pool of N = score_kde samples (no score network is trained) */
    bool stein_target;       /* DFT: target term in Stein form (nis_dft_stein_objective) */
    bool stein_score;        /* DFT: score-network term in Stein form */
    int target_smooth;       /* > 0: DFT against q * N(0, σ²I) with this many importance samples per point
                              * (nis_dft_smooth_objective; antithetic pairs when even); use with
                              * noisy_output = false */
    bool smooth_laplace;     /* with target_smooth: the Laplace-mixture proposal (nis_smoothed_target_score_laplace) */
    bool score_energy;       /* conservative score network: s_φ(x) = -∇_x E_φ(x), E_φ an MLP to a scalar (its
                              * Jacobian is a symmetric Hessian; DSM and the sampler loss use double backward) */
    int levels;              /* DFT, > 1: multi-level DFT.  L noise levels σ_l geometric from sigma to sigma_max, one
                              * score network each (score_steps DSM updates per level), and the sampler loss
                              * Σ_l σ_l² D_l / Σ_l σ_l², D_l the level's DFT loss.  With target_smooth (both sides
                              * smoothed) the weights make this a Riemann sum of de Bruijn's identity
                              * KL(p||q) = ½ ∫ F(p * N(0, t) || q * N(0, t)) dt over log t: a Fisher objective
                              * that sees mass.  Annealing (sigma_start) scales every level.  0 or 1: one level */
    double sigma_max;        /* the coarsest level's σ (levels > 1) */
    bool score_residual;     /* residual score model s_φ = s_q + r_φ (the MLP learns r_φ = ∇log p_θ,σ - s_q, zero at
                              * the fixed point); DFT and KL use nis_dft/kl_residual_objective.  Its DSM needs s_q
                              * at every score step and, on a stochastic (minibatch) target, inherits that noise:
                              * measured worse there (tests/test_blr.c), so turn it off for such targets.  Refused
                              * with target_smooth or score_kde (the CLI turns it off for them) */
    int64_t temper_iters;    /* > 0: train against the tempered target q^β N(0, I)^(1-β) (nis_tempered_target), β
                              * linear from temper_start to 1 over temper_iters updates, then q itself.  For
                              * every method.  0: off (q throughout) */
    double temper_start;     /* β at update 0, in [0, 1) */
    double ema_decay;        /* in (0, 1): keep an exponential moving average of the sampler's weights (Polyak
                              * averaging of the final iterates); samples and checkpoints use the average.
                              * 0: off (samples use the last iterate) */
    const nis_real *precond_mean;   /* NULL (off), or dim values m; with precond_L (dim x dim, row-major) the
                                     * sampler is trained on the whitened target q(m + L u) (nis_affine_target)
                                     * and maps its samples back, x = m + L u (+ noise: m + L (u + σε)), in
                                     * nis_trainer_sample, nis_trainer_save and the saved sampler.  m and L L^T
                                     * are meant to be the mean and covariance of rough samples of q
                                     * (nis_affine_fit of a first run's samples): DFT's Fisher divergence weighs
                                     * errors along q's wide directions by their curvature, so it needs q near
                                     * standardised (bench/blr_notes.md, Session 7).  Copied by nis_trainer_new;
                                     * init_mean must then be NULL (the start is u = 0, i.e. x = m) */
    const nis_real *precond_L;
    int64_t score_warmup;    /* score-network updates on the initial sampler before its first update (in the first
                              * nis_trainer_step, on top of score_steps), so that the first sampler gradients do not
                              * come from an untrained score network.  0: off */
    double kl_weight;        /* DFT only, >= 0: the sampler loss is L_DFT + kl_weight * L_KL, the KL training loss
                              * (nis_kl_objective, or nis_kl_residual_objective with score_residual) on a second
                              * draw of z and ε, with the same score network.  A hybrid, not DFT: the KL term
                              * charges mass errors that a Fisher divergence barely sees (mode weights, tails;
                              * docs/dft-experiments.md, Session 10).  nis_train_stats.sampler_loss stays the
                              * DFT term's.  0: off (pure DFT) */
} nis_train_config;

nis_train_config nis_train_config_default(nis_method method);

#define NIS_TRAIN_MAX_LEVELS 8

/* What one update reports. */
typedef struct {
    int64_t iter;            /* updates done */
    double sampler_loss;     /* the method's loss (DFT: an estimate of the Fisher divergence) */
    double score_loss;       /* last score-matching loss */
    double sigma;            /* σ used in this update */
    double beta;             /* tempering β used in this update (1 when not tempering) */
    int64_t target_grad_evals;   /* score-of-q evaluations so far (one per sample per update; HVPs count 1) */
} nis_train_stats;

/* A trained or training sampler: the generator, its score network, their optimisers, a context. */
typedef struct nis_trainer nis_trainer;

/* A new trainer for target t (t must outlive it) with configuration cfg (copied).  NULL on error, with a
 * one-line message in err. */
nis_trainer *nis_trainer_new(const nis_target *t, const nis_train_config *cfg, char *err, size_t errlen);
void nis_trainer_free(nis_trainer *tr);
/* One sampler update, preceded by cfg.score_steps score-network updates (per level when levels > 1).
 * NIS_ENUMERIC if a loss or a gradient is not finite (the network whose update failed is left as it was). */
nis_status nis_trainer_step(nis_trainer *tr, nis_train_stats *stats);
/* Message of the last error. */
const char *nis_trainer_message(const nis_trainer *tr);
/* n samples (n x dim, caller-owned) from the current sampler (its EMA weights when ema_decay > 0) with
 * generator rng; noisy: add σ ε. */
nis_status nis_trainer_sample(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out);
/* The configuration in use (σ is the current one after annealing). */
const nis_train_config *nis_trainer_config(const nis_trainer *tr);
double nis_trainer_sigma(const nis_trainer *tr);

/* Save the sampler (generator weights, the EMA weights when ema_decay > 0, + what is needed to use it: latent,
 * widths, activation, σ, output mode, target, method) as safetensors, atomically.  tr is not changed (the
 * EMA weights are swapped in for the write and back). */
nis_status nis_trainer_save(nis_trainer *tr, const char *path, char *err, size_t errlen);

/* A loaded sampler, for generating only. */
typedef struct nis_sampler nis_sampler;
nis_sampler *nis_sampler_load(const char *path, char *err, size_t errlen);
void nis_sampler_free(nis_sampler *s);
int nis_sampler_dim(const nis_sampler *s);
const char *nis_sampler_target(const nis_sampler *s);   /* target name stored with it */
/* n samples into out (n x dim); noisy < 0 uses the stored default, 0 g(z), 1 g(z) + σ ε. */
nis_status nis_sampler_generate(nis_sampler *s, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                                size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
