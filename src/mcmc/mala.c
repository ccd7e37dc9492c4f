/* src/mcmc/mala.c — the Metropolis-adjusted Langevin algorithm.
 *
 * Chain i with step h proposes y = x + h s(x) + sqrt(2h) z, z ~ N(0, I), and accepts with probability
 * min(1, exp(log a)), log a = log q(y) - log q(x) + log k(x | y) - log k(y | x), where
 * k(b | a) = N(b; a + h s(a), 2h I): log k(y | x) = -|z|^2 / 2 and log k(x | y) = -|x - y - h s(y)|^2 / (4h)
 * (the normalising constants cancel).
 */
#include "common.h"

#include <math.h>
#include <string.h>

nis_mala_config nis_mala_defaults(void) {
    return (nis_mala_config){.steps = 1000, .warmup = 0, .step_size = 0.1, .target_accept = 0.574,
                             .adapt = NIS_ADAPT_GLOBAL, .thin = 1, .reject_nonfinite = false};
}

/* Buffers of one run: the current states and proposals with their log q and scores. */
typedef struct {
    nis_real *lq, *s;        /* (n,), (n, d): at the current states x */
    nis_real *y, *lqy, *sy;  /* (n, d), (n,), (n, d): at the proposals */
    double *zz, *prob;       /* (n,): |z|^2 of each proposal; acceptance probability */
    unsigned char *acc;      /* (n,): 1 accepted, 0 rejected, 2 rejected as numerically broken */
    nis_rng *rs;
} mala_buf;

static void buf_free(mala_buf *b) {
    nis_free(b->lq), nis_free(b->s), nis_free(b->y), nis_free(b->lqy), nis_free(b->sy);
    nis_free(b->zz), nis_free(b->prob), nis_free(b->acc), nis_free(b->rs);
}

static bool buf_alloc(mala_buf *b, int64_t n, int d, nis_rng *rng) {
    size_t nd = (size_t)(n * d);
    b->lq = nis_malloc((size_t)n * sizeof(nis_real));
    b->s = nis_malloc(nd * sizeof(nis_real));
    b->y = nis_malloc(nd * sizeof(nis_real));
    b->lqy = nis_malloc((size_t)n * sizeof(nis_real));
    b->sy = nis_malloc(nd * sizeof(nis_real));
    b->zz = nis_malloc((size_t)n * sizeof(double));
    b->prob = nis_malloc((size_t)n * sizeof(double));
    b->acc = nis_malloc((size_t)n);
    b->rs = nis__mcmc_chain_rngs(rng, n);
    return b->lq && b->s && b->y && b->lqy && b->sy && b->zz && b->prob && b->acc && b->rs;
}

nis_status nis_mala_run(const nis_target *t, const nis_mala_config *cfg, nis_rng *rng, nis_real *x, int64_t n,
                        nis_real *draws, nis_mcmc_stats *stats, char *err, size_t errlen) {
    nis__mcmc_run r;
    nis_status s = nis__mcmc_begin(&r, "mala", t, x, n, 1, err, errlen);
    if (s != NIS_OK) return s;
    if (!cfg || !rng || cfg->steps < 0 || cfg->warmup < 0 || cfg->thin < 1 || !(cfg->step_size > 0) ||
        !isfinite(cfg->step_size) || !(cfg->target_accept > 0 && cfg->target_accept < 1))
        return nis__mcmc_end(&r, NULL, nis__mcmc_fail(&r, NIS_EINVAL, "needs cfg, rng, steps >= 0, warmup >= 0, "
                                                                      "thin >= 1, step_size > 0, "
                                                                      "0 < target_accept < 1"));
    const int d = r.dim;
    const int64_t total = cfg->warmup + cfg->steps;
    mala_buf b = {0};
    nis__metropolis m;
    bool bufs_ok = buf_alloc(&b, n, d, rng);
    s = nis__metropolis_start(&m, &r, bufs_ok, cfg->warmup, cfg->adapt, cfg->step_size, cfg->target_accept, x,
                              b.lq, b.s);
    for (int64_t step = 1; s == NIS_OK && step <= total; step++) {
        /* propose: y = x + h s + sqrt(2h) z, for every chain; an overflowed proposal is parked at x */
#pragma omp parallel for if (n > NIS_MCMC_PAR_MIN) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            double h = m.ad.eps[i], c = sqrt(2 * h), zz = 0;
            nis_real *yi = b.y + i * d;
            for (int k = 0; k < d; k++) {
                double z = nis_rng_normal(&b.rs[i]);
                zz += z * z;
                yi[k] = (nis_real)(x[i * d + k] + h * b.s[i * d + k] + c * z);
            }
            b.zz[i] = zz;
            b.acc[i] = 0;
            if (!nis__row_finite(yi, d)) {
                memcpy(yi, x + i * d, (size_t)d * sizeof *yi);
                b.acc[i] = 2;
            }
        }
        s = nis__mcmc_eval(&r, b.y, b.lqy, b.sy, step);
        for (int64_t i = 0; s == NIS_OK && !cfg->reject_nonfinite && i < n; i++)
            if (b.acc[i] != 2 && nis__target_broken(b.lqy[i], b.sy + i * d, d))
                s = nis__mcmc_fail(&r, NIS_ENUMERIC, "non-finite log q or score at step %lld (chain %lld)",
                                   (long long)step, (long long)i);
        if (s != NIS_OK) break;
        /* accept or reject, per chain */
#pragma omp parallel for if (n > NIS_MCMC_PAR_MIN) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            double h = m.ad.eps[i], u = nis_rng_uniform(&b.rs[i]);
            const nis_real *xi = x + i * d, *yi = b.y + i * d, *syi = b.sy + i * d;
            if (b.acc[i] == 2 || nis__target_broken(b.lqy[i], syi, d)) {
                b.prob[i] = 0;
                b.acc[i] = 2;
                continue;
            }
            if (b.lqy[i] == -INFINITY) {   /* zero density */
                b.prob[i] = 0;
                continue;
            }
            double back = 0;   /* |x - y - h s(y)|^2 */
            for (int k = 0; k < d; k++) {
                double e = (double)xi[k] - yi[k] - h * syi[k];
                back += e * e;
            }
            double loga = (double)b.lqy[i] - b.lq[i] - back / (4 * h) + b.zz[i] / 2;
            b.prob[i] = loga >= 0 ? 1 : exp(loga);
            b.acc[i] = u < b.prob[i];
            if (b.acc[i]) {
                memcpy(x + i * d, yi, (size_t)d * sizeof *x);
                memcpy(b.s + i * d, syi, (size_t)d * sizeof *x);
                b.lq[i] = b.lqy[i];
            }
        }
        int64_t acc = 0, diverged = 0;
        for (int64_t i = 0; i < n; i++) {
            acc += b.acc[i] == 1;
            diverged += b.acc[i] == 2;
        }
        nis__tally_step(&m.tally, step, cfg->warmup, acc, diverged, &m.ad, b.prob, draws, x, cfg->thin, n, d);
    }
    buf_free(&b);
    return nis__metropolis_end(&m, &r, stats, s);
}
