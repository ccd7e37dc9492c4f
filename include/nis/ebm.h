/* nis/ebm.h — a conv-net energy-based model of images, E(x) = f(x) / T, and its use as a nis_target (its
 * maximum-likelihood training: nis/ebm_train.h; Langevin sampling from noise: nis_ebm_langevin in nis/mcmc.h).
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
 * "ebm.image" ("c,h,w"), "ebm.channels" ("16,32,64"), "ebm.kernel", "ebm.act", "ebm.lambda", "ebm.sigma" (and, when
 * they are not the defaults, "ebm.arch" ("unet"), "ebm.strides", "ebm.noise", "ebm.noise_max", "ebm.level_features",
 * "ebm.hidden", "ebm.sigma_data" and "ebm.data_mean").
 * A training checkpoint adds "<param>.adam_m", "<param>.adam_v", "buffer" (N, c, h, w) and metadata
 * "adam.step", "train.iter", "train.seed" and the training configuration.  nis_ebm_load reads either.
 */
#ifndef NIS_EBM_H
#define NIS_EBM_H

#include "nis/core.h"
#include "nis/io.h"
#include "nis/nn.h"
#include "nis/rng.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Architecture and kind of an energy.  Three kinds:
 *   maximum likelihood (noise 0): E = f / T with the Langevin temperature T = sigma² / (2 lambda) of its
 *     training chains (nis/ebm_train.h);
 *   denoising score matching (noise s > 0; Saremi et al. 2018): E = f models the data smoothed by N(0, s² I),
 *     q_s = p * N(0, s² I), trained so that -∇E(x + s ε) matches -ε / s; its natural sampler is Langevin on q_s
 *     ("walk") then one Tweedie step to the clean image ("jump", nis_ebm_denoise; Saremi & Hyvärinen 2019);
 *   noise-conditional DSM (noise_max > noise > 0): one network f for every level s in [noise, noise_max], with
 *     E_s = f / s (the output scaled by 1/s, as Song & Ermon 2020 scale their scores), trained by DSM at levels
 *     drawn log-uniformly from that range; sampled by Langevin annealed from noise_max down to noise (Song & Ermon
 *     2019; nis_ebm_langevin) then the jump.  Its target (what a one-step sampler learns) is the lowest level,
 *     E = f / noise. */
/* The network f.  NIS_EBM_CONVNET: convs then a linear head to a scalar (or a hidden layer and then one).
 * NIS_EBM_UNET (Salimans & Ho 2021, "Should EBMs model the energy or the score?"): f(x) = ½ ||x - U(x)||² with U
 * the U-Net-lite of nis/nn.h (channels[0] = its width S), so -∇f = (I - J_U)ᵀ (U(x) - x): the energy of a
 * denoiser, whose score keeps the full-resolution detail the U-Net's skips carry.  h and w divisible by 4. */
typedef enum { NIS_EBM_CONVNET = 0, NIS_EBM_UNET = 1 } nis_ebm_arch;

typedef struct {
    int c, h, w;                                /* image shape (1, 28, 28 for MNIST) */
    nis_ebm_arch arch;                          /* the network f (NIS_EBM_CONVNET) */
    int n_conv;                                 /* conv layers, 1..NIS_CONVNET_MAX_LAYERS (U-Net: 1) */
    int channels[NIS_CONVNET_MAX_LAYERS];       /* output channels of each conv (pad k/2) */
    int strides[NIS_CONVNET_MAX_LAYERS];        /* stride of each conv (0: 2) */
    int kernel;                                 /* square kernel size (3) */
    nis_act act;                                /* NIS_ACT_SILU (smooth, so HVPs are meaningful) */
    double lambda;                              /* ML: Langevin gradient step on f (10, as Du & Mordatch) */
    double sigma;                               /* ML: Langevin noise scale (0.01) */
    double noise;                               /* > 0: a DSM energy of the data smoothed by N(0, noise² I); 0: ML */
    double noise_max;                           /* > noise: noise-conditional DSM over [noise, noise_max]; 0: one level */
    int level_features;                         /* noise-conditional conv nets: > 0 gives f the level as an input,
                                                   these many cosine features of it, each conv shifted by a Linear
                                                   of them (f(x, s)); 0: f(x) alone, the level only in E_s = f / s */
    int hidden;                                 /* conv nets: > 0 puts a hidden layer of these many units (and the
                                                   activation) between the flattened features and the scalar head;
                                                   0: a linear head */
    double sigma_data;                          /* > 0 (with level features): EDM's preconditioning (Karras et al.
                                                   2022) in energy form, f(x, s) = s ||x - m||² / (2 (s² + sd²))
                                                   + net((x - m) / √(s² + sd²), s), sd = sigma_data: a Gaussian
                                                   energy (EDM's skip) that the network corrects, its input at unit
                                                   scale; DSM rows weighted by (s² + sd²) / (E[s²] + sd²).  0: off */
    double data_mean;                           /* with sigma_data: the data's mean pixel m */
} nis_ebm_config;

/* The level features of nis_ebm_config.level_features: cos(π j u), j = 1..k, u = log(s / noise) / log(noise_max /
 * noise) (0 at the lowest level, 1 at the highest). */
#define NIS_EBM_LEVEL_FEATURES 8

