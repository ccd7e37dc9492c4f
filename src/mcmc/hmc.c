/* src/mcmc/hmc.c — Hamiltonian Monte Carlo with an identity mass matrix (Neal 2011, "MCMC using Hamiltonian
 * dynamics").
 *
 * An iteration of chain i draws a momentum p ~ N(0, I), runs L leapfrog steps of size eps_i on
 * H(x, p) = -log q(x) + |p|^2 / 2,
 *     p <- p + eps/2 s(x);  x <- x + eps p;  p <- p + eps/2 s(x)      (s = score)
 * and accepts the end point with probability min(1, exp(H_start - H_end)).  All chains move in lockstep,
 * so each leapfrog step is one batched evaluation of log q and the score.
 *
 * Divergences (as in Stan): a trajectory whose energy error H - H_start exceeds cfg->divergence (finite,
 * large), whose position or momentum overflows, or that reaches log q = -inf (zero density) is stopped
 * there and rejected; stats->divergences counts them.  These are properties of the integrator, not NaNs
 * of the target: a NaN or +inf log q, or a non-finite score where log q is finite, is an error
 * (NIS_ENUMERIC) unless cfg->reject_nonfinite, which turns it into a divergence too.
 */
#include "common.h"

#include <math.h>
#include <string.h>

nis_hmc_config nis_hmc_defaults(void) {
    return (nis_hmc_config){.steps = 1000, .warmup = 500, .n_leapfrog = 10, .step_size = 0.1,
                            .target_accept = 0.65, .adapt = NIS_ADAPT_GLOBAL, .jitter = 0, .thin = 1,
                            .divergence = 1000, .reject_nonfinite = false};
}

/* Buffers of one run. */
typedef struct {
    nis_real *lq, *s;           /* (n,), (n, d): at the current states x */
    nis_real *y, *lqy, *sy, *p; /* (n, d), (n,), (n, d), (n, d): the trajectory's position, log q, score, momentum */
    double *h0, *eps, *prob;    /* (n,): starting energy, this iteration's step, acceptance probability */
    unsigned char *live;        /* (n,): 0 once the trajectory diverged (then it is parked at x) */
    unsigned char *acc;         /* (n,): 1 accepted, 0 rejected */
    nis_rng *rs;
} hmc_buf;

static void buf_free(hmc_buf *b) {
    nis_free(b->lq), nis_free(b->s), nis_free(b->y), nis_free(b->lqy), nis_free(b->sy), nis_free(b->p);
    nis_free(b->h0), nis_free(b->eps), nis_free(b->prob), nis_free(b->live), nis_free(b->acc), nis_free(b->rs);
}

static bool buf_alloc(hmc_buf *b, int64_t n, int d, nis_rng *rng) {
    size_t nd = (size_t)(n * d), nr = (size_t)n * sizeof(nis_real), nb = (size_t)n * sizeof(double);
    b->lq = nis_malloc(nr), b->lqy = nis_malloc(nr);
    b->s = nis_malloc(nd * sizeof(nis_real)), b->y = nis_malloc(nd * sizeof(nis_real));
    b->sy = nis_malloc(nd * sizeof(nis_real)), b->p = nis_malloc(nd * sizeof(nis_real));
    b->h0 = nis_malloc(nb), b->eps = nis_malloc(nb), b->prob = nis_malloc(nb);
    b->live = nis_malloc((size_t)n), b->acc = nis_malloc((size_t)n);
    b->rs = nis__mcmc_chain_rngs(rng, n);
    return b->lq && b->lqy && b->s && b->y && b->sy && b->p && b->h0 && b->eps && b->prob && b->live && b->acc &&
           b->rs;
}

/* Stop chain i's trajectory: park it at its start (finite values) so later batched evaluations stay clean. */
static void park(hmc_buf *b, const nis_real *x, int64_t i, int d) {
    memcpy(b->y + i * d, x + i * d, (size_t)d * sizeof *x);
    memcpy(b->sy + i * d, b->s + i * d, (size_t)d * sizeof *x);
    memset(b->p + i * d, 0, (size_t)d * sizeof *x);
    b->lqy[i] = b->lq[i];
    b->live[i] = 0;
}

/* |p|^2 / 2 of a row. */
static double kinetic(const nis_real *p, int d) {
    double k = 0;
    for (int j = 0; j < d; j++) k += (double)p[j] * p[j] / 2;
    return k;
}

