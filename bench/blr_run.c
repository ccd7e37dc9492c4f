/* bench/blr_run.c — one job of the Bayesian logistic regression benchmark (bench/blr drives it).
 *
 *   blr_run gold  --dataset NAME [--data DIR] [--out DIR] [--chains C] [--draws N] [--leapfrog L]
 *       Gold standard: HMC on the full-batch HIER posterior, C chains.  A pilot run with an identity mass
 *       matrix (step size adapted) estimates the posterior mean and covariance; the main run samples the
 *       affinely preconditioned target u -> mu + L u (L L^T = the shrunk covariance; the same as HMC with a
 *       dense mass matrix), doubling its draws until every coordinate's rank-normalised split-R̂ < 1.01 (at most
 *       3 times).  Writes OUT/gold-NAME.npy ((chains, draws, D) float32) and OUT/gold-NAME.json.
 *   blr_run run   --dataset NAME --method dft|kl|svgd|sgld|hmc --seed S [--out DIR] [method options]
 *       DFT/KL also take --prior hier|hier-nc|hier-marg (the sampler's parameterisation; samples are mapped back
 *       to θ; hier-marg samples w from the α-marginal posterior and draws log α | w exactly)
 *       and --init-mode 1 (start around nis_blr_mode; 2: around the gold standard's mean, a diagnostic),
 *       --lr-final L (cosine decay of the sampler lr) and --ema DECAY (samples from an EMA of the sampler's
 *       weights); --score-width W (the score network's width, default --width); --score-warmup N (score-network
 *       updates before the first sampler update).  Any method: --save FILE.npy
 *       writes the samples (θ, (n, D), nis_real: float32 in the default build).  --precond FILE.npy|gold (DFT/KL):
 *       train on the whitened target q(m + L u) (nis_train_config.precond_*), m and L Lᵀ the mean and covariance of the draws
 *       in FILE.npy ((n, D) θ, e.g. an earlier run's --save) or of the gold standard (a diagnostic), taken in the
 *       sampler's coordinates.
 *       One sampler against the cached gold standard; writes OUT/NAME/METHOD[_TAG]_sS.json.  Defaults (the bench's
 *       settings): DFT/KL with latent D, width 128 (1024 for D > 200), depth 3, 1500 updates of batch 256, σ 0.05,
 *       lr 1e-3 (sampler and score net), 5 score steps, init scale 1, full batch unless --minibatch; SVGD 100
 *       particles, 2000 AdaGrad steps of 0.05; SGLD 1000 chains, 3000 ULA steps on a minibatch-32 target with the
 *       gold json's sgld_step; HMC 10 chains, 300 warm-up + 100 draws, 10 leapfrog steps.  --time-budget S caps the
 *       training of DFT/KL and makes SVGD/SGLD run (in chunks of 100 steps) until S seconds have passed.
 *   blr_run pred  --dataset NAME [--save FILE.npy]
 *       Diagnostic: the test rows whose gold-standard predictive probability is in [0.3, 0.7], with the
 *       probability under the samples in FILE.npy ((n, D), e.g. written by run --save).
 *   blr_run fit   --dataset NAME --seed S [--save FILE.npy]
 *       The posterior preset's whitening of the non-centred posterior (nis_whiten_hmc, seed S): its time, and 4000
 *       draws of its Gaussian N(m, L Lᵀ) mapped to θ into FILE.npy (compare: bench/blr_diag.py GOLD FILE.npy).
 *   blr_run speed [--out DIR]
 *       Covertype-shaped synthetic data (581,012 x 54): load, target and DFT-step timings; OUT/speed.json.
 *
 * Datasets (train/test split 80/20 with split seed 0, standardised with train statistics, intercept):
 * ionosphere, diabetes, credit-g, breast_cancer (DIR/uci) and fashion (Fashion-MNIST T-shirt/top = 0 vs
 * Shirt = 6 from DIR/fashion-mnist; pixels / 255, its own train/test files, intercept; d = 785).
 */
#include "nis/nis.h"
#include "nis/blr.h"
#include "nis/data.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "blr_run: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(2);
}

/* ---- options -------------------------------------------------------------------------------------------- */
typedef struct {
    const char *mode, *dataset, *data_dir, *out, *method;
    uint64_t seed;
    int chains, leapfrog;
    int64_t draws, iters, batch, minibatch, steps, particles;
    int latent, width, score_width, depth, score_steps;
    double sigma, lr_sampler, lr_score, lr_final, ema, step, time_budget, init_scale;
    int noisy;           /* -1 default */
    bool score_residual;
    const char *tag;     /* result file name suffix (tuning runs) */
    const char *save;    /* write the samples (θ, (n, D)) to this .npy */
    const char *precond; /* DFT/KL diagnostic: "gold" or FILE.npy ((n, D) θ draws): train on u, θ' = m + L u, with m
                          * and L Lᵀ the draws' mean and covariance in the sampler's coordinates */
    const char *prior;   /* DFT/KL: "hier" (centred, the gold standard's) or "hier-nc" (non-centred; samples mapped back) */
    int init_mode;       /* DFT/KL: start the sampler around the posterior mode (nis_blr_mode) */
    long long score_warmup;   /* DFT/KL: score-network updates before the first sampler update */
} opts;

