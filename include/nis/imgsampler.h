/* nis/imgsampler.h — one-step image samplers: a conv generator g_θ: z (B, L) -> x (B, C, H, W) trained by
 * DFT or KL training against any nis_target of dimension C*H*W (an MNIST energy E_φ with log q = -E, or
 * a diagonal Gaussian for testing), with a U-Net-lite score network s_φ: x -> R^{C*H*W} fitted by denoising
 * score matching.  The losses are the ones of nis/train.h (nis_dft_objective, nis_kl_objective,
 * nis_dsm_objective) with images flattened to (B, C*H*W) rows.
 *
 * Networks (H and W divisible by 4; C = gen_channels, S = score_channels):
 *   generator  z -> Linear -> (C, H/4, W/4) -> act -> convT C/2 4x4 s2 p1 -> act -> convT img_c 4x4 s2 p1
 *              then a sigmoid (default: pixels in (0, 1), the support the energy was trained on; with a
 *              linear output a KL sampler escaped to values in [-8, 5] where an MNIST energy is lower than
 *              on any digit) or nothing (sigmoid_output = false, for targets with mass outside (0, 1));
 *   score net  x -> conv S 3x3 -> act (h1, full size) -> conv 2S 4x4 s2 -> act (h2, /2) -> conv 2S 4x4 s2
 *              -> act (/4) -> convT 2S 4x4 s2, + h2, act -> convT S 4x4 s2, + h1, act -> conv img_c 3x3;
 *              the additive skips keep the full-resolution detail that predicting the noise needs.
 *              With score_eps (default) s_φ(x) = net(x) / σ: the net predicts -ε, of unit scale.
 *
 * Which output is "the sample": DFT and KL drive p_θ * N(0, σ² I) towards q, so at their fixed point the
 * sample distributed as q is x̃ = g_θ(z) + σ ε; that is the default (noisy_output = true), as in train.h.
 * g_θ(z) alone ("clean") is offered too: it is q deconvolved by the noise, which for small σ looks the same
 * and is sharper.
 *
 * Cost accounting: target_grad_evals counts one evaluation per sample per sampler update (the DFT update's
 * score-and-HVP of log q counts as one, as in the 2-D trainer; the residual KL update none); score-network steps
 * touch the target only with score_residual (one per sample per step).
 */
#ifndef NIS_IMGSAMPLER_H
#define NIS_IMGSAMPLER_H

#include "nis/core.h"
#include "nis/nn.h"
#include "nis/rng.h"
#include "nis/target.h"
#include "nis/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything a run depends on.  nis_imgsampler_config_default gives the documented defaults for 28x28
 * MNIST: batch 64, latent 64, generator 64 stem channels, score net 16 channels, SiLU, Adam (generator lr
 * 1e-4, score lr 1e-3), 3 score steps per update, σ = 0.1 without annealing, antithetic noise, clipping at
 * norm 10, EMA of the generator with decay 0.999, score_eps on, sigmoid output, noisy output. */
typedef struct {
    nis_method method;        /* NIS_METHOD_DFT or NIS_METHOD_KL */
    int img_c, img_h, img_w;  /* image shape; img_c*img_h*img_w must equal the target's dim; h, w % 4 == 0 */
    int64_t batch;            /* samples per update (even with antithetic noise) */
    int latent;               /* latent size L */
    int gen_channels;         /* channels of the generator stem (>= 2) */
    int score_channels;       /* channels of the score net at full resolution (>= 1) */
    nis_act act;              /* hidden activation of both networks (smooth, e.g. SiLU) */
    double lr_gen, lr_score;  /* Adam learning rates */
    int score_steps;          /* DSM updates of s_φ per generator update */
    double sigma;             /* noise level σ (at the end of annealing) */
    double sigma_start;       /* > 0: σ at update 0, annealed geometrically to sigma over anneal_iters */
    int64_t anneal_iters;
    bool antithetic;          /* ε and -ε for the same z (second half of the batch mirrors the first) */
    bool noisy_output;        /* samples g(z) + σ ε (default) rather than g(z) */
    bool sigmoid_output;      /* g(z) = sigmoid(last convT) in (0, 1) (default: image energies are trained on
                               * [0, 1] and are meaningless outside it); false: a linear output */
    double grad_clip;         /* max global gradient norm of each network (<= 0: off) */
    double ema_decay;         /* EMA of the generator weights (0: off); samples use the EMA weights when on */
    bool score_eps;           /* s_φ(x) = net(x) / σ */
    uint64_t seed;
    bool score_residual;      /* s_φ = s_q + the net (which learns r = ∇log p_θ,σ − s_q, zero at the fixed point);
                               * the losses are nis_dft/kl_residual_objective.  Each DSM step then costs one
                               * target score per sample (counted in target_grad_evals).  Default off */
} nis_imgsampler_config;

nis_imgsampler_config nis_imgsampler_config_default(nis_method method);

/* A training image sampler: generator, score network, their Adam states, the generator's EMA, the noise
 * generator, a context.  Deterministic given (config, seed, thread count). */
typedef struct nis_imgsampler nis_imgsampler;

/* A new sampler for target t (must outlive it; t->dim == img_c*img_h*img_w) with cfg (copied).  NULL on
 * error with a one-line message in err. */
nis_imgsampler *nis_imgsampler_new(const nis_target *t, const nis_imgsampler_config *cfg, char *err,
                                   size_t errlen);
void nis_imgsampler_free(nis_imgsampler *s);

/* One generator update, preceded by cfg.score_steps score-network updates; then the EMA update.
 * NIS_ENUMERIC if a loss or gradient is not finite (the generator is then left as it was).  stats may be
 * NULL. */
