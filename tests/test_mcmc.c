/* MCMC baselines: ULA's known O(h) bias on N(0, I), MALA's acceptance and exactness, HMC's warm-up and
 * moments (also on a correlated Gaussian), SVGD moving a shifted cloud, NaN handling, flat memory,
 * determinism across thread counts.  Every sampler starts away from the target so that a sampler that
 * does not move fails the moment checks. */
#include "check.h"
#include "nis/mcmc.h"
#include "nis/metrics.h"
#include "nis/ops.h"

#include <string.h>

/* mean and variance of coordinate k of x (n, d), and the covariance of coordinates 0 and 1 */
typedef struct {
    double mean[2], var[2], cov;
} moments;

static moments moments_of(const nis_real *x, int64_t n, int d) {
    moments m = {{0, 0}, {0, 0}, 0};
    for (int k = 0; k < 2; k++) {
        for (int64_t i = 0; i < n; i++) m.mean[k] += x[i * d + k];
        m.mean[k] /= (double)n;
    }
    for (int64_t i = 0; i < n; i++) {
        double a = x[i * d] - m.mean[0], b = x[i * d + 1] - m.mean[1];
        m.var[0] += a * a, m.var[1] += b * b, m.cov += a * b;
    }
    m.var[0] /= (double)(n - 1), m.var[1] /= (double)(n - 1), m.cov /= (double)(n - 1);
    return m;
}

/* Shifted start: x0 ~ N(mu, sd^2) in every coordinate. */
static void start(nis_real *x, int64_t n, double mu, double sd, uint64_t seed) {
    nis_rng r = nis_rng_init(seed, 99);
    nis_mcmc_init_normal(&r, x, n, 2, mu, sd);
}

/* ---- a correlated Gaussian: log q = -x^T P x / 2, P = Sigma^-1, Sigma = [[1, rho], [rho, 1]] ---- */
#define RHO 0.9
static nis_real corr_prec[4];
static nis_tensor *corr_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    nis_tensor *P = nis_tensor_from(c, 2, (int64_t[]){2, 2}, (const nis_real *)t->data);
    nis_tensor *xp = nis_matmul(c, x, P, false, false);
    return nis_mul_scalar(c, nis_sum_axis(c, nis_mul(c, xp, x), 1, false), -0.5);
}
static const nis_target corr_target = {.name = "corr", .dim = 2, .log_prob = corr_lp, .data = corr_prec};

/* ---- NaN beyond x0 = 1: log q = -|x - (3, 0)|^2 / 2 + 0 * sqrt(1 - x0) (a N((3, 0), I) that turns NaN,
 * value and score, as soon as x0 > 1; chains started at x0 = -2 must walk into it) ---- */
static nis_tensor *nan_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;
    nis_tensor *sh = nis_tensor_from(c, 1, (int64_t[]){2}, (const nis_real[]){3, 0});
    nis_tensor *g = nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, nis_sub(c, x, sh)), 1, false), -0.5);
    nis_tensor *x0 = nis_reshape(c, nis_slice(c, x, 1, 0, 1), 1, (int64_t[]){x->shape[0]});
    return nis_add(c, g, nis_mul_scalar(c, nis_sqrt(c, nis_rsub_scalar(c, x0, 1.0)), 0.0));
}
static const nis_target nan_target = {.name = "nan_beyond_1", .dim = 2, .log_prob = nan_lp};

#define NMAX 20000
static nis_real X[NMAX * 2], Y[NMAX * 2], S[NMAX * 2];
static nis_real DRAWS[100 * 2000 * 2];
static char err[256];