static void parse(int argc, char **argv, opts *o) {
    *o = (opts){.data_dir = "data", .out = "runs/blr", .chains = 8, .leapfrog = 0, .draws = 2000, .iters = 1500,
                .batch = 256, .latent = 0, .width = 0, .depth = 3, .score_steps = 5, .sigma = 0.05,
                .lr_sampler = 1e-3, .lr_score = 1e-3, .noisy = -1, .particles = 100, .init_scale = 1, .prior = "hier"};
    if (argc < 2) die("usage: blr_run gold|run|speed --dataset NAME ... (see the top of bench/blr_run.c)%s%s", "", "");
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("option %s needs a value%s", k, "");
        i++;
        if (!strcmp(k, "--dataset")) o->dataset = v;
        else if (!strcmp(k, "--data")) o->data_dir = v;
        else if (!strcmp(k, "--out")) o->out = v;
        else if (!strcmp(k, "--method")) o->method = v;
        else if (!strcmp(k, "--seed")) o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--chains")) o->chains = atoi(v);
        else if (!strcmp(k, "--leapfrog")) o->leapfrog = atoi(v);
        else if (!strcmp(k, "--draws")) o->draws = atoll(v);
        else if (!strcmp(k, "--iters")) o->iters = atoll(v);
        else if (!strcmp(k, "--batch")) o->batch = atoll(v);
        else if (!strcmp(k, "--minibatch")) o->minibatch = atoll(v);
        else if (!strcmp(k, "--steps")) o->steps = atoll(v);
        else if (!strcmp(k, "--particles")) o->particles = atoll(v);
        else if (!strcmp(k, "--latent")) o->latent = atoi(v);
        else if (!strcmp(k, "--width")) o->width = atoi(v);
        else if (!strcmp(k, "--score-width")) o->score_width = atoi(v);
        else if (!strcmp(k, "--depth")) o->depth = atoi(v);
        else if (!strcmp(k, "--score-steps")) o->score_steps = atoi(v);
        else if (!strcmp(k, "--sigma")) o->sigma = atof(v);
        else if (!strcmp(k, "--lr-sampler")) o->lr_sampler = atof(v);
        else if (!strcmp(k, "--lr-score")) o->lr_score = atof(v);
        else if (!strcmp(k, "--lr-final")) o->lr_final = atof(v);
        else if (!strcmp(k, "--ema")) o->ema = atof(v);
        else if (!strcmp(k, "--step")) o->step = atof(v);
        else if (!strcmp(k, "--time-budget")) o->time_budget = atof(v);
        else if (!strcmp(k, "--init-scale")) o->init_scale = atof(v);
        else if (!strcmp(k, "--noisy")) o->noisy = atoi(v);
        else if (!strcmp(k, "--tag")) o->tag = v;
        else if (!strcmp(k, "--save")) o->save = v;
        else if (!strcmp(k, "--prior")) o->prior = v;
        else if (!strcmp(k, "--precond")) o->precond = v;
        else if (!strcmp(k, "--init-mode")) o->init_mode = atoi(v);
        else if (!strcmp(k, "--score-warmup")) o->score_warmup = atoll(v);
        else if (!strcmp(k, "--score-residual")) o->score_residual = atoi(v);
        else die("unknown option %s%s", k, "");
    }
}

/* ---- data ----------------------------------------------------------------------------------------------- */
static void load_dataset(const opts *o, nis_dataset *train, nis_dataset *test) {
    char err[512], p1[1024], p2[1024];
    nis_status st;
    if (!o->dataset) die("--dataset is required%s%s", "", "");
    if (!strcmp(o->dataset, "fashion")) {
        snprintf(p1, sizeof p1, "%s/fashion-mnist/train-images-idx3-ubyte.gz", o->data_dir);
        snprintf(p2, sizeof p2, "%s/fashion-mnist/train-labels-idx1-ubyte.gz", o->data_dir);
        if ((st = nis_idx_dataset_load(p1, p2, 0, 6, train, err, sizeof err)) != NIS_OK) die("%s%s", err, "");
        snprintf(p1, sizeof p1, "%s/fashion-mnist/t10k-images-idx3-ubyte.gz", o->data_dir);
        snprintf(p2, sizeof p2, "%s/fashion-mnist/t10k-labels-idx1-ubyte.gz", o->data_dir);
        if ((st = nis_idx_dataset_load(p1, p2, 0, 6, test, err, sizeof err)) != NIS_OK) die("%s%s", err, "");
        if (nis_dataset_add_intercept(train) || nis_dataset_add_intercept(test)) die("out of memory%s%s", "", "");
        return;
    }
    nis_data_opts dopt = {0};
    nis_data_format fmt = NIS_DATA_ARFF;
    const char *file = NULL;
    if (!strcmp(o->dataset, "ionosphere")) file = "ionosphere.arff", dopt.positive = "g";
    else if (!strcmp(o->dataset, "diabetes")) file = "diabetes.arff", dopt.positive = "tested_positive";
    else if (!strcmp(o->dataset, "credit-g")) file = "credit-g.arff", dopt.positive = "good";
    else if (!strcmp(o->dataset, "breast_cancer"))
        file = "breast_cancer.csv", fmt = NIS_DATA_CSV, dopt.skip_lines = 1, dopt.no_header = true;
    else die("unknown dataset '%s'%s", o->dataset, "");
    snprintf(p1, sizeof p1, "%s/uci/%s", o->data_dir, file);
    nis_dataset all;
    if ((st = nis_data_load(p1, fmt, &dopt, &all, err, sizeof err)) != NIS_OK) die("%s%s", err, "");
    if ((st = nis_data_prepare(&all, 0.2, 0, train, test, err, sizeof err)) != NIS_OK) die("%s%s", err, "");
    nis_dataset_free(&all);
}

static nis_target *make_target(const nis_dataset *train, int64_t minibatch, uint64_t seed, const char *prior) {
    char err[512];
    nis_blr_opts bo = nis_blr_defaults();
    if (!strcmp(prior, "hier-nc")) bo.prior = NIS_BLR_PRIOR_HIER_NC;
    else if (!strcmp(prior, "hier-marg")) bo.prior = NIS_BLR_PRIOR_HIER_MARG;
    else if (strcmp(prior, "hier")) die("unknown --prior '%s' (hier, hier-nc or hier-marg)%s", prior, "");
    bo.minibatch = minibatch;
    bo.seed = seed;
    nis_target *t = nis_blr_target_new(train, &bo, err, sizeof err);
    if (!t) die("%s%s", err, "");
    return t;
}

/* ---- JSON ----------------------------------------------------------------------------------------------- */
static void write_json(const char *path, cJSON *j) {
    char err[512], *s = cJSON_Print(j);
    if (!s) die("out of memory%s%s", "", "");
    if (nis_write_file_atomic(path, s, strlen(s), err, sizeof err) != NIS_OK) die("%s%s", err, "");
    free(s);
    cJSON_Delete(j);
}

static cJSON *read_json(const char *path) {
    char err[512];
    void *buf;
    size_t n;
    if (nis_read_file(path, &buf, &n, err, sizeof err) != NIS_OK) return NULL;
    cJSON *j = cJSON_Parse(buf);
    nis_free(buf);
    return j;
}

static double jnum(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Cholesky of the (D, D) matrix a in place (lower); false if not positive definite. */
static bool cholesky(double *a, int D) {
    for (int j = 0; j < D; j++) {
        double s = a[j * D + j];
        for (int k = 0; k < j; k++) s -= a[j * D + k] * a[j * D + k];
        if (!(s > 0)) return false;
        a[j * D + j] = sqrt(s);
        for (int i = j + 1; i < D; i++) {
            double r = a[i * D + j];
            for (int k = 0; k < j; k++) r -= a[i * D + k] * a[j * D + k];
            a[i * D + j] = r / a[j * D + j];
        }
        for (int k = j + 1; k < D; k++) a[j * D + k] = 0;
    }
    return true;
}

/* Mean and covariance of n rows x (n, D), shrunk as Stan's warm-up does: (n / (n + 5)) S + 1e-3 (5 / (n + 5)) I. */
static void mean_cov(const nis_real *x, int64_t n, int D, double *mu, double *S) {
    for (int a = 0; a < D; a++) mu[a] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < D; a++) mu[a] += x[i * D + a];
    for (int a = 0; a < D; a++) mu[a] /= (double)n;
    memset(S, 0, sizeof(double) * (size_t)D * D);
    double *r = malloc(sizeof(double) * (size_t)D);
    for (int64_t i = 0; i < n; i++) {
        for (int a = 0; a < D; a++) r[a] = x[i * D + a] - mu[a];
        for (int a = 0; a < D; a++)
            for (int b = 0; b <= a; b++) S[a * D + b] += r[a] * r[b];
    }
    free(r);
    double w = (double)n / (n + 5.0);
    for (int a = 0; a < D; a++)
        for (int b = 0; b <= a; b++) {
            double v = w * S[a * D + b] / (double)(n - 1) + (a == b ? 1e-3 * 5.0 / (n + 5.0) : 0);
            S[a * D + b] = S[b * D + a] = v;
        }
}


