/* nis/classifier_train.h — training the FID classifier (nis/fid.h): Adam on softmax cross-entropy with random
 * affine augmentation and a cosine learning rate (src/train/classifier_train.c). */
#ifndef NIS_CLASSIFIER_TRAIN_H
#define NIS_CLASSIFIER_TRAIN_H

#include "nis/fid.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Options of nis_classifier_train. */
typedef struct {
    int epochs;         /* passes over the training set */
    int batch;          /* images per Adam step */
    double lr;          /* Adam's learning rate; cosine-decayed to lr/20 over the run */
    double max_shift;   /* augmentation, a random affine map per image (bilinear, zero fill): shift by a uniform */
    double max_rotate;  /* amount in [-max_shift, max_shift] pixels per axis, rotation by a uniform angle in */
    double max_scale;   /* [-max_rotate, max_rotate] degrees, scaling by a factor in [1 - max_scale, 1 + max_scale];
                           all 0 = no augmentation */
    uint64_t seed;      /* data order and shifts (the initial weights come from nis_classifier_new's rng) */
    FILE *log;          /* one line per epoch (loss, test accuracy, seconds), or NULL */
} nis_classifier_train_opts;

/* Defaults: 15 epochs, batch 64, lr 2e-3, shifts up to 2 pixels, rotations up to 10 degrees, scaling by up to
 * 10%, seed 0, no log. */
nis_classifier_train_opts nis_classifier_train_defaults(void);

/* Train C by Adam on softmax cross-entropy over `train` (shape must match C's configuration, labels <
 * classes).  If test is not NULL its accuracy after the last epoch goes to *test_accuracy (may be NULL).
 * NIS_EINVAL, NIS_ESHAPE, NIS_ENOMEM, NIS_ENUMERIC (loss not finite). */
nis_status nis_classifier_train(nis_classifier *C, const nis_images *train, const nis_images *test,
                                const nis_classifier_train_opts *opts, double *test_accuracy, char *err,
                                size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
