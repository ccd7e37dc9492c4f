/* nis/mcmc.h — training-free baselines: unadjusted Langevin (ULA, "LD"), MALA, HMC and SVGD.
 *
 * Every method advances a batch of n chains (or particles) together: the state x is a caller-owned
 * row-major (n, dim) array, dim = t->dim, holding the initial points on entry and the final points on
 * return.  Each step evaluates log q and/or the score of all n rows with one batched call of the target
 * in a private nis_ctx that is reset every step, so memory does not grow with the number of steps (the
 * heap is touched only while setting up a run).
 *
 * Randomness: chain i draws its noise from its own stream, nis_rng_split(&base, i), where base is split
 * from the caller's generator with one word drawn from it.  So a run advances the caller's rng by one
 * word, two runs from the same generator differ, and results do not depend on the thread count.
 *
 * Errors: every run returns NIS_OK or a status with a one-line message in err (err may be NULL; errlen
 * bytes, NUL-terminated; "" on success).  A NaN or Inf in a chain's state, log q or score stops the run
 * with NIS_ENUMERIC and a message naming the method, the step and the chain.  Exceptions, for the
 * Metropolis methods, where a proposal is only a candidate: log q = -inf is a zero density (the proposal
 * is rejected); a proposal that overflows, or an HMC trajectory that diverges, is rejected and counted in
 * stats->divergences; and reject_nonfinite turns NaN values at proposals into such rejections too.
 * Steps are numbered from 1 (step 0 is the evaluation at the initial points); warm-up steps come first.
 * After a failure x holds the last states reached and stats (if given) describe the steps done.
 */
#ifndef NIS_MCMC_H
#define NIS_MCMC_H

#include "nis/core.h"
#include "nis/ebm.h"
#include "nis/rng.h"
#include "nis/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a run did.  Evaluation counts are per chain (one batched call over the n chains counts once). */
typedef struct {
    double accept_rate;         /* accepted / proposed over the sampling steps and all chains (1 for ULA, SVGD) */
    double accept_rate_warmup;  /* the same over the warm-up steps (0 if there were none) */
    double step_size;           /* final step size (h for ULA/MALA, eps for HMC, SVGD's step); mean over chains */
    double step_size_min;       /* smallest and largest final per-chain step size (differ only with */
    double step_size_max;       /*   NIS_ADAPT_PER_CHAIN) */
    double bandwidth;           /* SVGD: the kernel bandwidth h of the last step (0 for the other methods) */
    int64_t grad_evals;         /* score evaluations per chain */
    int64_t logq_evals;         /* log q evaluations per chain (with an autodiff score both come from one */
                                /*   forward + backward pass; both are counted) */
    int64_t divergences;        /* sampling-step proposals rejected as numerically broken: HMC's divergent
                                   trajectories; MALA's proposals that overflowed or (reject_nonfinite) had
                                   NaN values (warm-up ones are not counted) */
    int64_t steps;              /* steps run, warm-up included */
    double seconds;             /* wall time of the run */
} nis_mcmc_stats;

/* Fill x (n, dim) with draws from N(mean, std^2), in order from rng: the usual initial state (the
 * defaults of the paper's baselines are mean 0, std 1). */
void nis_mcmc_init_normal(nis_rng *rng, nis_real *x, int64_t n, int dim, double mean, double std);

/* Step-size adaptation during warm-up (MALA, HMC): Robbins-Monro on the log step size toward the target
 * Metropolis acceptance probability, log eps += 2 m^-0.75 (accept_prob_m - target) after warm-up iteration
 * m; sampling uses the last iterate (src/mcmc/adapt.c says why not NUTS's dual averaging).  GLOBAL feeds it
 * the acceptance probability averaged over the chains (one step size for all); PER_CHAIN adapts each
 * chain's own step size from its own acceptance probabilities (as separate Stan chains would). */
typedef enum {
    NIS_ADAPT_NONE = 0,
    NIS_ADAPT_GLOBAL,
    NIS_ADAPT_PER_CHAIN,
} nis_adapt_mode;

