/* nis/fid.h — a small image classifier trained in C, and the Fréchet distance of its features (FID).
 *
 * The classifier is a conv net (nis_convnet: conv, act, ..., flatten, Linear to `features`), an activation,
 * and a Linear layer to `classes` logits.  Its penultimate layer (the `features` activations after the
 * activation) is the FID feature.  FID between two image sets is the Fréchet distance between Gaussians with
 * the feature means and covariances of the two sets:
 *     ||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2}),
 * computed in double precision with the matrix square roots from LAPACK's symmetric eigendecomposition
 * (dsyevd, from OpenBLAS).
 */
#ifndef NIS_FID_H
#define NIS_FID_H

#include "nis/core.h"
#include "nis/images.h"
#include "nis/nn.h"


#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------
 * The classifier.
 */
#define NIS_CLASSIFIER_MAX_CONV 4

typedef struct {
    int in_c, in_h, in_w;                       /* image shape (1, 28, 28 for MNIST) */
    int n_conv;                                 /* 1..NIS_CLASSIFIER_MAX_CONV */
    int channels[NIS_CLASSIFIER_MAX_CONV];      /* 3x3 convs, padding 1; stride[i] 1 or 2 */
    int stride[NIS_CLASSIFIER_MAX_CONV];
    int features;                               /* width of the feature (penultimate) layer */
    int classes;                                /* number of logits */
} nis_classifier_config;

/* The MNIST classifier: 1x28x28 -> conv 32 s1 -> conv 64 s2 (14x14) -> conv 64 s2 (7x7) -> conv 64 s2 (4x4)
 * -> Linear 128 -> relu (the features) -> Linear 10. */
nis_classifier_config nis_classifier_default(void);

typedef struct {
    nis_classifier_config cfg;
    nis_params *P;          /* owned */
    nis_convnet body;       /* image -> features (before the activation) */
    nis_linear_layer out;   /* features -> logits */
} nis_classifier;

/* Declare and finalize the parameters of a classifier with configuration cfg and draw them from rng
 * (PyTorch's default initialisers).  On failure *C is zeroed.  NIS_EINVAL (bad configuration), NIS_ENOMEM. */
nis_status nis_classifier_new(nis_classifier *C, const nis_classifier_config *cfg, const nis_rng *rng,
                              char *err, size_t errlen);
/* Free C->P and zero *C.  NULL ok. */
void nis_classifier_free(nis_classifier *C);

/* x: (B, c, h, w) or (B, c*h*w) -> logits (B, classes); if features is not NULL it receives the (B, features)
 * feature tensor.  In ctx's arena; NULL with ctx's error set on a shape mismatch. */
nis_tensor *nis_classifier_forward(nis_ctx *ctx, const nis_classifier *C, nis_tensor *x, nis_tensor **features);

/* Features of n images x (n * c*h*w floats) into feat (n * features doubles, caller-owned), `batch` images at
 * a time (<= 0 picks 256), without gradients.  Uses its own context.  NIS_ENOMEM, NIS_EINVAL, NIS_ENUMERIC
 * (a non-finite feature). */
nis_status nis_classifier_features(const nis_classifier *C, const float *x, int64_t n, int64_t batch,
                                   double *feat, char *err, size_t errlen);
/* Class probabilities (softmax of the logits) of n images x into probs (n * classes doubles, caller-owned), `batch`
 * at a time (<= 0: 256).  NIS_ENOMEM, NIS_EINVAL, NIS_ENUMERIC (non-finite logits). */
nis_status nis_classifier_probs(const nis_classifier *C, const float *x, int64_t n, int64_t batch, double *probs,
                                char *err, size_t errlen);
/* NIS_OK if im is a non-empty labelled image set of C's input shape with labels < C's classes; else NIS_EINVAL
 * (empty, a bad label) or NIS_ESHAPE, the message in err naming the set as `what` ("training", "test", ...). */
nis_status nis_classifier_check_images(const nis_classifier *C, const nis_images *im, const char *what, char *err,
                                       size_t errlen);
/* Fraction of images of im whose arg-max logit equals the label, in *accuracy. */
nis_status nis_classifier_accuracy(const nis_classifier *C, const nis_images *im, double *accuracy, char *err,
                                   size_t errlen);

/* Save C (its configuration in the metadata, plus n_meta extra string pairs) as safetensors, atomically. */
nis_status nis_classifier_save(const char *path, const nis_classifier *C, int n_meta, const char *const *meta_kv,
                               char *err, size_t errlen);
/* Load a classifier written by nis_classifier_save into *C (new; free with nis_classifier_free).  On failure
 * *C is zeroed.  NIS_EIO, NIS_EFORMAT (not a classifier file, bad configuration, missing tensors),
 * NIS_ESHAPE, NIS_ENOMEM. */
nis_status nis_classifier_load(const char *path, nis_classifier *C, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * Gaussian statistics and the Fréchet distance (all double precision).
 */

/* Mean mu (d) and covariance cov (d x d, row-major, divided by n - 1 as numpy.cov) of n >= 2 rows x (n x d).
 * mu and cov are caller-owned.  NIS_EINVAL (n < 2, d < 1). */
nis_status nis_mean_cov(const double *x, int64_t n, int64_t d, double *mu, double *cov, char *err,
                        size_t errlen);

/* out = A^{1/2} for a symmetric positive semi-definite A (d x d, row-major; only symmetry is assumed, the
 * eigenvalues below zero, from rounding, are taken as zero).  out may not alias A.  NIS_ENOMEM, NIS_ENUMERIC
 * (non-finite input or the eigendecomposition failed). */
nis_status nis_sqrtm_psd(const double *A, int64_t d, double *out, char *err, size_t errlen);

/* Fréchet distance between N(mu1, C1) and N(mu2, C2) (d-dimensional; C1, C2 symmetric PSD, row-major):
 * ||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr((C1^{1/2} C2 C1^{1/2})^{1/2}), into *out (>= 0 up to rounding).
 * NIS_ENOMEM, NIS_ENUMERIC. */
nis_status nis_frechet_distance(const double *mu1, const double *C1, const double *mu2, const double *C2,
                                int64_t d, double *out, char *err, size_t errlen);

/* FID between image sets a (na images) and b (nb images), each (n, c, h, w) floats as C expects, na, nb >= 2:
 * features by nis_classifier_features, then nis_mean_cov and nis_frechet_distance. */
nis_status nis_fid(const nis_classifier *C, const float *a, int64_t na, const float *b, int64_t nb, double *fid,
                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
