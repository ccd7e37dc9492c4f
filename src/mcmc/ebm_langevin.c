/* src/mcmc/ebm_langevin.c — Langevin dynamics (ULA) from uniform noise on an energy's target, annealed over the
 * levels of a noise-conditional energy; and reverse diffusion over those levels. */
#include "nis/ebm.h"
#include "nis/mcmc.h"

#include <math.h>
#include <stdio.h>

nis_status nis_ebm_langevin(const nis_ebm *E, int64_t steps, double h, int levels, double temperature, nis_rng *rng,
                            nis_real *x, int64_t n, int64_t *grad_evals, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!E || !E->P || !rng || !x || n < 1 || steps < 0 || levels < 1 || !(temperature > 0 && isfinite(temperature))) {
        if (err && errlen)
            snprintf(err, errlen, "ebm langevin: needs an energy, rng, x, n >= 1, steps >= 0, levels >= 1, temperature > 0");
        return NIS_EINVAL;
    }
    if (levels > 1 && (!nis_ebm_is_conditional(E) || steps < levels)) {
        if (err && errlen)
            snprintf(err, errlen, "ebm langevin: %s", !nis_ebm_is_conditional(E)
                         ? "annealing over levels needs a noise-conditional energy (trained with a noise range)"
                         : "annealing needs at least one step per level");
        return NIS_EINVAL;
    }
    nis_rng_fill_uniform(rng, x, n * E->target.dim, 0, 1);
    const double h0 = h > 0 ? h : nis_ebm_ula_step(E);
    int64_t evals = 0;
    nis_status s = NIS_OK;
    /* the parameters need no gradients here: freeze them so the backward pass skips the weights */
    nis_params_set_requires_grad(E->P, false);
    for (int i = 0; i < levels && s == NIS_OK; i++) {
        /* level i of L: s_i = noise_max (noise / noise_max)^(i / (L - 1)); its share of the steps */
        nis_ebm view = *E;
        double r = 1;
        if (levels > 1) {
            double lv = E->cfg.noise_max * pow(E->cfg.noise / E->cfg.noise_max, (double)i / (levels - 1));
            s = nis_ebm_at_level(E, lv, &view, err, errlen);
            r = lv / E->cfg.noise;
        }
        nis_ula_config u = {.steps = steps * (i + 1) / levels - steps * i / levels, .step_size = h0 * r * r};
        if (temperature != 1) u.noise = sqrt(2 * u.step_size * temperature); /* T = 1: ULA's own sqrt(2h), same bits */
        nis_mcmc_stats ms = {0};
        if (s == NIS_OK && u.steps > 0) s = nis_ula_run(nis_ebm_target(levels > 1 ? &view : E), &u, rng, x, n, &ms,
                                                        err, errlen);
        evals += ms.grad_evals;
    }
    nis_params_set_requires_grad(E->P, true);
    if (grad_evals) *grad_evals = evals;
    return s;
}

nis_status nis_ebm_reverse_diffusion(const nis_ebm *E, int64_t steps, nis_rng *rng, nis_real *x, int64_t n,
                                     int64_t *grad_evals, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!E || !E->P || !rng || !x || n < 1 || steps < 1 || !nis_ebm_is_conditional(E)) {
        if (err && errlen)
            snprintf(err, errlen, "ebm reverse diffusion: %s",
                     E && !nis_ebm_is_conditional(E) ? "needs a noise-conditional energy (trained with a noise range)"
                                                      : "needs an energy, rng, x, n >= 1 and steps >= 1");
        return NIS_EINVAL;
    }
    const int64_t d = E->target.dim;
    const double top = E->cfg.noise_max, bottom = E->cfg.noise;
    nis_rng_fill_uniform(rng, x, n * d, 0, 1);
    for (int64_t i = 0; i < n * d; i++) x[i] = (nis_real)(x[i] + top * nis_rng_normal(rng));
    int64_t evals = 0;
    nis_status s = NIS_OK;
    nis_params_set_requires_grad(E->P, false);
    for (int64_t i = 0; i < steps && s == NIS_OK; i++) {
        /* level s_i = top (bottom / top)^(i / steps); the step carries it to s_{i+1} */
        double si = top * pow(bottom / top, (double)i / (double)steps);
        double sn = top * pow(bottom / top, (double)(i + 1) / (double)steps), h = si * si - sn * sn;
        nis_ebm view;
        s = nis_ebm_at_level(E, si, &view, err, errlen);
        nis_ula_config u = {.steps = 1, .step_size = h, .noise = sqrt(h)};
        nis_mcmc_stats ms = {0};
        if (s == NIS_OK) s = nis_ula_run(nis_ebm_target(&view), &u, rng, x, n, &ms, err, errlen);
        evals += ms.grad_evals;
    }
    nis_params_set_requires_grad(E->P, true);
    if (grad_evals) *grad_evals = evals;
    return s;
}