nis_status nis_imgsampler_step(nis_imgsampler *s, nis_train_stats *stats);

/* Progress callback: called after every update with its stats; return false to stop early. */
typedef bool (*nis_imgsampler_progress_fn)(void *ud, const nis_train_stats *stats);
/* Run updates until `iters` updates have been done in total (counting those of a resumed run), calling
 * progress (may be NULL) after each.  Returns the first error (message in nis_imgsampler_message). */
nis_status nis_imgsampler_train(nis_imgsampler *s, int64_t iters, nis_imgsampler_progress_fn progress, void *ud);

const char *nis_imgsampler_message(const nis_imgsampler *s);
const nis_imgsampler_config *nis_imgsampler_get_config(const nis_imgsampler *s);
double nis_imgsampler_sigma(const nis_imgsampler *s);   /* σ of the last (or next) update */
int64_t nis_imgsampler_iter(const nis_imgsampler *s);   /* updates done */
int64_t nis_imgsampler_target_evals(const nis_imgsampler *s);
/* The generator's parameters (its live, non-averaged weights) and the score network's. */
nis_params *nis_imgsampler_generator_params(nis_imgsampler *s);
nis_params *nis_imgsampler_score_params(nis_imgsampler *s);
/* The EMA of the generator (NULL when ema_decay is 0). */
const nis_ema *nis_imgsampler_ema(const nis_imgsampler *s);

/* n images into out (n * img_c*img_h*img_w values, caller-owned, (n, C, H, W) row-major) drawn with rng;
 * noisy adds σ ε; use_ema takes the EMA weights when there are any. */
nis_status nis_imgsampler_sample(nis_imgsampler *s, nis_rng *rng, int64_t n, bool noisy, bool use_ema,
                                 nis_real *out);

/* Save the whole training state atomically as safetensors: generator ("gen.*"), score network ("score.*"),
 * both Adam states ("<name>.adam_m", "<name>.adam_v"), the EMA ("ema.gen.*"), and in the metadata the
 * configuration, σ, update count, evaluation count and the noise generator's state, plus n_meta extra
 * pairs (meta_kv[2i] key, [2i+1] value; e.g. the energy file).  A resumed run continues bit-identically. */
nis_status nis_imgsampler_save(const nis_imgsampler *s, const char *path, int n_meta, const char *const *meta_kv,
                               char *err, size_t errlen);
/* Rebuild a sampler from a file written by nis_imgsampler_save, for target t (its dim must match), and
 * restore everything.  NULL with a message on any error (NIS_EFORMAT-like: missing or mistyped tensors or
 * metadata).  The stored target name is not checked: see nis_imgsampler_file_meta. */
nis_imgsampler *nis_imgsampler_resume(const nis_target *t, const char *path, char *err, size_t errlen);
/* Metadata value `key` of a saved sampler file into buf (false with a message if missing/unreadable). */
bool nis_imgsampler_file_meta(const char *path, const char *key, char *buf, size_t size, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * A loaded generator, for generating only (no target needed).
 */
typedef struct nis_imggen nis_imggen;

/* Load the generator of a file written by nis_imgsampler_save (the EMA weights when the file has them).
 * NULL with a message on error. */
nis_imggen *nis_imggen_load(const char *path, char *err, size_t errlen);
void nis_imggen_free(nis_imggen *g);
/* Image shape (c, h, w) and the stored σ and default output mode. */
void nis_imggen_shape(const nis_imggen *g, int *c, int *h, int *w);
double nis_imggen_sigma(const nis_imggen *g);
/* n images (n, C, H, W) into out; noisy < 0 uses the stored default, 0 g(z), 1 g(z) + σ ε. */
nis_status nis_imggen_generate(nis_imggen *g, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                               size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * Timing of the parts of one update (seconds, mean over reps after one warm-up), for sizing runs.
 */
typedef struct {
    double score_step;        /* one DSM update of s_φ (generator forward without graph included) */
    double gen_fwd_bwd;       /* generator forward + backward of a linear functional of its output */
    double target_score_hvp;  /* s_q with graph + its backward (the HVP): the target part of a DFT update */
    double score_vjp;         /* s_φ forward + backward to its input (the score part of a DFT update) */
    double update;            /* one whole nis_imgsampler_step (score steps + generator update + EMA) */
} nis_imgsampler_timing;

/* Measure the parts above on s (its state advances by reps + 1 updates). */
nis_status nis_imgsampler_profile(nis_imgsampler *s, int reps, nis_imgsampler_timing *out);

/* ---------------------------------------------------------------------------------------------------------
 * Helpers: a diagonal Gaussian image target and a grey-scale sample grid.
 */

/* N(mean, std² I) in dim = c*h*w with an analytic score and HVP; mean (copied) or, when NULL, a centred
 * blob 0.1 + 0.8 exp(-r² / (2 (h/5)²)) per channel.  name is copied.  Free with nis_gauss_image_target_free. */
nis_target *nis_gauss_image_target_new(const char *name, int c, int h, int w, const nis_real *mean, double std);
void nis_gauss_image_target_free(nis_target *t);
/* Its mean (dim values, owned by t). */
const nis_real *nis_gauss_image_target_mean(const nis_target *t);

/* n images (n, c, h, w) (c = 1: grey, c = 3: RGB; values clipped to [0, 1]) tiled cols per row, each
 * pixel drawn as scale x scale, with a 1-pixel grey border; PNG written atomically. */
nis_status nis_imgsampler_write_grid(const char *path, const nis_real *imgs, int64_t n, int c, int h, int w,
                                     int cols, int scale, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