static void test_ula(const nis_target *gauss) {
    /* stationary variance of x' = (1 - h) x + sqrt(2h) z is 1 / (1 - h/2); 20000 chains x 2 coordinates */
    const int64_t n = 20000;
    const double h = 0.1, v_ula = 1 / (1 - h / 2);
    nis_ula_config cfg = nis_ula_defaults();
    cfg.steps = 80, cfg.step_size = h;
    nis_rng rng = nis_rng_init(1, 0);
    nis_mcmc_stats st;
    start(X, n, 1.0, 0.5, 1);
    nis_status s = nis_ula_run(gauss, &cfg, &rng, X, n, &st, err, sizeof err);
    CHECK(s == NIS_OK, "ula: %s", err);
    moments m = moments_of(X, n, 2);
    double var = (m.var[0] + m.var[1]) / 2, se_var = v_ula * sqrt(2.0 / (2 * n)), se_mean = sqrt(v_ula / n);
    printf("ula h=%.2f: mean (%.4f, %.4f) var %.4f (theory %.4f, se %.4f), %lld score evals, %.3f s\n", h,
           m.mean[0], m.mean[1], var, v_ula, se_var, (long long)st.grad_evals, st.seconds);
    CHECK(fabs(m.mean[0]) < 4 * se_mean && fabs(m.mean[1]) < 4 * se_mean, "ula mean");
    CHECK(fabs(var - v_ula) < 4 * se_var, "ula variance %.4f vs 1/(1 - h/2) = %.4f", var, v_ula);
    CHECK(fabs(var - 1) > 4 * se_var, "ula's bias is resolved by the test (%.4f)", var);
    CHECK(st.grad_evals == 80 && st.logq_evals == 0 && st.steps == 80, "ula eval count");

    /* same seed, same result; a second run from the advanced rng differs */
    start(Y, 1000, 1.0, 0.5, 1);
    memcpy(S, Y, sizeof(nis_real) * 2000);
    nis_rng r1 = nis_rng_init(7, 0), r2 = nis_rng_init(7, 0);
    cfg.steps = 10;
    nis_ula_run(gauss, &cfg, &r1, Y, 1000, NULL, NULL, 0);
    nis_ula_run(gauss, &cfg, &r2, S, 1000, NULL, NULL, 0);
    CHECK(memcmp(Y, S, sizeof(nis_real) * 2000) == 0, "ula not deterministic");
    nis_ula_run(gauss, &cfg, &r1, Y, 1000, NULL, NULL, 0);
    CHECK(memcmp(Y, S, sizeof(nis_real) * 2000) != 0, "a second run repeated the first's noise");
}

