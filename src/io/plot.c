/* src/io/plot.c — RGB canvases, heat maps, scatter points, labels; PNG through stb_image_write.  Pictures of
 * a target's density are drawn with these by src/metrics/plot_2d.c. */
#include "nis/io.h"
#include "nis/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STBIW_MALLOC(sz) nis_malloc(sz)
#define STBIW_REALLOC(p, newsz) nis_realloc(p, newsz)
#define STBIW_FREE(p) nis_free(p)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb/stb_image_write.h>

#include "io_internal.h"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

nis_status nis_image_new(nis_image *img, int w, int h) {
    img->w = w;
    img->h = h;
    img->rgb = nis_malloc((size_t)w * (size_t)h * 3);
    if (!img->rgb) return NIS_ENOMEM;
    memset(img->rgb, 255, (size_t)w * (size_t)h * 3);
    return NIS_OK;
}

void nis_image_free(nis_image *img) {
    nis_free(img->rgb);
    img->rgb = NULL;
}

/* A perceptually ordered map from dark blue (0) through teal to yellow (1), piecewise linear. */
static void colormap(double v, unsigned char out[3]) {
    static const double stops[5][3] = {
        {0.05, 0.03, 0.20}, {0.23, 0.32, 0.55}, {0.13, 0.57, 0.55}, {0.37, 0.79, 0.38}, {0.99, 0.91, 0.14}};
    v = !(v > 0) ? 0 : v > 1 ? 1 : v;   /* NaN as 0 */
    double p = v * 4;
    int i = p >= 4 ? 3 : (int)p;
    double f = p - i;
    for (int c = 0; c < 3; c++) out[c] = (unsigned char)lround(255 * (stops[i][c] * (1 - f) + stops[i + 1][c] * f));
}

void nis_plot_heatmap(nis_image *img, int x0, int y0, int pw, int ph, const double *v) {
    for (int j = 0; j < ph; j++)
        for (int i = 0; i < pw; i++) {
            int px = x0 + i, py = y0 + j;
            if (px < 0 || py < 0 || px >= img->w || py >= img->h) continue;
            colormap(v[(int64_t)j * pw + i], img->rgb + 3 * ((size_t)py * img->w + px));
        }
}

static void blend(nis_image *img, int x, int y, const unsigned char rgb[3], double a) {
    if (x < 0 || y < 0 || x >= img->w || y >= img->h) return;
    unsigned char *p = img->rgb + 3 * ((size_t)y * img->w + x);
    for (int c = 0; c < 3; c++) p[c] = (unsigned char)lround(p[c] * (1 - a) + rgb[c] * a);
}

void nis_plot_points(nis_image *img, int x0, int y0, int pw, int ph, const nis_real *pts, int64_t n,
                     nis_extent e, const unsigned char rgb[3]) {
    /* dot size and opacity shrink as the number of points grows, so dense regions stay readable */
    double a = n > 2000 ? 0.35 : 0.6;
    for (int64_t k = 0; k < n; k++) {
        double fx = (pts[2 * k] - e.xmin) / (e.xmax - e.xmin), fy = (e.ymax - pts[2 * k + 1]) / (e.ymax - e.ymin);
        if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) continue;
        int cx = x0 + (int)(fx * pw), cy = y0 + (int)(fy * ph);
        blend(img, cx, cy, rgb, a);
        blend(img, cx + 1, cy, rgb, a * 0.5);
        blend(img, cx, cy + 1, rgb, a * 0.5);
        blend(img, cx - 1, cy, rgb, a * 0.5);
        blend(img, cx, cy - 1, rgb, a * 0.5);
    }
}

void nis_plot_text(nis_image *img, int x, int y, const char *text, int s, const unsigned char rgb[3]) {
    static float buf[4 * 4 * 1000];   /* stb_easy_font: 4 vertices x (x, y, z, colour) per quad */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", text);
    int quads = stb_easy_font_print(0, 0, tmp, NULL, buf, sizeof buf);
    for (int q = 0; q < quads; q++) {
        const float *v = buf + q * 16;   /* 4 vertices of 4 floats: x, y, z, colour bytes */
        int qx0 = (int)v[0], qy0 = (int)v[1], qx1 = (int)v[8], qy1 = (int)v[9];
        for (int yy = qy0 * s; yy < qy1 * s; yy++)
            for (int xx = qx0 * s; xx < qx1 * s; xx++) blend(img, x + xx, y + yy, rgb, 1.0);
    }
}

typedef struct { unsigned char *p; size_t n, cap; bool oom; } membuf;

static void to_mem(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (m->oom || size <= 0) return;
    if (m->n + (size_t)size > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 65536) + (size_t)size;
        unsigned char *q = nis_realloc(m->p, cap);
        if (!q) {
            m->oom = true;
            return;
        }
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

nis_status nis__write_png(const char *path, int w, int h, int comp, const unsigned char *px, char *err,
                          size_t errlen) {
    membuf m = {0};
    int ok = stbi_write_png_to_func(to_mem, &m, w, h, comp, px, w * comp);
    nis_status st;
    if (!ok || m.oom) {
        snprintf(err, errlen, "%s: cannot encode PNG (out of memory)", path);
        st = NIS_ENOMEM;
    } else {
        st = nis_write_file_atomic(path, m.p, m.n, err, errlen);
    }
    nis_free(m.p);
    return st;
}

nis_status nis_image_write_png(const nis_image *img, const char *path, char *err, size_t errlen) {
    return nis__write_png(path, img->w, img->h, 3, img->rgb, err, errlen);
}
