/* nis/target.h — unnormalised target densities q(x) ∝ exp(log q(x)), x in R^dim.
 *
 * A user's density is a nis_target: its dimension and log q written with the library's ops (so the score
 * ∇ log q and the Hessian-vector products DFT needs come from autodiff), optionally a hand-written score and
 * HVP (also written with ops, used instead of autodiff when present), and optionally an exact sampler.
 */
#ifndef NIS_TARGET_H
#define NIS_TARGET_H

#include "nis/core.h"
#include "nis/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nis_target nis_target;
struct nis_target {
    const char *name;
    int dim;
    /* Required.  log q for a batch: x (B, dim) -> (B,), up to a constant, built with differentiable ops. */
    nis_tensor *(*log_prob)(nis_ctx *ctx, const nis_target *t, nis_tensor *x);
    /* Optional.  ∇_x log q: x (B, dim) -> (B, dim), built with differentiable ops. */
    nis_tensor *(*score)(nis_ctx *ctx, const nis_target *t, nis_tensor *x);
    /* Optional.  Hessian-vector product (∇² log q) v: x, v (B, dim) -> (B, dim). */
    nis_tensor *(*hvp)(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *v);
    /* Optional.  n exact samples into out (n x dim, caller-owned). */
    void (*sample)(const nis_target *t, nis_rng *rng, nis_real *out, int64_t n);
    void *data;   /* the target's own parameters (owned by whoever made the target) */
    /* log_prob / score / hvp are unbiased random estimates (e.g. minibatch likelihoods), a fresh draw per
     * call.  false for exact targets (a zeroed struct).  nis_dft_objective then multiplies two independent
     * score draws instead of squaring one, which removes the bias tr Var ŝ (see nis/train.h). */
    bool stochastic;
    /* Optional.  A mode of q (or a point in its bulk) into out (dim): the trainer's broad start is centred there
     * (nis_train_config.init_at_mode).  NIS_OK, or a status with one line in err. */
    nis_status (*mode)(const nis_target *t, nis_real *out, char *err, size_t errlen);
    /* Optional.  Map n samples (n, dim) in place from q's coordinates to the ones reported to users (e.g. the
     * non-centred posterior's [v, log α] to θ = [w, log α]); see nis_target_report. */
    void (*report)(const nis_target *t, nis_real *x, int64_t n);
    /* Optional.  The view of a 2-D target in pictures: xmin, xmax, ymin, ymax of a box that holds nearly all of its
     * mass (all zero: [-4, 4]²; nis_target_extent in nis/plot.h). */
    double plot_box[4];
    /* Optional.  A family of densities q_s, one per noise level s > 0, of which log_prob is the member at s = level
     * (a noise-conditional energy: the data smoothed by N(0, s² I)): log q_s for a batch with one level per row,
     * x (B, dim), s (B, 1) -> (B,), built with differentiable ops.  A sampler trained over a range of levels
     * (nis_train_config.sigma_max) evaluates each of its noisy draws at that draw's own level. */
    nis_tensor *(*log_prob_at)(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *s);
    double level;
};

/* Score of t at x (B, dim) -> (B, dim): t->score when given, else ∇ of sum(log_prob) by autodiff.
 * With create_graph the result stays differentiable in x (needed when x depends on trained parameters).
 * x need not require grad: a leaf is then differentiated through a requires-grad copy. */
nis_tensor *nis_target_score(nis_ctx *ctx, const nis_target *t, nis_tensor *x, bool create_graph);
/* The score of q_s at x (B, dim) with one level per row s (B, 1), by autodiff of t->log_prob_at; s NULL:
 * nis_target_score.  The context fails with NIS_EINVAL when t has no levels. */
nis_tensor *nis_target_score_at(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *s, bool create_graph);
/* (∇² log q)(x) v for x, v (B, dim): t->hvp when given, else double backward.  Not differentiable further. */
nis_tensor *nis_target_hvp(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *v);
/* Laplacian of log q (the divergence of the score) at x (B, dim) -> (B,), by dim backward passes;
 * create_graph keeps it differentiable in x.  For small dim (Fisher training without noise). */
