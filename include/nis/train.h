/* nis/train.h — one-step neural samplers and the one trainer that trains them: DFT (denoising Fisher training,
 * Luo & Deng 2024), KL training and Fisher training without noise (Luo et al. 2023), and the DFT + λ KL hybrid.
 *
 * A sampler is a network g_θ: z ~ N(0, I_latent) -> x in R^dim: an MLP (NIS_NET_MLP: 2-D densities, posteriors,
 * any user density) or a conv generator (NIS_NET_CONV: images, dim = c*h*w).  Its training also uses a score model
 * s_φ: x -> R^dim fitted to the sampler's own (noise-smoothed) output distribution by denoising score matching
 * (DFT, KL) or exact score matching (Fisher).  One update (nis_trainer_step, src/train/trainer.c) is:
 *   1. σ and the sampler's learning rate of this update (the schedule, src/train/schedule.c);
 *   2. score_steps updates of s_φ on the objective's score loss (score_warmup more before the first update);
 *   3. one update of g_θ on the objective's sampler loss (src/train/objectives.c), s_φ frozen;
 *   4. the EMA of g_θ's weights.
 *
 * Which output is "the sample": DFT and KL drive p_θ * N(0, σ² I) towards q, so the sample that matches q is
 * x̃ = g_θ(z) + σ ε, the default (noisy_output); g_θ(z) alone is offered too.  Fisher training has no noise.
 * See docs/dft.md for the losses and docs/architecture.md for the path of one step.
 */
#ifndef NIS_TRAIN_H
#define NIS_TRAIN_H

#include "nis/core.h"
#include "nis/dist.h"
#include "nis/nn.h"
#include "nis/rng.h"
#include "nis/schema.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------
 * The objectives' mathematics, for any generator and score model.  Shapes: x0 = g_θ(z) (B, d) built with the
 * generator's graph, eps (B, d) standard normal, σ > 0.  `score` evaluates s_φ on a (B, d) tensor with φ frozen
 * (the caller turns its parameters' requires_grad off), so gradients reach θ only through x̃ = x0 + σ ε.  Each
 * returns the scalar to back-propagate (NULL with the context's error set) and writes the value to report into
 * *monitor.
 * Levels: sig NULL, every row has noise σ.  sig (B, 1): row b has its own level σ_b (x̃_b = x0_b + σ_b ε_b), the
 * target is evaluated as q_{σ_b} (nis_target.log_prob_at), s_φ at that level (the score_fn gets sig), and row b's
 * loss is weighted by (σ_b / σ)², which puts every level on the scale of the base level σ (Song et al. 2021's
 * λ(σ) = σ²).  This is the sum over levels of each objective's divergence between p_θ * N(0, σ_b² I) and q_{σ_b}. */
typedef nis_tensor *(*nis_score_fn)(nis_ctx *ctx, void *ud, nis_tensor *x, nis_tensor *sig);

/* DFT:  mean_b [ ||s_q(x̃) + ε/σ||² - ||s_φ(x̃) + ε/σ||² ];  its gradient in θ is the Fisher divergence's when
 * s_φ is the score of p_θ * N(0, σ² I).  Monitor: the loss (an estimate of that divergence).  Stochastic targets
 * (t->stochastic, e.g. minibatch likelihoods): two independent draws ŝ1, ŝ2 enter as
 * ŝ1·ŝ2 + (ŝ1 + ŝ2)·ε/σ + ||ε||²/σ², whose expectation is ||s_q + ε/σ||² exactly, and so is its gradient's
 * (tests/test_blr.c checks both); two score evaluations per sample. */
nis_tensor *nis_dft_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                              nis_tensor *sig, nis_score_fn score, void *ud, double *monitor);
/* DFT with a residual score model s_φ = s_q + r_φ (`resid` evaluates r_φ):  mean_b [ -2 <s_q(x̃) + ε/σ, r_φ(x̃)>
 * - ||r_φ(x̃)||² ], nis_dft_objective's loss with that s_φ, term by term (the ||s_q + ε/σ||² parts cancel).  Its
 * x̃-gradient carries the 1/σ noise only through J_r, which vanishes at the fixed point.  Linear in s_q: one draw
 * of a stochastic target is unbiased.  Monitor: the loss. */
nis_tensor *nis_dft_residual_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps,
                                       double sigma, nis_tensor *sig, nis_score_fn resid, void *ud, double *monitor);
