/* bench/gauss_blr_like.c — a diagnostic for the BLR results: DFT or KL, with the BLR bench's DFT settings, on a
 * D-dimensional correlated Gaussian of BLR's size.  If DFT reaches the Gaussian, its BLR error comes from the
 * posterior's non-Gaussian (hierarchical) shape rather than from the dimension (bench/blr_notes.md, Session 6).
 *
 *   OMP_NUM_THREADS=1 build/gauss_blr_like D dft|kl SEED      (D <= 64; prints one line)
 *
 * The Gaussian: Σ = A Aᵀ / (2D) + 0.05 I with A standard normal, mean standard normal (both from a fixed stream,
 * so every run sees the same target).  Settings (blr_run's non-centred DFT row): latent D, width 256 for both
 * networks, batch 1024, σ 0.05, sampler lr 3e-4, score lr 1e-3, 3000 updates, start fitted around the true mean
 * with scale 0.1; otherwise the library's defaults (plain score model, EMA 0.999).  Errors as in the BLR table:
 * |mean − μ| and |sd − true sd| in units of the true sd, averaged over coordinates and the worst, from 20,000
 * samples.
 */
#include "core/linalg.h"
#include "nis/nis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXD 64

typedef struct {
    int d;
    nis_real mu[MAXD], prec[MAXD * MAXD];
    double cov[MAXD * MAXD];
} gaussian;

/* -½ (x - μ)ᵀ P (x - μ): x (B, d) -> (B,) */
static nis_tensor *log_prob(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    const gaussian *g = t->data;
    nis_tensor *mu = nis_tensor_from(c, 2, (int64_t[]){1, g->d}, g->mu);
    nis_tensor *P = nis_tensor_from(c, 2, (int64_t[]){g->d, g->d}, g->prec);
    nis_tensor *r = nis_sub(c, x, mu);
    return nis_mul_scalar(c, nis_sum_axis(c, nis_mul(c, nis_matmul(c, r, P, false, false), r), 1, false), -0.5);
}

/* inv = a⁻¹ for the SPD n x n matrix a, through the library's symmetric eigendecomposition (a = V diag(w) Vᵀ);
 * false (with a message on stderr) if it fails */
static bool invert(const double *a, double *inv, int n) {
    static double v[MAXD * MAXD], w[MAXD];
    char err[256];
    memcpy(v, a, sizeof(double) * (size_t)(n * n));
    if (nis__sym_eig(v, n, w, true, "gauss_blr_like", err, sizeof err) != NIS_OK) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    for (int i = 0; i < n; i++)   /* eigenvector k is v[. + k n] (column-major) */
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += v[i + k * n] * v[j + k * n] / w[k];
            inv[i * n + j] = s;
        }
    return true;
}

int main(int argc, char **argv) {
    nis_method method;
    static gaussian g;
    g.d = argc == 4 ? atoi(argv[1]) : 0;
    if (argc != 4 || g.d < 1 || g.d > MAXD || !nis_method_parse(argv[2], &method) || method == NIS_METHOD_FISHER) {
        fprintf(stderr, "usage: %s D(1..64) dft|kl SEED\n", argv[0]);
        return 2;
    }
    const int d = g.d;
    static double A[MAXD * MAXD], P[MAXD * MAXD];
    nis_rng r = nis_rng_init(123, 0);
    for (int i = 0; i < d * d; i++) A[i] = nis_rng_normal(&r);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += A[i * d + k] * A[j * d + k];
            g.cov[i * d + j] = s / (2.0 * d) + (i == j ? 0.05 : 0);
        }
    for (int i = 0; i < d; i++) g.mu[i] = (nis_real)nis_rng_normal(&r);
    if (!invert(g.cov, P, d)) return 1;
    for (int i = 0; i < d * d; i++) g.prec[i] = (nis_real)P[i];
    nis_target t = {.name = "gauss-blr-like", .dim = d, .log_prob = log_prob, .data = &g};

    nis_train_config c = nis_train_config_default(method);
    c.latent = d, c.seed = strtoull(argv[3], NULL, 10);
    c.sampler_width = c.score_width = 256, c.batch = 1024, c.sigma = 0.05, c.lr_sampler = 3e-4, c.lr_score = 1e-3;
    c.init_scale = 0.1, c.init_mean = g.mu;
    char err[256];
    nis_trainer *tr = nis_trainer_new(&t, &c, err, sizeof err);
    if (!tr) {
        fprintf(stderr, "gauss_blr_like: %s\n", err);
        return 1;
    }
    for (int64_t i = 0; i < c.iters; i++)
        if (nis_trainer_step(tr, NULL) != NIS_OK) {
            fprintf(stderr, "gauss_blr_like: update %lld: %s\n", (long long)i, nis_trainer_message(tr));
            nis_trainer_free(tr);
            return 1;
        }
    enum { N = 20000 };
    static nis_real x[N * MAXD];
    nis_rng gen = nis_rng_init(7, 0);
    nis_status st = nis_trainer_sample(tr, &gen, N, c.noisy_output, x);
    nis_trainer_free(tr);
    if (st != NIS_OK) return 1;
    double me = 0, mw = 0, se = 0, sw = 0;
    for (int j = 0; j < d; j++) {
        double m = 0, v = 0, tsd = sqrt(g.cov[j * d + j]);
        for (int i = 0; i < N; i++) m += x[i * d + j] / (double)N;
        for (int i = 0; i < N; i++) v += (x[i * d + j] - m) * (x[i * d + j] - m) / (N - 1.0);
        double e1 = fabs(m - g.mu[j]) / tsd, e2 = fabs(sqrt(v) - tsd) / tsd;
        me += e1 / d, se += e2 / d, mw = fmax(mw, e1), sw = fmax(sw, e2);
    }
    printf("D %d, %s, seed %s: mean error %.3f / %.3f, sd error %.3f / %.3f (average / worst, in true sds)\n", d,
           argv[2], argv[3], me, mw, se, sw);
    return 0;
}