static void test_mala(const nis_target *gauss, const nis_target *mog2) {
    nis_mala_config cfg = nis_mala_defaults();
    nis_mcmc_stats st;
    const int64_t n = 4000;
    /* acceptance near 1 for a tiny h, falling as h grows */
    const double hs[] = {0.001, 0.1, 0.5, 1.0, 1.5};
    double prev = 2;
    for (int i = 0; i < 5; i++) {
        cfg.steps = 50, cfg.step_size = hs[i];
        nis_rng rng = nis_rng_init(2, (uint64_t)i);
        start(X, n, 0.0, 1.0, 2);
        nis_status s = nis_mala_run(gauss, &cfg, &rng, X, n, NULL, &st, err, sizeof err);
        CHECK(s == NIS_OK, "mala: %s", err);
        printf("mala h=%.3f: acceptance %.4f\n", hs[i], st.accept_rate);
        CHECK(st.accept_rate < prev, "acceptance must fall with h (%.4f after %.4f)", st.accept_rate, prev);
        if (i == 0) CHECK(st.accept_rate > 0.995, "tiny-h acceptance %.4f", st.accept_rate);
        prev = st.accept_rate;
    }
    CHECK(st.grad_evals == 51 && st.logq_evals == 51, "mala eval count %lld %lld", (long long)st.grad_evals,
          (long long)st.logq_evals);

    /* h = 1: ULA's stationary variance would be 1/(1 - 1/2) = 2; MALA's is 1 */
    cfg.steps = 200, cfg.step_size = 1.0;
    nis_rng rng = nis_rng_init(3, 0);
    start(X, n, 1.5, 0.5, 3);
    nis_status s = nis_mala_run(gauss, &cfg, &rng, X, n, NULL, &st, err, sizeof err);
    CHECK(s == NIS_OK, "mala: %s", err);
    moments m = moments_of(X, n, 2);
    double var = (m.var[0] + m.var[1]) / 2, se_var = sqrt(2.0 / (2 * n)), se_mean = sqrt(1.0 / n);
    printf("mala h=1: mean (%.4f, %.4f) var %.4f (se %.4f; ULA would give 2), acceptance %.3f\n", m.mean[0],
           m.mean[1], var, se_var, st.accept_rate);
    CHECK(fabs(m.mean[0]) < 4 * se_mean && fabs(m.mean[1]) < 4 * se_mean, "mala mean");
    CHECK(fabs(var - 1) < 4 * se_var, "mala variance %.4f", var);

    /* warm-up adapting each chain's own h toward 0.574 */
    cfg = nis_mala_defaults();
    cfg.warmup = 150, cfg.steps = 100, cfg.adapt = NIS_ADAPT_PER_CHAIN, cfg.step_size = 0.01;
    rng = nis_rng_init(31, 0);
    start(X, 1000, 1.5, 0.5, 31);
    s = nis_mala_run(gauss, &cfg, &rng, X, 1000, NULL, &st, err, sizeof err);
    printf("mala gauss per-chain warm-up from h = 0.01: h %.3f [%.3f, %.3f], acceptance %.3f\n", st.step_size,
           st.step_size_min, st.step_size_max, st.accept_rate);
    CHECK(s == NIS_OK && fabs(st.accept_rate - 0.574) < 0.1 && st.step_size_min < st.step_size_max,
          "per-chain adaptation: %.3f", st.accept_rate);

    /* warm-up adapting h toward 0.574 (global), then mog2 against exact samples */
    const int64_t nm = 2000;
    cfg = nis_mala_defaults();
    cfg.warmup = 300, cfg.steps = 300, cfg.thin = 100;
    rng = nis_rng_init(4, 0);
    start(X, nm, 0.0, 1.0, 4);
    s = nis_mala_run(mog2, &cfg, &rng, X, nm, DRAWS, &st, err, sizeof err);
    CHECK(s == NIS_OK, "mala mog2: %s", err);
    CHECK(memcmp(DRAWS + 2 * nm * 2, X, sizeof(nis_real) * 2 * nm) == 0, "last kept draw is the final state");
    nis_rng er = nis_rng_init(5, 0), er2 = nis_rng_init(6, 0);
    mog2->sample(mog2, &er, Y, nm);
    mog2->sample(mog2, &er2, S, nm);
    double ed = nis_energy_distance(X, nm, Y, nm, 2), floor_ed = nis_energy_distance(S, nm, Y, nm, 2);
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *sx = nis_target_score(c, mog2, nis_tensor_from(c, 2, (int64_t[]){1000, 2}, X), false);
    nis_tensor *sy = nis_target_score(c, mog2, nis_tensor_from(c, 2, (int64_t[]){1000, 2}, Y), false);
    CHECK(sx && sy, "mog2 scores");
    double ksd = sx ? nis_ksd_imq(X, sx->data, 1000, 2) : 1, ksd0 = sy ? nis_ksd_imq(Y, sy->data, 1000, 2) : 1;
    nis_ctx_free(c);
    double frac = nis_fraction_positive(X, nm, 2, 0);
    printf("mala mog2: h %.3f, acceptance %.3f (warm-up %.3f), ED %.5f (floor %.5f), KSD %.4f (exact %.4f), "
           "x0 > 0: %.3f\n", st.step_size, st.accept_rate, st.accept_rate_warmup, ed, floor_ed, ksd, ksd0, frac);
    CHECK(fabs(st.accept_rate - 0.574) < 0.1, "adapted acceptance %.3f", st.accept_rate);
    CHECK(ed < 0.02 && ksd < 2 * ksd0 + 0.02, "mog2 ED %.5f KSD %.4f", ed, ksd);
    CHECK(fabs(frac - 0.5) < 0.05, "mode balance %.3f", frac);
}