/* KL training:  surrogate mean_b <sg(v), x̃>, v = s_φ(x̃) - s_q(x̃), whose θ-gradient is KL(p_θ,σ || q)'s.
 * Monitor: mean_b ||v||². */
nis_tensor *nis_kl_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_tensor *eps, double sigma,
                             nis_tensor *sig, nis_score_fn score, void *ud, double *monitor);
/* KL training with the residual score model: surrogate mean_b <sg(r_φ(x̃)), x̃> (no target evaluation).
 * Monitor: mean_b ||r_φ||². */
nis_tensor *nis_kl_residual_objective(nis_ctx *ctx, nis_tensor *x0, nis_tensor *eps, double sigma, nis_tensor *sig,
                                      nis_score_fn resid, void *ud, double *monitor);
/* Fisher training without noise:  mean_b [ ||s_q(x)||² + 2 Δlog q(x) - ||s_φ(x)||² - 2 div s_φ(x) ], x = x0;
 * divergences exact by autodiff (d backward passes: small d only; no levels: score gets sig NULL).  Monitor: the
 * loss. */
nis_tensor *nis_fisher_objective(nis_ctx *ctx, const nis_target *t, nis_tensor *x0, nis_score_fn score, void *ud,
                                 double *monitor);
/* Score-model objectives on detached samples x0 (their gradient goes to φ):
 * denoising score matching  mean_b ||s_φ(x0 + σ ε) + ε/σ||²  (minimiser: the score of p * N(0, σ² I)), and
 * exact score matching      mean_b [ ||s_φ(x0)||² + 2 div s_φ(x0) ]  (minimiser: the score of p). */
nis_tensor *nis_dsm_objective(nis_ctx *ctx, nis_tensor *x0, nis_tensor *eps, double sigma, nis_tensor *sig,
                              nis_score_fn score, void *ud, double *monitor);
nis_tensor *nis_ssm_objective(nis_ctx *ctx, nis_tensor *x0, nis_score_fn score, void *ud, double *monitor);

/* ---------------------------------------------------------------------------------------------------------
 * The configuration: one schema (nis_train_schema, src/train/config.c) gives its defaults, checks, text form
 * (config.json, checkpoints) and the CLI's flags and --help.
 */
typedef enum { NIS_METHOD_DFT, NIS_METHOD_KL, NIS_METHOD_FISHER } nis_method;
typedef enum { NIS_NET_MLP, NIS_NET_CONV } nis_net_kind;
/* The score model: s_φ = net (plain), s_φ = s_q + net (residual: the net learns r = ∇log p_θ,σ − s_q, zero at the
 * fixed point), or auto: residual for DFT on targets of dimension <= 2 (measured better on the six 2-D targets),
 * plain elsewhere (measured better on a 3-D Gaussian, BLR and the MNIST energy; docs/dft.md). */
typedef enum { NIS_SCORE_AUTO, NIS_SCORE_PLAIN, NIS_SCORE_RESIDUAL } nis_score_model;
/* Image score networks (nis_unet): strided convs and transposed convs, or pooling and nearest upsampling. */
typedef enum { NIS_SCORE_NET_STRIDED, NIS_SCORE_NET_POOLED } nis_score_net;
/* How a whitened training finds its Gaussian fit N(m, L Lᵀ): the Laplace approximation at the target's mode
 * (nis_laplace_fit: seconds, for targets close to Gaussian such as posteriors with many data), short HMC chains in
 * the Laplace coordinates and their draws' mean and covariance (nis_whiten_hmc: the bulk, not the mode, for about
 * the same cost), or a pilot run of the sampler itself and its samples' mean and covariance (nis_whiten_pilot: a
 * whole run's cost, for any shape). */
typedef enum { NIS_WHITEN_LAPLACE, NIS_WHITEN_PILOT, NIS_WHITEN_HMC } nis_whiten_by;

/* Short name ("dft", "kl", "fisher") and its inverse (false if unknown). */
const char *nis_method_name(nis_method m);
bool nis_method_parse(const char *name, nis_method *out);