/* Laplace approximation: Newton's method on log q from theta = 0 (damped: halve the step while log q falls),
 * then cov = (-H)^-1 at the mode.  mu (D,), S (D, D) out.  One Hessian = one batched HVP call with v = I. */
static void laplace(const nis_target *t, double *mu, double *S, double *lam_max) {
    const int D = t->dim;
    nis_ctx *c = nis_ctx_new(0);
    nis_real *th = calloc((size_t)D * D, sizeof(nis_real)), *eye = calloc((size_t)D * D, sizeof(nis_real));
    double *H = malloc(sizeof(double) * (size_t)D * D), *gr = malloc(sizeof(double) * D), *st = malloc(sizeof(double) * D);
    for (int a = 0; a < D; a++) eye[a * D + a] = 1, mu[a] = 0;
    double lq = -INFINITY, lq_prev = -INFINITY;
    for (int it = 0; it < 50; it++) {
        for (int b = 0; b < D; b++)
            for (int a = 0; a < D; a++) th[b * D + a] = (nis_real)mu[a];
        nis_tensor *x1 = nis_tensor_wrap(c, 2, (int64_t[]){1, D}, th);
        nis_tensor *l = t->log_prob(c, t, x1), *g = nis_target_score(c, t, x1, false);
        nis_tensor *h = nis_target_hvp(c, t, nis_tensor_wrap(c, 2, (int64_t[]){D, D}, th),
                                       nis_tensor_wrap(c, 2, (int64_t[]){D, D}, eye));
        if (!l || !g || !h) die("laplace: %s%s", nis_ctx_message(c), "");
        lq = l->data[0];
        for (int a = 0; a < D; a++) gr[a] = g->data[a];
        for (int a = 0; a < D * D; a++) H[a] = -h->data[a];
        for (int a = 0; a < D; a++)
            for (int b = 0; b < a; b++) H[a * D + b] = H[b * D + a] = (H[a * D + b] + H[b * D + a]) / 2;
        nis_ctx_reset(c);
        double gn = 0;
        for (int a = 0; a < D; a++) gn += gr[a] * gr[a];
        if (!cholesky(H, D)) die("laplace: -Hessian not positive definite at iteration %s%s", "", "");
        /* step = (-H)^-1 g by two triangular solves */
        for (int a = 0; a < D; a++) {
            double r = gr[a];
            for (int b = 0; b < a; b++) r -= H[a * D + b] * st[b];
            st[a] = r / H[a * D + a];
        }
        for (int a = D - 1; a >= 0; a--) {
            double r = st[a];
            for (int b = a + 1; b < D; b++) r -= H[b * D + a] * st[b];
            st[a] = r / H[a * D + a];
        }
        if (sqrt(gn) < 1e-3 || (it > 0 && fabs(lq - lq_prev) < 1e-7 * fabs(lq))) break;   /* float32 floor */
        lq_prev = lq;
        double f = 1;
        for (int k = 0; k < 30; k++, f /= 2) {   /* backtracking */
            for (int a = 0; a < D; a++) th[a] = (nis_real)(mu[a] + f * st[a]);
            nis_tensor *l2 = t->log_prob(c, t, nis_tensor_wrap(c, 2, (int64_t[]){1, D}, th));
            double v = l2 ? l2->data[0] : -INFINITY;
            nis_ctx_reset(c);
            if (v >= lq - 1e-6 * fabs(lq)) break;
        }
        for (int a = 0; a < D; a++) mu[a] += f * st[a];
        fprintf(stderr, "laplace: iteration %d, log q %.6g, |grad| %.3g, step factor %g\n", it, lq, sqrt(gn), f);
    }
    /* largest eigenvalue of -H = R R^T by power iteration (sets SGLD's step size) */
    double *pv = malloc(sizeof(double) * D), *pw = malloc(sizeof(double) * D), lam = 0;
    for (int a = 0; a < D; a++) pv[a] = 1 / sqrt((double)D);
    for (int it = 0; it < 200; it++) {
        for (int a = 0; a < D; a++) {   /* pw = R^T pv */
            double r = 0;
            for (int k = a; k < D; k++) r += H[k * D + a] * pv[k];
            pw[a] = r;
        }
        double nn = 0;
        for (int a = 0; a < D; a++) {   /* pv = R pw */
            double r = 0;
            for (int k = 0; k <= a; k++) r += H[a * D + k] * pw[k];
            pv[a] = r, nn += r * r;
        }
        lam = sqrt(nn);
        for (int a = 0; a < D; a++) pv[a] /= lam;
    }
    *lam_max = lam;
    free(pv), free(pw);
    /* H holds the Cholesky factor R of -H (R R^T); cov = R^-T R^-1: invert R, then S = Rinv^T Rinv */
    double *Ri = calloc((size_t)D * D, sizeof(double));
    for (int j = 0; j < D; j++) {
        Ri[j * D + j] = 1 / H[j * D + j];
        for (int i = j + 1; i < D; i++) {
            double r = 0;
            for (int k = j; k < i; k++) r -= H[i * D + k] * Ri[k * D + j];
            Ri[i * D + j] = r / H[i * D + i];
        }
    }
    for (int a = 0; a < D; a++)
        for (int b = 0; b <= a; b++) {
            double v = 0;
            for (int k = a; k < D; k++) v += Ri[k * D + a] * Ri[k * D + b];
            S[a * D + b] = S[b * D + a] = v;
        }
    free(Ri), free(th), free(eye), free(H), free(gr), free(st);
    nis_ctx_free(c);
}

/* ---- gold standard -------------------------------------------------------------------------------------- */
static void gold_paths(const opts *o, char *npy, char *js, size_t n) {
    snprintf(npy, n, "%s/gold-%s.npy", o->out, o->dataset);
    snprintf(js, n, "%s/gold-%s.json", o->out, o->dataset);
}