static void hmc_case(const nis_target *t, nis_adapt_mode adapt, double cov_true, const char *label) {
    const int64_t n = 2000;
    nis_hmc_config cfg = nis_hmc_defaults();
    cfg.warmup = 200, cfg.steps = 200, cfg.thin = 2, cfg.adapt = adapt, cfg.jitter = 0.2;
    nis_rng rng = nis_rng_init(8, 0);
    nis_mcmc_stats st;
    start(X, n, 2.0, 0.5, 8);
    nis_status s = nis_hmc_run(t, &cfg, &rng, X, n, DRAWS, &st, err, sizeof err);
    CHECK(s == NIS_OK, "hmc %s: %s", label, err);
    moments m = moments_of(X, n, 2);
    moments md = moments_of(DRAWS, 100 * n, 2);   /* all 100 kept draws of all chains (correlated) */
    double se_mean = sqrt(1.0 / n), se_var = sqrt(2.0 / n);
    printf("hmc %s: eps %.3f [%.3f, %.3f], acceptance %.3f (warm-up %.3f), final mean (%.3f, %.3f) var (%.3f, "
           "%.3f) cov %.3f (true %.2f); draws var (%.3f, %.3f) cov %.3f; %lld score evals, %.2f s\n",
           label, st.step_size, st.step_size_min, st.step_size_max, st.accept_rate, st.accept_rate_warmup,
           m.mean[0], m.mean[1], m.var[0], m.var[1], m.cov, cov_true, md.var[0], md.var[1], md.cov,
           (long long)st.grad_evals, st.seconds);
    CHECK(fabs(st.accept_rate - 0.65) < 0.1, "hmc %s acceptance %.3f after warm-up", label, st.accept_rate);
    for (int k = 0; k < 2; k++) {
        CHECK(fabs(m.mean[k]) < 4 * se_mean, "hmc %s mean[%d] %.4f", label, k, m.mean[k]);
        CHECK(fabs(m.var[k] - 1) < 4 * se_var, "hmc %s var[%d] %.4f", label, k, m.var[k]);
        CHECK(fabs(md.var[k] - 1) < 0.05, "hmc %s draws var[%d] %.4f", label, k, md.var[k]);
    }
    CHECK(fabs(m.cov - cov_true) < 4 * se_var, "hmc %s cov %.4f", label, m.cov);
    CHECK(st.grad_evals == 1 + 10 * 400 && st.logq_evals == 1 + 10 * 400, "hmc eval counts");
}

/* A step far beyond leapfrog's stability limit (eps = 2 on N(0, I)): trajectories diverge, are rejected and
 * counted, and the run itself succeeds. */
static void test_divergence(const nis_target *gauss) {
    nis_hmc_config cfg = nis_hmc_defaults();
    cfg.warmup = 0, cfg.steps = 20, cfg.step_size = 5.0;
    nis_rng rng = nis_rng_init(13, 0);
    nis_mcmc_stats st;
    start(X, 500, 0.0, 1.0, 13);
    nis_status s = nis_hmc_run(gauss, &cfg, &rng, X, 500, NULL, &st, err, sizeof err);
    printf("hmc eps = 5 on gauss: %s, acceptance %.3f, %lld divergences of %d trajectories\n", nis_status_name(s),
           st.accept_rate, (long long)st.divergences, 20 * 500);
    CHECK(s == NIS_OK && st.divergences > 9000 && st.accept_rate < 0.05, "divergences: %s", err);
}

