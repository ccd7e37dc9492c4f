/* nis/plot.h — RGB canvases written as PNG (stb_image_write): heat maps, points, labels (src/io/plot.c).
 *
 * An nis_image is an RGB canvas; panels are drawn into rectangles of it, so one picture and a grid of
 * pictures are made the same way.  All pixel memory is owned by the image (nis_image_free).  Pictures of
 * samples over a target's density are drawn with these by nis_plot_samples_2d (nis/metrics.h).
 */
#ifndef NIS_PLOT_H
#define NIS_PLOT_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int w, h;
    unsigned char *rgb;   /* w * h * 3 bytes, row-major from the top-left */
} nis_image;

/* The region of the plane a panel shows. */
typedef struct { double xmin, xmax, ymin, ymax; } nis_extent;

/* A w x h canvas filled with white; NIS_ENOMEM if it cannot be allocated. */
nis_status nis_image_new(nis_image *img, int w, int h);
void nis_image_free(nis_image *img);
/* Values v (ph x pw, row-major from the top row; read, not kept) as a heat map in the panel at (x0, y0) of
 * size (pw, ph): dark blue at 0 through teal to yellow at 1 (clamped to [0, 1], NaN as 0; clipped). */
void nis_plot_heatmap(nis_image *img, int x0, int y0, int pw, int ph, const double *v);
/* n points (n x 2 values) as small dots of colour rgb into the panel (alpha-blended, clipped). */
void nis_plot_points(nis_image *img, int x0, int y0, int pw, int ph, const nis_real *pts, int64_t n,
                     nis_extent e, const unsigned char rgb[3]);
/* A short label (ASCII) at (x, y) in colour rgb, drawn with stb_easy_font at scale s (1 = 6 px tall). */
void nis_plot_text(nis_image *img, int x, int y, const char *text, int s, const unsigned char rgb[3]);
/* Write the image as PNG, atomically. */
nis_status nis_image_write_png(const nis_image *img, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