/* MNIST defaults: 1x28x28, conv 16, 32, 64 (3x3, stride 2, SiLU) -> linear 1024 -> 1, lambda 10, sigma 0.01. */
nis_ebm_config nis_ebm_config_default(void);

/* An energy: its parameters (owned), the network, and a target view of it (target.data points back here,
 * so an nis_ebm must not be moved after nis_ebm_init / nis_ebm_load). */
typedef struct nis_ebm {
    nis_ebm_config cfg;
    nis_params *P;
    nis_convnet net;                            /* NIS_EBM_CONVNET */
    nis_unet unet;                              /* NIS_EBM_UNET */
    double temperature;                         /* ML: T = sigma^2 / (2 lambda); DSM: 1; noise-conditional: noise */
    nis_target target;                          /* name "ebm", dim c*h*w, log q = -E */
} nis_ebm;

/* Build an energy with freshly initialised parameters (PyTorch's default init from seed).  On failure E
 * is left empty (safe to nis_ebm_free) and err holds a message.  NIS_EINVAL (bad config), NIS_ENOMEM. */
nis_status nis_ebm_init(nis_ebm *E, const nis_ebm_config *cfg, uint64_t seed, char *err, size_t errlen);
/* Free E's parameters and zero it.  NULL or an empty E is a no-op. */
void nis_ebm_free(nis_ebm *E);

/* The raw network output f(x): x (B, c*h*w) or (B, c, h, w) -> (B,). */
nis_tensor *nis_ebm_f(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x);
/* f at a level per image: x (B, dim) or (B, c, h, w), s (B,) or (B, 1) levels (NULL: every image at E's own level,
 * as nis_ebm_f) -> (B,).  Only energies with level features read s; for the others it is nis_ebm_f. */
nis_tensor *nis_ebm_f_at(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x, nis_tensor *s);
/* Switch on EDM's preconditioning in cfg (nis_ebm_config.sigma_data): data_mean and sigma_data become the mean and
 * spread of the n pixel values x (the training images, all pixels).  NIS_EINVAL (cfg unchanged) when they have no
 * spread or are not finite. */
nis_status nis_ebm_config_precondition(nis_ebm_config *cfg, const nis_real *x, int64_t n, char *err, size_t errlen);
/* The weight of a DSM row at level s: 1, or with preconditioning (nis_ebm_config.sigma_data) EDM's loss weight in
 * the ε form, (s² + sd²) / (E[s²] + sd²), normalised to mean 1 over the log-uniform levels of training. */
double nis_ebm_dsm_weight(const nis_ebm *E, double s);
/* The energy E(x) = f(x) / T: x as above -> (B,).  log q = -E. */
nis_tensor *nis_ebm_energy(nis_ctx *ctx, const nis_ebm *E, nis_tensor *x);
/* The target view (log q = -E, dim c*h*w); owned by E. */
const nis_target *nis_ebm_target(const nis_ebm *E);
/* A view of a noise-conditional energy E at level s (E_s = f / s; s > 0, normally in [noise, noise_max]) in *view:
 * it shares E's parameters (do not free it; E must outlive it) and its target is log q_s = -f / s.  The view's
 * target points into *view, so *view must stay where it is.  NIS_EINVAL for another kind of energy. */
nis_status nis_ebm_at_level(const nis_ebm *E, double s, nis_ebm *view, char *err, size_t errlen);
/* True for a noise-conditional energy. */
bool nis_ebm_is_conditional(const nis_ebm *E);
/* The default ULA step on nis_ebm_target(E): ML, h = sigma^2 / 2, which reproduces the training chains; DSM,
 * h = 0.3 noise² (a step well inside q_noise's smallest scale, noise). */
double nis_ebm_ula_step(const nis_ebm *E);
/* The jump of a DSM energy: x <- x - noise² ∇E(x) (Tweedie's formula: E[clean image | x] under q_noise), for n
 * images x (n, c*h*w) in place, in batches of 256.  NIS_EINVAL for an ML energy. */
nis_status nis_ebm_denoise(const nis_ebm *E, nis_real *x, int64_t n, char *err, size_t errlen);

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
/* For front ends in other languages (python/nis), which cannot lay out the struct: an energy loaded from path on
 * the heap (NULL with one line in err; free with nis_ebm_close), and its image shape and noise range (noise 0: a
 * maximum-likelihood energy; noise_max 0: one level).  Any output pointer may be NULL. */
nis_ebm *nis_ebm_open(const char *path, char *err, size_t errlen);
void nis_ebm_close(nis_ebm *E);
void nis_ebm_info(const nis_ebm *E, int *c, int *h, int *w, double *noise, double *noise_max);

/* The same with the optimiser state of opt (when it has taken a step) and n_extra more tensors (e.g. a training
 * checkpoint's replay buffer; nis_checkpoint_save_extra's rules). */
nis_status nis_ebm_save_extra(const char *path, const nis_ebm *E, const nis_adam *opt, int n_extra,
                              const nis_st_entry *extra, int n_meta, const char *const *meta_kv, char *err,
                              size_t errlen);
/* The architecture stored in f's "ebm.*" metadata (path names the file in messages).  NIS_EFORMAT naming the bad
 * key. */
nis_status nis_ebm_file_config(const nis_st_file *f, const char *path, nis_ebm_config *cfg, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
