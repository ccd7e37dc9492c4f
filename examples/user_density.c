/* examples/user_density.c — your own density in C, end to end.
 *
 * The density: a correlated Gaussian in 3-D, written the way a user writes any log q — with the library's
 * differentiable ops, up to a constant.  Its score ∇log q and the Hessian-vector products DFT needs come
 * from autodiff; nothing else is required (a hand-written score/HVP or an exact sampler are optional fields
 * of nis_target, see nis/target.h).  A Gaussian is chosen so that the result can be checked exactly: the
 * program trains a DFT sampler with the library's defaults, draws samples, writes them as float32 .npy and
 * compares their mean and covariance with the true ones.
 *
 *   build/example_user_density [--out FILE.npy] [--iters N] [--method dft|kl] [--seed S] [--ema DECAY]
 *                              [--residual-score]   (defaults: no file, 3000 updates, dft, seed 1, the library's
 *                                                    EMA and score model)
 *
 * Exit status: 0 if the sample moments are within the stated tolerance, 1 if not, 2 on bad arguments.
 * docs/dft-experiments.md (Session 6) lists what it gives over seeds, methods and options.
 */
#include "nis/nis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 3

/* The user's parameters: mean and precision matrix P = Σ⁻¹ (row-major), and Σ itself for the check. */
typedef struct {
    nis_real mu[D];
    nis_real prec[D * D];
    double cov[D * D];
} gaussian3;

/* log q(x) = -½ (x - μ)ᵀ P (x - μ): x (B, 3) -> (B,).  Built from ops, so it is differentiable (twice). */
static nis_tensor *gaussian3_log_prob(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    const gaussian3 *g = t->data;
    nis_tensor *mu = nis_tensor_from(ctx, 2, (int64_t[]){1, D}, g->mu);          /* (1, 3): broadcasts */
    nis_tensor *P = nis_tensor_from(ctx, 2, (int64_t[]){D, D}, g->prec);          /* (3, 3), symmetric */
    nis_tensor *r = nis_sub(ctx, x, mu);                                          /* (B, 3) */
    nis_tensor *quad = nis_sum_axis(ctx, nis_mul(ctx, nis_matmul(ctx, r, P, false, false), r), 1, false);
    return nis_mul_scalar(ctx, quad, -0.5);                                       /* (B,) */
}

/* Σ⁻¹ of a symmetric positive-definite 3x3 matrix by cofactors. */
static void inverse3(const double *a, nis_real *inv) {
    double c[9] = {a[4] * a[8] - a[5] * a[7], a[2] * a[7] - a[1] * a[8], a[1] * a[5] - a[2] * a[4],
                   a[5] * a[6] - a[3] * a[8], a[0] * a[8] - a[2] * a[6], a[2] * a[3] - a[0] * a[5],
                   a[3] * a[7] - a[4] * a[6], a[1] * a[6] - a[0] * a[7], a[0] * a[4] - a[1] * a[3]};
    double det = a[0] * c[0] + a[1] * c[3] + a[2] * c[6];
    for (int i = 0; i < 9; i++) inv[i] = (nis_real)(c[i] / det);
}

/* The options a user might want to vary (everything else: the library's defaults). */
typedef struct {
    const char *out;     /* NULL: no file */
    long iters;
    nis_method method;
    unsigned long seed;
    double ema;          /* < 0: the default */
    bool residual_score; /* DFT: the residual score model s_q + MLP instead of the plain one */
} options;

static bool parse(int argc, char **argv, options *o) {
    *o = (options){.iters = 3000, .method = NIS_METHOD_DFT, .seed = 1, .ema = -1};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--residual-score")) {
            o->residual_score = true;
            continue;
        }
        if (!v) return false;
        char *end = NULL;
        if (!strcmp(k, "--out")) o->out = v;
        else if (!strcmp(k, "--iters")) o->iters = strtol(v, &end, 10);
        else if (!strcmp(k, "--seed")) o->seed = strtoul(v, &end, 10);
        else if (!strcmp(k, "--ema")) o->ema = strtod(v, &end);
        else if (!strcmp(k, "--method")) {
            if (!nis_method_parse(v, &o->method)) return false;
        } else return false;
        if (end && (end == v || *end)) return false;   /* not a number, or trailing characters */
        i++;
    }
    return o->iters >= 1;
}

