/* src/mcmc/ebm_langevin.c — Langevin dynamics (ULA) from uniform noise on an energy's target. */
#include "nis/ebm.h"
#include "nis/mcmc.h"

#include <stdio.h>

nis_status nis_ebm_langevin(const nis_ebm *E, int64_t steps, double h, nis_rng *rng, nis_real *x, int64_t n,
                            int64_t *grad_evals, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!E || !E->P || !rng || !x || n < 1 || steps < 0) {
        if (err && errlen) snprintf(err, errlen, "ebm langevin: needs an energy, rng, x, n >= 1, steps >= 0");
        return NIS_EINVAL;
    }
    nis_rng_fill_uniform(rng, x, n * E->target.dim, 0, 1);
    nis_ula_config u = {.steps = steps, .step_size = h > 0 ? h : nis_ebm_ula_step(E)};
    nis_mcmc_stats ms = {0};
    nis_status s = NIS_OK;
    if (steps > 0) {
        /* the parameters need no gradients here: freeze them so the backward pass skips the weights */
        nis_params_set_requires_grad(E->P, false);
        s = nis_ula_run(nis_ebm_target(E), &u, rng, x, n, &ms, err, errlen);
        nis_params_set_requires_grad(E->P, true);
    }
    if (grad_evals) *grad_evals = ms.grad_evals;
    return s;
}