static void run_gold(const opts *o) {
    nis_dataset train, test;
    load_dataset(o, &train, &test);
    nis_target *t = make_target(&train, 0, 0, "hier");
    const int D = t->dim, C = o->chains;
    char err[512], npy[1024], js[1024];
    gold_paths(o, npy, js, sizeof npy);
    nis_rng rng = nis_rng_init(12345, 0);
    double t0 = nis_seconds();
    /* pilot: identity mass matrix, adapted step */
    nis_real *x = malloc(sizeof(nis_real) * (size_t)C * D);
    nis_mcmc_init_normal(&rng, x, C, D, 0, 0.1);
    double *mu = malloc(sizeof(double) * D), *S = malloc(sizeof(double) * (size_t)D * D);
    nis_mcmc_stats ps = {0};
    nis_real *pd = NULL;
    double sgld_step = NAN;
    if (D > 200) {
        /* large D: a Laplace approximation instead of a pilot run; chains start at mode + N(0, 0.01 I) */
        double lam;
        laplace(t, mu, S, &lam);
        sgld_step = 1 / (8 * lam);
        for (int c = 0; c < C; c++)
            for (int a = 0; a < D; a++) x[c * D + a] += (nis_real)mu[a];
        ps.step_size = NAN;
        goto precondition;
    }
    nis_hmc_config hc = nis_hmc_defaults();
    int64_t pilot_draws = D > 200 ? 600 : 500;
    hc.warmup = D > 200 ? 400 : 1000;
    hc.steps = pilot_draws;
    hc.n_leapfrog = 20;
    hc.step_size = 0.01;
    hc.jitter = 0.2;
    hc.target_accept = 0.8;
    pd = malloc(sizeof(nis_real) * (size_t)pilot_draws * C * D);
    if (nis_hmc_run(t, &hc, &rng, x, C, pd, &ps, err, sizeof err) != NIS_OK) die("gold pilot: %s%s", err, "");
    fprintf(stderr, "gold %s: pilot %.1f s, step %.4g, accept %.2f, divergences %lld\n", o->dataset, ps.seconds,
            ps.step_size, ps.accept_rate, (long long)ps.divergences);
    /* preconditioner from the second half of the pilot draws */
    int64_t half = pilot_draws / 2, pn = half * C;
    mean_cov(pd + half * C * D, pn, D, mu, S);
    sgld_step = ps.step_size * ps.step_size / 8;
precondition:
    if (!cholesky(S, D)) die("gold %s: pilot covariance not positive definite%s", o->dataset, "");
    nis_real *pmu = malloc(sizeof(nis_real) * D), *pL = malloc(sizeof(nis_real) * (size_t)D * D);
    if (!pmu || !pL) die("gold: out of memory%s%s", "", "");
    for (int a = 0; a < D; a++) pmu[a] = (nis_real)mu[a];
    for (int a = 0; a < D * D; a++) pL[a] = (nis_real)S[a];
    nis_affine_target pc;   /* θ = mu + L u, L the Cholesky factor */
    nis_affine_target_init(&pc, t, pmu, pL);
    /* start the main chains at the last pilot states, in u coordinates: u = L^-1 (x - mu) */
    nis_real *u = malloc(sizeof(nis_real) * (size_t)C * D);
    for (int c = 0; c < C; c++)
        for (int a = 0; a < D; a++) {
            double r = x[c * D + a] - mu[a];
            for (int b = 0; b < a; b++) r -= S[a * D + b] * u[c * D + b];
            u[c * D + a] = (nis_real)(r / S[a * D + a]);
        }
    int64_t draws = o->draws;
    nis_hmc_config mc = nis_hmc_defaults();
    mc.warmup = 300;
    mc.n_leapfrog = o->leapfrog > 0 ? o->leapfrog : 8;
    mc.step_size = 0.5;
    mc.jitter = 0.3;
    mc.target_accept = 0.8;
    nis_real *dr = NULL, *g = NULL;
    double max_rhat = NAN, min_ess = NAN, min_ess_raw = NAN, max_rhat_raw = NAN;
    nis_mcmc_stats ms = {0};
    int rounds = 0;
    for (;;) {
        mc.steps = draws;
        free(dr), free(g);
        dr = malloc(sizeof(nis_real) * (size_t)draws * C * D);
        g = malloc(sizeof(nis_real) * (size_t)draws * C * D);
        if (!dr || !g) die("gold: out of memory%s%s", "", "");
        if (nis_hmc_run(&pc.target, &mc, &rng, u, C, dr, &ms, err, sizeof err) != NIS_OK) die("gold main: %s%s", err, "");
        mc.warmup = 100;   /* later rounds continue from adapted states; re-adapt briefly */
        mc.step_size = ms.step_size;
        /* back to theta, (chains, draws, D) */
        for (int64_t i = 0; i < draws; i++)
            for (int c = 0; c < C; c++) nis_affine_target_to_x(&pc, dr + (i * C + c) * D, 1, g + ((int64_t)c * draws + i) * D);
        nis_convergence_summary(g, C, draws, D, true, &max_rhat, &min_ess);
        nis_convergence_summary(g, C, draws, D, false, &max_rhat_raw, &min_ess_raw);
        fprintf(stderr, "gold %s: %lld draws x %d chains, step %.3g, accept %.2f, max R-hat %.4f, min ESS %.0f (%.1f s)\n",
                o->dataset, (long long)draws, C, ms.step_size, ms.accept_rate, max_rhat, min_ess,
                nis_seconds() - t0);
        if ((max_rhat < 1.01 && min_ess >= 400) || ++rounds >= 3) break;
        draws *= 2;
    }
    double secs = nis_seconds() - t0;
    if (nis_npy_write(npy, NIS_DT_F32, 3, (int64_t[]){C, draws, D}, g, err, sizeof err) != NIS_OK) die("%s%s", err, "");
    /* the gold standard's own predictive accuracy, on at most 4000 of its draws */
    int64_t total = (int64_t)C * draws, np = total < 4000 ? total : 4000;
    nis_real *sub = malloc(sizeof(nis_real) * (size_t)np * D);
    for (int64_t i = 0; i < np; i++) memcpy(sub + i * D, g + (i * total / np) * D, sizeof(nis_real) * D);
    double acc, ll;
    if (nis_blr_predict(&test, sub, np, D, &acc, &ll) != NIS_OK) die("gold predict failed%s%s", "", "");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "dataset", o->dataset);
    cJSON_AddNumberToObject(j, "D", D);
    cJSON_AddNumberToObject(j, "n_train", (double)train.n);
    cJSON_AddNumberToObject(j, "n_test", (double)test.n);
    cJSON_AddNumberToObject(j, "chains", C);
    cJSON_AddNumberToObject(j, "draws", (double)draws);
    cJSON_AddNumberToObject(j, "leapfrog", mc.n_leapfrog);
    cJSON_AddNumberToObject(j, "step_size", ms.step_size);
    cJSON_AddNumberToObject(j, "accept", ms.accept_rate);
    cJSON_AddNumberToObject(j, "divergences", (double)ms.divergences);
    cJSON_AddNumberToObject(j, "pilot_step_size", ps.step_size);
    cJSON_AddNumberToObject(j, "sgld_step", sgld_step);
    cJSON_AddNumberToObject(j, "max_rhat", max_rhat);
    cJSON_AddNumberToObject(j, "min_ess", min_ess);
    cJSON_AddNumberToObject(j, "max_rhat_classic", max_rhat_raw);
    cJSON_AddNumberToObject(j, "min_ess_classic", min_ess_raw);
    cJSON_AddNumberToObject(j, "seconds", secs);
    cJSON_AddNumberToObject(j, "acc", acc);
    cJSON_AddNumberToObject(j, "ll", ll);
    write_json(js, j);
    fprintf(stderr, "gold %s: acc %.4f, ll %.4f, %.1f s -> %s\n", o->dataset, acc, ll, secs, npy);
    free(x), free(pd), free(mu), free(S), free(pmu), free(pL), free(u), free(dr), free(g), free(sub);
    nis_blr_target_free(t);
    nis_dataset_free(&train), nis_dataset_free(&test);
}

