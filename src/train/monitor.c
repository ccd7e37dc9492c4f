/* src/train/monitor.c — the convergence monitor and stopping rule of the sampler trainer: every monitor_every
 * updates, the sampler's outputs g(z) for NIS_MONITOR_N latent draws that are the same at every check (stream
 * NIS_STREAM_MONITOR), in the trainer's coordinates (whitened when preconditioned), from the weights samples come
 * from (the EMA's when on).  Their per-coordinate mean and sd against the last check's give the drift,
 * sqrt(mean_i ((Δmean_i)² + (Δsd_i)²) / sd_i²): how far the sampler moved, in its samples' own sds, with no Monte
 * Carlo noise in it (the draws are fixed).  With stop_drift > 0, two checks in a row below it end training. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

nis_status nis__monitor_check(nis_trainer *tr, double *drift) {
    const int64_t chunk = nis__gen_chunk(&tr->nets.gen), n = chunk < NIS_MONITOR_N ? chunk : NIS_MONITOR_N;
    const int64_t d = tr->t->dim;   /* n: 1024 draws, or one chunk of the image generator (256) */
    *drift = NAN;
    if (!tr->mon_prev && !(tr->mon_prev = nis_calloc((size_t)(2 * d), sizeof *tr->mon_prev))) {
        snprintf(tr->msg, sizeof tr->msg, "convergence monitor: out of memory");
        return NIS_ENOMEM;
    }
    nis_real *x = nis_malloc((size_t)(n * d) * sizeof *x);
    double *ms = nis_calloc((size_t)(2 * d), sizeof *ms);   /* mean (d), then sd (d) */
    if (!x || !ms) {
        nis_free(x), nis_free(ms);
        snprintf(tr->msg, sizeof tr->msg, "convergence monitor: out of memory");
        return NIS_ENOMEM;
    }
    nis_rng g = nis_rng_init((uint64_t)tr->cfg.seed, NIS_STREAM_MONITOR);
    bool swap = tr->ema.shadow != NULL;
    if (swap) nis_ema_swap(&tr->ema, tr->nets.G);
    nis_status st = nis__generate(tr->ctx, &tr->nets.gen, false, tr->sigma, NULL, &g, n, x, tr->msg, sizeof tr->msg);
    if (swap) nis_ema_swap(&tr->ema, tr->nets.G);
    if (st == NIS_OK) {
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < d; i++) ms[i] += (double)x[r * d + i] / (double)n;
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < d; i++) {
                double e = (double)x[r * d + i] - ms[i];
                ms[d + i] += e * e / (double)(n - 1);
            }
        double s = 0;
        for (int64_t i = 0; i < d; i++) {
            ms[d + i] = sqrt(ms[d + i]);
            double dm = ms[i] - tr->mon_prev[i], ds = ms[d + i] - tr->mon_prev[d + i], sd = tr->mon_prev[d + i];
            s += (dm * dm + ds * ds) / (sd > 0 ? sd * sd : 1);
        }
        if (tr->mon_have) *drift = sqrt(s / (double)d);
        for (int64_t i = 0; i < 2 * d; i++) tr->mon_prev[i] = ms[i];
        tr->mon_have = true;
        /* the stopping rule: two checks in a row below stop_drift (a NaN drift, at the first check, counts as above) */
        tr->mon_calm = tr->cfg.stop_drift > 0 && *drift < tr->cfg.stop_drift ? tr->mon_calm + 1 : 0;
        if (tr->mon_calm >= 2) tr->stopped = tr->iter;
    }
    nis_free(x), nis_free(ms);
    return st;
}
