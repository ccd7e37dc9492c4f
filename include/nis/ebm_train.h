/* nis/ebm_train.h — maximum-likelihood training of an image energy (nis/ebm.h) with short-run / persistent
 * Langevin chains and a replay buffer, or jointly with a one-step sampler (nis/train.h).
 */
#ifndef NIS_EBM_TRAIN_H
#define NIS_EBM_TRAIN_H

#include "nis/ebm.h"
#include "nis/schema.h"
#include "nis/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Training.  A DSM energy (nis_ebm_config.noise > 0) is trained by denoising score matching: each iteration
 * draws `batch` data images x and ε, y = x + noise ε, and takes an Adam step on mean_b ||noise ∇E(y) - ε||² (no
 * negatives, no buffer, no Langevin; `buffer_size`, `langevin_steps`, `reinit` and `alpha` are unused).  A
 * noise-conditional energy draws a level s_b per image, log-uniform in [noise, noise_max], y_b = x_b + s_b ε_b, and
 * the loss is mean_b ||s_b ∇E_{s_b}(y_b) - ε_b||² = mean_b ||∇f(y_b) - ε_b||² (Song & Ermon's weighting λ(s) = s²).  An ML
 * energy (noise 0) by maximum likelihood.  Each iteration t (from 0) uses the generator nis_rng_split(seed, t) only,
 * so a resumed run is bit-identical to an uninterrupted one (same thread count):
 *   1. draw `batch` buffer slots; each is re-initialised to U[0, 1) noise with probability reinit;
 *   2. run `langevin_steps` training Langevin steps on those negatives and write them back to the buffer;
 *   3. draw `batch` data images x+;
 *   4. loss = mean f(x+) - mean f(x-) + alpha (mean f(x+)^2 + mean f(x-)^2); Adam step on the parameters
 *      with gradient-norm clipping.
 * With a one-step sampler attached (nis_ebm_trainer_use_sampler; joint training as in Luo et al. 2023), step 1
 * becomes: one sampler update against the current energy, then `batch` fresh sampler outputs; the K Langevin
 * steps of step 2 then refine those (K = 0: used as they are) and the buffer is neither read nor written.
 */
typedef struct {
    int64_t batch;              /* 64 */
    int64_t buffer_size;        /* replay buffer (persistent chains), 10000 */
    int64_t langevin_steps;     /* K per iteration, 40 */
    double reinit;              /* fraction of negatives restarted from noise, 0.05 */
    double alpha;               /* energy-magnitude regulariser, 1 */
    double lr;                  /* Adam learning rate, 1e-4 (betas 0, 0.999 as in Du & Mordatch) */
    double beta1;               /* 0 */
    double clip;                /* gradient-norm clip, 0.1 (0: off) */
    double ema;                 /* > 0: keep an exponential moving average of the energy's weights with this decay
                                 * (warmed up: min(ema, (1 + t) / (10 + t)) at update t); 0: off */
    int64_t off_data;           /* noise-conditional DSM: extra rows per iteration at images that are not digits
                                 * (dimmed, blended, flat, noise), their target the exact score of the smoothed training
                                 * set (every training image: one (rows, n) gemm each way), 0 */
} nis_ebm_train_config;

nis_ebm_train_config nis_ebm_train_defaults(void);
/* The DSM objective of a DSM energy E at noisy images y = x + noise ε (B, c*h*w), ε (B, c*h*w):
 * mean_b ||noise ∇E(y) - ε||² (= noise² ||-∇E(y) + ε/noise||², minimised by -∇E = the score of q_noise); for a
 * noise-conditional energy (y_b = x_b + s_b ε_b at levels s (B,)) mean_b ||∇_y f(y_b, s_b) - ε_b||²; a scalar
 * with its graph to E's parameters (one double backward through the net).  s is read only by energies with level
 * features (NULL: E's own level); a preconditioned energy weights each row by nis_ebm_dsm_weight(E, s_b) (given s).
 * *f_mean (may be NULL) gets mean f(y). */
nis_tensor *nis_ebm_dsm_objective(nis_ctx *ctx, const nis_ebm *E, nis_tensor *y, nis_tensor *s, nis_tensor *eps,
                                  double *f_mean);
/* The exact denoising target at m points y (m, d) with levels s (m,) > 0 of the density q_s = the n images
 * x (n, d) smoothed by N(0, s² I): eps (m, d) = (y - x̂(y)) / s, x̂ = Σ_i softmax_i(-||y - x_i||² / 2 s²) x_i the
 * posterior mean (Tweedie), so -eps / s is the score of q_s at y and ∇_y f(y, s) = eps the DSM optimum there.
 * x_sq (n,) the ||x_i||² (NULL: computed).  Two gemms in nis_real (an error of about 1e-7 ||y|| ||x_i|| / s² in
 * each logit).  NIS_EINVAL (NULL pointer, n or d < 1, a level not > 0), NIS_ENOMEM. */
nis_status nis_smoothed_eps(const nis_real *x, int64_t n, int64_t d, const double *x_sq, const nis_real *y,
                            const nis_real *s, int64_t m, nis_real *eps);
/* Its schema (static): the defaults above, ranges, help, the CLI's flags and the checkpoints' "train.*" metadata. */
const nis_schema *nis_ebm_train_schema(void);

/* What one iteration did. */
typedef struct {
    int64_t iter;               /* iterations done */
    double loss;                /* the loss above */
    double f_pos, f_neg;        /* mean f on data and on the negatives (their gap is the contrastive loss); DSM: mean
                                 * f on the noisy data, NaN */
    double grad_norm;           /* before clipping */
    int64_t grad_evals;         /* energy-gradient evaluations per chain in the Langevin phase */
    double sampler_loss, score_loss;   /* joint training: the sampler update's monitors (NaN otherwise) */
} nis_ebm_step_stats;

/* A training run: the energy (borrowed), Adam, the buffer and the iteration count. */
typedef struct {
    nis_ebm *E;
    nis_ebm_train_config cfg;
    nis_adam opt;
    uint64_t seed;
    int64_t iter;
    nis_real *buffer;           /* (buffer_size, c*h*w), owned */
    nis_real *neg;              /* (batch, c*h*w) the latest negatives (buffer entries), owned */
    int32_t *slot;              /* (batch,) work space, owned */
    nis_ctx *ctx;
    nis_trainer *sampler;       /* joint training: the source of negatives (borrowed), else NULL */
    nis_ema ema;                /* cfg.ema > 0: the average of the energy's weights (empty before the first step) */
    const nis_dist *dist;       /* the group training this energy together (nis_ebm_trainer_set_dist), or NULL */
    double *data_sq;            /* off_data: ||x_i||² of the training images data_sq_of (data_sq_n,), owned */
    const nis_real *data_sq_of;
    int64_t data_sq_n;
} nis_ebm_trainer;

/* Start a run on E (freshly initialised, or loaded to fine-tune): buffer = U[0, 1) noise from seed.
 * NIS_EINVAL (bad config), NIS_ENOMEM; on failure T is empty (safe to free). */
nis_status nis_ebm_trainer_init(nis_ebm_trainer *T, nis_ebm *E, const nis_ebm_train_config *cfg, uint64_t seed,
                                char *err, size_t errlen);
void nis_ebm_trainer_free(nis_ebm_trainer *T);
/* One iteration on the data x (n_data, c*h*w) in [0, 1].  stats may be NULL.  A non-finite loss or
 * gradient returns NIS_ENUMERIC and leaves the energy's parameters unchanged (a joint sampler has then
 * already taken its update; a failed sampler update is reported as "sampler: ..." before the energy moves). */
nis_status nis_ebm_train_step(nis_ebm_trainer *T, const nis_real *data, int64_t n_data, nis_ebm_step_stats *stats,
                              char *err, size_t errlen);
/* Train a DSM energy as rank d->rank of a group (nis/dist.h; d borrowed; NULL: alone): every rank builds the same
 * trainer and energy from the same seed, takes its share of every batch (the indices of the whole batch are drawn
 * by every rank, the noise and levels of its own rows only, by skipping ahead), and the loss and gradient are
 * averaged before each step, so the ranks hold the same weights and P ranks train what one process does with the
 * same batch, up to the order of the sums.  NIS_EINVAL if the batch does not split evenly, or for an energy trained
 * by maximum likelihood (its replay buffer is not shared). */
nis_status nis_ebm_trainer_set_dist(nis_ebm_trainer *T, const nis_dist *d, char *err, size_t errlen);
/* Joint training: take the negatives from s, a one-step sampler whose target is nis_ebm_target(T->E) (the
 * energy being trained; s is borrowed and must outlive T's use of it), updated once per iteration before the
 * energy step (see above).  The negatives are s's training output (g(z) + σ ε when noisy_output, the live
 * weights, not the EMA), drawn with the iteration's random stream.  s's state is not in T's checkpoint: save it
 * alongside (nis_trainer_checkpoint) and resume both.  s NULL: back to the replay buffer.  NIS_EINVAL if s's image
 * shape differs from the energy's. */
nis_status nis_ebm_trainer_use_sampler(nis_ebm_trainer *T, nis_trainer *s, char *err, size_t errlen);
/* Exchange the energy's weights with their moving average (cfg.ema > 0, after a step): call, evaluate or save the
 * averaged energy, call again.  Does nothing when no average is kept. */
void nis_ebm_trainer_swap_average(nis_ebm_trainer *T);
/* Write a checkpoint (parameters, Adam state, buffer, moving average, iteration, seed, configuration)
 * atomically. */
nis_status nis_ebm_trainer_save(const nis_ebm_trainer *T, const char *path, char *err, size_t errlen);
/* The training configuration and seed stored in a checkpoint's "train.*" metadata (for resuming with the
 * same settings).  NIS_EIO, NIS_EFORMAT naming the missing or bad key. */
nis_status nis_ebm_checkpoint_config(const char *path, nis_ebm_train_config *cfg, uint64_t *seed, char *err,
                                     size_t errlen);
/* Resume: E already holds an energy of the same architecture (e.g. from nis_ebm_load(path)), T is
 * initialised with the same buffer size and batch; reads parameters, Adam state, buffer, iteration and seed
 * from path.  All-or-nothing: on failure T and E are unchanged.  NIS_EIO, NIS_EFORMAT, NIS_ESHAPE. */
nis_status nis_ebm_trainer_resume(nis_ebm_trainer *T, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
