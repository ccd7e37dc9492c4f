/* src/metrics/fid.c — mean and covariance, PSD matrix square roots through LAPACK's dsyevd, the Fréchet
 * distance between two Gaussians, and FID of two image sets under a classifier's features. */
#include "nis/fid.h"
#include "core/linalg.h"
#include "core/err.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

nis_status nis_mean_cov(const double *x, int64_t n, int64_t d, double *mu, double *cov, char *err,
                        size_t errlen) {
    if (n < 2 || d < 1 || d > INT_MAX || n > INT_MAX) {
        nis__set_err(err, errlen, "mean/covariance: need at least 2 rows of at least 1 value (got %lld x %lld)",
                (long long)n, (long long)d);
        return NIS_EINVAL;
    }
    double *xc = nis_malloc((size_t)(n * d) * sizeof *xc);
    if (!xc) {
        nis__set_err(err, errlen, "mean/covariance: out of memory for %lld x %lld values", (long long)n, (long long)d);
        return NIS_ENOMEM;
    }
    for (int64_t j = 0; j < d; j++) mu[j] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) mu[j] += x[i * d + j];
    for (int64_t j = 0; j < d; j++) mu[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) xc[i * d + j] = x[i * d + j] - mu[j];
    /* cov = xc^T xc / (n - 1), exactly symmetric */
    nis__dsyrk_tn(d, n, 1.0 / (double)(n - 1), xc, cov);
    nis_free(xc);
    return NIS_OK;
}

nis_status nis_sqrtm_psd(const double *A, int64_t d, double *out, char *err, size_t errlen) {
    if (d < 1) {
        nis__set_err(err, errlen, "sqrtm: matrix size %lld", (long long)d);
        return NIS_EINVAL;
    }
    double *v = nis_malloc((size_t)(d * d) * sizeof *v), *w = nis_malloc((size_t)d * sizeof *w);
    if (!v || !w) {
        nis_free(v);
        nis_free(w);
        nis__set_err(err, errlen, "sqrtm: out of memory for a %lld x %lld matrix", (long long)d, (long long)d);
        return NIS_ENOMEM;
    }
    memcpy(v, A, (size_t)(d * d) * sizeof *v);   /* symmetric: row-major = column-major */
    nis_status st = nis__sym_eig(v, d, w, true, "sqrtm", err, errlen);
    if (st == NIS_OK) {
        /* out = V diag(sqrt(max(w, 0))) V^T, V[i][j] = v[i + j d] */
        for (int64_t j = 0; j < d; j++) {
            double s = sqrt(sqrt(w[j] > 0 ? w[j] : 0));   /* scale each eigenvector by w^(1/4) ... */
            for (int64_t i = 0; i < d; i++) v[i + j * d] *= s;
        }
        /* ... so out = (V W^1/4)(V W^1/4)^T = V' V'^T.  Read row-major, v is V'^T: out = v^T v. */
        nis__dgemm(true, false, d, d, d, 1.0, v, d, v, d, 0.0, out, d);
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < i; j++) out[i * d + j] = out[j * d + i] = 0.5 * (out[i * d + j] + out[j * d + i]);
    }
    nis_free(v);
    nis_free(w);
    return st;
}

nis_status nis_frechet_distance(const double *mu1, const double *C1, const double *mu2, const double *C2,
                                int64_t d, double *out, char *err, size_t errlen) {
    *out = NAN;
    if (d < 1) {
        nis__set_err(err, errlen, "Fréchet distance: dimension %lld", (long long)d);
        return NIS_EINVAL;
    }
    size_t dd = (size_t)(d * d);
    double *s = nis_malloc(dd * sizeof *s), *t = nis_malloc(dd * sizeof *t), *m = nis_malloc(dd * sizeof *m);
    double *w = nis_malloc((size_t)d * sizeof *w);
    nis_status st = NIS_OK;
    if (!s || !t || !m || !w) {
        nis__set_err(err, errlen, "Fréchet distance: out of memory (dimension %lld)", (long long)d);
        st = NIS_ENOMEM;
    }
    if (st == NIS_OK) st = nis_sqrtm_psd(C1, d, s, err, errlen);
    if (st == NIS_OK) {
        /* m = S C2 S, symmetrised; tr sqrt(m) = sum of sqrt of its eigenvalues */
        nis__dgemm(false, false, d, d, d, 1.0, s, d, C2, d, 0.0, t, d);
        nis__dgemm(false, false, d, d, d, 1.0, t, d, s, d, 0.0, m, d);
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < i; j++) m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
        st = nis__sym_eig(m, d, w, false, "Fréchet distance", err, errlen);
    }
    if (st == NIS_OK) {
        double dm = 0, tr = 0, trs = 0;
        for (int64_t i = 0; i < d; i++) {
            dm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
            tr += C1[i * d + i] + C2[i * d + i];
            trs += w[i] > 0 ? sqrt(w[i]) : 0;
        }
        *out = dm + tr - 2 * trs;
        if (!isfinite(*out)) {
            nis__set_err(err, errlen, "Fréchet distance: not finite (non-finite means or covariances?)");
            st = NIS_ENUMERIC;
        }
    }
    nis_free(s);
    nis_free(t);
    nis_free(m);
    nis_free(w);
    return st;
}

nis_status nis_fid(const nis_classifier *C, const float *a, int64_t na, const float *b, int64_t nb, double *fid,
                   char *err, size_t errlen) {
    *fid = NAN;
    if (na < 2 || nb < 2) {
        nis__set_err(err, errlen, "FID: need at least 2 images in each set (got %lld and %lld)", (long long)na,
                (long long)nb);
        return NIS_EINVAL;
    }
    int64_t d = C->cfg.features;
    double *fa = nis_malloc((size_t)(na * d) * sizeof *fa), *fb = nis_malloc((size_t)(nb * d) * sizeof *fb);
    double *mu = nis_malloc((size_t)(2 * d) * sizeof *mu), *cov = nis_malloc((size_t)(2 * d * d) * sizeof *cov);
    nis_status st = NIS_OK;
    if (!fa || !fb || !mu || !cov) {
        nis__set_err(err, errlen, "FID: out of memory for %lld + %lld feature rows", (long long)na, (long long)nb);
        st = NIS_ENOMEM;
    }
    if (st == NIS_OK) st = nis_classifier_features(C, a, na, 0, fa, err, errlen);
    if (st == NIS_OK) st = nis_classifier_features(C, b, nb, 0, fb, err, errlen);
    if (st == NIS_OK) st = nis_mean_cov(fa, na, d, mu, cov, err, errlen);
    if (st == NIS_OK) st = nis_mean_cov(fb, nb, d, mu + d, cov + d * d, err, errlen);
    if (st == NIS_OK) st = nis_frechet_distance(mu, cov, mu + d, cov + d * d, d, fid, err, errlen);
    nis_free(fa);
    nis_free(fb);
    nis_free(mu);
    nis_free(cov);
    return st;
}
