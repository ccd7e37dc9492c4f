/* src/core/linalg.h — dense double-precision linear algebra for the library's own use (FID's covariances and
 * matrix square roots, the affine fit, the Laplace proposal of the smoothed-target score): the symmetric
 * eigendecomposition (LAPACK's dsyevd, exported by OpenBLAS; linalg.c) and two BLAS products (blas.c, the one
 * place that calls BLAS). */
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

/* c = alpha a^T a for the row-major k x n matrix a (leading dimension n); c is n x n, row-major.  BLAS's
 * dsyrk computes the upper triangle, which is then mirrored into the lower one, so c is exactly symmetric. */
void nis__dsyrk_tn(int64_t n, int64_t k, double alpha, const double *a, double *c);

/* C = alpha op(A) op(B) + beta C in double precision, row-major (dgemm), op(A) M x K, op(B) K x N, C M x N;
 * ta / tb transpose A / B.  The double-precision twin of nis__gemm (op.h), whatever nis_real is. */
void nis__dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t lda,
                const double *B, int64_t ldb, double beta, double *C, int64_t ldc);

#endif