typedef struct {
    nis_method method;       /* dft | kl | fisher */
    double kl_weight;        /* DFT, >= 0: the sampler loss is L_DFT + kl_weight L_KL (a hybrid, not DFT: the KL term
                              * charges the mass errors a Fisher divergence barely sees; docs/dft-blindness.md) */
    int64_t iters;           /* sampler updates (the cosine lr schedule spans them) */
    int64_t batch;           /* samples per update (even with antithetic noise) */
    int64_t seed;
    nis_net_kind net;        /* mlp | conv (set by the front end: conv for images) */
    int64_t latent;          /* latent size (0: the target's dimension) */
    int64_t width, depth;    /* MLP sampler: hidden width and number of hidden layers */
    int64_t score_width, score_depth;    /* MLP score network */
    int64_t img_c, img_h, img_w;         /* conv: image shape, c*h*w = the target's dimension, h, w % 4 == 0 */
    int64_t gen_channels;    /* conv: channels of the generator's stem */
    int64_t score_channels;  /* conv: channels of the U-Net score network at full resolution */
    nis_score_net score_net; /* conv: how that U-Net resamples (nis/nn.h's nis_unet, `pooled`) */
    bool sigmoid_output;     /* conv: g(z) = sigmoid(...) in (0, 1), the support of image energies (else linear) */
    nis_act act;             /* hidden activation of both networks */
    nis_score_model score_model;
    double lr, lr_final;     /* sampler Adam lr; > 0: decayed to lr_final by a half cosine over iters */
    double lr_score;         /* score-network Adam lr */
    int64_t score_steps;     /* score-network updates per sampler update */
    int64_t score_warmup;    /* score-network updates before the first sampler update (-1: 1000 for the main run of
                              * a whitened training, else 0) */
    double sigma;            /* noise level σ (at the end of annealing) */
    double sigma_start;      /* > 0: σ at update 0, annealed geometrically to sigma over anneal_iters */
    int64_t anneal_iters;
    double sigma_max;        /* > sigma: every draw has its own level, log-uniform in [sigma, sigma_max], and the
                              * losses sum over levels (the objectives' sig); the target needs levels (log_prob_at,
                              * e.g. a noise-conditional energy).  0: one level, sigma */
    bool antithetic;         /* ε and -ε for the same z */
    bool noisy_output;       /* samples are g(z) + σ ε (DFT, KL) rather than g(z) */
    double grad_clip;        /* max global gradient norm of each network (0: off) */
    double ema;              /* decay of an EMA of the sampler's weights, used for samples (0: the last iterate) */
    double init_scale;       /* MLP, > 0: first fit g(z) ≈ m + init_scale z[:dim] (a broad start) */
    int64_t init_steps;      /* steps of that fit */
    bool init_at_mode;       /* MLP: m = the target's mode when it can find one (nis_target.mode), else 0 */
    bool whiten;             /* train on q(m + L u) with m, L from a Gaussian fit (whiten_by; docs/dft.md) */
    nis_whiten_by whiten_by; /* laplace: nis_laplace_fit; pilot: a first run's samples (nis_whiten_pilot) */
    double white_lr, white_lr_final;     /* the whitened run's lr and its cosine end (lr is the pilot's) */
    int64_t monitor_every;   /* > 0: every this many updates, the drift of the samples for fixed latent draws */
    double stop_drift;       /* > 0: stop when the drift is below this at two checks in a row (nis_trainer_stopped) */
} nis_train_config;

/* Which front ends list a field (nis_field.scope). */
#define NIS_SCOPE_MLP 1u
#define NIS_SCOPE_CONV 2u

/* The schema of nis_train_config (static). */
const nis_schema *nis_train_schema(void);
/* Defaults for MLP samplers (2-D densities, posteriors, users' densities): 3000 updates of batch 256, MLPs of 3
 * hidden layers of 64 SiLU units, latent = dim, Adam (sampler 1e-4, score 1e-3), 5 score updates per update,
 * σ = 0.1, antithetic noise, clipping at 10, a broad start (init_scale 2, 500 steps) around the target's mode,
 * EMA 0.999 (found by the sweeps of docs/results-2d.md).  noisy_output is off for Fisher. */