/* n draws of θ = [w, log α] (float32, (n, D)) into the sampler's coordinates, dst (n, D): unchanged, or with nc the
 * non-centred [v, log α], v = w √α. */
static void theta_to_sampler(const float *src, int64_t n, int D, bool nc, nis_real *dst) {
    for (int64_t r = 0; r < n; r++) {
        double sc = nc ? exp(0.5 * src[r * D + D - 1]) : 1;
        for (int j = 0; j < D; j++) dst[r * D + j] = (nis_real)(j < D - 1 ? src[r * D + j] * sc : src[r * D + j]);
    }
}

/* ---- one method ----------------------------------------------------------------------------------------- */
static void run_method(const opts *o) {
    if (!o->method) die("--method is required%s%s", "", "");
    char err[512], npy[1024], js[1024], res[1024];
    gold_paths(o, npy, js, sizeof npy);
    cJSON *gj = read_json(js);
    nis_npy_array ga;
    if (!gj || nis_npy_read_as(npy, NIS_DT_F32, &ga, err, sizeof err) != NIS_OK)
        die("no gold standard for %s (run blr_run gold first)%s", o->dataset, "");
    snprintf(res, sizeof res, "%s/%s", o->out, o->dataset);   /* the result's directory, before any work */
    if (mkdir(res, 0777) != 0 && errno != EEXIST) die("cannot create directory '%s': %s", res, strerror(errno));
    nis_dataset train, test;
    load_dataset(o, &train, &test);
    const int64_t mb = o->minibatch;
    const bool neural = !strcmp(o->method, "dft") || !strcmp(o->method, "kl");
    nis_target *t = make_target(&train, !strcmp(o->method, "sgld") && mb == 0 ? 32 : mb, o->seed + 1000,
                                neural ? o->prior : "hier");
    const bool nc = neural && !strcmp(o->prior, "hier-nc"), marg = neural && !strcmp(o->prior, "hier-marg");
    const int Dt = t->dim, D = marg ? Dt + 1 : Dt;   /* the sampler's dimension, θ's */
    if (ga.ndim != 3 || ga.shape[2] != D) die("gold standard of %s has the wrong shape%s", o->dataset, "");
    const int64_t gm = ga.shape[0] * ga.shape[1];
    nis_rng rng = nis_rng_init(o->seed, 7);
    int64_t ns = 2000;
    nis_real *xs = NULL;
    double train_s = 0, per1000 = 0, t0 = nis_seconds(), c0 = cpu_now(), train_cpu = 0;
    cJSON *extra = cJSON_CreateObject();
    const char *m = o->method;
    if (!strcmp(m, "dft") || !strcmp(m, "kl")) {
        nis_train_config cfg = nis_train_config_default(!strcmp(m, "dft") ? NIS_METHOD_DFT : NIS_METHOD_KL);
        cfg.iters = o->iters;
        cfg.batch = o->batch;
        cfg.latent = o->latent > 0 ? o->latent : Dt;
        int w = o->width > 0 ? o->width : (D > 200 ? 1024 : 128);
        cfg.width = cfg.score_width = w;
        if (o->score_width > 0) cfg.score_width = o->score_width;
        cfg.depth = cfg.score_depth = o->depth;
        cfg.score_steps = o->score_steps;
        cfg.sigma = o->sigma;
        cfg.lr = o->lr_sampler;
        cfg.lr_score = o->lr_score;
        cfg.lr_final = o->lr_final;
        cfg.ema = o->ema;
        if (o->init_scale >= 0) cfg.init_scale = o->init_scale;
        if (o->noisy >= 0) cfg.noisy_output = o->noisy;
        cfg.score_model = o->score_residual ? NIS_SCORE_RESIDUAL : NIS_SCORE_PLAIN;
        cfg.init_at_mode = false;   /* the start is --init-mode's */
        cfg.seed = (int64_t)o->seed;
        nis_train_start start = {0};
        cfg.score_warmup = o->score_warmup;
        nis_real *mode = NULL;
        if (o->init_mode == 2 && !marg) {   /* diagnostic: around the gold standard's mean, in the target's coordinates */
            mode = calloc((size_t)Dt, sizeof(nis_real));
            nis_real *y = malloc(sizeof(nis_real) * D);
            if (!mode || !y) die("out of memory%s%s", "", "");
            for (int64_t r = 0; r < gm; r++) {
                theta_to_sampler((const float *)ga.data + r * D, 1, D, nc, y);
                for (int j = 0; j < D; j++) mode[j] += (nis_real)(y[j] / (double)gm);
            }
            free(y);
            start.mean = mode;
        } else if (o->init_mode) {
            mode = malloc(sizeof(nis_real) * Dt);
            if (!mode || nis_blr_mode(t, mode, err, sizeof err) != NIS_OK) die("mode: %s%s", err, "");
            start.mean = mode;
        }
        /* --precond: the trainer works in u, θ' = m + L u (θ' = the target's coordinates, m and L L^T the draws'
         * mean and covariance there, nis_affine_fit), and maps its samples back */
        nis_real *pm = NULL, *pL = NULL;
        if (o->precond) {
            if (marg) die("--precond needs --prior hier or hier-nc%s%s", "", "");
            nis_npy_array dr = {0};
            const float *src = (const float *)ga.data;
            int64_t pn = gm;
            if (strcmp(o->precond, "gold")) {
                if (nis_npy_read_as(o->precond, NIS_DT_F32, &dr, err, sizeof err) != NIS_OK) die("%s%s", err, "");
                if (dr.ndim != 2 || dr.shape[1] != D) die("%s: want (n, D) draws of θ%s", o->precond, "");
                src = (const float *)dr.data, pn = dr.shape[0];
            }
            nis_real *y = malloc(sizeof(nis_real) * (size_t)pn * D);
            pm = malloc(sizeof(nis_real) * D), pL = malloc(sizeof(nis_real) * (size_t)D * D);
            if (!y || !pm || !pL) die("out of memory%s%s", "", "");
            theta_to_sampler(src, pn, D, nc, y);
            if (nis_affine_fit(y, pn, D, pm, pL, err, sizeof err) != NIS_OK) die("--precond: %s%s", err, "");
            free(y);
            nis_npy_free(&dr);
            start.precond_mean = pm, start.precond_L = pL;
            start.mean = NULL;   /* u = 0 is the draws' mean */
        }
        nis_trainer *tr = nis_trainer_new(t, &cfg, &start, err, sizeof err);   /* (it copies the preconditioner) */
        free(mode), free(pm), free(pL);
        if (!tr) die("%s%s", err, "");
        nis_train_stats st = {0};
        for (int64_t i = 0; i < cfg.iters; i++) {
            nis_status s = nis_trainer_step(tr, &st);
            if (s != NIS_OK) die("%s: %s", m, nis_trainer_message(tr));
            /* --time-budget caps training */
            if (o->time_budget > 0 && nis_seconds() - t0 >= o->time_budget) break;
            if ((i + 1) % 500 == 0)
                fprintf(stderr, "%s %s s%llu: iter %lld loss %.4g score loss %.4g (%.0f s)\n", o->dataset, m,
                        (unsigned long long)o->seed, (long long)(i + 1), st.sampler_loss, st.score_loss,
                        nis_seconds() - t0);
        }
        train_s = nis_seconds() - t0, train_cpu = cpu_now() - c0;
        xs = malloc(sizeof(nis_real) * (size_t)ns * D);
        nis_rng sr = nis_rng_init(o->seed, 8);   /* the bench's own stream */
        double t1 = nis_seconds();
        if (nis_trainer_sample(tr, &sr, 1000, cfg.noisy_output, xs) != NIS_OK) die("sample failed%s%s", "", "");
        per1000 = nis_seconds() - t1;
        if (nis_trainer_sample(tr, &sr, ns, cfg.noisy_output, xs) != NIS_OK) die("sample failed%s%s", "", "");
        if (nc) nis_blr_nc_to_theta(xs, ns, D);   /* [v, log α] -> θ = [w, log α] */
        if (marg && nis_blr_marg_to_theta(t, xs, ns, &sr, xs) != NIS_OK) die("log alpha draws failed%s%s", "", "");
        cJSON_AddStringToObject(extra, "prior", o->prior);
        cJSON_AddNumberToObject(extra, "init_mode", o->init_mode);
        cJSON_AddNumberToObject(extra, "score_warmup", (double)o->score_warmup);
        cJSON_AddNumberToObject(extra, "final_loss", st.sampler_loss);
        cJSON_AddNumberToObject(extra, "width", w);
        cJSON_AddNumberToObject(extra, "score_width", cfg.score_width);
        cJSON_AddNumberToObject(extra, "latent", cfg.latent);
        cJSON_AddNumberToObject(extra, "iters", (double)st.iter);
        cJSON_AddNumberToObject(extra, "sigma", cfg.sigma);
        cJSON_AddNumberToObject(extra, "noisy", cfg.noisy_output);
        cJSON_AddNumberToObject(extra, "lr_sampler", cfg.lr);
        cJSON_AddNumberToObject(extra, "lr_score", cfg.lr_score);
        cJSON_AddNumberToObject(extra, "lr_final", cfg.lr_final);
        cJSON_AddNumberToObject(extra, "ema", cfg.ema);
        cJSON_AddNumberToObject(extra, "score_steps", cfg.score_steps);
        cJSON_AddNumberToObject(extra, "init_scale", cfg.init_scale);
        cJSON_AddNumberToObject(extra, "target_grad_evals", (double)st.target_evals);
        nis_trainer_free(tr);
    } else if (!strcmp(m, "svgd") || !strcmp(m, "sgld")) {
        bool svgd = !strcmp(m, "svgd");
        ns = svgd ? o->particles : 1000;
        xs = malloc(sizeof(nis_real) * (size_t)ns * D);
        nis_mcmc_init_normal(&rng, xs, ns, D, 0, svgd ? 1.0 : 0.1);
        if (svgd) for (int64_t i = 0; i < ns; i++) xs[i * D + D - 1] = 0;   /* log alpha = 0 */
        int64_t steps = o->steps > 0 ? o->steps : (svgd ? 2000 : 3000), chunk = o->time_budget > 0 ? 100 : steps;
        double h = o->step > 0 ? o->step : (svgd ? 0.05 : jnum(gj, "sgld_step"));
        if (!(h > 0)) die("no SGLD step size in the gold standard's json (give --step)%s%s", "", "");
        int64_t done = 0;
        while (done < steps || (o->time_budget > 0 && nis_seconds() - t0 < o->time_budget)) {
            nis_mcmc_stats st;
            if (svgd) {
                nis_svgd_config c = nis_svgd_defaults();
                c.steps = chunk, c.step_size = h;
                if (nis_svgd_run(t, &c, xs, ns, &st, err, sizeof err) != NIS_OK) die("svgd: %s%s", err, "");
            } else {
                nis_ula_config c = {.steps = chunk, .step_size = h};
                if (nis_ula_run(t, &c, &rng, xs, ns, &st, err, sizeof err) != NIS_OK) die("sgld: %s%s", err, "");
            }
            done += chunk;
            if (o->time_budget > 0 && done >= steps && nis_seconds() - t0 >= o->time_budget) break;
            if (o->time_budget > 0 && done >= 100000000) break;
        }
        train_s = nis_seconds() - t0, train_cpu = cpu_now() - c0;
        per1000 = train_s * 1000.0 / (double)ns;
        cJSON_AddNumberToObject(extra, "steps", (double)done);
        cJSON_AddNumberToObject(extra, "step_size", h);
        cJSON_AddNumberToObject(extra, "minibatch", svgd ? (double)mb : (double)(mb ? mb : 32));
    } else if (!strcmp(m, "hmc")) {
        int C = 10;
        int64_t draws = o->steps > 0 ? o->steps : 100;
        ns = C * draws;
        nis_real *x = malloc(sizeof(nis_real) * (size_t)C * D);
        nis_mcmc_init_normal(&rng, x, C, D, 0, 0.1);
        xs = malloc(sizeof(nis_real) * (size_t)ns * D);
        nis_hmc_config c = nis_hmc_defaults();
        c.warmup = 300, c.steps = draws, c.n_leapfrog = o->leapfrog > 0 ? o->leapfrog : 10, c.jitter = 0.2;
        c.step_size = 0.01;
        nis_mcmc_stats st;
        if (nis_hmc_run(t, &c, &rng, x, C, xs, &st, err, sizeof err) != NIS_OK) die("hmc: %s%s", err, "");
        train_s = nis_seconds() - t0, train_cpu = cpu_now() - c0;
        per1000 = train_s * 1000.0 / (double)ns;
        cJSON_AddNumberToObject(extra, "step_size", st.step_size);
        cJSON_AddNumberToObject(extra, "accept", st.accept_rate);
        cJSON_AddNumberToObject(extra, "draws_per_chain", (double)draws);
        free(x);
    } else {
        die("unknown method '%s'%s", m, "");
    }
    double acc = NAN, ll = NAN;
    nis_posterior_cmp pcmp;
    memset(&pcmp, 0, sizeof pcmp);
    pcmp.mean_err_avg = pcmp.mean_err_max = pcmp.sd_err_avg = pcmp.sd_err_max = pcmp.ed = NAN;
    int nonfinite = 0;
    for (int64_t i = 0; i < ns * D; i++) nonfinite += !isfinite(xs[i]);
    if (!nonfinite) {
        nis_blr_predict(&test, xs, ns, D, &acc, &ll);
        nis_posterior_compare(xs, ns, ga.data, gm, D, D < 5 ? D : 5, 2000, &pcmp);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "dataset", o->dataset);
    cJSON_AddStringToObject(j, "method", m);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "D", D);
    cJSON_AddNumberToObject(j, "n_samples", (double)ns);
    cJSON_AddNumberToObject(j, "nonfinite", nonfinite);
    cJSON_AddNumberToObject(j, "acc", acc);
    cJSON_AddNumberToObject(j, "ll", ll);
    cJSON_AddNumberToObject(j, "mean_err_avg", pcmp.mean_err_avg);
    cJSON_AddNumberToObject(j, "mean_err_max", pcmp.mean_err_max);
    cJSON_AddNumberToObject(j, "mean_err_argmax", pcmp.mean_err_argmax);
    cJSON_AddNumberToObject(j, "sd_err_avg", pcmp.sd_err_avg);
    cJSON_AddNumberToObject(j, "sd_err_max", pcmp.sd_err_max);
    cJSON_AddNumberToObject(j, "sd_err_argmax", pcmp.sd_err_argmax);
    cJSON_AddNumberToObject(j, "ed5", pcmp.ed);
    cJSON_AddNumberToObject(j, "train_s", train_s);
    cJSON_AddNumberToObject(j, "per1000_s", per1000);
    cJSON_AddNumberToObject(j, "train_cpu_s", train_cpu);
    cJSON_AddNumberToObject(j, "gold_acc", jnum(gj, "acc"));
    cJSON_AddItemToObject(j, "extra", extra);
    /* the samples first: a long run's output survives a json path that cannot be written */
    if (o->save && nis_npy_write(o->save, NIS_DT_REAL, 2, (int64_t[]){ns, D}, xs, err, sizeof err) != NIS_OK)
        die("%s%s", err, "");
    snprintf(res, sizeof res, "%s/%s/%s%s%s_s%llu.json", o->out, o->dataset, m, o->tag ? "_" : "", o->tag ? o->tag : "",
             (unsigned long long)o->seed);
    write_json(res, j);
    fprintf(stderr, "%s %s s%llu: acc %.4f (gold %.4f) ll %.4f mean err %.3f / %.3f sd err %.3f / %.3f ED %.4f, %.1f s\n",
            o->dataset, m, (unsigned long long)o->seed, acc, jnum(gj, "acc"), ll, pcmp.mean_err_avg,
            pcmp.mean_err_max, pcmp.sd_err_avg, pcmp.sd_err_max, pcmp.ed, train_s);
    free(xs);
    cJSON_Delete(gj);
    nis_npy_free(&ga);
    nis_blr_target_free(t);
    nis_dataset_free(&train), nis_dataset_free(&test);
}

