/* src/train/imgsampler_internal.h — the image sampler's networks and state, shared by src/train/imgsampler*.c. */
#ifndef NIS_SRC_TRAIN_IMGSAMPLER_INTERNAL_H
#define NIS_SRC_TRAIN_IMGSAMPLER_INTERNAL_H

#include "nis/imgsampler.h"

/* The generator: stem Linear L -> C*(H/4)*(W/4), then two transposed convs (nis_deconvnet). */
typedef struct {
    nis_deconvnet net;
    bool sigmoid;   /* squash the output into (0, 1) */
} nis__imggen_net;

/* The U-Net-lite score network (see nis/imgsampler.h). */
typedef struct {
    nis_act act;
    int64_t c, h, w;
    nis_conv2d_layer in, down1, down2, out;
    nis_convt2d_layer up1, up2;
} nis__unet;

/* Declare the generator "gen.*" in P for images (c, h, w) from latent L with stem channels ch. */
nis_status nis__imggen_add(nis__imggen_net *G, nis_params *P, int latent, int ch, int c, int h, int w, nis_act act,
                           bool sigmoid);
/* z (B, L) -> x (B, c*h*w) (flattened). */
nis_tensor *nis__imggen_forward(nis_ctx *ctx, const nis__imggen_net *G, nis_tensor *z);
/* Declare the score net "score.*" in P (S channels). */
nis_status nis__unet_add(nis__unet *U, nis_params *P, int S, int c, int h, int w, nis_act act);
/* x (B, c*h*w) -> (B, c*h*w). */
nis_tensor *nis__unet_forward(nis_ctx *ctx, const nis__unet *U, nis_tensor *x);

struct nis_imgsampler {
    const nis_target *t;
    nis_imgsampler_config cfg;
    int64_t dim;
    nis_params *G, *S;
    nis__imggen_net gen;
    nis__unet score;
    nis_adam opt_g, opt_s;
    nis_ema ema;              /* shadow NULL when off */
    bool has_ema;
    nis_ctx *ctx;
    nis_rng rng;              /* training noise */
    int64_t iter, target_evals;
    double sigma;
    char msg[256];
};

/* σ of update `it` (geometric annealing from sigma_start to sigma over anneal_iters). */
double nis__imgsampler_sigma_at(const nis_imgsampler_config *c, int64_t it);
/* Check cfg against target dim (dim < 0: skip that check); false with a message in err. */
bool nis__imgsampler_config_ok(const nis_imgsampler_config *c, int64_t dim, char *err, size_t errlen);
/* Allocate a sampler with networks declared, finalized and initialised from cfg.seed (no target set). */
nis_imgsampler *nis__imgsampler_alloc(const nis_imgsampler_config *cfg, char *err, size_t errlen);

/* One DSM update of the score network at the current σ (monitor: its loss). */
nis_status nis__imgsampler_score_step(nis_imgsampler *s, double *monitor);

#endif
