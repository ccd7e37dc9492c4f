/* src/metrics/classifier_internal.h — what the FID classifier (classifier.c) shares with its trainer
 * (src/train/classifier_train.c); private to the library. */
#ifndef NIS_SRC_METRICS_CLASSIFIER_INTERNAL_H
#define NIS_SRC_METRICS_CLASSIFIER_INTERNAL_H

#include "nis/fid.h"

/* Values per image of C's input: c * h * w. */
static inline int64_t nis__classifier_image_size(const nis_classifier_config *c) {
    return (int64_t)c->in_c * c->in_h * c->in_w;
}

/* NIS_OK if im is a non-empty labelled image set of C's input shape with labels < C's classes; else NIS_EINVAL
 * (empty, a bad label) or NIS_ESHAPE, the message in err naming the set as `what` ("training", "test", ...). */
nis_status nis__classifier_check_images(const nis_classifier *C, const nis_images *im, const char *what,
                                        char *err, size_t errlen);

#endif