nis_train_config nis_train_config_default(nis_method method);
/* Defaults for a Bayesian posterior with many data (close to Gaussian, tens to hundreds of dimensions; what
 * `nis train --target blr` starts from): trained on the target whitened by a Gaussian fit of its bulk (whiten,
 * whiten_by hmc: nis_whiten_hmc), and the smallest networks, batch and schedule that held the accuracy bar of
 * docs/results-blr-defaults.md on the four UCI posteriors (the values: src/train/config.c). */
nis_train_config nis_train_config_posterior(nis_method method);
/* The posterior preset's rule for its target t, applied after the user's settings: on a minibatch estimate of the
 * likelihood (t->stochastic) the whitening by Laplace or HMC, which needs the exact log q, is off unless whiten_given. */
void nis_train_config_for_posterior(nis_train_config *cfg, const nis_target *t, bool whiten_given);
/* Defaults for conv samplers of images (c, h, w): batch 64, latent 64, generator stem 64 channels, U-Net 16,
 * 3 score updates per update, no broad start; the rest as above. */
nis_train_config nis_train_config_image(nis_method method, int c, int h, int w);
/* For front ends in other languages (Python's ctypes: python/nis), which cannot lay out the struct: a configuration
 * on the heap with nis_train_config_default(method)'s values (free with nis_free; NULL if out of memory), and one
 * field set or read by its schema name from or into its text form (nis/schema.h).  set: NIS_EINVAL with one line in
 * err for an unknown name or a bad value (cfg unchanged); get: false for an unknown name. */
nis_train_config *nis_train_config_new(nis_method method);
nis_train_config *nis_train_config_new_image(nis_method method, int c, int h, int w);   /* nis_train_config_image's */
nis_train_config *nis_train_config_new_posterior(nis_method method);   /* nis_train_config_posterior's */
nis_status nis_train_config_set(nis_train_config *cfg, const char *name, const char *text, char *err, size_t errlen);
bool nis_train_config_get(const nis_train_config *cfg, const char *name, char *buf, size_t size);
/* The policy for a sampler of an image energy E (nis/ebm.h), applied after the user's settings: a DSM energy models the
 * data smoothed by N(0, noise² I), so unless the user set sigma, sigma = noise (g(z) then learns clean images and
 * g(z) + σε matches q); a noise-conditional energy is learned over all its levels (sigma_max = noise_max: at one
 * level KL draws blank images and DFT a stripe texture, bench/ebm_dsm_notes.md run E) unless the user set sigma_max
 * or sigma_start, or sigma is not below noise_max. */
struct nis_ebm;
void nis_train_config_for_energy(nis_train_config *cfg, const struct nis_ebm *E, bool sigma_given, bool levels_given);
/* Every rule of cfg against target t (t may be NULL: rules that need it are skipped): the schema's ranges,
 * then the rules between fields.  One line in err naming the first violation. */