/* ---- ULA ("LD"): x <- x + h score(x) + sqrt(2h) N(0, I) ----------------------------------------------------- */
typedef struct {
    int64_t steps;       /* K, number of steps (default 1000) */
    double step_size;    /* h > 0 (default 0.01) */
    double noise;        /* > 0: the noise's sd per step instead of sqrt(2h) (a reverse-diffusion step uses sqrt(h));
                          * 0 (a zeroed struct): Langevin */
} nis_ula_config;

nis_ula_config nis_ula_defaults(void);
/* K ULA steps for n chains; x (n, dim) in: initial points, out: final points.  stats may be NULL.
 * One score evaluation per step. */
nis_status nis_ula_run(const nis_target *t, const nis_ula_config *cfg, nis_rng *rng, nis_real *x, int64_t n,
                       nis_mcmc_stats *stats, char *err, size_t errlen);

/* ---- MALA: the ULA move as a proposal q(x'|x) = N(x + h s(x), 2h I), Metropolis-Hastings per chain ---------- */
typedef struct {
    int64_t steps;          /* sampling steps after warm-up (default 1000) */
    int64_t warmup;         /* warm-up steps adapting h (default 0: no adaptation) */
    double step_size;       /* h > 0: the initial value when adapting (default 0.1) */
    double target_accept;   /* warm-up target acceptance (default 0.574, Roberts & Rosenthal 1998) */
    nis_adapt_mode adapt;   /* used only when warmup > 0 (default NIS_ADAPT_GLOBAL) */
    int64_t thin;           /* keep every thin-th sampling state in `draws` (default 1) */
    bool reject_nonfinite;  /* reject (and count) proposals with NaN / +inf log q or a non-finite score instead
                               of failing (default false) */
} nis_mala_config;

nis_mala_config nis_mala_defaults(void);
/* warmup + steps MALA steps for n chains; x (n, dim) in: initial points, out: final points.
 * draws: NULL, or (steps / thin, n, dim) receiving the states after sampling steps thin, 2 thin, ...
 * One score + log q evaluation per step (plus one at the initial points). */
nis_status nis_mala_run(const nis_target *t, const nis_mala_config *cfg, nis_rng *rng, nis_real *x, int64_t n,
                        nis_real *draws, nis_mcmc_stats *stats, char *err, size_t errlen);

/* ---- HMC: L leapfrog steps of size eps, identity mass matrix, Metropolis-Hastings per chain -------------- */
typedef struct {
    int64_t steps;          /* sampling iterations after warm-up (default 1000) */
    int64_t warmup;         /* warm-up iterations adapting eps (default 500) */
    int n_leapfrog;         /* L >= 1 (default 10) */
    double step_size;       /* eps > 0: the initial value when adapting (default 0.1) */
    double target_accept;   /* warm-up target acceptance (default 0.65) */
    nis_adapt_mode adapt;   /* used only when warmup > 0 (default NIS_ADAPT_GLOBAL) */
    double jitter;          /* each iteration uses eps * U(1 - jitter, 1 + jitter) per chain, 0 <= jitter < 1;
                               breaks the periodic orbits of a fixed eps L on near-Gaussian targets (default 0) */
    int64_t thin;           /* keep every thin-th sampling state in `draws` (default 1) */
    double divergence;      /* a trajectory whose energy error exceeds this diverged: it stops there and is
                               rejected, as do trajectories that overflow or reach log q = -inf (default 1000,
                               Stan's value) */
    bool reject_nonfinite;  /* treat NaN / +inf log q and non-finite scores as divergences instead of failing
                               (default false) */
} nis_hmc_config;

nis_hmc_config nis_hmc_defaults(void);
/* warmup + steps HMC iterations for n chains; x (n, dim) in: initial points, out: final points.
 * draws: NULL, or (steps / thin, n, dim) receiving the states after sampling iterations thin, 2 thin, ...
 * (thinned draws of one long chain per chain: the gold-standard reference sampler).
 * L evaluations of log q and the score per iteration, plus one at the initial points (log q at every
 * leapfrog step detects divergences; with an autodiff score it comes from the same forward pass). */
nis_status nis_hmc_run(const nis_target *t, const nis_hmc_config *cfg, nis_rng *rng, nis_real *x, int64_t n,
                       nis_real *draws, nis_mcmc_stats *stats, char *err, size_t errlen);

