/* Comparison with a gold standard: standardised mean and sd errors of known size, energy distance near 0 for
 * the same law and clearly positive for a shifted one, and the error cases. */
#include "check.h"
#include "nis/metrics.h"

#include <string.h>

#define NX 20000
#define NG 20000
#define D 3

int main(void) {
    static nis_real x[NX * D], g[NG * D], y[NX * D];
    const double mu[D] = {1, -2, 0}, sd[D] = {0.5, 3, 1};
    test_seed(7);
    for (int64_t i = 0; i < NG; i++)
        for (int k = 0; k < D; k++) g[i * D + k] = (nis_real)(mu[k] + sd[k] * test_normal());
    /* x: coordinate 0 shifted by 0.1 sd, coordinate 1 widened by 20%, coordinate 2 exact */
    for (int64_t i = 0; i < NX; i++) {
        x[i * D + 0] = (nis_real)(mu[0] + 0.1 * sd[0] + sd[0] * test_normal());
        x[i * D + 1] = (nis_real)(mu[1] + 1.2 * sd[1] * test_normal());
        x[i * D + 2] = (nis_real)(mu[2] + sd[2] * test_normal());
        for (int k = 0; k < D; k++) y[i * D + k] = (nis_real)(mu[k] + sd[k] * test_normal());
    }
    nis_posterior_cmp r;
    CHECK(nis_posterior_compare(x, NX, g, NG, D, 2, 1500, &r) == NIS_OK, "compare");
    /* sampling error of a mean in sd units ~ sqrt(1/NX + 1/NG) = 0.01 */
    CHECK(fabs(r.mean_err_max - 0.1) < 0.03 && r.mean_err_argmax == 0, "worst mean error %.4f at %d", r.mean_err_max,
          r.mean_err_argmax);
    CHECK(fabs(r.sd_err_max - 0.2) < 0.03 && r.sd_err_argmax == 1, "worst sd error %.4f at %d", r.sd_err_max,
          r.sd_err_argmax);
    CHECK(fabs(r.mean_err_avg - 0.1 / 3) < 0.03, "mean of mean errors %.4f", r.mean_err_avg);
    CHECK(fabs(r.sd_err_avg - 0.2 / 3) < 0.03, "mean of sd errors %.4f", r.sd_err_avg);
    CHECK(r.ed_dims == 2 && r.ed > 0.02, "energy distance of a shifted/widened law %.4f", r.ed);
    nis_posterior_cmp s;
    CHECK(nis_posterior_compare(y, NX, g, NG, D, 3, 1500, &s) == NIS_OK, "same law");
    CHECK(s.mean_err_max < 0.04 && s.sd_err_max < 0.04, "same law: errors %.4f %.4f", s.mean_err_max, s.sd_err_max);
    CHECK(fabs(s.ed) < 0.01 && s.ed < r.ed / 3, "same law: energy distance %.4f (shifted %.4f)", s.ed, r.ed);
    CHECK(nis_posterior_compare(y, NX, g, NG, D, 0, 0, &s) == NIS_OK && isnan(s.ed) && s.ed_dims == 0, "no ED");
    /* errors */
    CHECK(nis_posterior_compare(x, NX, g, NG, D, 4, 0, &s) == NIS_EINVAL, "ed_dims > D");
    CHECK(nis_posterior_compare(x, 1, g, NG, D, 1, 0, &s) == NIS_EINVAL, "n < 2");
    CHECK(nis_posterior_compare(NULL, NX, g, NG, D, 1, 0, &s) == NIS_EINVAL, "NULL x");
    x[5] = NAN;
    CHECK(nis_posterior_compare(x, NX, g, NG, D, 1, 0, &s) == NIS_ENUMERIC, "NaN in x");
    for (int64_t i = 0; i < NG; i++) g[i * D + 2] = 4;
    CHECK(nis_posterior_compare(y, NX, g, NG, D, 1, 0, &s) == NIS_ENUMERIC, "gold sd 0");
    return check_done("test_posterior");
}
