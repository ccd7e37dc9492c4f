/* src/metrics/plot_2d.c — pictures of 2-D samples against a target: the target's view box, its density as a
 * heat map, and samples over it (drawn with the canvas primitives of src/io/plot.c). */
#include "nis/ops.h"
#include "nis/metrics.h"

#include <math.h>
#include <stdio.h>

nis_extent nis_target_extent(const nis_target *t) {
    const double *b = t->plot_box;
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) return (nis_extent){-4, 4, -4, 4};
    return (nis_extent){b[0], b[1], b[2], b[3]};
}

nis_status nis_plot_density(nis_image *img, int x0, int y0, int pw, int ph, nis_ctx *ctx, const nis_target *t,
                            nis_extent e) {
    nis_ctx_reset(ctx);
    bool saved = nis_ctx_set_grad(ctx, false);
    nis_tensor *grid = nis_new2(ctx, (int64_t)pw * ph, 2);
    if (grid)
        for (int j = 0; j < ph; j++)
            for (int i = 0; i < pw; i++) {
                nis_real *p = grid->data + 2 * ((int64_t)j * pw + i);
                p[0] = (nis_real)(e.xmin + (i + 0.5) * (e.xmax - e.xmin) / pw);
                p[1] = (nis_real)(e.ymax - (j + 0.5) * (e.ymax - e.ymin) / ph);
            }
    nis_tensor *lp = grid ? t->log_prob(ctx, t, grid) : NULL;
    nis_ctx_set_grad(ctx, saved);
    double *d = lp ? nis_ctx_alloc(ctx, (size_t)lp->n * sizeof *d) : NULL;
    if (!d) return nis_ctx_status(ctx);
    double mx = -INFINITY;
    for (int64_t k = 0; k < lp->n; k++)
        if (isfinite(lp->data[k]) && lp->data[k] > mx) mx = lp->data[k];
    for (int64_t k = 0; k < lp->n; k++) {
        double v = lp->data[k];
        d[k] = isfinite(v) ? sqrt(exp(v - mx)) : 0;
    }
    nis_plot_heatmap(img, x0, y0, pw, ph, d);
    return NIS_OK;
}

nis_status nis_plot_samples_2d(const char *path, nis_ctx *ctx, const nis_target *t, const nis_real *samples,
                               int64_t n, int size, char *err, size_t errlen) {
    nis_image img;
    if (nis_image_new(&img, size, size) != NIS_OK) {
        snprintf(err, errlen, "%s: out of memory for a %dx%d image", path, size, size);
        return NIS_ENOMEM;
    }
    nis_extent e = nis_target_extent(t);
    nis_status st = nis_plot_density(&img, 0, 0, size, size, ctx, t, e);
    if (st != NIS_OK) {
        snprintf(err, errlen, "%s: cannot evaluate target %s: %s", path, t->name, nis_ctx_message(ctx));
    } else {
        static const unsigned char red[3] = {230, 40, 40}, white[3] = {255, 255, 255};
        nis_plot_points(&img, 0, 0, size, size, samples, n, e, red);
        nis_plot_text(&img, 6, 6, t->name, 2, white);
        st = nis_image_write_png(&img, path, err, errlen);
    }
    nis_image_free(&img);
    return st;
}
