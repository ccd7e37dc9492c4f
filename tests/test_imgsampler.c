/* Image samplers (conv generator + U-Net-lite score net) on a 64-dimensional Gaussian image target
 * N(μ, s² I), 8x8, whose score is known: DFT and KL gradients reach the generator (finite, non-zero); a few
 * hundred updates move the sample mean towards μ; the EMA follows its recursion; a saved state resumes
 * bit-identically and the generate-only loader reproduces the trainer's samples; damaged files are refused. */
#include "check.h"
#include "nis/imgsampler.h"
#include "nis/io.h"

#include <string.h>
#include <unistd.h>

static nis_imgsampler_config tiny(nis_method m) {
    nis_imgsampler_config c = nis_imgsampler_config_default(m);
    c.img_c = 1, c.img_h = 8, c.img_w = 8;
    c.batch = 32;
    c.latent = 8;
    c.gen_channels = 8;
    c.score_channels = 8;
    c.lr_gen = 3e-3;
    c.lr_score = 3e-3;
    c.score_steps = 1;
    c.sigma = 0.1;
    c.ema_decay = 0.9;
    c.sigmoid_output = false;   /* the Gaussian has mass outside (0, 1); the sigmoid head is covered below */
    c.seed = 5;
    return c;
}

/* RMS distance between the mean of n samples and μ (noisy output, EMA weights if use_ema). */
static double mean_error(nis_imgsampler *s, const nis_target *t, bool use_ema) {
    enum { N = 512, D = 64 };
    static nis_real x[N * D];
    nis_rng g = nis_rng_init(11, 0);
    if (nis_imgsampler_sample(s, &g, N, true, use_ema, x) != NIS_OK) return NAN;
    const nis_real *mu = nis_gauss_image_target_mean(t);
    double e = 0;
    for (int j = 0; j < D; j++) {
        double m = 0;
        for (int i = 0; i < N; i++) m += x[i * D + j];
        m = m / N - mu[j];
        e += m * m;
    }
    return sqrt(e / D);
}

