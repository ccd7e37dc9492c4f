/* Metrics: analytic cases and sanity — KSD small on exact samples and large on shifted ones, energy
 * distance of two exact sets at its floor, MMD, moment errors, thread-count independence. */
#include "check.h"
#include "nis/core.h"
#include "nis/metrics.h"

#include <string.h>

#define N 1000
#define D 2

static nis_real x[N * D], y[N * D], s[N * D];

int main(void) {
    test_seed(3);
    for (int i = 0; i < N * D; i++) x[i] = (nis_real)test_normal(), y[i] = (nis_real)test_normal();

    /* KSD on N(0, I): score -x.  Exact samples: O(n^-1/2); shifted by 1: about the shift's size */
    for (int i = 0; i < N * D; i++) s[i] = -x[i];
    double ksd0 = nis_ksd_imq(x, s, N, D);
    nis_real xs[N * D], ss[N * D];
    for (int i = 0; i < N * D; i++) xs[i] = x[i] + 1, ss[i] = -xs[i];
    double ksd1 = nis_ksd_imq(xs, ss, N, D);
    CHECK(ksd0 < 0.08, "KSD of exact samples %.4f", ksd0);
    CHECK(ksd1 > 0.3, "KSD of shifted samples %.4f", ksd1);

    /* KSD of a single point at the mode of a 1-D N(0,1): u(0,0) = 0*0*1 + 0 + 0 + 1 = 1 -> KSD 1 */
    nis_real z0[1] = {0}, sz0[1] = {0};
    CHECK_CLOSE(nis_ksd_imq(z0, sz0, 1, 1), 1.0, 1e-12, 0);

    /* energy distance: two exact sets are near 0 (floor); shifted by 1 much larger.
     * For 1-D points {0} vs {1} with n = m = 2 copies: 2*1 - 0 - 0 = 2. */
    double ed0 = nis_energy_distance(x, N, y, N, D);
    double ed1 = nis_energy_distance(x, N, xs, N, D);
    CHECK(fabs(ed0) < 0.01, "ED floor %.5f", ed0);
    CHECK(ed1 > 0.3, "ED shifted %.5f", ed1);
    nis_real a2[2] = {0, 0}, b2[2] = {1, 1};
    CHECK_CLOSE(nis_energy_distance(a2, 2, b2, 2, 1), 2.0, 1e-12, 0);

    /* MMD */
    double h;
    double mmd0 = nis_mmd_rbf(x, N, y, N, D, 0, &h), mmd1 = nis_mmd_rbf(x, N, xs, N, D, 0, NULL);
    CHECK(h > 1 && h < 3, "median bandwidth %.3f for 2-D standard normals (expect about 1.8)", h);
    CHECK(mmd0 < 0.1 && mmd1 > 0.2, "MMD exact %.4f shifted %.4f", mmd0, mmd1);

    /* moments */
    CHECK(nis_mean_error(x, N, y, N, D) < 0.15, "mean error");
    CHECK_CLOSE(nis_mean_error(x, N, xs, N, D), sqrt(2.0), 1e-5, 0);
    CHECK(nis_cov_error(x, N, xs, N, D) < 1e-5, "shift leaves covariance unchanged");
    CHECK(fabs(nis_fraction_positive(x, N, D, 0) - 0.5) < 0.05, "balance");

    /* same answer with 1 and 2 threads, to the bit */
    nis_set_threads(1);
    double k1 = nis_ksd_imq(x, s, N, D), e1 = nis_energy_distance(x, N, y, N, D);
    nis_set_threads(2);
    double k2 = nis_ksd_imq(x, s, N, D), e2 = nis_energy_distance(x, N, y, N, D);
    CHECK(memcmp(&k1, &k2, sizeof k1) == 0 && memcmp(&e1, &e2, sizeof e1) == 0, "thread-count dependence");
    return check_done("test_metrics");
}
