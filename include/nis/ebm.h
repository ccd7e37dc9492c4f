/* nis/ebm.h — a conv-net energy-based model of images, E(x) = f(x) / T, its maximum-likelihood training with
 * short-run / persistent Langevin chains and a replay buffer, and its use as a nis_target.
 *
 * The network f maps images x (B, c, h, w) (or (B, c*h*w)) to (B,): conv layers (stride 2, SiLU, so the
 * Hessian exists), flattened into a linear head.  The Langevin move used in training (Du & Mordatch 2019,
 * JEM) is x <- x - lambda grad f(x) + sigma z.  That is exactly ULA, x <- x + h grad log q + sqrt(2h) z, on
 * log q = -f / T with h = sigma^2 / 2 and T = sigma^2 / (2 lambda).  So the model's density is
 * q(x) ∝ exp(-E(x)), E = f / T: the nis_target of an EBM has log q = -E, its score and HVPs come from
 * autodiff (double backward through the conv net), and nis_ula_run with step h = nis_ebm_ula_step(E)
 * reproduces the training chains.
 *
 * Files (safetensors, F32): one tensor per parameter ("energy.conv1.weight", ...) and metadata
 * "ebm.image" ("c,h,w"), "ebm.channels" ("16,32,64"), "ebm.kernel", "ebm.act", "ebm.lambda", "ebm.sigma".
 * A training checkpoint adds "<param>.adam_m", "<param>.adam_v", "buffer" (N, c, h, w) and metadata
 * "adam.step", "train.iter", "train.seed" and the training configuration.  nis_ebm_load reads either.
 */
#ifndef NIS_EBM_H
#define NIS_EBM_H

#include "nis/core.h"
#include "nis/imgsampler.h"
#include "nis/nn.h"
#include "nis/rng.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Architecture and Langevin scale of an energy. */
typedef struct {
    int c, h, w;                                /* image shape (1, 28, 28 for MNIST) */
    int n_conv;                                 /* conv layers, 1..NIS_CONVNET_MAX_LAYERS */
    int channels[NIS_CONVNET_MAX_LAYERS];       /* output channels of each conv (stride 2, pad k/2) */
    int kernel;                                 /* square kernel size (3) */
    nis_act act;                                /* NIS_ACT_SILU (smooth, so HVPs are meaningful) */
    double lambda;                              /* Langevin gradient step on f (10, as Du & Mordatch) */
    double sigma;                               /* Langevin noise scale (0.01) */
} nis_ebm_config;

/* MNIST defaults: 1x28x28, conv 16, 32, 64 (3x3, stride 2, SiLU) -> linear 1024 -> 1, lambda 10, sigma 0.01. */
nis_ebm_config nis_ebm_config_default(void);

/* An energy: its parameters (owned), the network, and a target view of it (target.data points back here,
 * so an nis_ebm must not be moved after nis_ebm_init / nis_ebm_load). */
typedef struct {
    nis_ebm_config cfg;
    nis_params *P;
    nis_convnet net;
    double temperature;                         /* T = sigma^2 / (2 lambda) */
    nis_target target;                          /* name "ebm", dim c*h*w, log q = -E */
} nis_ebm;

/* Build an energy with freshly initialised parameters (PyTorch's default init from seed).  On failure E
 * is left empty (safe to nis_ebm_free) and err holds a message.  NIS_EINVAL (bad config), NIS_ENOMEM. */
nis_status nis_ebm_init(nis_ebm *E, const nis_ebm_config *cfg, uint64_t seed, char *err, size_t errlen);
/* Free E's parameters and zero it.  NULL or an empty E is a no-op. */
void nis_ebm_free(nis_ebm *E);

/* The raw network output f(x): x (B, c*h*w) or (B, c, h, w) -> (B,). */
nis_tensor *nis_ebm_f(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x);
/* The energy E(x) = f(x) / T: x as above -> (B,).  log q = -E. */
nis_tensor *nis_ebm_energy(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x);
/* The target view (log q = -E, dim c*h*w); owned by E. */
const nis_target *nis_ebm_target(const nis_ebm *E);
/* The ULA step h = sigma^2 / 2 that reproduces the training chains on nis_ebm_target(E). */
double nis_ebm_ula_step(const nis_ebm *E);

/* Mean of E(x) and of f(x) over n images x (n, c*h*w), in batches of at most 256 (no gradients).
 * Either output may be NULL.  NIS_ENOMEM or a network error (message in err). */
nis_status nis_ebm_mean_energy(const nis_ebm *E, const nis_real *x, int64_t n, double *mean_E, double *mean_f,
                               char *err, size_t errlen);

/* Write E's parameters and configuration (plus n_meta extra metadata pairs, keys not starting with "ebm.")
 * to path atomically.  NIS_EIO, NIS_ENOMEM, NIS_EINVAL. */
nis_status nis_ebm_save(const char *path, const nis_ebm *E, int n_meta, const char *const *meta_kv, char *err,
                        size_t errlen);
/* Read an energy (or a training checkpoint, whose extra tensors are ignored) from path into E (which is
 * initialised here; free with nis_ebm_free).  NIS_EIO, NIS_EFORMAT (missing or bad metadata, missing
 * tensors), NIS_ESHAPE, NIS_ENOMEM; on failure E is empty. */
nis_status nis_ebm_load(const char *path, nis_ebm *E, char *err, size_t errlen);

/* Langevin sampling from noise: n chains start at U[0, 1)^(c h w) drawn from rng, then `steps` ULA steps
 * of size h (h <= 0: nis_ebm_ula_step(E)) on the target.  x: (n, c*h*w) caller-owned output.  grad_evals
 * (may be NULL) receives the energy-gradient evaluations per chain (= steps).  Advances rng. */
nis_status nis_ebm_langevin(const nis_ebm *E, int64_t steps, double h, nis_rng *rng, nis_real *x, int64_t n,
                            int64_t *grad_evals, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * Maximum-likelihood training.  Each iteration t (from 0) uses the generator nis_rng_split(seed, t) only,
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
} nis_ebm_train_config;

nis_ebm_train_config nis_ebm_train_defaults(void);

/* What one iteration did. */
typedef struct {
    int64_t iter;               /* iterations done */
    double loss;                /* the loss above */
    double f_pos, f_neg;        /* mean f on data and on the negatives (their gap is the contrastive loss) */
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
    nis_imgsampler *sampler;    /* joint training: the source of negatives (borrowed), else NULL */
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
/* Joint training: take the negatives from s, a one-step sampler whose target is nis_ebm_target(T->E) (the
 * energy being trained; s is borrowed and must outlive T's use of it), updated once per iteration before the
 * energy step (see above).  The negatives are s's training output (g(z) + σ ε when noisy_output, the live
 * weights, not the EMA), drawn with the iteration's random stream.  s's state is not in T's checkpoint: save it
 * alongside (nis_imgsampler_save) and resume both.  s NULL: back to the replay buffer.  NIS_EINVAL if s's image
 * shape differs from the energy's. */
nis_status nis_ebm_trainer_use_sampler(nis_ebm_trainer *T, nis_imgsampler *s, char *err, size_t errlen);
/* Write a checkpoint (parameters, Adam state, buffer, iteration, seed, configuration) atomically. */
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