/* ---- Covertype-shaped speed ----------------------------------------------------------------------------- */
static void run_speed(const opts *o) {
    char err[512], path[1024];
    double t0 = nis_seconds();
    nis_dataset all, train, test;
    if (nis_dataset_synthetic_logistic(581012, 54, 3.0, 0, &all, NULL) != NIS_OK) die("synthetic data failed%s%s", "", "");
    double t_gen = nis_seconds() - t0;
    t0 = nis_seconds();
    if (nis_data_prepare(&all, 0.2, 0, &train, &test, err, sizeof err) != NIS_OK) die("%s%s", err, "");
    double t_prep = nis_seconds() - t0;
    nis_target *full = make_target(&train, 0, 0, "hier"), *mini = make_target(&train, 100, 0, "hier");
    const int D = full->dim;
    nis_ctx *c = nis_ctx_new(0);
    nis_rng rng = nis_rng_init(0, 0);
    nis_real *th = malloc(sizeof(nis_real) * 256 * D);
    nis_rng_fill_normal(&rng, th, 256 * D, 0, 0.1);
    double tf = nis_seconds(), cf = cpu_now();
    int reps = 3;
    for (int r = 0; r < reps; r++) {
        nis_tensor *x = nis_tensor_wrap(c, 2, (int64_t[]){256, D}, th);
        if (!nis_target_score(c, full, x, false)) die("score failed%s%s", "", "");
        nis_ctx_reset(c);
    }
    double t_full = (nis_seconds() - tf) / reps, c_full = (cpu_now() - cf) / reps;
    tf = nis_seconds(), cf = cpu_now();
    for (int r = 0; r < 100; r++) {
        nis_tensor *x = nis_tensor_wrap(c, 2, (int64_t[]){256, D}, th);
        if (!nis_target_score(c, mini, x, false)) die("score failed%s%s", "", "");
        nis_ctx_reset(c);
    }
    double t_mini = (nis_seconds() - tf) / 100, c_mini = (cpu_now() - cf) / 100;
    nis_train_config cfg = nis_train_config_default(NIS_METHOD_DFT);
    cfg.latent = D, cfg.width = cfg.score_width = 256, cfg.init_steps = 0, cfg.init_scale = 0;
    nis_trainer *tr = nis_trainer_new(mini, &cfg, NULL, err, sizeof err);
    if (!tr) die("%s%s", err, "");
    nis_train_stats st;
    nis_trainer_step(tr, &st);
    tf = nis_seconds(), cf = cpu_now();
    for (int r = 0; r < 20; r++)
        if (nis_trainer_step(tr, &st) != NIS_OK) die("%s%s", nis_trainer_message(tr), "");
    double t_step = (nis_seconds() - tf) / 20, c_step = (cpu_now() - cf) / 20;
    nis_trainer_free(tr);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n_train", (double)train.n);
    cJSON_AddNumberToObject(j, "D", D);
    cJSON_AddNumberToObject(j, "generate_s", t_gen);
    cJSON_AddNumberToObject(j, "prepare_s", t_prep);
    cJSON_AddNumberToObject(j, "score_full_batch256_s", t_full);
    cJSON_AddNumberToObject(j, "score_minibatch100_batch256_s", t_mini);
    cJSON_AddNumberToObject(j, "dft_step_minibatch100_s", t_step);
    cJSON_AddNumberToObject(j, "threads", nis_threads());
    cJSON_AddNumberToObject(j, "cpu_score_full_batch256_s", c_full);
    cJSON_AddNumberToObject(j, "cpu_score_minibatch100_batch256_s", c_mini);
    cJSON_AddNumberToObject(j, "cpu_dft_step_minibatch100_s", c_step);
    snprintf(path, sizeof path, "%s/speed.json", o->out);
    write_json(path, j);
    fprintf(stderr, "speed: generate %.2f s, prepare %.2f s, full-batch score (256 x %d on %lld rows) %.3f s, "
            "minibatch-100 score %.5f s, DFT step (minibatch 100, batch 256, width 256) %.4f s (CPU %.3f, %.5f, %.4f s)\n",
            t_gen, t_prep, D, (long long)train.n, t_full, t_mini, t_step, c_full, c_mini, c_step);
    free(th);
    nis_ctx_free(c);
    nis_blr_target_free(full), nis_blr_target_free(mini);
    nis_dataset_free(&all), nis_dataset_free(&train), nis_dataset_free(&test);
}

