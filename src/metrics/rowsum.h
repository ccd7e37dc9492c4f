/* src/metrics/rowsum.h — deterministic parallel sums: each row's partial sum goes into its own slot, then
 * the slots are added in index order, so the result does not depend on the thread count. */
#ifndef NIS_SRC_METRICS_ROWSUM_H
#define NIS_SRC_METRICS_ROWSUM_H

#include "nis/core.h"

/* n zeroed slots (NULL if out of memory). */
static inline double *nis_rowsum_begin(int64_t n) { return nis_calloc((size_t)(n > 0 ? n : 1), sizeof(double)); }
/* Sum of the slots in order; frees them. */
static inline double nis_rowsum_end(double *rows, int64_t n) {
    double t = 0;
    for (int64_t i = 0; i < n; i++) t += rows[i];
    nis_free(rows);
    return t;
}

#endif
