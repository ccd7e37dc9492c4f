/* src/core/linalg.c — symmetric eigendecomposition through LAPACK's dsyevd (see linalg.h). */
#include "core/linalg.h"
#include "core/err.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

/* LAPACK (OpenBLAS exports it): eigenvalues (ascending) and, with jobz 'V', eigenvectors of a symmetric
 * matrix, by divide and conquer.  Fortran calling convention; the trailing arguments are the hidden lengths
 * of the two character arguments. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                    double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
                    size_t uplo_len);

nis_status nis__sym_eig(double *a, int64_t d, double *w, bool vectors, const char *what, char *err,
                        size_t errlen) {
    if (d > INT_MAX / 4) {
        nis__set_err(err, errlen, "%s: matrix of size %lld is too large", what, (long long)d);
        return NIS_EINVAL;
    }
    for (int64_t i = 0; i < d * d; i++)
        if (!isfinite(a[i])) {
            nis__set_err(err, errlen, "%s: the matrix has a non-finite entry", what);
            return NIS_ENUMERIC;
        }
    int n = (int)d, info = 0, lwork = -1, liwork = -1, iwq = 0;
    double wq = 0;
    const char jobz = vectors ? 'V' : 'N', uplo = 'U';
    dsyevd_(&jobz, &uplo, &n, a, &n, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
    if (info != 0) {
        nis__set_err(err, errlen, "%s: dsyevd workspace query failed (info %d)", what, info);
        return NIS_ENUMERIC;
    }
    lwork = (int)wq;
    liwork = iwq > 1 ? iwq : 1;
    double *work = nis_malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    int *iwork = nis_malloc((size_t)liwork * sizeof *iwork);
    nis_status st = NIS_OK;
    if (!work || !iwork) {
        nis__set_err(err, errlen, "%s: out of memory for the eigendecomposition", what);
        st = NIS_ENOMEM;
    } else {
        dsyevd_(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
        if (info != 0) {
            nis__set_err(err, errlen, "%s: dsyevd failed (info %d)", what, info);
            st = NIS_ENUMERIC;
        }
    }
    nis_free(work);
    nis_free(iwork);
    return st;
}