/* Posterior predictive p_i = mean_s sigmoid(w_s·x_i) of n samples (n, D) on row i of data. */
static double row_pred(const nis_dataset *data, int64_t i, const nis_real *th, int64_t n, int D, double *se) {
    double p = 0, p2 = 0;
    for (int64_t s = 0; s < n; s++) {
        double z = 0;
        for (int64_t j = 0; j < data->d; j++) z += (double)th[s * D + j] * (double)data->X[i * data->d + j];
        const double ps = 1 / (1 + exp(-z));
        p += ps, p2 += ps * ps;
    }
    p /= (double)n;
    /* Monte Carlo standard error of the average (draws taken as independent) */
    if (se) *se = n > 1 ? sqrt(fmax(p2 / (double)n - p * p, 0) / (double)(n - 1)) : 0;
    return p;
}

/* The test rows near the decision boundary: gold p_i in [0.3, 0.7] (and the p_i of the samples in --save), each
   with its Monte Carlo standard error. */
static void run_pred(const opts *o) {
    char err[512], npy[1024], js[1024];
    gold_paths(o, npy, js, sizeof npy);
    nis_npy_array ga, sa = {0};
    if (nis_npy_read_as(npy, NIS_DT_F32, &ga, err, sizeof err) != NIS_OK) die("%s%s", err, "");
    if (o->save && nis_npy_read_as(o->save, NIS_DT_F32, &sa, err, sizeof err) != NIS_OK) die("%s%s", err, "");
    nis_dataset train, test;
    load_dataset(o, &train, &test);
    const int D = (int)ga.shape[ga.ndim - 1];
    const int64_t gn = ga.n / D;
    if (sa.data && (sa.ndim != 2 || sa.shape[1] != D)) die("%s: samples must be (n, D) with D = gold standard%s", o->save, "'s");
    printf("row label gold_p gold_se%s\n", sa.data ? " samples_p samples_se" : "");
    for (int64_t i = 0; i < test.n; i++) {
        double se, pg = row_pred(&test, i, ga.data, gn, D, &se);
        if (pg < 0.3 || pg > 0.7) continue;
        printf("%lld %g %.4f %.4f", (long long)i, (double)test.y[i], pg, se);
        if (sa.data) {
            const double ps = row_pred(&test, i, sa.data, sa.shape[0], D, &se);
            printf(" %.4f %.4f", ps, se);
        }
        printf("\n");
    }
    nis_npy_free(&ga), nis_npy_free(&sa);
    nis_dataset_free(&train), nis_dataset_free(&test);
}