static void test_gradients(const nis_target *t, nis_method m, bool sigmoid, bool resid) {
    nis_imgsampler_config c = tiny(m);
    c.sigmoid_output = sigmoid, c.score_residual = resid;
    char err[256];
    nis_imgsampler *s = nis_imgsampler_new(t, &c, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    if (!s) return;
    nis_train_stats st;
    CHECK(nis_imgsampler_step(s, &st) == NIS_OK, "%s", nis_imgsampler_message(s));
    double gn = nis_grad_norm(nis_imgsampler_generator_params(s));
    double sn = nis_grad_norm(nis_imgsampler_score_params(s));
    CHECK(isfinite(gn) && gn > 1e-6, "%s generator grad norm %g", nis_method_name(m), gn);
    CHECK(isfinite(sn) && sn > 1e-6, "%s score grad norm %g", nis_method_name(m), sn);
    CHECK(isfinite(st.sampler_loss) && isfinite(st.score_loss), "losses %g %g", st.sampler_loss, st.score_loss);
    /* one target score per sample for the update (none for residual KL), one per DSM step with the residual */
    int64_t evals = c.batch * (resid ? (m == NIS_METHOD_DFT) + c.score_steps : 1);
    CHECK(st.iter == 1 && st.target_grad_evals == evals, "iter %lld evals %lld", (long long)st.iter,
          (long long)st.target_grad_evals);
    nis_imgsampler_free(s);
}

/* Training moves the sample mean towards μ: RMS error (over the 64 pixels) below 0.08 and at most 40% of
 * the initial one (initially ~0.35: the generator starts near 0, μ is a blob in [0.1, 0.9]). */
static void test_learns(const nis_target *t, nis_method m, int iters, bool resid) {
    nis_imgsampler_config c = tiny(m);
    c.score_residual = resid;
    char err[256];
    nis_imgsampler *s = nis_imgsampler_new(t, &c, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    if (!s) return;
    double e0 = mean_error(s, t, false);
    CHECK(nis_imgsampler_train(s, iters, NULL, NULL) == NIS_OK, "%s", nis_imgsampler_message(s));
    double e1 = mean_error(s, t, false), e2 = mean_error(s, t, true);
    printf("%s%s: mean RMS error %.4f -> %.4f (EMA %.4f) after %d updates\n", nis_method_name(m),
           resid ? " (residual score)" : "", e0, e1, e2, iters);
    CHECK(e1 < 0.08 && e1 < 0.4 * e0, "%s: mean error %g (initial %g)", nis_method_name(m), e1, e0);
    CHECK(e2 < 0.08, "%s: EMA mean error %g", nis_method_name(m), e2);
    nis_imgsampler_free(s);
}

/* The EMA after one update is decay_t * old + (1 - decay_t) * new, decay_t = min(decay, (1+u)/(10+u)). */
static void test_ema(const nis_target *t) {
    nis_imgsampler_config c = tiny(NIS_METHOD_DFT);
    char err[256];
    nis_imgsampler *s = nis_imgsampler_new(t, &c, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    if (!s) return;
    for (int k = 0; k < 30; k++) CHECK(nis_imgsampler_step(s, NULL) == NIS_OK, "%s", nis_imgsampler_message(s));
    const nis_ema *E = nis_imgsampler_ema(s);
    nis_params *G = nis_imgsampler_generator_params(s);
    CHECK(E && E->updates == 30, "ema updates");
    if (!E) return;
    int64_t n = E->n;
    nis_real *old = malloc((size_t)n * sizeof *old);
    memcpy(old, E->shadow, (size_t)n * sizeof *old);
    double u = (double)E->updates, d = (1 + u) / (10 + u) < c.ema_decay ? (1 + u) / (10 + u) : c.ema_decay;
    CHECK(nis_imgsampler_step(s, NULL) == NIS_OK, "%s", nis_imgsampler_message(s));
    double maxerr = 0, diff = 0;
    for (int64_t i = 0; i < n; i++) {
        double want = d * old[i] + (1 - d) * G->data[i];
        maxerr = fmax(maxerr, fabs(E->shadow[i] - want));
        diff = fmax(diff, fabs(E->shadow[i] - G->data[i]));
    }
    CHECK(maxerr < 1e-6, "ema recursion error %g", maxerr);
    CHECK(diff > 1e-5, "ema equals the live weights (%g)", diff);
    free(old);
    nis_imgsampler_free(s);
}

static bool same(const nis_real *a, const nis_real *b, int64_t n) { return memcmp(a, b, (size_t)n * sizeof *a) == 0; }

/* Uninterrupted 2k updates == k updates, save, resume, k updates (bit for bit), and the generate-only
 * loader reproduces the trainer's EMA samples. */
static void test_resume(const nis_target *t, nis_method m, bool resid) {
    nis_imgsampler_config c = tiny(m);
    c.score_residual = resid;
    c.sigma_start = 0.3, c.anneal_iters = 10;
    c.sigmoid_output = m == NIS_METHOD_DFT;
    char err[256], path[256];
    snprintf(path, sizeof path, "/tmp/nis_test_imgsampler_%d.safetensors", (int)getpid());
    nis_imgsampler *a = nis_imgsampler_new(t, &c, err, sizeof err), *b = nis_imgsampler_new(t, &c, err, sizeof err);
    CHECK(a && b, "%s", err);
    if (!a || !b) return;
    CHECK(nis_imgsampler_train(a, 12, NULL, NULL) == NIS_OK, "%s", nis_imgsampler_message(a));
    CHECK(nis_imgsampler_train(b, 6, NULL, NULL) == NIS_OK, "%s", nis_imgsampler_message(b));
    const char *kv[] = {"energy", "none"};
    CHECK(nis_imgsampler_save(b, path, 1, kv, err, sizeof err) == NIS_OK, "%s", err);
    nis_imgsampler_free(b);
    b = nis_imgsampler_resume(t, path, err, sizeof err);
    CHECK(b != NULL, "%s", err);
    if (!b) return;
    CHECK(nis_imgsampler_iter(b) == 6, "iter %lld", (long long)nis_imgsampler_iter(b));
    CHECK(nis_imgsampler_train(b, 12, NULL, NULL) == NIS_OK, "%s", nis_imgsampler_message(b));
    nis_params *Ga = nis_imgsampler_generator_params(a), *Gb = nis_imgsampler_generator_params(b);
    nis_params *Sa = nis_imgsampler_score_params(a), *Sb = nis_imgsampler_score_params(b);
    CHECK(same(Ga->data, Gb->data, Ga->n), "%s: generator differs after resume", nis_method_name(m));
    CHECK(same(Sa->data, Sb->data, Sa->n), "%s: score net differs after resume", nis_method_name(m));
    CHECK(same(Ga->m, Gb->m, Ga->n) && same(Sa->v, Sb->v, Sa->n), "Adam moments differ");
    CHECK(same(nis_imgsampler_ema(a)->shadow, nis_imgsampler_ema(b)->shadow, Ga->n), "EMA differs after resume");
    CHECK(nis_imgsampler_target_evals(b) == 12 * c.batch * (resid ? 1 + c.score_steps : 1), "evals %lld", (long long)nis_imgsampler_target_evals(b));
    CHECK(nis_imgsampler_sigma(a) == nis_imgsampler_sigma(b), "sigma");
    char v[64];
    CHECK(nis_imgsampler_file_meta(path, "energy", v, sizeof v, err, sizeof err) && !strcmp(v, "none"), "meta");

    /* generate-only loader == trainer's EMA samples */
    CHECK(nis_imgsampler_save(a, path, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    nis_imggen *g = nis_imggen_load(path, err, sizeof err);
    CHECK(g != NULL, "%s", err);
    if (g) {
        static nis_real x1[5 * 64], x2[5 * 64];
        nis_rng r1 = nis_rng_init(3, 3), r2 = nis_rng_init(3, 3);
        CHECK(nis_imgsampler_sample(a, &r1, 5, true, true, x1) == NIS_OK, "%s", nis_imgsampler_message(a));
        CHECK(nis_imggen_generate(g, &r2, 5, -1, x2, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(same(x1, x2, 5 * 64), "loaded generator differs");
        int ic, ih, iw;
        nis_imggen_shape(g, &ic, &ih, &iw);
        CHECK(ic == 1 && ih == 8 && iw == 8, "shape");
        nis_imggen_free(g);
    }
    nis_imgsampler_free(a);
    nis_imgsampler_free(b);
    unlink(path);
}

/* Refused: a wrong config, a target of another dimension, a file that is not a sampler, a missing tensor. */
static void test_errors(const nis_target *t) {
    char err[256], path[256];
    nis_imgsampler_config c = tiny(NIS_METHOD_DFT);
    c.img_h = 12;
    CHECK(nis_imgsampler_new(t, &c, err, sizeof err) == NULL && strstr(err, "dimension"), "%s", err);
    c = tiny(NIS_METHOD_FISHER);
    CHECK(nis_imgsampler_new(t, &c, err, sizeof err) == NULL && strstr(err, "method"), "%s", err);
    c = tiny(NIS_METHOD_DFT);
    c.batch = 31;
    CHECK(nis_imgsampler_new(t, &c, err, sizeof err) == NULL && strstr(err, "batch"), "%s", err);

    snprintf(path, sizeof path, "/tmp/nis_test_imgsampler_bad_%d.safetensors", (int)getpid());
    c = tiny(NIS_METHOD_KL);
    nis_imgsampler *s = nis_imgsampler_new(t, &c, err, sizeof err);
    CHECK(s && nis_imgsampler_save(s, path, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    nis_imgsampler_free(s);
    nis_target *t16 = nis_gauss_image_target_new("g16", 1, 16, 16, NULL, 0.2);
    CHECK(nis_imgsampler_resume(t16, path, err, sizeof err) == NULL && strstr(err, "dimension"), "%s", err);
    nis_gauss_image_target_free(t16);

    float w = 1;
    nis_st_entry e = {.name = "gen.stem.weight", .dtype = NIS_DT_F32, .ndim = 1, .shape = {1}, .data = &w};
    const char *kv[] = {"format", "something-else"};
    CHECK(nis_st_write(path, 1, &e, 1, kv, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_imgsampler_resume(t, path, err, sizeof err) == NULL && strstr(err, "not a nis image sampler"), "%s", err);
    CHECK(nis_imggen_load(path, err, sizeof err) == NULL && strstr(err, "format"), "%s", err);
    unlink(path);
}

int main(void) {
    nis_set_threads(1);
    nis_target *t = nis_gauss_image_target_new("gauss64", 1, 8, 8, NULL, 0.2);
    CHECK(t != NULL, "target");
    if (!t) return check_done("test_imgsampler");
    for (int r = 0; r < 2; r++) {
        test_gradients(t, NIS_METHOD_DFT, false, r);
        test_gradients(t, NIS_METHOD_KL, false, r);
        test_gradients(t, NIS_METHOD_DFT, true, r);
        test_gradients(t, NIS_METHOD_KL, true, r);
    }
    test_learns(t, NIS_METHOD_DFT, 150, false);
    test_learns(t, NIS_METHOD_KL, 150, false);
    test_learns(t, NIS_METHOD_DFT, 150, true);   /* (residual KL: 0.060, EMA 0.093 here; not the default) */
    test_ema(t);
    test_resume(t, NIS_METHOD_DFT, false);
    test_resume(t, NIS_METHOD_KL, false);
    test_resume(t, NIS_METHOD_DFT, true);
    test_errors(t);
    nis_gauss_image_target_free(t);
    return check_done("test_imgsampler");
}