static void test_svgd(const nis_target *gauss) {
    const int64_t n = 200;
    nis_svgd_config cfg = nis_svgd_defaults();
    cfg.steps = 500;
    nis_mcmc_stats st;
    for (int u = 0; u < 2; u++) {
        cfg.update = u ? NIS_SVGD_ADAGRAD : NIS_SVGD_PLAIN;
        cfg.step_size = u ? 0.05 : 1.0;
        start(X, n, 3.0, 0.5, 9);
        nis_status s = nis_svgd_run(gauss, &cfg, X, n, &st, err, sizeof err);
        CHECK(s == NIS_OK, "svgd: %s", err);
        moments m = moments_of(X, n, 2);
        printf("svgd %s: mean (%.3f, %.3f) var (%.3f, %.3f) bandwidth %.3f, %.3f s\n", u ? "adagrad" : "plain",
               m.mean[0], m.mean[1], m.var[0], m.var[1], st.bandwidth, st.seconds);
        for (int k = 0; k < 2; k++) {
            CHECK(fabs(m.mean[k]) < 0.1, "svgd mean[%d] %.4f", k, m.mean[k]);
            CHECK(fabs(m.var[k] - 1) < 0.2, "svgd var[%d] %.4f", k, m.var[k]);
        }
    }
    /* the same particles with 1 and 2 threads (1100 particles: the threaded loops run) */
    cfg.steps = 5;
    nis_set_threads(1);
    start(X, 1100, 3.0, 0.5, 9);
    nis_svgd_run(gauss, &cfg, X, 1100, NULL, NULL, 0);
    nis_set_threads(2);
    start(Y, 1100, 3.0, 0.5, 9);
    nis_svgd_run(gauss, &cfg, Y, 1100, NULL, NULL, 0);
    nis_set_threads(1);
    CHECK(memcmp(X, Y, sizeof(nis_real) * 1100 * 2) == 0, "svgd depends on the thread count");
}

static void test_nan(void) {
    const int64_t n = 500;
    nis_rng rng = nis_rng_init(10, 0);
    nis_status s;
    nis_ula_config uc = nis_ula_defaults();
    uc.step_size = 0.1;
    start(X, n, -2.0, 0.1, 10);
    s = nis_ula_run(&nan_target, &uc, &rng, X, n, NULL, err, sizeof err);
    printf("nan ula: %s\n", err);
    CHECK(s == NIS_ENUMERIC && strstr(err, "ula:") && strstr(err, "step") && !strstr(err, "step 0"), "%s", err);

    nis_mala_config mc = nis_mala_defaults();
    mc.step_size = 0.1;
    start(X, n, -2.0, 0.1, 10);
    s = nis_mala_run(&nan_target, &mc, &rng, X, n, NULL, NULL, err, sizeof err);
    printf("nan mala: %s\n", err);
    CHECK(s == NIS_ENUMERIC && strstr(err, "mala:") && strstr(err, "step") && !strstr(err, "step 0"), "%s", err);

    /* rejecting instead: the chains stay in the finite region x0 <= 1 */
    mc.reject_nonfinite = true, mc.steps = 300;
    nis_mcmc_stats st;
    start(X, n, -2.0, 0.1, 10);
    s = nis_mala_run(&nan_target, &mc, &rng, X, n, NULL, &st, err, sizeof err);
    double x0max = -1e30;
    for (int64_t i = 0; i < n; i++) x0max = fmax(x0max, X[2 * i]);
    printf("mala rejecting non-finite: %s, %lld rejected, max x0 %.4f\n", nis_status_name(s),
           (long long)st.divergences, x0max);
    CHECK(s == NIS_OK && st.divergences > 0 && x0max <= 1, "reject_nonfinite");

    /* HMC with reject_nonfinite: the NaN region becomes a wall of divergences */
    nis_hmc_config hc = nis_hmc_defaults();
    hc.warmup = 50, hc.steps = 50, hc.reject_nonfinite = true;
    start(X, n, -2.0, 0.1, 10);
    s = nis_hmc_run(&nan_target, &hc, &rng, X, n, NULL, &st, err, sizeof err);
    x0max = -1e30;
    for (int64_t i = 0; i < n; i++) x0max = fmax(x0max, X[2 * i]);
    printf("hmc rejecting non-finite: %s, %lld divergences, max x0 %.4f\n", nis_status_name(s),
           (long long)st.divergences, x0max);
    CHECK(s == NIS_OK && st.divergences > 0 && x0max <= 1, "hmc reject_nonfinite");

    hc = nis_hmc_defaults();
    start(X, n, -2.0, 0.1, 10);
    s = nis_hmc_run(&nan_target, &hc, &rng, X, n, NULL, NULL, err, sizeof err);
    printf("nan hmc: %s\n", err);
    CHECK(s == NIS_ENUMERIC && strstr(err, "hmc:") && strstr(err, "step") && !strstr(err, "step 0"), "%s", err);

    nis_svgd_config sc = nis_svgd_defaults();
    sc.step_size = 0.1;
    start(X, 100, -2.0, 0.1, 10);
    s = nis_svgd_run(&nan_target, &sc, X, 100, NULL, err, sizeof err);
    printf("nan svgd: %s\n", err);
    CHECK(s == NIS_ENUMERIC && strstr(err, "svgd:") && strstr(err, "step") && !strstr(err, "step 0"), "%s", err);

    /* bad arguments */
    uc.step_size = 0;
    CHECK(nis_ula_run(&nan_target, &uc, &rng, X, n, NULL, err, sizeof err) == NIS_EINVAL, "h = 0");
    X[3] = (nis_real)NAN;
    CHECK(nis_svgd_run(&nan_target, &sc, X, 100, NULL, err, sizeof err) == NIS_ENUMERIC &&
              strstr(err, "initial point of chain 1"), "NaN start: %s", err);
}