int main(int argc, char **argv) {
    options o;
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: %s [--out FILE.npy] [--iters N] [--method dft|kl] [--seed S] [--ema DECAY] "
                        "[--residual-score]\n", argv[0]);
        return 2;
    }
    /* 1. the density: mean (1, -1, 0.5), sds (1, 0.5, 1.5), correlations 0.6 (x0, x1) and -0.4 (x1, x2) */
    gaussian3 g = {.mu = {1, -1, 0.5},
                   .cov = {1.0, 0.3, 0.0,
                           0.3, 0.25, -0.3,
                           0.0, -0.3, 2.25}};
    inverse3(g.cov, g.prec);
    nis_target t = {.name = "gaussian3", .dim = D, .log_prob = gaussian3_log_prob, .data = &g};

    /* 2. a sampler (DFT unless --method kl) with the documented defaults (nis/train.h), the same as `nis train`'s */
    nis_train_config cfg = nis_train_config_default(o.method);
    cfg.iters = o.iters;
    cfg.seed = (int64_t)o.seed;
    if (o.ema >= 0) cfg.ema = o.ema;
    if (o.residual_score) cfg.score_model = NIS_SCORE_RESIDUAL;
    char err[256];
    nis_trainer *tr = nis_trainer_new(&t, &cfg, NULL, err, sizeof err);
    if (!tr) {
        fprintf(stderr, "example: %s\n", err);
        return 1;
    }
    for (long i = 0; i < o.iters; i++) {
        nis_train_stats st;
        if (nis_trainer_step(tr, &st) != NIS_OK) {
            fprintf(stderr, "example: update %ld: %s\n", i, nis_trainer_message(tr));
            nis_trainer_free(tr);
            return 1;
        }
        if ((i + 1) % 1000 == 0)
            printf("update %5ld  sampler loss %9.4f%s\n", i + 1, st.sampler_loss,
                   o.method == NIS_METHOD_DFT ? " (an estimate of the Fisher divergence)" : "");
    }

    /* 3. samples: x = g(z) + σ ε, the output that matches q (docs/dft.md) */
    enum { N = 20000 };
    static nis_real x[N * D];
    nis_rng rng = nis_rng_init(7, 0);
    nis_status s = nis_trainer_sample(tr, &rng, N, cfg.noisy_output, x);
    nis_trainer_free(tr);
    if (s != NIS_OK) {
        fprintf(stderr, "example: sampling failed (%s)\n", nis_status_name(s));
        return 1;
    }
    if (o.out && nis_npy_write(o.out, NIS_DT_REAL, 2, (int64_t[]){N, D}, x, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "example: %s\n", err);
        return 1;
    }

    /* 4. the check: sample mean and covariance against μ and Σ, in units of the true sds */
    double m[D] = {0}, c[D * D] = {0}, worst_m = 0, worst_c = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) m[j] += x[i * D + j] / (double)N;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            for (int k = 0; k < D; k++) c[j * D + k] += (x[i * D + j] - m[j]) * (x[i * D + k] - m[k]) / (N - 1.0);
    for (int j = 0; j < D; j++) {
        double sj = sqrt(g.cov[j * D + j]);
        worst_m = fmax(worst_m, fabs(m[j] - g.mu[j]) / sj);
        for (int k = 0; k < D; k++)
            worst_c = fmax(worst_c, fabs(c[j * D + k] - g.cov[j * D + k]) / (sj * sqrt(g.cov[k * D + k])));
        printf("x%d: mean %7.3f (true %6.3f)   sd %6.3f (true %5.3f)\n", j, m[j], g.mu[j], sqrt(c[j * D + j]), sj);
    }
    const double tol = 0.1;
    printf("worst mean error %.3f sd, worst covariance error %.3f (correlation units); tolerance %.2f%s%s\n", worst_m,
           worst_c, tol, o.out ? "; samples in " : "", o.out ? o.out : "");
    return worst_m < tol && worst_c < tol ? 0 : 1;
}
