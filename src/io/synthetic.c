/* src/io/synthetic.c — seeded synthetic logistic-regression data (e.g. of Covertype's shape, 581,012 x 54). */
#include "nis/data.h"
#include "nis/rng.h"
#include "data_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nis_status nis_dataset_synthetic_logistic(int64_t n, int64_t d, double scale, uint64_t seed, nis_dataset *out,
                                          double *w_true) {
    if (!out) return NIS_EINVAL;
    memset(out, 0, sizeof *out);
    if (n < 1 || d < 1 || !(scale >= 0) || !isfinite(scale)) return NIS_EINVAL;
    double *w = nis_malloc((size_t)(d + 1) * sizeof *w);
    if (!w) return NIS_ENOMEM;
    nis_dataset ds;
    nis_status st = nis_dataset_alloc(&ds, n, d);
    if (st != NIS_OK) {
        nis_free(w);
        return st;
    }
    for (int64_t j = 0; j < d && st == NIS_OK; j++) {
        char name[32];
        snprintf(name, sizeof name, "x%lld", (long long)(j + 1));
        if (!(ds.names[j] = nis__strndup(name, strlen(name)))) st = NIS_ENOMEM;
    }
    if (st != NIS_OK) {
        nis_free(w);
        nis_dataset_free(&ds);
        return st;
    }
    nis_rng wr = nis_rng_init(seed, NIS_STREAM_DATA_WEIGHTS);
    for (int64_t j = 0; j <= d; j++) w[j] = scale * nis_rng_normal(&wr) / sqrt((double)d);   /* w[d]: bias */
    /* row i uses its own stream, so the data do not depend on how rows are generated */
    nis_rng base = nis_rng_init(seed, NIS_STREAM_DATA_ROWS);
    for (int64_t i = 0; i < n; i++) {
        nis_rng r = nis_rng_split(&base, (uint64_t)i);
        double z = w[d];
        for (int64_t j = 0; j < d; j++) {
            double x = nis_rng_normal(&r);
            ds.X[i * d + j] = (float)x;
            z += w[j] * (double)(float)x;
        }
        double p = 1 / (1 + exp(-z));
        ds.y[i] = nis_rng_uniform(&r) < p ? 1.0f : 0.0f;
    }
    if (w_true) memcpy(w_true, w, (size_t)(d + 1) * sizeof *w);
    nis_free(w);
    *out = ds;
    return NIS_OK;
}