/* heap allocations of a run do not grow with its number of steps */
static void test_flat_memory(const nis_target *t) {
    nis_hmc_config cfg = nis_hmc_defaults();
    cfg.warmup = 5, cfg.steps = 5;
    uint64_t a0 = nis_alloc_count();
    nis_rng rng = nis_rng_init(11, 0);
    start(X, 1000, 0.0, 1.0, 11);
    nis_hmc_run(t, &cfg, &rng, X, 1000, NULL, NULL, NULL, 0);
    uint64_t a1 = nis_alloc_count();
    cfg.warmup = 50, cfg.steps = 50;
    nis_hmc_run(t, &cfg, &rng, X, 1000, NULL, NULL, NULL, 0);
    uint64_t a2 = nis_alloc_count();
    printf("hmc allocations: %llu for 10 iterations, %llu for 100\n", (unsigned long long)(a1 - a0),
           (unsigned long long)(a2 - a1));
    CHECK(a2 - a1 == a1 - a0, "allocations grow with the steps");

    /* MALA with 5000 chains (threaded loops) gives the same chains with 1 and 2 threads */
    nis_mala_config mc = nis_mala_defaults();
    mc.steps = 20;
    nis_rng r1 = nis_rng_init(12, 0), r2 = nis_rng_init(12, 0);
    start(X, 5000, 0.0, 1.0, 12);
    memcpy(Y, X, sizeof(nis_real) * 10000);
    nis_set_threads(1);
    nis_mala_run(t, &mc, &r1, X, 5000, NULL, NULL, NULL, 0);
    nis_set_threads(2);
    nis_mala_run(t, &mc, &r2, Y, 5000, NULL, NULL, NULL, 0);
    nis_set_threads(1);
    CHECK(memcmp(X, Y, sizeof(nis_real) * 10000) == 0, "mala depends on the thread count");
}

int main(void) {
    nis_set_threads(1);   /* the library's documented default; the thread-count checks switch to 2 and back */
    const nis_target *gauss = nis_target_2d("gauss"), *mog2 = nis_target_2d("mog2");
    corr_prec[0] = corr_prec[3] = (nis_real)(1 / (1 - RHO * RHO));
    corr_prec[1] = corr_prec[2] = (nis_real)(-RHO / (1 - RHO * RHO));
    test_ula(gauss);
    test_mala(gauss, mog2);
    hmc_case(gauss, NIS_ADAPT_GLOBAL, 0.0, "gauss/global");
    hmc_case(&corr_target, NIS_ADAPT_PER_CHAIN, RHO, "corr0.9/per-chain");
    test_divergence(gauss);
    test_svgd(gauss);
    test_nan();
    test_flat_memory(gauss);
    return check_done("test_mcmc");
}
