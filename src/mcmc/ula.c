/* src/mcmc/ula.c — the unadjusted Langevin algorithm ("LD" in the paper): x <- x + h s(x) + sqrt(2h) z.
 *
 * Without a Metropolis correction its stationary law is biased by O(h): for q = N(0, 1) the update is
 * x' = (1 - h) x + sqrt(2h) z, whose stationary variance v solves v = (1 - h)^2 v + 2h, i.e. v = 1/(1 - h/2).
 */
#include "common.h"

#include <math.h>

nis_ula_config nis_ula_defaults(void) { return (nis_ula_config){.steps = 1000, .step_size = 0.01}; }

nis_status nis_ula_run(const nis_target *t, const nis_ula_config *cfg, nis_rng *rng, nis_real *x, int64_t n,
                       nis_mcmc_stats *stats, char *err, size_t errlen) {
    nis__mcmc_run r;
    nis_status s = nis__mcmc_begin(&r, "ula", t, x, n, 1, err, errlen);
    if (s != NIS_OK) return s;
    if (!cfg || !rng || cfg->steps < 0 || !(cfg->step_size > 0) || !isfinite(cfg->step_size))
        return nis__mcmc_end(&r, NULL, nis__mcmc_fail(&r, NIS_EINVAL, "needs cfg, rng, steps >= 0, step_size > 0"));
    const int d = r.dim;
    const double h = cfg->step_size, noise = cfg->noise > 0 ? cfg->noise : sqrt(2 * h);
    nis_real *score = nis_malloc((size_t)(n * d) * sizeof *score);
    nis_rng *rs = nis__mcmc_chain_rngs(rng, n);
    if (!score || !rs) s = nis__mcmc_fail(&r, NIS_ENOMEM, "out of memory");
    int64_t done = 0;

    for (int64_t step = 1; s == NIS_OK && step <= cfg->steps; step++) {
        s = nis__mcmc_finite_score(&r, x, score, step, "chain");
        if (s != NIS_OK) break;
        /* x, score: (n, d); chain i draws its d normals from its own stream */
#pragma omp parallel for if (n > NIS_MCMC_PAR_MIN) schedule(static)
        for (int64_t i = 0; i < n; i++)
            for (int k = 0; k < d; k++) {
                int64_t j = i * d + k;
                x[j] = (nis_real)(x[j] + h * score[j] + noise * nis_rng_normal(&rs[i]));
            }
        s = nis__mcmc_check_moved(&r, x, step, "chain");
        done = step;
    }
    if (stats) {
        *stats = (nis_mcmc_stats){.accept_rate = 1, .step_size = h, .step_size_min = h, .step_size_max = h,
                                  .steps = done};
    }
    nis_free(score);
    nis_free(rs);
    return nis__mcmc_end(&r, stats, s);
}
