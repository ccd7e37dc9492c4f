/* Pictures: the 2-D targets' view boxes (their plot_box; the default for a target without one), the heat map's colour ends
 * and its NaN, and a density panel of the donut (dark at its centre, bright on its ring). */
#include "check.h"
#include "nis/ops.h"
#include "nis/metrics.h"

#include <string.h>

static nis_tensor *bowl_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    return nis_mul_scalar(c, nis_sum_axis(c, nis_mul(c, x, x), 1, false), -0.5);
}

int main(void) {
    const nis_target *rb = nis_target_2d("rosenbrock"), *donut = nis_target_2d("donut");
    nis_extent e = nis_target_extent(rb);
    CHECK(e.xmin == -2 && e.xmax == 4 && e.ymin == -2 && e.ymax == 10, "rosenbrock: %g %g %g %g", e.xmin, e.xmax,
          e.ymin, e.ymax);
    for (const char *const *n = nis_target_2d_names(); *n; n++) {
        const double *box = nis_target_2d(*n)->plot_box;
        CHECK(box[0] < box[1] && box[2] < box[3], "%s", *n);
    }
    nis_tempered_target tt;   /* a target built on another shows the inner one's view */
    nis_tempered_target_init(&tt, rb, 0.5);
    e = nis_target_extent(&tt.target);
    CHECK(e.xmin == -2 && e.ymax == 10, "tempered rosenbrock: %g %g %g %g", e.xmin, e.xmax, e.ymin, e.ymax);
    nis_target bowl = {.name = "donut", .dim = 2, .log_prob = bowl_lp};   /* a name is not a target */
    e = nis_target_extent(&bowl);
    CHECK(e.xmin == -4 && e.xmax == 4 && e.ymin == -4 && e.ymax == 4, "default: %g %g %g %g", e.xmin, e.xmax,
          e.ymin, e.ymax);

    nis_image img;
    CHECK(nis_image_new(&img, 3, 1) == NIS_OK, "image");
    nis_plot_heatmap(&img, 0, 0, 3, 1, (const double[]){-1, 2, NAN});
    const unsigned char lo[3] = {13, 8, 51}, hi[3] = {252, 232, 36};
    CHECK(!memcmp(img.rgb, lo, 3) && !memcmp(img.rgb + 3, hi, 3) && !memcmp(img.rgb + 6, lo, 3),
          "heat map ends: %d %d %d / %d %d %d / %d %d %d", img.rgb[0], img.rgb[1], img.rgb[2], img.rgb[3],
          img.rgb[4], img.rgb[5], img.rgb[6], img.rgb[7], img.rgb[8]);
    nis_image_free(&img);

    /* the donut's ring has radius 2.6 in a [-3.5, 3.5]^2 view: 64 px, the centre at (32, 32) */
    nis_ctx *ctx = nis_ctx_new(0);
    CHECK(nis_image_new(&img, 64, 64) == NIS_OK, "image");
    CHECK(nis_plot_density(&img, 0, 0, 64, 64, ctx, donut, nis_target_extent(donut)) == NIS_OK, "%s",
          nis_ctx_message(ctx));
    const unsigned char *centre = img.rgb + 3 * (32 * 64 + 32), *ring = img.rgb + 3 * (32 * 64 + 32 + 23);
    CHECK(centre[0] + centre[1] + centre[2] < ring[0] + ring[1] + ring[2], "donut: centre %d %d %d, ring %d %d %d",
          centre[0], centre[1], centre[2], ring[0], ring[1], ring[2]);
    nis_image_free(&img);
    nis_ctx_free(ctx);
    return check_done("test_plot");
}
