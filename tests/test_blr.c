/* BLR with the trainer (float32):
 * 1. the minibatch DFT estimator is unbiased: over many minibatch draws, the mean of nis_dft_objective's loss and
 *    of its gradient with respect to x̃ match the full-batch values within standard errors, while the naive
 *    version (one draw squared) is measurably biased;
 * 2. a short DFT run on a small synthetic logistic problem (N = 200, d = 3, N(0, I) prior) whose posterior is
 *    near-Gaussian matches the Laplace approximation (Newton to the MAP, inverse Hessian), with a minibatch run
 *    too; the tolerances are stated at the checks. */
#include "check.h"
#include "nis/blr.h"
#include "nis/ops.h"
#include "nis/train.h"

#include <stdlib.h>
#include <string.h>

/* ASan/UBSan builds (gcc defines __SANITIZE_ADDRESS__) run the DFT part short, for memory errors only. */
#ifdef __SANITIZE_ADDRESS__
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

enum { N = 200, d = 3 };

static void make_data(nis_dataset *ds) {
    CHECK(nis_dataset_alloc(ds, N, d) == NIS_OK, "alloc");
    test_seed(5);
    const double w[d] = {1.0, -0.7, 0.3};
    for (int i = 0; i < N; i++) {
        double z = 0;
        for (int j = 0; j < d; j++) {
            double v = j == d - 1 ? 1.0 : test_normal();
            ds->X[i * d + j] = (float)v;
            z += w[j] * v;
        }
        ds->y[i] = test_uniform() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
}

static nis_tensor *zero_score(nis_ctx *c, void *ud, nis_tensor *x, nis_tensor *sig) {
    (void)ud, (void)sig;
    return nis_mul_scalar(c, x, 0.0);
}

/* Loss and its x0-gradient (B*D values) of nis_dft_objective for target t at fixed x0, eps. */
static bool loss_and_grad(nis_ctx *c, const nis_target *t, const double *x0v, const double *epsv, int Bn, double sigma,
                          double *loss, double *grad) {
    nis_ctx_reset(c);
    int D = t->dim;
    nis_tensor *x0 = nis_requires_grad(nis_new2(c, Bn, D)), *eps = nis_new2(c, Bn, D), *g = NULL;
    if (!x0 || !eps) return false;
    for (int i = 0; i < Bn * D; i++) x0->data[i] = (nis_real)x0v[i], eps->data[i] = (nis_real)epsv[i];
    double mon;
    nis_tensor *l = nis_dft_objective(c, t, x0, eps, sigma, NULL, zero_score, NULL, &mon);
    if (!l || nis_grad(c, 1, &l, NULL, 1, &x0, false, &g) != NIS_OK) return false;
    *loss = l->data[0];
    for (int i = 0; i < Bn * D; i++) grad[i] = g->data[i];
    return true;
}

static void check_unbiased(const nis_dataset *ds) {
    enum { Bn = 4, K = 4000, NV = 1 + Bn * (d + 1) };
    const double sigma = 0.3;
    char err[256];
    nis_blr_opts o = nis_blr_defaults();
    o.minibatch = 10, o.seed = 3;
    nis_target *mb = nis_blr_target_new(ds, &o, err, sizeof err);
    o.minibatch = 0;
    nis_target *full = nis_blr_target_new(ds, &o, err, sizeof err);
    CHECK(mb && full && mb->stochastic, "%s", err);
    if (!mb || !full) return;
    int D = mb->dim;
    nis_target naive = *mb;   /* the same minibatch target, squared as if it were exact */
    naive.stochastic = false;
    double x0[Bn * (d + 1)], eps[Bn * (d + 1)];
    test_seed(9);
    for (int i = 0; i < Bn * D; i++) x0[i] = 0.4 * test_normal(), eps[i] = test_normal();
    nis_ctx *c = nis_ctx_new(0);
    double ref[NV];
    CHECK(loss_and_grad(c, full, x0, eps, Bn, sigma, &ref[0], ref + 1), "%s", nis_ctx_message(c));
    const nis_target *ts[2] = {mb, &naive};
    double zmax[2] = {0, 0}, chi2[2] = {0, 0}, zloss[2] = {0, 0};
    for (int m = 0; m < 2; m++) {
        double sum[NV] = {0}, sq[NV] = {0}, v[NV];
        int k;
        for (k = 0; k < K; k++) {
            if (!loss_and_grad(c, ts[m], x0, eps, Bn, sigma, &v[0], v + 1)) break;
            for (int i = 0; i < NV; i++) sum[i] += v[i], sq[i] += v[i] * v[i];
        }
        CHECK(k == K, "%s", nis_ctx_message(c));
        for (int i = 0; i < NV; i++) {
            double mean = sum[i] / K, var = sq[i] / K - mean * mean;
            /* log α coordinates of the gradient carry no minibatch noise: compare them directly */
            double z = var > 1e-12 * (1 + mean * mean) ? (mean - ref[i]) / sqrt(var / K)
                                                        : (fabs(mean - ref[i]) < 1e-3 * (1 + fabs(ref[i])) ? 0 : 99);
            if (i == 0) zloss[m] = z;
            zmax[m] = fmax(zmax[m], fabs(z));
            if (i > 0) chi2[m] += z * z;
        }
    }
    printf("unbiased: loss z %.2f, max |z| %.2f, gradient chi2 %.1f (%d dof); naive: loss z %.2f, chi2 %.1f\n",
           zloss[0], zmax[0], chi2[0], NV - 1, zloss[1], chi2[1]);
    /* two-draw estimator: every coordinate within 4.5 standard errors, and the gradient's chi-square over its
     * 16 coordinates below 60 (its coordinates are correlated, so it is not exactly chi-square(16); measured 37
     * with K = 4000 and 30 with K = 16000, where a bias would have grown fourfold) */
    CHECK(zmax[0] < 4.5, "two-draw estimator off by %.2f standard errors", zmax[0]);
    CHECK(chi2[0] < 60, "two-draw gradient chi2 %.1f", chi2[0]);
    /* naive: its loss is biased upwards by tr Var ŝ (many standard errors), and its gradient is off too */
    CHECK(zloss[1] > 10, "naive loss only %.2f standard errors above the full-batch value", zloss[1]);
    CHECK(chi2[1] > 100, "naive gradient chi2 only %.1f", chi2[1]);
    nis_ctx_free(c);
    nis_blr_target_free(mb);
    nis_blr_target_free(full);
}

/* Laplace approximation of the N(0, I)-prior posterior: Newton to the MAP, then the inverse Hessian. */
static void laplace(const nis_dataset *ds, double *mean, double *sd) {
    double w[d] = {0};
    for (int it = 0; it < 50; it++) {
        double g[d], H[d][d];
        for (int j = 0; j < d; j++) {
            g[j] = -w[j];
            for (int k = 0; k < d; k++) H[j][k] = j == k ? -1.0 : 0.0;
        }
        for (int i = 0; i < N; i++) {
            const float *x = ds->X + i * d;
            double z = 0;
            for (int j = 0; j < d; j++) z += w[j] * x[j];
            double p = 1 / (1 + exp(-z));
            for (int j = 0; j < d; j++) {
                g[j] += (ds->y[i] - p) * x[j];
                for (int k = 0; k < d; k++) H[j][k] -= p * (1 - p) * x[j] * x[k];
            }
        }
        /* solve (-H) step = g by Gauss-Jordan on the 3x3 system; also keep (-H)^-1 for the covariance */
        double A[d][2 * d];
        for (int j = 0; j < d; j++)
            for (int k = 0; k < 2 * d; k++) A[j][k] = k < d ? -H[j][k] : (k - d == j);
        for (int p = 0; p < d; p++) {
            double piv = A[p][p];
            for (int k = 0; k < 2 * d; k++) A[p][k] /= piv;
            for (int r = 0; r < d; r++)
                if (r != p) {
                    double f = A[r][p];
                    for (int k = 0; k < 2 * d; k++) A[r][k] -= f * A[p][k];
                }
        }
        for (int j = 0; j < d; j++) {
            double step = 0;
            for (int k = 0; k < d; k++) step += A[j][d + k] * g[k];
            w[j] += step;
            mean[j] = w[j];
            sd[j] = sqrt(A[j][d + j]);
        }
    }
}

static void check_dft(const nis_dataset *ds, int64_t minibatch) {
    double lm[d], ls[d];
    laplace(ds, lm, ls);
    char err[256];
    nis_blr_opts o = nis_blr_defaults();
    o.prior = NIS_BLR_PRIOR_NORMAL, o.minibatch = minibatch, o.seed = 1;
    nis_target *t = nis_blr_target_new(ds, &o, err, sizeof err);
    CHECK(t, "%s", err);
    if (!t) return;
    nis_train_config c = nis_train_config_default(NIS_METHOD_DFT);
    c.iters = SANITIZED ? 100 : 2000;
    c.batch = 128, c.latent = d, c.width = 32, c.score_width = 32, c.depth = 2, c.score_depth = 2;
    c.lr = 3e-4, c.sigma = 0.1;
    c.init_scale = 0.3, c.init_steps = 200, c.seed = 4, c.init_at_mode = false;   /* a start around 0 */
    /* the residual score model learns r = s_p - s_q by DSM; with a minibatch s_q its targets carry the full
     * minibatch noise and r is fitted too poorly (measured: mean error 0.91 sd, sd ratio exp(-0.46)), so the
     * plain model there, as the CLI does for stochastic targets */
    c.score_model = minibatch == 0 ? NIS_SCORE_RESIDUAL : NIS_SCORE_PLAIN;
    nis_trainer *tr = nis_trainer_new(t, &c, NULL, err, sizeof err);
    CHECK(tr, "%s", err);
    if (!tr) {
        nis_blr_target_free(t);
        return;
    }
    nis_train_stats s = {0};
    for (int64_t i = 0; i < c.iters; i++)
        if (nis_trainer_step(tr, &s) != NIS_OK) {
            CHECK(0, "step %lld: %s", (long long)i, nis_trainer_message(tr));
            break;
        }
    /* per sample and update: two minibatch draws, or one for the residual loss plus one per DSM step */
    CHECK(s.target_evals == c.iters * c.batch * (minibatch ? 2 : 1 + c.score_steps), "grad evals %lld",
          (long long)s.target_evals);
    enum { S = 20000 };
    static nis_real x[S * d];
    nis_rng g = nis_rng_init(8, 0);
    CHECK(nis_trainer_sample(tr, &g, S, true, x) == NIS_OK, "sample");
    double worst_m = 0, worst_s = 0;
    for (int j = 0; j < d; j++) {
        double m = 0, q = 0;
        for (int i = 0; i < S; i++) m += x[i * d + j], q += (double)x[i * d + j] * x[i * d + j];
        m /= S;
        double sdv = sqrt(q / S - m * m);
        printf("  coord %d: DFT mean %+.4f sd %.4f | Laplace mean %+.4f sd %.4f\n", j, m, sdv, lm[j], ls[j]);
        worst_m = fmax(worst_m, fabs(m - lm[j]) / ls[j]);
        worst_s = fmax(worst_s, fabs(log(sdv / ls[j])));
    }
    printf("DFT (minibatch %lld, %lld updates): mean error %.3f Laplace sd, sd ratio within exp(±%.3f)\n",
           (long long)minibatch, (long long)c.iters, worst_m, worst_s);
    /* stated tolerance: means within 0.3 posterior standard deviations of the Laplace mean, standard deviations
     * within 25% (measured: 0.10 / 0.24 sd and 6% / 4%, full batch with the residual score model / minibatch; the Laplace approximation itself
     * is off by a few percent at N = 200).  Under the sanitizers the run is too short to be judged. */
    if (!SANITIZED) {
        CHECK(worst_m < 0.3, "DFT mean error %.3f sd", worst_m);
        CHECK(worst_s < log(1.25), "DFT sd ratio exp(%.3f)", worst_s);
    }
    nis_trainer_free(tr);
    nis_blr_target_free(t);
}

int main(void) {
    nis_set_threads(1);
    nis_dataset ds;
    make_data(&ds);
    check_unbiased(&ds);
    check_dft(&ds, 0);
    check_dft(&ds, 50);
    nis_dataset_free(&ds);
    return check_done("test_blr");
}