/* ---- SVGD (Liu & Wang 2016) with the RBF kernel k(a, b) = exp(-|a - b|^2 / h) ------------------------------
 * phi(x_i) = 1/n sum_j [ k(x_j, x_i) score(x_j) + grad_{x_j} k(x_j, x_i) ], h = med^2 / log(n + 1) recomputed
 * every step, med^2 = the median squared distance over the pairs i < j of the first min(n, 1000) particles
 * (the upper median for an even count).  O(n^2 dim) per step, deterministic for any thread count. */
typedef enum {
    NIS_SVGD_PLAIN = 0,     /* x <- x + step phi(x) */
    NIS_SVGD_ADAGRAD,       /* the original code's "AdaGrad with momentum" (RMSProp-like):
                               G <- phi^2 at step 1, G <- a G + (1 - a) phi^2 after (a = 0.9),
                               x <- x + step phi / (1e-6 + sqrt(G)), element-wise */
} nis_svgd_update;

typedef struct {
    int64_t steps;          /* iterations (default 1000) */
    double step_size;       /* step > 0 (default 0.01) */
    nis_svgd_update update; /* default NIS_SVGD_ADAGRAD, as in Liu & Wang's code */
    double alpha;           /* AdaGrad's decay a (default 0.9) */
    double bandwidth;       /* h > 0 fixes the bandwidth; <= 0 (default) uses the median heuristic */
} nis_svgd_config;

nis_svgd_config nis_svgd_defaults(void);
/* SVGD on n >= 2 particles; x (n, dim) in: initial particles, out: final particles.  Deterministic given
 * its initial particles (no rng).  One score evaluation per step. */
nis_status nis_svgd_run(const nis_target *t, const nis_svgd_config *cfg, nis_real *x, int64_t n,
                        nis_mcmc_stats *stats, char *err, size_t errlen);

/* Langevin sampling from noise on an image energy (nis/ebm.h): n chains start at U[0, 1)^(c h w) drawn from rng,
 * then `steps` ULA steps of size h (h <= 0: nis_ebm_ula_step(E)) on its target.  With levels L > 1 (a
 * noise-conditional energy only), the walk is annealed (Song & Ermon 2019): the steps are split evenly over L
 * levels s_1 = noise_max > ... > s_L = noise, geometric, and level s_i runs ULA on E_{s_i} = f / s_i with step
 * h (s_i / noise)².  temperature T > 0 scales the noise's variance: each step adds sqrt(2 h T) N(0, I), so the walk
 * samples q^(1/T) (T = 1: q itself; T < 1, as in Du & Mordatch 2019, trades diversity for sharper samples).
 * x: (n, c*h*w) caller-owned output.  grad_evals (may be NULL) receives the energy-gradient evaluations per chain
 * (= steps).  Advances rng.  NIS_EINVAL: levels > 1 on another energy, steps < levels, or T <= 0. */
nis_status nis_ebm_langevin(const nis_ebm *E, int64_t steps, double h, int levels, double temperature, nis_rng *rng,
                            nis_real *x, int64_t n, int64_t *grad_evals, char *err, size_t errlen);
/* Reverse diffusion from noise on a noise-conditional energy (the predictor of Song et al. 2021's variance-exploding
 * sampler, "ancestral"): n chains start at u + noise_max ε, u ~ U[0, 1)^(c h w), ε ~ N(0, I), then one step per level
 * over `steps` levels s_0 = noise_max > ... > s_K = noise, geometric: x <- x + (s_i² − s_{i+1}²) ∇log q_{s_i}(x)
 * + (s_i² − s_{i+1}²)^½ N(0, I), which carries q_{s_i}'s samples to q_{s_{i+1}}'s when the energy is exact (the
 * same cost per step as Langevin: one energy gradient).  x: (n, c*h*w) caller-owned output; grad_evals (may be
 * NULL) = steps.  NIS_EINVAL on another kind of energy or steps < 1. */
nis_status nis_ebm_reverse_diffusion(const nis_ebm *E, int64_t steps, nis_rng *rng, nis_real *x, int64_t n,
                                     int64_t *grad_evals, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
