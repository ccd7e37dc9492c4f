/* src/core/dist.c — the group helpers of nis/dist.h (the sums themselves are the implementation's). */
#include "nis/dist.h"

#include <stdio.h>

void nis_dist_share(int64_t n, int rank, int size, int64_t *a, int64_t *b) {
    if (size < 1) size = 1;
    *a = n * rank / size;
    *b = n * (rank + 1) / size;
}

nis_status nis_dist_check(const nis_dist *d, int64_t n, const char *who, const char *what, char *err, size_t errlen) {
    if (!d) return NIS_OK;
    if (d->size < 1 || d->rank < 0 || d->rank >= d->size || !d->sum_real || !d->sum_double) {
        snprintf(err, errlen, "%s: a group needs 0 <= rank < size and its two sums", who);
        return NIS_EINVAL;
    }
    if (n % d->size) {
        snprintf(err, errlen, "%s: %s does not split evenly over %d ranks", who, what, d->size);
        return NIS_EINVAL;
    }
    return NIS_OK;
}

nis_status nis_dist_mean_real(const nis_dist *d, nis_real *x, int64_t n, char *err, size_t errlen) {
    if (!d || d->size <= 1) return NIS_OK;
    nis_status st = d->sum_real(d, x, n, err, errlen);
    if (st == NIS_OK)
        for (int64_t i = 0; i < n; i++) x[i] /= (nis_real)d->size;
    return st;
}

nis_status nis_dist_mean_double(const nis_dist *d, double *x, int64_t n, char *err, size_t errlen) {
    if (!d || d->size <= 1) return NIS_OK;
    nis_status st = d->sum_double(d, x, n, err, errlen);
    if (st == NIS_OK)
        for (int64_t i = 0; i < n; i++) x[i] /= d->size;
    return st;
}
