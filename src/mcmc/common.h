/* src/mcmc/common.h — what the samplers share (private): a run's context and error reporting, the batched
 * evaluation of log q and the score, per-chain random streams, and step-size adaptation. */
#ifndef NIS_SRC_MCMC_COMMON_H
#define NIS_SRC_MCMC_COMMON_H

#include "nis/mcmc.h"

#include <math.h>
#include <stdarg.h>

/* Chain counts above which per-chain loops use OpenMP threads (each chain draws a few normals). */
#define NIS_MCMC_PAR_MIN 4096

/* One run: the target, the batch size, a private context reset at every evaluation, the counters of
 * evaluations (per chain), and where the error message goes. */
typedef struct {
    const char *method;     /* "ula", "mala", "hmc", "svgd": prefixes every message */
    const nis_target *t;
    int64_t n;              /* chains */
    int dim;
    nis_ctx *ctx;
    int64_t n_score, n_logq;
    double t_start;
    char *err;
    size_t errlen;
} nis__mcmc_run;

/* Start a run: check t, x (n, dim) (finite) and n >= n_min; make the context; clear err; start the clock.
 * On failure writes the message and returns its status (nothing to clean up). */
nis_status nis__mcmc_begin(nis__mcmc_run *r, const char *method, const nis_target *t, const nis_real *x,
                           int64_t n, int64_t n_min, char *err, size_t errlen);
/* Finish a run: fill stats' counters and time (stats may be NULL), free the context.  Returns s. */
nis_status nis__mcmc_end(nis__mcmc_run *r, nis_mcmc_stats *stats, nis_status s);
/* Write "method: <message>" into the run's err buffer and return s. */
nis_status nis__mcmc_fail(nis__mcmc_run *r, nis_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Evaluate the target at the n rows of x (n, dim) in one batched call (the context is reset first):
 * logq (n,) and score (n, dim) into caller buffers; either may be NULL (not wanted).  With an autodiff
 * score both come from one forward and one backward pass.  `step` labels error messages.  Fails on a
 * target error (status and message of the context); does not look at the values (see nonfinite_row). */
nis_status nis__mcmc_eval(nis__mcmc_run *r, const nis_real *x, nis_real *logq, nis_real *score, int64_t step);

/* Index of the first row of a (rows, width) with a NaN or Inf, or -1 if all are finite. */
int64_t nis__mcmc_nonfinite_row(const nis_real *a, int64_t rows, int64_t width);

/* For the samplers that follow the score alone (ULA, SVGD), whose `unit` is "chain" or "particle":
 * nis__mcmc_eval of the score (n, dim) at x (n, dim) for `step`, failing with NIS_ENUMERIC ("non-finite score
 * at step S (<unit> I)") if a row of it is not finite; */
nis_status nis__mcmc_finite_score(nis__mcmc_run *r, const nis_real *x, nis_real *score, int64_t step,
                                  const char *unit);
/* and, after the move, NIS_ENUMERIC ("<unit> I left the finite numbers at step S") if a row of x (n, dim) is
 * not finite, else NIS_OK. */
nis_status nis__mcmc_check_moved(nis__mcmc_run *r, const nis_real *x, int64_t step, const char *unit);

/* All d values of a row are finite. */
static inline bool nis__row_finite(const nis_real *a, int d) {
    for (int k = 0; k < d; k++)
        if (!isfinite(a[k])) return false;
    return true;
}

/* The target's values at a point are broken: log q NaN or +inf, or a non-finite score (d values) where
 * log q > -inf.  (log q = -inf alone is a zero density, not an error.) */
static inline bool nis__target_broken(nis_real lq, const nis_real *s, int d) {
    return isnan(lq) || lq == INFINITY || (lq > -INFINITY && !nis__row_finite(s, d));
}

/* n per-chain generators: base = split(rng, one word drawn from rng); chain i = split(base, i).
 * nis_free the result.  NULL if out of memory. */
nis_rng *nis__mcmc_chain_rngs(nis_rng *rng, int64_t n);

/* ---- Metropolis bookkeeping shared by MALA and HMC -------------------------------------------------------- */
typedef struct {
    int64_t acc_warm, acc_samp, done_warm, done_samp, divergences;
} nis__tally;

struct nis__adapter;
/* Count one step (1-based) that accepted `acc` and broke `diverged` of the n chains: a warm-up step feeds the
 * adapter with the chains' acceptance probabilities prob (n,); a sampling step counts divergences and copies
 * x (n, d) into draws (may be NULL) every thin-th sampling step. */
void nis__tally_step(nis__tally *t, int64_t step, int64_t warmup, int64_t acc, int64_t diverged,
                     struct nis__adapter *ad, const double *prob, nis_real *draws, const nis_real *x, int64_t thin,
                     int64_t n, int d);
/* Acceptance rates, divergences, steps and step sizes into stats (may be NULL). */
void nis__tally_report(const nis__tally *t, const struct nis__adapter *ad, int64_t n, nis_mcmc_stats *stats);

/* ---- warm-up step-size adaptation (Robbins-Monro on log eps: see adapt.c) -------------------------------- */
typedef struct nis__adapter {
    nis_adapt_mode mode;  /* NONE: step sizes stay fixed */
    int64_t n;
    int64_t m;            /* updates so far */
    double target;        /* target acceptance probability */
    double *eps;          /* (n,) current step size of each chain (all equal unless PER_CHAIN) */
} nis__adapter;

/* All chains start at eps0.  Pass mode NONE when there is no warm-up.  Returns NIS_ENOMEM or NIS_OK. */
nis_status nis__adapter_init(nis__adapter *a, nis_adapt_mode mode, int64_t n, double eps0, double target);
/* One warm-up update from the chains' Metropolis acceptance probabilities prob (n,). */
void nis__adapter_update(nis__adapter *a, const double *prob);
/* Mean, min and max step size into stats (may be NULL). */
void nis__adapter_report(const nis__adapter *a, nis_mcmc_stats *stats);
void nis__adapter_free(nis__adapter *a);

/* ---- a Metropolis run (MALA, HMC): its step-size adapter and its bookkeeping ----------------------------- */
typedef struct {
    nis__adapter ad;   /* ad.eps (n,): each chain's step size for the next iteration */
    nis__tally tally;
} nis__metropolis;

/* Start m, once the sampler has tried to allocate its buffers (bufs_ok: it did): the adapter (every chain at
 * step size eps0; adapting by `mode` towards target_accept only when warmup > 0), then log q lq (n,) and the
 * score s (n, dim) at the initial points x (n, dim), which must all be finite.  Fails with NIS_ENOMEM, the
 * target's error, or NIS_ENUMERIC naming the first chain whose log q or score is not finite (message
 * written).  Either way the run finishes with nis__metropolis_end. */
nis_status nis__metropolis_start(nis__metropolis *m, nis__mcmc_run *r, bool bufs_ok, int64_t warmup,
                                 nis_adapt_mode mode, double eps0, double target_accept, const nis_real *x,
                                 nis_real *lq, nis_real *s);
/* Finish the run with status s: m's acceptance rates, divergences, steps and step sizes into stats (may be
 * NULL), free m's adapter, then nis__mcmc_end(r, stats, s).  Returns s. */
nis_status nis__metropolis_end(nis__metropolis *m, nis__mcmc_run *r, nis_mcmc_stats *stats, nis_status s);

#endif
