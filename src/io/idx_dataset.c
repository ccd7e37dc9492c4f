/* src/io/idx_dataset.c — two classes of an IDX image set (MNIST / Fashion-MNIST) as a binary dataset. */
#include "nis/data.h"
#include "nis/idx.h"
#include "data_internal.h"
#include "io_internal.h"

#include <stdio.h>
#include <string.h>

nis_status nis_idx_dataset_load(const char *images, const char *labels, int class0, int class1, nis_dataset *out,
                                char *err, size_t errlen) {
    if (out) memset(out, 0, sizeof *out);
    if (!images || !labels || !out || class0 < 0 || class0 > 255 || class1 < 0 || class1 > 255 || class0 == class1) {
        nis__set_err(err, errlen, "idx dataset: needs two image/label paths and two different classes in 0..255");
        return NIS_EINVAL;
    }
    nis_idx im = {0}, lb = {0};
    nis_status st = nis_idx_read(images, &im, err, errlen);
    if (st == NIS_OK) st = nis_idx_read(labels, &lb, err, errlen);
    if (st != NIS_OK) goto done;
    if (im.ndim < 2) {
        st = nis__bad_format(err, errlen, "%s: %d dimension(s): an image file has (items, rows[, cols])", images,
                             im.ndim);
        goto done;
    }
    if (lb.ndim != 1 || lb.shape[0] != im.shape[0]) {
        st = nis__bad_format(err, errlen, "%s: %lld labels of shape rank %d for the %lld images of %s", labels,
                             (long long)lb.n, lb.ndim, (long long)im.shape[0], images);
        goto done;
    }
    int64_t items = im.shape[0], d = im.n / items, n = 0;
    for (int64_t i = 0; i < items; i++) n += lb.data[i] == class0 || lb.data[i] == class1;
    if (n == 0) {
        nis__set_err(err, errlen, "%s: neither class %d nor class %d occurs", labels, class0, class1);
        st = NIS_EINVAL;
        goto done;
    }
    nis_dataset ds;
    if ((st = nis_dataset_alloc(&ds, n, d)) != NIS_OK) {
        nis__set_err(err, errlen, "%s: out of memory for %lld x %lld values", images, (long long)n, (long long)d);
        goto done;
    }
    int64_t cols = im.ndim >= 3 ? im.shape[2] : 1;
    for (int64_t j = 0; j < d && st == NIS_OK; j++) {
        char name[48];
        snprintf(name, sizeof name, "px_%lld_%lld", (long long)(j / cols), (long long)(j % cols));
        if (!(ds.names[j] = nis__strndup(name, strlen(name)))) st = NIS_ENOMEM;
    }
    if (st != NIS_OK) {
        nis_dataset_free(&ds);
        nis__set_err(err, errlen, "%s: out of memory", images);
        goto done;
    }
    int64_t r = 0;
    for (int64_t i = 0; i < items; i++) {
        if (lb.data[i] != class0 && lb.data[i] != class1) continue;
        const uint8_t *px = im.data + i * d;
        for (int64_t j = 0; j < d; j++) ds.X[r * d + j] = (float)px[j] / 255.0f;
        ds.y[r++] = lb.data[i] == class1 ? 1.0f : 0.0f;
    }
    *out = ds;
    if (err && errlen) err[0] = 0;
done:
    nis_idx_free(&im);
    nis_idx_free(&lb);
    return st;
}