nis_status nis_hmc_run(const nis_target *t, const nis_hmc_config *cfg, nis_rng *rng, nis_real *x, int64_t n,
                       nis_real *draws, nis_mcmc_stats *stats, char *err, size_t errlen) {
    nis__mcmc_run r;
    nis_status s = nis__mcmc_begin(&r, "hmc", t, x, n, 1, err, errlen);
    if (s != NIS_OK) return s;
    if (!cfg || !rng || cfg->steps < 0 || cfg->warmup < 0 || cfg->thin < 1 || cfg->n_leapfrog < 1 ||
        !(cfg->step_size > 0) || !isfinite(cfg->step_size) || !(cfg->target_accept > 0 && cfg->target_accept < 1) ||
        !(cfg->jitter >= 0 && cfg->jitter < 1) || !(cfg->divergence > 0))
        return nis__mcmc_end(&r, NULL, nis__mcmc_fail(&r, NIS_EINVAL, "needs cfg, rng, steps >= 0, warmup >= 0, "
                                                                      "thin >= 1, n_leapfrog >= 1, step_size > 0, "
                                                                      "0 < target_accept < 1, 0 <= jitter < 1, "
                                                                      "divergence > 0"));
    const int d = r.dim, L = cfg->n_leapfrog;
    const int64_t total = cfg->warmup + cfg->steps;
    hmc_buf b = {0};
    nis__metropolis m;
    bool bufs_ok = buf_alloc(&b, n, d, rng);
    s = nis__metropolis_start(&m, &r, bufs_ok, cfg->warmup, cfg->adapt, cfg->step_size, cfg->target_accept, x,
                              b.lq, b.s);

    for (int64_t step = 1; s == NIS_OK && step <= total; step++) {
        /* momentum, step size, starting energy, then the first half kick and drift */
#pragma omp parallel for if (n > NIS_MCMC_PAR_MIN) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            double eps = m.ad.eps[i];
            if (cfg->jitter > 0) eps *= 1 + cfg->jitter * (2 * nis_rng_uniform(&b.rs[i]) - 1);
            nis_real *pi = b.p + i * d, *yi = b.y + i * d;
            for (int k = 0; k < d; k++) pi[k] = (nis_real)nis_rng_normal(&b.rs[i]);
            b.eps[i] = eps;
            b.h0[i] = kinetic(pi, d) - b.lq[i];
            b.live[i] = 1;
            for (int k = 0; k < d; k++) {
                pi[k] = (nis_real)(pi[k] + eps / 2 * b.s[i * d + k]);
                yi[k] = (nis_real)(x[i * d + k] + eps * pi[k]);
            }
            if (!nis__row_finite(yi, d) || !nis__row_finite(pi, d)) park(&b, x, i, d);
        }
        for (int l = 1; s == NIS_OK && l <= L; l++) {
            s = nis__mcmc_eval(&r, b.y, b.lqy, b.sy, step);
            for (int64_t i = 0; s == NIS_OK && !cfg->reject_nonfinite && i < n; i++)
                if (b.live[i] && nis__target_broken(b.lqy[i], b.sy + i * d, d))
                    s = nis__mcmc_fail(&r, NIS_ENUMERIC, "non-finite log q or score at step %lld, leapfrog %d of %d "
                                                         "(chain %lld)", (long long)step, l, L, (long long)i);
            if (s != NIS_OK) break;
            /* close the leapfrog step (half kick), check the energy, then the next half kick and drift */
#pragma omp parallel for if (n > NIS_MCMC_PAR_MIN) schedule(static)
            for (int64_t i = 0; i < n; i++) {
                nis_real *yi = b.y + i * d, *syi = b.sy + i * d, *pi = b.p + i * d;
                if (!b.live[i]) continue;
                if (b.lqy[i] == -INFINITY || nis__target_broken(b.lqy[i], syi, d)) {
                    park(&b, x, i, d);
                    continue;
                }
                double eps = b.eps[i];
                for (int k = 0; k < d; k++) pi[k] = (nis_real)(pi[k] + eps / 2 * syi[k]);
                double dh = kinetic(pi, d) - b.lqy[i] - b.h0[i];
                if (!(dh <= cfg->divergence)) {   /* also NaN */
                    park(&b, x, i, d);
                    continue;
                }
                if (l == L) continue;
                for (int k = 0; k < d; k++) {
                    pi[k] = (nis_real)(pi[k] + eps / 2 * syi[k]);
                    yi[k] = (nis_real)(yi[k] + eps * pi[k]);
                }
                if (!nis__row_finite(yi, d) || !nis__row_finite(pi, d)) park(&b, x, i, d);
            }
        }
        if (s != NIS_OK) break;
        /* accept or reject, per chain (a diverged chain is rejected) */
#pragma omp parallel for if (n > NIS_MCMC_PAR_MIN) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            double u = nis_rng_uniform(&b.rs[i]);
            double loga = b.h0[i] - (kinetic(b.p + i * d, d) - b.lqy[i]);
            b.prob[i] = !b.live[i] ? 0 : loga >= 0 ? 1 : exp(loga);
            b.acc[i] = u < b.prob[i];
            if (b.acc[i]) {
                memcpy(x + i * d, b.y + i * d, (size_t)d * sizeof *x);
                memcpy(b.s + i * d, b.sy + i * d, (size_t)d * sizeof *x);
                b.lq[i] = b.lqy[i];
            }
        }
        int64_t acc = 0, diverged = 0;
        for (int64_t i = 0; i < n; i++) {
            acc += b.acc[i];
            diverged += !b.live[i];
        }
        nis__tally_step(&m.tally, step, cfg->warmup, acc, diverged, &m.ad, b.prob, draws, x, cfg->thin, n, d);
    }
    buf_free(&b);
    return nis__metropolis_end(&m, &r, stats, s);
}