static void run_fit(const opts *o) {
    nis_dataset train, test;
    load_dataset(o, &train, &test);
    nis_target *t = make_target(&train, 0, 0, "hier-nc");
    const int64_t D = t->dim, n = 4000;
    char err[512];
    nis_real *m = malloc(sizeof(nis_real) * (size_t)(D + D * D)), *L = m ? m + D : NULL;
    nis_real *x = malloc(sizeof(nis_real) * (size_t)(n * D));
    if (!m || !x) die("out of memory%s%s", "", "");
    double t0 = nis_seconds();
    if (nis_whiten_hmc(t, (uint64_t)o->seed, m, L, err, sizeof err) != NIS_OK) die("%s%s", err, "");
    double secs = nis_seconds() - t0;
    nis_rng g = nis_rng_init((uint64_t)o->seed, NIS_STREAM_SAMPLE);
    nis_real *z = malloc(sizeof(nis_real) * (size_t)(n * D));
    if (!z) die("out of memory%s%s", "", "");
    nis_mcmc_init_normal(&g, z, n, (int)D, 0, 1);
    nis_affine_target fit;   /* x = m + L z */
    nis_affine_target_init(&fit, t, m, L);
    nis_affine_target_to_x(&fit, z, n, x);
    free(z);
    nis_blr_nc_to_theta(x, n, (int)D);
    printf("fit %s seed %lld: %.2f s (%d threads)\n", o->dataset, (long long)o->seed, secs, nis_threads());
    if (o->save && nis_npy_write(o->save, sizeof(nis_real) == 4 ? NIS_DT_F32 : NIS_DT_F64, 2, (int64_t[]){n, D}, x, err,
                                 sizeof err) != NIS_OK)
        die("%s%s", err, "");
    free(m), free(x);
    nis_blr_target_free(t);
    nis_dataset_free(&train), nis_dataset_free(&test);
}

int main(int argc, char **argv) {
    opts o;
    parse(argc, argv, &o);
    if (!strcmp(o.mode, "gold")) run_gold(&o);
    else if (!strcmp(o.mode, "run")) run_method(&o);
    else if (!strcmp(o.mode, "speed")) run_speed(&o);
    else if (!strcmp(o.mode, "pred")) run_pred(&o);
    else if (!strcmp(o.mode, "fit")) run_fit(&o);
    else die("unknown mode '%s' (gold, run, speed, pred, fit)%s", o.mode, "");
    return 0;
}