nis_tensor *nis_target_laplacian(nis_ctx *ctx, const nis_target *t, nis_tensor *x, bool create_graph);

/* Apply t->report to n samples x (n, dim) in place (nothing when t has none). */
void nis_target_report(const nis_target *t, nis_real *x, int64_t n);
/* The report map of the target called name, for samples saved without their target (NULL: none). */
void (*nis_target_report_by_name(const char *name))(const nis_target *t, nis_real *x, int64_t n);

/* A target that counts its evaluations: rows passed to inner's log q, score or HVP (a backward pass through them
 * is not counted).  ct->target is the nis_target to use (it points back into *ct, which must stay where it is);
 * it behaves exactly as inner (same values, same hand-written parts).  The trainer wraps its target in one. */
typedef struct nis_counted_target {
    nis_target target;
    const nis_target *inner;
    int64_t rows;
} nis_counted_target;
void nis_counted_target_init(nis_counted_target *ct, const nis_target *inner);

/* A tempered target q_β(x) ∝ q(x)^β N(x; 0, I)^(1-β), β in [0, 1]: a standard normal at β = 0, q itself at
 * β = 1 (the path DFT's tempering schedule follows, nis/train.h).  tt->target is the nis_target to use; it
 * points back into *tt, so *tt must stay where it is (not copied) and outlive its use, and inner must outlive
 * both.  Its score / HVP are hand-written exactly when inner's are (else autodiff of its log q); it has no
 * exact sampler; it is stochastic when inner is.  beta may be changed between calls. */
typedef struct nis_tempered_target {
    nis_target target;
    const nis_target *inner;
    double beta;
} nis_tempered_target;
void nis_tempered_target_init(nis_tempered_target *tt, const nis_target *inner, double beta);

/* A target in affine coordinates, q_u(u) = q(m + L u), u in R^dim: with m the mean and L L^T the covariance of
 * rough samples of q (nis_affine_fit), q_u is close to standardised, which is what DFT needs on targets whose
 * scales differ by much (bench/blr_notes.md, Session 7).  at->target is the nis_target to use; it points back
 * into *at, so *at must stay where it is and outlive its use; inner, mean (dim) and L (dim, dim, row-major,
 * any factor with L L^T = Σ) are not copied and must outlive it too.  Score L^T s_q(m + L u) and HVP
 * L^T H_q (L v) are hand-written exactly when inner's are (else autodiff of its log q); log |det L| is dropped
 * (a constant); no exact sampler; stochastic when inner is.  Map samples u back with nis_affine_target_to_x. */
typedef struct nis_affine_target {
    nis_target target;
    const nis_target *inner;
    const nis_real *mean, *L;
} nis_affine_target;
void nis_affine_target_init(nis_affine_target *at, const nis_target *inner, const nis_real *mean, const nis_real *L);
/* x = m + L u for n rows: u (n, dim) -> x (n, dim), caller-owned; x may not alias u. */
void nis_affine_target_to_x(const nis_affine_target *at, const nis_real *u, int64_t n, nis_real *x);
/* mean (dim) and L (dim, dim), caller-owned, from n >= 2 samples x (n, dim): the sample mean, and the symmetric
 * square root of the sample covariance (eigenvalues floored at 1e-12 of the largest).  NIS_EINVAL (bad sizes),
 * NIS_ENUMERIC (non-finite samples, a zero covariance), NIS_ENOMEM; the message in err. */
nis_status nis_affine_fit(const nis_real *x, int64_t n, int dim, nis_real *mean, nis_real *L, char *err,
                          size_t errlen);

