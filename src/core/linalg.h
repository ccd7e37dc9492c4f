/* src/core/linalg.h — dense symmetric eigendecomposition (LAPACK's dsyevd, exported by OpenBLAS), for the
 * library's own use (FID's matrix square roots, the Laplace proposal of the smoothed-target score). */
#ifndef NIS_CORE_LINALG_H
#define NIS_CORE_LINALG_H

#include "nis/core.h"

/* Eigenvalues of the symmetric d x d matrix a (row-major or column-major: the upper triangle in column-major
 * order is read, i.e. the lower triangle of a row-major matrix) into w (d, ascending).  With vectors, a is
 * overwritten by the eigenvectors in column-major order (eigenvector j is a[i + j d], i = 0..d-1); otherwise
 * a is destroyed.  `what` names the caller in the message.  NIS_EINVAL (d too large), NIS_ENUMERIC
 * (non-finite entry, LAPACK failure), NIS_ENOMEM. */
nis_status nis__sym_eig(double *a, int64_t d, double *w, bool vectors, const char *what, char *err,
                        size_t errlen);

#endif
