/* Convergence diagnostics: split-R̂ and ESS on AR(1) chains with known ESS (ESS / N = (1 - ρ) / (1 + ρ)),
 * R̂ ≈ 1 for iid chains, R̂ > 1.1 for chains with shifted means or a drift, classic and rank-normalised. */
#include "check.h"
#include "nis/metrics.h"

#include <string.h>

#define C 4
#define N 4000

/* x (C, N, D): coordinate k of chain c is an AR(1) series with coefficient rho[k] and unit stationary variance,
 * started from its stationary law, plus shift[k] * c. */
static void ar1(nis_real *x, int D, const double *rho, const double *shift, uint64_t seed) {
    test_seed(seed);
    for (int c = 0; c < C; c++)
        for (int k = 0; k < D; k++) {
            double v = test_normal(), a = sqrt(1 - rho[k] * rho[k]);
            for (int64_t i = 0; i < N; i++) {
                if (i > 0) v = rho[k] * v + a * test_normal();
                x[((int64_t)c * N + i) * D + k] = (nis_real)(v + shift[k] * c);
            }
        }
}

int main(void) {
    static nis_real x[C * N * 4];
    const double rho[4] = {0.0, 0.5, 0.9, -0.3}, none[4] = {0, 0, 0, 0};
    const double tol[4] = {0.15, 0.15, 0.25, 0.25};   /* relative tolerance on the ESS */
    ar1(x, 4, rho, none, 1);
    for (int rank = 0; rank < 2; rank++) {
        double rh[4], es[4];
        CHECK(nis_convergence(x, C, N, 4, rank, rh, es) == NIS_OK, "convergence");
        for (int k = 0; k < 4; k++) {
            double want = (double)C * N * (1 - rho[k]) / (1 + rho[k]);
            /* antithetic chains (rho < 0) have ESS > S; Stan caps it at S log10(S) */
            CHECK(fabs(es[k] / want - 1) <= tol[k], "rank %d, rho %.2f: ESS %.1f, want %.1f +- %.0f%%", rank, rho[k],
                  es[k], want, 100 * tol[k]);
            CHECK(rh[k] < 1.01 && rh[k] > 0.99, "rank %d, rho %.2f: R-hat %.4f for stationary chains", rank, rho[k],
                  rh[k]);
        }
        double mr, me;
        CHECK(nis_convergence_summary(x, C, N, 4, rank, &mr, &me) == NIS_OK, "summary");
        CHECK(mr == fmax(fmax(rh[0], rh[1]), fmax(rh[2], rh[3])), "max R-hat %g", mr);
        CHECK(me == fmin(fmin(es[0], es[1]), fmin(es[2], es[3])), "min ESS %g", me);
    }
    /* shifted chain means: 0.5 sd per chain (R-hat about sqrt(1 + 0.42) = 1.19) */
    const double shift[4] = {0.5, 0.5, 0.5, 0.0};
    ar1(x, 4, rho, shift, 2);
    for (int rank = 0; rank < 2; rank++) {
        double rh[4];
        CHECK(nis_convergence(x, C, N, 4, rank, rh, NULL) == NIS_OK, "convergence");
        for (int k = 0; k < 3; k++) CHECK(rh[k] > 1.1, "rank %d, coord %d: R-hat %.4f with shifted means", rank, k, rh[k]);
        CHECK(rh[3] < 1.01, "rank %d: unshifted coordinate R-hat %.4f", rank, rh[3]);
    }
    /* one chain with a drift: only splitting can see it */
    for (int64_t i = 0; i < N; i++) x[i] = (nis_real)(test_normal() + 2.0 * i / N);
    double r1, e1;
    CHECK(nis_convergence(x, 1, N, 1, false, &r1, &e1) == NIS_OK, "one chain");
    CHECK(r1 > 1.1, "drifting chain: split R-hat %.4f", r1);
    /* a heavy-tailed chain: the rank version stays finite and near 1 for iid draws */
    for (int64_t i = 0; i < C * N; i++) {
        double u = test_uniform();
        x[i] = (nis_real)(1 / (u + 1e-12) - 1 / (1 - u + 1e-12));   /* Cauchy-like */
    }
    CHECK(nis_convergence(x, C, N, 1, true, &r1, &e1) == NIS_OK, "heavy tails");
    CHECK(r1 < 1.01 && e1 > 0.8 * C * N, "iid heavy tails, rank-normalised: R-hat %.4f, ESS %.0f", r1, e1);
    /* a non-finite draw gives NaN for its coordinate; bad arguments */
    ar1(x, 2, rho, none, 3);
    x[17 * 2 + 1] = NAN;
    double rh2[2], es2[2];
    CHECK(nis_convergence(x, C, N, 2, false, rh2, es2) == NIS_OK, "with NaN");
    CHECK(!isnan(rh2[0]) && isnan(rh2[1]) && isnan(es2[1]), "NaN only in coordinate 1");
    CHECK(nis_convergence_summary(x, C, N, 2, false, &r1, &e1) == NIS_OK && isnan(r1) && isnan(e1), "summary NaN");
    CHECK(nis_convergence(x, 0, N, 2, false, rh2, es2) == NIS_EINVAL, "no chains");
    CHECK(nis_convergence(x, C, 7, 2, false, rh2, es2) == NIS_EINVAL, "too few draws");
    CHECK(nis_convergence(NULL, C, N, 2, false, rh2, es2) == NIS_EINVAL, "NULL");
    /* constant chains: R-hat 1 if all equal */
    for (int64_t i = 0; i < C * N; i++) x[i] = 3;
    CHECK(nis_convergence(x, C, N, 1, false, &r1, NULL) == NIS_OK && r1 == 1.0, "constant chains: %g", r1);
    return check_done("test_convergence");
}
