/* bench/plot_grid.c — a picture grid of 2-D sample sets over their targets' densities.
 *
 * usage: plot_grid OUT.png COLS PANEL_PX  TARGET LABEL FILE.npy  [TARGET LABEL FILE.npy ...]
 * Panels fill rows of COLS from the left; FILE "-" draws the target's exact samples (2000 points); a
 * missing file leaves the panel with its label and the word "missing". */
#include "nis/nis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 7 || (argc - 4) % 3) {
        fprintf(stderr, "usage: %s OUT.png COLS PANEL_PX TARGET LABEL FILE.npy ...\n", argv[0]);
        return 2;
    }
    int cols = atoi(argv[2]), px = atoi(argv[3]), n = (argc - 4) / 3, rows = (n + cols - 1) / cols;
    if (cols < 1 || px < 32) {
        fprintf(stderr, "plot_grid: bad COLS or PANEL_PX\n");
        return 2;
    }
    nis_image img;
    if (nis_image_new(&img, cols * px, rows * px) != NIS_OK) return 1;
    nis_ctx *ctx = nis_ctx_new(0);
    static const unsigned char red[3] = {230, 40, 40}, white[3] = {255, 255, 255};
    char err[512];
    for (int k = 0; k < n; k++) {
        const char *tn = argv[4 + 3 * k], *label = argv[5 + 3 * k], *file = argv[6 + 3 * k];
        const nis_target *t = nis_target_2d(tn);
        if (!t) {
            fprintf(stderr, "plot_grid: unknown target %s\n", tn);
            return 2;
        }
        int x0 = (k % cols) * px, y0 = (k / cols) * px;
        nis_extent e = nis_target_extent(t);
        nis_plot_density(&img, x0 + 1, y0 + 1, px - 2, px - 2, ctx, t, e);
        if (!strcmp(file, "-")) {
            nis_real *x = malloc(2000 * 2 * sizeof *x);
            nis_rng r = nis_rng_init(0, 99);
            t->sample(t, &r, x, 2000);
            nis_plot_points(&img, x0 + 1, y0 + 1, px - 2, px - 2, x, 2000, e, red);
            free(x);
        } else {
            nis_npy_array a;
            if (nis_npy_read_as(file, NIS_DT_REAL, &a, err, sizeof err) == NIS_OK && a.ndim == 2 && a.shape[1] == 2) {
                int64_t m = a.shape[0] < 2000 ? a.shape[0] : 2000;
                nis_plot_points(&img, x0 + 1, y0 + 1, px - 2, px - 2, a.data, m, e, red);
                nis_npy_free(&a);
            } else {
                nis_plot_text(&img, x0 + 6, y0 + px / 2, "missing", 2, white);
            }
        }
        nis_plot_text(&img, x0 + 5, y0 + 5, label, 2, white);
    }
    nis_status st = nis_image_write_png(&img, argv[1], err, sizeof err);
    if (st != NIS_OK) fprintf(stderr, "plot_grid: %s\n", err);
    nis_image_free(&img);
    nis_ctx_free(ctx);
    return st == NIS_OK ? 0 : 1;
}
