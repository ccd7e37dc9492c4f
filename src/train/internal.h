/* src/train/internal.h — the trainer's networks and state, shared by the files of src/train. */
#ifndef NIS_SRC_TRAIN_INTERNAL_H
#define NIS_SRC_TRAIN_INTERNAL_H

#include "nis/train.h"

/* A generator g: z (B, latent) -> x (B, dim): an MLP ("sampler.fc*") or the image generator ("gen.*"). */
typedef struct {
    nis_net_kind kind;
    int64_t latent, dim;
    nis_mlp mlp;
    nis_imggen conv;
} nis__gen;

/* The trainer's two networks and how the score model reads the score network (nets.c). */
typedef struct {
    nis__gen gen;
    nis_params *G, *S;       /* the generator's and the score network's parameters */
    nis_mlp score_mlp;       /* MLP: s_net(x) = MLP(x) ("score.fc*") */
    nis_unet score_unet;     /* conv: s_net(x) = U-Net(x) / σ (it predicts -ε, of unit scale; "score.*") */
    bool residual;           /* s_φ = s_q + s_net */
    int64_t batch;
    bool antithetic;
} nis__nets;

/* The divergence guard (nis_trainer_step): every NIS__GUARD_EVERY updates, NIS__GUARD_N fresh samples of the live
 * sampler; the run has diverged when their RMS exceeds NIS__GUARD_FACTOR times the RMS before the trainer's first
 * update (at least 1).  Not saved in checkpoints: a resumed trainer measures its reference again. */
#define NIS__GUARD_EVERY 10
#define NIS__GUARD_N 64
#define NIS__GUARD_FACTOR 1e6

struct nis_trainer {
    const nis_target *t;             /* the user's target (name, dim, mode, report) */
    nis_affine_target affine;        /* preconditioned: t in u coordinates, x = m + L u (else unused) */
    nis_real *pre_m, *pre_L;         /* the trainer's copies of m (dim) and L (dim, dim), or NULL */
    nis_counted_target q;            /* the density the losses use (t or affine), its evaluations counted */
    nis_train_config cfg;            /* resolved: latent, score_model, score_warmup >= 0 */
    const nis_objective *obj;
    nis__nets nets;
    nis_adam opt_g, opt_s;
    nis_ema ema;                     /* shadow NULL when cfg.ema is 0 */
    nis_ctx *ctx;
    nis_rng rng;                     /* training noise */
    int64_t iter;
    double sigma;                    /* σ of the last (or next) update */
    int64_t failed;                  /* the update the last failed nis_trainer_step was at (1-based) */
    double guard_ref;                /* the divergence guard's reference scale (0: not measured yet) */
    nis_real *guard_x;               /* its NIS__GUARD_N samples (owned) */
    double *mon_prev;                /* the monitor's last check: mean (dim) then sd (dim) (owned; monitor.c) */
    bool mon_have;                   /* mon_prev holds a check */
    int64_t mon_calm;                /* checks in a row with drift below stop_drift */
    int64_t stopped;                 /* the update at which the stopping rule ended training (0: not) */
    const nis_dist *dist;            /* the group this trainer is a rank of (borrowed), or NULL */
    char msg[1024];                  /* the last error (nis_trainer_message) */
};

/* ---- config.c ---- */
/* cfg with its automatic values resolved for target t: latent 0 -> the target's dimension (MLP) or 64 (conv),
 * score_model auto -> residual or plain, noisy_output off for Fisher.  score_warmup stays as given. */
nis_train_config nis__config_resolve(const nis_train_config *cfg, const nis_target *t);

/* ---- nets.c ---- */
/* Declare the generator of a resolved cfg for targets of dimension dim in P (finalize is the caller's). */
nis_status nis__gen_add(nis__gen *g, nis_params *P, const nis_train_config *cfg, int64_t dim);
/* z (B, latent) -> x (B, dim). */
nis_tensor *nis__gen_forward(nis_ctx *ctx, const nis__gen *g, nis_tensor *z);
/* Rows per forward pass when sampling (bounds the arena: 4096 for an MLP, 256 images). */
int64_t nis__gen_chunk(const nis__gen *g);
/* Build, finalize and initialise both networks of a resolved cfg (generator from stream NIS_STREAM_INIT, score
 * network from its child 1).  On failure N is left for nis__nets_free and err holds a message. */
nis_status nis__nets_init(nis__nets *N, const nis_train_config *cfg, int64_t dim, char *err, size_t errlen);
void nis__nets_free(nis__nets *N);
/* The score model of a step (ud: the const nis_train_step *): s_φ(x) = s_net(x) (+ s_q(x) with the residual model,
 * differentiable in x when x requires grad), and r_φ = s_net alone.  x (B, dim) -> (B, dim).  With per-row levels
 * sig (B, 1), s_net is scaled to each row's level (conv: U-Net(x) / σ_b; MLP: MLP(x) σ / σ_b) and s_q is q_{σ_b}'s. */
nis_tensor *nis__score(nis_ctx *ctx, void *ud, nis_tensor *x, nis_tensor *sig);
nis_tensor *nis__resid(nis_ctx *ctx, void *ud, nis_tensor *x, nis_tensor *sig);

/* ---- generate.c ---- */
/* n samples of g into out (n, dim), caller-owned, in chunks built in ctx (reset; its grad flag restored):
 * u = g(z) (+ σε when noisy), z ~ N(0, I), and with aff (else NULL) x = m + L u.  Errors name the context's
 * message in err. */
nis_status nis__generate(nis_ctx *ctx, const nis__gen *g, bool noisy, double sigma, const nis_affine_target *aff,
                         nis_rng *rng, int64_t n, nis_real *out, char *err, size_t errlen);

/* ---- trainer.c ---- */
/* σ of update `it`: geometric from start to end over n updates, then end (start <= 0 or n <= 0: end throughout). */
double nis__sched_geometric(double start, double end, int64_t n, int64_t it);
/* Learning rate of update `it` of n: a half cosine from lr to lr_final (lr_final <= 0 or n <= 1: lr throughout). */
double nis__sched_cosine(double lr, double lr_final, int64_t n, int64_t it);
/* Back-propagate loss (a scalar in ctx) into P (zeroed first), clip the gradient at norm clip (<= 0: none),
 * check that loss, monitor and the gradient norm are finite, and take an Adam step.  `iter` (updates done before
 * this one) and `what` (the network) name the failure in msg.  *norm (may be NULL) gets the norm before clipping.
 * NIS_ENUMERIC (not finite), or the context's / parameters' status.  In a group (dist not NULL), the loss and
 * *monitor are averaged over the ranks before the check (so every rank fails together) and the gradient before
 * clipping; *monitor is left the group's. */
nis_status nis__update(nis_ctx *ctx, const nis_dist *dist, nis_tensor *loss, double *monitor, nis_params *P,
                       nis_adam *opt, double clip, int64_t iter, const char *what, double *norm, char *msg,
                       size_t msglen);

/* ---- monitor.c ---- */
/* The convergence monitor's check after the current update (nis_train_stats.drift; NaN at a trainer's first check)
 * and the stopping rule (sets tr->stopped).  NIS_OK, or a failure with tr->msg. */
nis_status nis__monitor_check(nis_trainer *tr, double *drift);

/* Allocate a trainer for target t and config cfg (checked here) with its networks built and initialised, and
 * the preconditioner of start (copied); no broad start, no EMA.  NULL with a message in err. */
nis_trainer *nis__trainer_alloc(const nis_target *t, const nis_train_config *cfg, const nis_train_start *start,
                                char *err, size_t errlen);

#endif
