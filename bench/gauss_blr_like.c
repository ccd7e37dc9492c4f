/* bench/gauss_blr_like.c — a diagnostic for the BLR results: DFT or KL, with the BLR bench's DFT settings, on a
 * D-dimensional correlated Gaussian of BLR's size.  If DFT reaches the Gaussian, its BLR error comes from the
 * posterior's non-Gaussian (hierarchical) shape rather than from the dimension (bench/blr_notes.md, Session 6).
 *
 *   OMP_NUM_THREADS=1 build/gauss_blr_like D dft|kl SEED           (D <= 80; prints one line)
 *   OMP_NUM_THREADS=1 build/gauss_blr_like GOLD.npy dft|kl SEED    (a BLR gold standard, runs/blr/gold-NAME.npy)
 *
 * The Gaussian: Σ = A Aᵀ / (2D) + 0.05 I with A standard normal, mean standard normal (both from a fixed stream,
 * so every run sees the same target).  With GOLD.npy instead: the mean and covariance of the gold standard's
 * draws in the non-centred coordinates [v, log α], v = w √α, i.e. the Gaussian that matches the BLR bench's
 * non-centred DFT target in its first two moments (the shape is all that differs).  Settings (blr_run's non-centred DFT row): latent D, width 256 for both
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

#define MAXD 80

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

/* g's mean and covariance from a gold standard's draws ((chains, draws, D) float32, θ = [w, log α]) mapped to
 * [v, log α], v = w √α; returns D, or 0 (with a message) if the file cannot be used. */
static int gold_moments(const char *path, gaussian *g) {
    nis_npy_array a;
    char err[256];
    if (nis_npy_read_as(path, NIS_DT_F32, &a, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    int D = a.ndim == 3 ? (int)a.shape[2] : 0;
    int64_t n = a.ndim == 3 ? a.shape[0] * a.shape[1] : 0;
    if (D < 2 || D > MAXD || n < 2) {
        fprintf(stderr, "%s: want (chains, draws, D) with 2 <= D <= %d\n", path, MAXD);
        nis_npy_free(&a);
        return 0;
    }
    static double m[MAXD], y[MAXD];
    memset(m, 0, sizeof m), memset(g->cov, 0, sizeof g->cov);
    for (int pass = 0; pass < 2; pass++)   /* mean, then covariance about it */
        for (int64_t k = 0; k < n; k++) {
            const float *th = (const float *)a.data + k * D;
            for (int j = 0; j < D; j++) y[j] = j < D - 1 ? th[j] * exp(0.5 * th[D - 1]) : th[j];
            for (int i = 0; i < D; i++) {
                if (pass == 0) m[i] += y[i] / (double)n;
                else
                    for (int j = 0; j < D; j++) g->cov[i * D + j] += (y[i] - m[i]) * (y[j] - m[j]) / (double)(n - 1);
            }
        }
    for (int i = 0; i < D; i++) g->mu[i] = (nis_real)m[i];
    nis_npy_free(&a);
    return D;
}

int main(int argc, char **argv) {
    nis_method method;
    static gaussian g;
    const char *gold = argc == 4 && strstr(argv[1], ".npy") ? argv[1] : NULL;
    g.d = gold ? gold_moments(gold, &g) : argc == 4 ? atoi(argv[1]) : 0;
    if (argc != 4 || g.d < 1 || g.d > MAXD || !nis_method_parse(argv[2], &method) || method == NIS_METHOD_FISHER) {
        fprintf(stderr, "usage: %s D(1..80)|GOLD.npy dft|kl SEED\n", argv[0]);
        return 2;
    }
    const int d = g.d;
    static double A[MAXD * MAXD], P[MAXD * MAXD];
    nis_rng r = nis_rng_init(123, 0);
    for (int i = 0; i < d * d && !gold; i++) A[i] = nis_rng_normal(&r);
    for (int i = 0; i < d && !gold; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += A[i * d + k] * A[j * d + k];
            g.cov[i * d + j] = s / (2.0 * d) + (i == j ? 0.05 : 0);
        }
    for (int i = 0; i < d && !gold; i++) g.mu[i] = (nis_real)nis_rng_normal(&r);
    if (!invert(g.cov, P, d)) return 1;
    for (int i = 0; i < d * d; i++) g.prec[i] = (nis_real)P[i];
    nis_target t = {.name = "gauss-blr-like", .dim = d, .log_prob = log_prob, .data = &g};

    nis_train_config c = nis_train_config_default(method);
    c.latent = d, c.seed = (int64_t)strtoull(argv[3], NULL, 10);
    c.width = c.score_width = 256, c.batch = 1024, c.sigma = 0.05, c.lr = 3e-4, c.lr_score = 1e-3;
    c.init_scale = 0.1;
    nis_train_start start = {.mean = g.mu};
    char err[256];
    nis_trainer *tr = nis_trainer_new(&t, &c, &start, err, sizeof err);
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
    double ml = 0, tl = sqrt(g.cov[d * d - 1]);   /* the last coordinate (log α with GOLD.npy), signed */
    for (int i = 0; i < N; i++) ml += x[i * d + d - 1] / (double)N;
    printf("D %d, %s, seed %s: mean error %.3f / %.3f, sd error %.3f / %.3f (average / worst, in true sds); "
           "last coordinate's mean %+.3f sds off\n", d, argv[2], argv[3], me, mw, se, sw, (ml - g.mu[d - 1]) / tl);
    return 0;
}