nis_status nis_train_config_check(const nis_train_config *cfg, const nis_target *t, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * Objectives as plug-ins.  A loss sees one update through a nis_train_step: everything it may use is passed here,
 * nothing is read from the trainer.
 */
typedef struct nis_train_step nis_train_step;
struct nis_train_step {
    nis_ctx *ctx;
    const nis_target *q;          /* the density the losses use (whitened when preconditioned; evaluations counted) */
    const nis_train_config *cfg;
    double sigma;                 /* σ of this update */
    int64_t iter;                 /* updates done before this one */
    nis_score_fn score;           /* s_φ (ud: this step) */
    nis_score_fn resid;           /* r_φ = s_φ - s_q with the residual model, else NULL */
    const void *nets;             /* the trainer's networks (for nis_train_draw) */
    nis_rng *rng;                 /* the training noise */
    const nis_dist *dist;         /* a group training together (this rank draws its share of each batch), or NULL */
};
/* Fresh z ~ N(0, I) (B, latent) and ε ~ N(0, I) (B, dim) (antithetic pairs when configured: the second half of the
 * batch is the first half's z with -ε) into *eps, and with sigma_max set (and sig not NULL) the rows' levels (B, 1)
 * into *sig (antithetic pairs share theirs; else *sig = NULL); returns x0 = g(z) (B, dim), with the generator's
 * graph when `graph` (with antithetic pairs g runs on the first half's rows and x0 is that half twice,
 * concatenated: a pair's two x0 are equal to the bit).  NULL with the context's error set.  In a group (s->dist),
 * this rank's rows only: its share (nis_dist_share) of the batch's draws (of its pairs with antithetic pairs, each
 * pair's two rows together), the same values as those rows of one process's batch, the generator left where the
 * whole batch leaves it (nis_rng_skip_normals), so the sum of the ranks' losses' gradients is one process's up to
 * rounding. */
nis_tensor *nis_train_draw(const nis_train_step *s, bool graph, nis_tensor **eps, nis_tensor **sig);

typedef struct nis_objective {
    const char *name;
    nis_tensor *(*score_loss)(const nis_train_step *s, double *monitor);     /* the score model's loss */
    nis_tensor *(*sampler_loss)(const nis_train_step *s, double *monitor);   /* the sampler's loss */
} nis_objective;
/* The built-in objective of a method (DFT includes the hybrid's kl_weight term). */
const nis_objective *nis_objective_builtin(nis_method m);

/* ---------------------------------------------------------------------------------------------------------
 * The trainer.
 */
typedef struct {
    int64_t iter;            /* updates done */
    double sampler_loss;     /* the objective's monitor (DFT: an estimate of the Fisher divergence) */
    double score_loss;       /* last score-model loss */
    double sigma;            /* σ used in this update */
    double lr;               /* the sampler's learning rate in this update */
    int64_t target_evals;    /* rows passed to the target's log q, score or HVP so far (a backward pass through
                              * them is not counted: DFT's score-and-HVP counts one) */
    double drift;            /* the convergence monitor at this update (NaN when it did not check): the change of
                              * the samples for NIS_MONITOR_N fixed latent draws since the last check, in the trainer's
                              * coordinates, sqrt(mean_i ((Δmean_i)² + (Δsd_i)²) / sd_i²) (sd_i: the last check's) */
} nis_train_stats;

/* Latent draws of the convergence monitor (the stream NIS_STREAM_MONITOR, the same draws at every check; an image
 * generator's monitor uses its first 256). */
#define NIS_MONITOR_N 1024

/* Arrays a run may start from (all optional). */
typedef struct {
    const nis_real *mean;                 /* dim values: the broad start fits g(z) ≈ mean + init_scale z (NULL: the
                                           * target's mode with init_at_mode, else 0) */
    const nis_real *precond_mean;         /* dim values m and (dim, dim) L, row-major: train on the whitened target */
    const nis_real *precond_L;            /* q(m + L u) and map samples back, x = m + L u (+ noise: m + L (u + σε));
                                           * copied; mean must then be NULL (the start is u = 0, i.e. x = m) */
} nis_train_start;

typedef struct nis_trainer nis_trainer;

/* A new trainer for target t (must outlive it) with cfg (copied) and start (NULL: none).  NULL with one line in
 * err on a bad configuration or out of memory. */
nis_trainer *nis_trainer_new(const nis_target *t, const nis_train_config *cfg, const nis_train_start *start,
                             char *err, size_t errlen);
void nis_trainer_free(nis_trainer *tr);
/* Replace the objective (a plug-in, e.g. from bench/; borrowed, must outlive tr).  Its name goes into files. */
void nis_trainer_set_objective(nis_trainer *tr, const nis_objective *obj);
/* Train as rank d->rank of a group of d->size processes (d borrowed, must outlive tr; NULL: alone): every rank
 * builds the same trainer (same target, cfg and seed), draws its share of every batch, and the networks' gradients
 * and the losses are averaged over the group before each optimiser step, so every rank holds the same parameters
 * and P ranks with batch B train the sampler one process does with batch B, up to the order of the sums.  The batch
 * (its antithetic pairs) must split evenly: NIS_EINVAL otherwise.  Call before the first update. */
nis_status nis_trainer_set_dist(nis_trainer *tr, const nis_dist *d, char *err, size_t errlen);
/* nis_trainer_set_dist's check alone, on a configuration (before a run creates anything): NIS_EINVAL with one line
 * when the batch does not split evenly over d's ranks, or d is not a group; d NULL: NIS_OK. */
nis_status nis_train_config_check_dist(const nis_train_config *c, const nis_dist *d, char *err, size_t errlen);
/* One update (see the top of this file).  NIS_ENUMERIC if a loss or gradient is not finite (the network whose
 * update failed is left as it was), or when the run has diverged: every 10 updates 64 fresh samples (their own
 * random stream) are drawn, and a root mean square above 1e6 times theirs before this trainer's first update
 * (at least 1) stops it (the update stands; a run's last saved sampler predates it).  stats may be NULL. */
nis_status nis_trainer_step(nis_trainer *tr, nis_train_stats *stats);
/* Called after every update; return false to stop. */
typedef bool (*nis_train_progress_fn)(void *ud, nis_trainer *tr, const nis_train_stats *stats);
/* Updates until `iters` have been done in total (counting those of a resumed run), calling fn (may be NULL) after
 * each.  The first error (message in nis_trainer_message), or NIS_OK (also when fn stopped it). */
nis_status nis_trainer_train(nis_trainer *tr, int64_t iters, nis_train_progress_fn fn, void *ud);

/* A run with files: updates up to `iters` in total, and with dir set, after every `every` updates and after the last,
 * DIR/sampler.safetensors (nis_trainer_save) and DIR/checkpoint.safetensors (nis_trainer_checkpoint, with the n_meta
 * extra pairs), each atomically.  A failed update leaves the files of the last good save, and its message says
 * which update they hold. */
typedef struct {
    const char *dir;                  /* NULL: nothing written */
    int64_t every;                    /* <= 0: every 10% of iters */
    int n_meta;
    const char *const *meta;          /* extra checkpoint metadata (kv pairs) */
    nis_train_progress_fn progress;   /* after every update and its saves (may be NULL); false stops the run */
    void *ud;
} nis_train_run_opts;
typedef struct {
    nis_train_stats stats;            /* of the last update */
    int64_t last_saved;               /* the update the files hold (-1: none written in this run) */
    double seconds;                   /* training time of this run (wall) */
    double cpu_seconds;               /* the process's CPU time over the same span (all threads) */
} nis_train_run_result;
/* On failure nis_trainer_message says "update N: <why>; kept the last good sampler PATH (update M)" (or "...; no
 * sampler was saved"). */
nis_status nis_trainer_run(nis_trainer *tr, int64_t iters, const nis_train_run_opts *o, nis_train_run_result *res);

/* The message of the trainer's last error (every function of a trainer reports there; nis_trainer_new and
 * nis_trainer_resume, before there is a trainer, through their err argument). */
const char *nis_trainer_message(const nis_trainer *tr);
const nis_train_config *nis_trainer_config(const nis_trainer *tr);   /* latent and score_model resolved */
double nis_trainer_sigma(const nis_trainer *tr);     /* σ of the last (or next) update */
int64_t nis_trainer_iter(const nis_trainer *tr);
int64_t nis_trainer_target_evals(const nis_trainer *tr);
/* The update at which the stopping rule (cfg.stop_drift) ended training, or 0 when it has not. */
int64_t nis_trainer_stopped(const nis_trainer *tr);
/* The generator's live (not averaged) parameters, the score network's, and the generator's EMA (NULL when off). */
nis_params *nis_trainer_generator(nis_trainer *tr);
nis_params *nis_trainer_score_net(nis_trainer *tr);
const nis_ema *nis_trainer_ema(const nis_trainer *tr);

/* n samples (n, dim), caller-owned, drawn with rng from the EMA weights (the live ones when ema is off); noisy adds
 * σ ε.  Preconditioned: mapped back to x.  nis_trainer_sample_live uses the live weights. */
nis_status nis_trainer_sample(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out);
nis_status nis_trainer_sample_live(nis_trainer *tr, nis_rng *rng, int64_t n, bool noisy, nis_real *out);

/* Save the sampler for generation, atomically (safetensors: the generator's EMA weights and the metadata to use
 * them; the preconditioner when there is one).  nis_sampler_load reads it.  tr is not changed. */
nis_status nis_trainer_save(nis_trainer *tr, const char *path);
/* Save the whole training state atomically (networks, Adam states, EMA, preconditioner, the configuration, update
 * and evaluation counts, the noise generator), plus n_meta extra metadata pairs (kv[2i] key, kv[2i+1] value).
 * nis_trainer_resume continues it bit-identically (same thread count). */
nis_status nis_trainer_checkpoint(nis_trainer *tr, const char *path, int n_meta, const char *const *kv);
/* Rebuild a trainer from a checkpoint for target t (its dimension must match).  NULL with one line in err naming
 * the file and the problem (missing or malformed tensors or metadata). */
nis_trainer *nis_trainer_resume(const nis_target *t, const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * Policy (src/train/whiten.c): what `nis train --whiten` does, for C and CLI users alike.
 */
/* The pilot run of a whitened training: train with cfg (progress fn may be NULL), then fit m (dim) and L (dim,
 * dim), caller-owned, to 4000 of its samples (nis_affine_fit).  One line in err on failure. */
nis_status nis_whiten_pilot(const nis_target *t, const nis_train_config *cfg, nis_train_progress_fn fn, void *ud,
                            nis_real *m, nis_real *L, char *err, size_t errlen);
/* The main run's configuration: lr white_lr, lr_final white_lr_final, a start at u ~ N(0, I) (init_scale 1) and,
 * when score_warmup is -1, 1000 score updates first (the whitened target is well conditioned; bench/blr_notes.md,
 * Session 8). */
nis_train_config nis_whitened_config(const nis_train_config *pilot);
/* The Gaussian fit of whiten_by hmc: the Laplace fit N(m0, L0 L0ᵀ) (nis_laplace_fit), then rounds of 16 HMC chains
 * on q(m0 + L0 u) from u ~ N(0, I) (300 warm-up iterations adapting the step in the first round, 200 in the next,
 * then 250 draws each, 8 leapfrog steps; the stream NIS_STREAM_PILOT of seed), each fitting m (dim) and L (dim, dim),
 * caller-owned, to its 4000 draws mapped back (nis_affine_fit) and becoming the next round's m0, L0, until two fits
 * agree (no mean moved by 0.2 of its sd, no sd by a factor e^0.2) or after 8 rounds.  Where the mode and the bulk
 * differ (a hierarchical posterior's scale), the fit is the bulk's.  Needs the exact log q (NIS_EINVAL for a
 * stochastic target, as nis_laplace_fit).  One line in err on failure. */
nis_status nis_whiten_hmc(const nis_target *t, uint64_t seed, nis_real *m, nis_real *L, char *err, size_t errlen);
/* A trainer for cfg as `nis train` runs it: with cfg->whiten the Gaussian fit first — whiten_by laplace:
 * nis_laplace_fit from the target's mode; hmc: nis_whiten_hmc; pilot: the pilot run (nis_whiten_pilot, progress fn
 * after each of its updates; may be NULL) — then the trainer of the whitened run (nis_whitened_config, the fit's m and L copied in);
 * else nis_trainer_new(t, cfg, NULL).  NULL with one line in err. */
nis_trainer *nis_trainer_prepare(const nis_target *t, const nis_train_config *cfg, nis_train_progress_fn fn, void *ud,
                                 char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * A saved sampler, for generating only.
 */
typedef struct nis_sampler nis_sampler;
nis_sampler *nis_sampler_load(const char *path, char *err, size_t errlen);
void nis_sampler_free(nis_sampler *s);
int nis_sampler_dim(const nis_sampler *s);
const char *nis_sampler_target(const nis_sampler *s);   /* target name stored with it */
/* Image shape (c, h, w) of a conv sampler; false for an MLP one. */
bool nis_sampler_image_shape(const nis_sampler *s, int *c, int *h, int *w);
/* n samples into out (n, dim); noisy < 0 uses the stored default, 0 g(z), 1 g(z) + σ ε.  A trainer and the
 * sampler it saved give the same samples bit for bit. */
nis_status nis_sampler_generate(nis_sampler *s, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                                size_t errlen);
/* Map n samples (n, dim) in place to the coordinates reported to users, by the stored target's report map
 * (nis_target.report; e.g. the non-centred BLR posterior's [v, log α] to θ).  Nothing for other targets. */
void nis_sampler_report(const nis_sampler *s, nis_real *x, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