/* The Laplace approximation N(m, L Lᵀ) of q: Newton's method on log q from start (dim values; NULL: the target's
 * mode function when it has one, else 0) to a mode m, then L = (-∇² log q(m))^(-1/2), the symmetric square root
 * of the covariance (the Hessian from batched Hessian-vector products, 64 rows per call; eigenvalues of -H
 * floored at 1e-8 of the largest, counted in info->floored).  mean (dim) and L (dim, dim) are caller-owned and
 * take the place of nis_affine_fit's for a target that is close to Gaussian (a posterior with many data).
 * Newton stops when its predicted gain is below 1e-12 nats, log q stops rising, or after 100 iterations.
 * NIS_EINVAL (a stochastic target: the fit needs the exact log q), NIS_ENUMERIC (non-finite values, no curvature),
 * NIS_ENOMEM; one line in err.  info (may be NULL) gets what a user may want to report. */
typedef struct nis_laplace_info {
    int iters;                   /* Newton iterations */
    double log_q, grad_norm;     /* at the mode */
    double min_curv, max_curv;   /* smallest and largest eigenvalue of -∇² log q at the mode */
    int floored;                 /* eigenvalues below 1e-8 of the largest (a flat or non-concave direction) */
} nis_laplace_info;
nis_status nis_laplace_fit(const nis_target *t, const nis_real *start, nis_real *mean, nis_real *L,
                           nis_laplace_info *info, char *err, size_t errlen);

/* N(mean, std² I) over images of dim = c*h*w, with an analytic score and HVP, exact draws and noise levels
 * (log_prob_at: q_s = N(mean, (std² + s²) I), level 0); mean (copied) or,
 * when NULL, a centred blob 0.1 + 0.8 exp(-r² / (2 (h/5)²)) per channel.  name is copied.  NULL on bad sizes or
 * out of memory.  Free with nis_gauss_image_target_free. */
nis_target *nis_gauss_image_target_new(const char *name, int c, int h, int w, const nis_real *mean, double std);
void nis_gauss_image_target_free(nis_target *t);
/* Its mean (dim values, owned by t). */
const nis_real *nis_gauss_image_target_mean(const nis_target *t);

/* A target computed outside the library, on plain arrays (a density written in Python, say: python/nis), by
 * callbacks that return 0, or non-zero to fail:
 *   score(ud, x, n, out):      out (n, dim) = ∇ log q(x_i) for the rows of x (n, dim)                  (required)
 *   hvp(ud, x, v, n, out):     out (n, dim) = ∇² log q(x_i) v_i                  (DFT and Fisher need it; NULL: none)
 *   log_prob(ud, x, n, out):   out (n) = log q(x_i) up to a constant                            (NULL: none)
 * Arrays are row-major nis_real, valid only during the call; out is not initialised.  The target's ops call them
 * and differentiate through them: log q's gradient is the score, the score's is the HVP (∇² log q is symmetric);
 * a third derivative, or a part that was not given, fails the op with EINVAL naming the target.  A failing
 * callback fails the op with EINVAL ("<name>: the score callback failed").  name is copied.  NULL on bad
 * arguments (dim < 1, no score) or out of memory.  Free with nis_foreign_target_free. */
typedef int (*nis_array_fn)(void *ud, const nis_real *x, int64_t n, nis_real *out);
typedef int (*nis_array_hvp_fn)(void *ud, const nis_real *x, const nis_real *v, int64_t n, nis_real *out);
nis_target *nis_foreign_target_new(const char *name, int dim, nis_array_fn score, nis_array_hvp_fn hvp,
                                   nis_array_fn log_prob, void *ud);
void nis_foreign_target_free(nis_target *t);

/* The six 2-D targets of docs/targets-2d.md by name ("gauss", "mog2", "rosenbrock", "donut", "funnel",
 * "squiggle"); NULL if unknown.  Static objects: do not free. */
const nis_target *nis_target_2d(const char *name);
/* NULL-terminated list of their names. */
const char *const *nis_target_2d_names(void);

#ifdef __cplusplus
}
#endif
#endif
