/* The image EBM: shapes, ULA = the training Langevin move, a few training steps raise the energy gap
 * between negatives and data, energy and checkpoint round trips, resume bit-identical to an uninterrupted
 * run (also for joint training with a one-step sampler), Langevin sampling from noise, and damaged /
 * mismatched files; a noise-conditional energy's round trip and annealed walk.  Tiny nets on 8x8 images. */
#include "check.h"
#include "nis/ebm_train.h"
#include "nis/mcmc.h"
#include "nis/io.h"
#include "nis/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NDATA = 48, D = 64 };

static nis_ebm_config tiny(void) {
    nis_ebm_config c = nis_ebm_config_default();
    c.h = c.w = 8;
    c.n_conv = 2;
    c.channels[0] = 4, c.channels[1] = 8;
    c.lambda = 1;   /* T = sigma^2 / 2 = 5e-5 */
    return c;
}

static nis_ebm_train_config tiny_train(void) {
    nis_ebm_train_config t = nis_ebm_train_defaults();
    t.batch = 16;
    t.buffer_size = 64;
    t.langevin_steps = 5;
    t.lr = 3e-3;
    t.alpha = 0.1;
    return t;
}

/* 8x8 "digits": a horizontal or vertical bar at a random place on a dark background. */
static void make_data(nis_real *x) {
    test_seed(11);
    for (int n = 0; n < NDATA; n++) {
        nis_real *im = x + n * D;
        int vertical = n % 2, at = 1 + (int)(test_uniform() * 6);
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) {
                int on = vertical ? j == at : i == at;
                im[i * 8 + j] = (nis_real)(on ? 0.9 + 0.1 * test_uniform() : 0.05 * test_uniform());
            }
    }
}

static void tmp_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "/tmp/nis_test_ebm_%d_%s", (int)getpid(), name);
}

static bool params_equal(const nis_ebm *a, const nis_ebm *b) {
    return a->P->n == b->P->n && !memcmp(a->P->data, b->P->data, (size_t)a->P->n * sizeof(nis_real));
}

static void test_shapes_and_langevin_move(void) {
    nis_ebm E;
    char err[256];
    nis_ebm_config c = tiny();
    CHECK(nis_ebm_init(&E, &c, 1, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_target(&E)->dim == D, "dim");
    CHECK_CLOSE(E.temperature, 0.01 * 0.01 / 2, 1e-12, 1e-6);
    nis_ctx *ctx = nis_ctx_new(0);
    nis_real x[2 * D];
    test_seed(3);
    for (int i = 0; i < 2 * D; i++) x[i] = (nis_real)test_uniform();
    /* (B, D) and (B, 1, 8, 8) inputs give the same (B,) energies */
    nis_tensor *f1 = nis_ebm_f(ctx, &E, nis_tensor_from(ctx, 2, (int64_t[]){2, D}, x));
    nis_tensor *f2 = nis_ebm_f(ctx, &E, nis_tensor_from(ctx, 4, (int64_t[]){2, 1, 8, 8}, x));
    nis_tensor *e = nis_ebm_energy(ctx, &E, nis_tensor_from(ctx, 2, (int64_t[]){2, D}, x));
    CHECK(f1 && f2 && e && f1->ndim == 1 && f1->shape[0] == 2, "shapes: %s", nis_ctx_message(ctx));
    for (int b = 0; f1 && b < 2; b++) {
        CHECK(f1->data[b] == f2->data[b], "layout");
        CHECK_CLOSE(e->data[b], f1->data[b] / E.temperature, 1e-3, 1e-5);
    }
    /* h * score = -lambda grad f: the ULA step of size sigma^2/2 is the training move */
    nis_tensor *xt = nis_requires_grad(nis_tensor_from(ctx, 2, (int64_t[]){2, D}, x)), *g;
    nis_tensor *fs = nis_sum(ctx, nis_ebm_f(ctx, &E, xt));
    CHECK(nis_grad(ctx, 1, &fs, NULL, 1, &xt, false, &g) == NIS_OK, "%s", nis_ctx_message(ctx));
    nis_tensor *s = nis_target_score(ctx, nis_ebm_target(&E), nis_tensor_from(ctx, 2, (int64_t[]){2, D}, x), false);
    double worst = 0;
    for (int i = 0; s && i < 2 * D; i++)
        worst = fmax(worst, fabs(nis_ebm_ula_step(&E) * s->data[i] + c.lambda * g->data[i]));
    CHECK(s && worst < 1e-6, "h score vs -lambda grad f: %g", worst);
    /* a bad input shape is an error, not a crash */
    nis_ctx_reset(ctx);
    CHECK(nis_ebm_f(ctx, &E, nis_new2(ctx, 2, 63)) == NULL && nis_ctx_status(ctx) != NIS_OK, "bad shape");
    nis_ctx_free(ctx);
    nis_ebm_free(&E);
    nis_ebm_config bad = tiny();
    bad.sigma = 0;
    CHECK(nis_ebm_init(&E, &bad, 1, err, sizeof err) == NIS_EINVAL, "sigma 0 is invalid");
    nis_ebm_free(&E);
}

static void test_training_raises_gap(const nis_real *data) {
    nis_ebm E;
    nis_ebm_trainer T;
    char err[256];
    nis_ebm_config c = tiny();
    nis_ebm_train_config tc = tiny_train();
    CHECK(nis_ebm_init(&E, &c, 2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_init(&T, &E, &tc, 7, err, sizeof err) == NIS_OK, "%s", err);
    double mf0, mf1, mn0, mn1;
    nis_real noise[NDATA * D];
    nis_rng r = nis_rng_init(99, 0);
    nis_rng_fill_uniform(&r, noise, NDATA * D, 0, 1);
    CHECK(nis_ebm_mean_energy(&E, data, NDATA, NULL, &mf0, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_mean_energy(&E, noise, NDATA, NULL, &mn0, err, sizeof err) == NIS_OK, "%s", err);
    /* The loss is adversarial: once the persistent chains find the new low-energy regions it returns to about
     * 0.  While the negatives are still near noise (the first iterations) it must fall. */
    nis_ebm_step_stats st;
    double first = 0, later = 0;
    const int iters = 60;
    for (int i = 0; i < iters; i++) {
        nis_status s = nis_ebm_train_step(&T, data, NDATA, &st, err, sizeof err);
        CHECK(s == NIS_OK, "step %d: %s", i, err);
        if (s != NIS_OK) break;
        CHECK(st.grad_evals == tc.langevin_steps && st.iter == i + 1, "stats");
        if (i < 3) first += st.loss / 3;
        if (i >= 8 && i < 13) later += st.loss / 5;
    }
    CHECK(later < first - 0.02, "the contrastive loss falls: iterations 1-3 %g, 9-13 %g", first, later);
    CHECK(nis_ebm_mean_energy(&E, data, NDATA, NULL, &mf1, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_mean_energy(&E, noise, NDATA, NULL, &mn1, err, sizeof err) == NIS_OK, "%s", err);
    printf("training: loss %.4f (iterations 1-3) -> %.4f (9-13), f(noise) - f(data) %.4f -> %.4f\n", first, later,
           mn0 - mf0, mn1 - mf1);
    CHECK(mn1 - mf1 > mn0 - mf0 + 0.025, "data energy falls below noise: gap %g -> %g", mn0 - mf0, mn1 - mf1);
    nis_ebm_trainer_free(&T);
    nis_ebm_free(&E);
}

/* A run of the tiny energy: parameters from seed 4, trainer seed 21 (the resume tests' uninterrupted and
 * interrupted runs both start so). */
static void fresh_run(nis_ebm *E, nis_ebm_trainer *T, const nis_ebm_train_config *tc) {
    char err[256];
    nis_ebm_config c = tiny();
    CHECK(nis_ebm_init(E, &c, 4, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_init(T, E, tc, 21, err, sizeof err) == NIS_OK, "%s", err);
}

/* A run rebuilt from checkpoint ck, as a new process would: energy from the file, a trainer (its seed is
 * overwritten), then everything else from the file. */
static void resumed_run(nis_ebm *E, nis_ebm_trainer *T, const char *ck, const nis_ebm_train_config *tc) {
    char err[256];
    CHECK(nis_ebm_load(ck, E, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_init(T, E, tc, 0, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_resume(T, ck, err, sizeof err) == NIS_OK, "%s", err);
}

static void test_round_trip_and_resume(const nis_real *data) {
    char err[256], ck[256], en[256], junk[256];
    tmp_path(ck, sizeof ck, "ck.safetensors");
    tmp_path(en, sizeof en, "energy.safetensors");
    tmp_path(junk, sizeof junk, "junk.safetensors");
    nis_ebm_train_config tc = tiny_train();

    /* uninterrupted: 6 iterations */
    nis_ebm A;
    nis_ebm_trainer TA;
    fresh_run(&A, &TA, &tc);
    for (int i = 0; i < 6; i++) CHECK(nis_ebm_train_step(&TA, data, NDATA, NULL, err, sizeof err) == NIS_OK, "%s", err);

    /* interrupted: 3, checkpoint, a fresh process-like start from the file, 3 more */
    nis_ebm B;
    nis_ebm_trainer TB;
    fresh_run(&B, &TB, &tc);
    for (int i = 0; i < 3; i++) CHECK(nis_ebm_train_step(&TB, data, NDATA, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_save(&TB, ck, err, sizeof err) == NIS_OK, "%s", err);
    nis_ebm_trainer_free(&TB);
    nis_ebm_free(&B);
    nis_ebm C;
    nis_ebm_trainer TC;
    resumed_run(&C, &TC, ck, &tc);
    CHECK(TC.iter == 3 && TC.seed == 21 && TC.opt.step == 3, "resumed state: iter %lld", (long long)TC.iter);
    for (int i = 0; i < 3; i++) CHECK(nis_ebm_train_step(&TC, data, NDATA, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(params_equal(&A, &C), "resumed parameters are bit-identical");
    CHECK(!memcmp(TA.buffer, TC.buffer, (size_t)tc.buffer_size * D * sizeof(nis_real)), "buffer bit-identical");
    CHECK(!memcmp(A.P->m, C.P->m, (size_t)A.P->n * sizeof(nis_real)), "Adam moments bit-identical");

    /* energy file round trip: same parameters, same energies */
    CHECK(nis_ebm_save(en, &A, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    nis_ebm L;
    CHECK(nis_ebm_load(en, &L, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(params_equal(&A, &L) && L.temperature == A.temperature, "energy round trip");
    double ea, el;
    CHECK(nis_ebm_mean_energy(&A, data, NDATA, &ea, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_mean_energy(&L, data, NDATA, &el, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ea == el, "energies after reload %g vs %g", ea, el);
    /* an energy file alone cannot resume training (no train.* metadata or buffer); A is unchanged */
    nis_real before = A.P->data[0];
    CHECK(nis_ebm_trainer_resume(&TA, en, err, sizeof err) == NIS_EFORMAT && strstr(err, "train.iter"),
          "resume from an energy file: %s", err);
    CHECK(A.P->data[0] == before && TA.iter == 6, "failed resume leaves the run unchanged");
    /* a different architecture cannot resume */
    nis_ebm W;
    nis_ebm_trainer TW;
    nis_ebm_config wide = tiny();
    wide.channels[1] = 6;
    CHECK(nis_ebm_init(&W, &wide, 1, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_init(&TW, &W, &tc, 0, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_resume(&TW, ck, err, sizeof err) == NIS_EFORMAT && strstr(err, "architecture"),
          "architecture mismatch: %s", err);
    nis_ebm_trainer_free(&TW);
    nis_ebm_free(&W);

    /* missing, damaged and foreign files */
    nis_ebm X;
    CHECK(nis_ebm_load("/nonexistent/energy.safetensors", &X, err, sizeof err) == NIS_EIO, "missing: %s", err);
    CHECK(nis_write_file_atomic(junk, "not a safetensors file", 22, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_load(junk, &X, err, sizeof err) == NIS_EFORMAT, "damaged: %s", err);
    float one = 1;
    nis_st_entry e = {.name = "w", .dtype = NIS_DT_F32, .ndim = 1, .shape = {1}, .data = &one};
    CHECK(nis_st_write(junk, 1, &e, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_load(junk, &X, err, sizeof err) == NIS_EFORMAT && strstr(err, "ebm.image"), "foreign: %s", err);
    CHECK(X.P == NULL, "failed load leaves E empty");

    /* Langevin from noise: shape, cost count, determinism, and a trained energy's samples have lower energy
     * than the noise they start from */
    nis_real *x1 = malloc(10 * D * sizeof *x1), *x2 = malloc(10 * D * sizeof *x2), *u = malloc(10 * D * sizeof *u);
    nis_rng r1 = nis_rng_init(5, 0), r2 = nis_rng_init(5, 0), r3 = nis_rng_init(5, 0);
    int64_t ge = -1;
    CHECK(nis_ebm_langevin(&L, 25, 0, 1, 1, &r1, x1, 10, &ge, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_langevin(&L, 25, 0, 1, 1, &r2, x2, 10, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ge == 25, "grad evals %lld", (long long)ge);
    CHECK(!memcmp(x1, x2, 10 * D * sizeof *x1), "same seed, same chains");
    nis_rng_fill_uniform(&r3, u, 10 * D, 0, 1);
    double eu, ex;
    CHECK(nis_ebm_mean_energy(&L, u, 10, NULL, &eu, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_mean_energy(&L, x1, 10, NULL, &ex, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ex < eu, "Langevin lowers f: %g -> %g", eu, ex);
    CHECK(nis_ebm_langevin(&L, 5, 0, 1, 1, &r1, x1, 0, NULL, err, sizeof err) == NIS_EINVAL, "n = 0 is invalid");
    free(x1), free(x2), free(u);

    nis_ebm_free(&L);
    nis_ebm_trainer_free(&TA);
    nis_ebm_trainer_free(&TC);
    nis_ebm_free(&A);
    nis_ebm_free(&C);
    unlink(ck), unlink(en), unlink(junk);
}

/* A tiny DFT sampler for the tiny energy (8x8 images). */
static nis_trainer *tiny_sampler(const nis_ebm *E, int img_h, int img_w) {
    nis_train_config c = nis_train_config_image(NIS_METHOD_DFT, 1, img_h, img_w);
    c.batch = 8, c.latent = 4, c.gen_channels = 4, c.score_channels = 2, c.score_steps = 1, c.sigma = 0.05;
    c.seed = 5;
    char err[256];
    nis_trainer *s = nis_trainer_new(nis_ebm_target(E), &c, NULL, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    return s;
}

/* Joint training: the sampler is updated once per iteration, the buffer is untouched, no Langevin steps with
 * K = 0, and a run interrupted after 2 iterations (checkpoint + sampler file) resumes bit-identically. */
static void test_joint_training(const nis_real *data) {
    char err[256], ck[256], sp[256];
    tmp_path(ck, sizeof ck, "joint_ck.safetensors");
    tmp_path(sp, sizeof sp, "joint_sampler.safetensors");
    nis_ebm_train_config tc = tiny_train();
    tc.langevin_steps = 0;
    nis_ebm A;
    nis_ebm_trainer TA;
    fresh_run(&A, &TA, &tc);
    nis_trainer *wrong = tiny_sampler(&A, 4, 16);   /* 64 values, but 4x16 images */
    CHECK(nis_ebm_trainer_use_sampler(&TA, wrong, err, sizeof err) == NIS_EINVAL && strstr(err, "image shape"),
          "a 4x16 sampler for an 8x8 energy: %s", err);
    nis_trainer_free(wrong);
    nis_trainer *sa = tiny_sampler(&A, 8, 8);
    nis_real *buf0 = malloc((size_t)tc.buffer_size * D * sizeof *buf0);
    memcpy(buf0, TA.buffer, (size_t)tc.buffer_size * D * sizeof *buf0);
    CHECK(nis_ebm_trainer_use_sampler(&TA, sa, err, sizeof err) == NIS_OK, "%s", err);
    nis_real p0 = A.P->data[0];
    nis_ebm_step_stats st;
    for (int i = 0; i < 4; i++) {
        CHECK(nis_ebm_train_step(&TA, data, NDATA, &st, err, sizeof err) == NIS_OK, "joint step %d: %s", i, err);
        CHECK(isfinite(st.sampler_loss) && isfinite(st.score_loss) && st.grad_evals == 0, "joint stats %d", i);
    }
    CHECK(nis_trainer_iter(sa) == 4 && TA.iter == 4, "one sampler update per iteration");
    CHECK(A.P->data[0] != p0, "the energy moved");
    CHECK(!memcmp(buf0, TA.buffer, (size_t)tc.buffer_size * D * sizeof *buf0), "the buffer is not used");
    bool in_range = true;   /* sigmoid outputs plus 0.05 noise */
    for (int64_t i = 0; i < tc.batch * D; i++) in_range &= TA.neg[i] > -0.5 && TA.neg[i] < 1.5;
    CHECK(in_range, "negatives are the sampler's images");

    /* interrupted: 2 iterations, both files, resume from them, 2 more */
    nis_ebm B;
    nis_ebm_trainer TB;
    fresh_run(&B, &TB, &tc);
    nis_trainer *sb = tiny_sampler(&B, 8, 8);
    CHECK(nis_ebm_trainer_use_sampler(&TB, sb, err, sizeof err) == NIS_OK, "%s", err);
    for (int i = 0; i < 2; i++) CHECK(nis_ebm_train_step(&TB, data, NDATA, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_trainer_checkpoint(sb, sp, 0, NULL) == NIS_OK, "%s", nis_trainer_message(sb));
    CHECK(nis_ebm_trainer_save(&TB, ck, err, sizeof err) == NIS_OK, "%s", err);
    nis_trainer_free(sb);
    nis_ebm_trainer_free(&TB);
    nis_ebm_free(&B);
    nis_ebm C;
    nis_ebm_trainer TC;
    resumed_run(&C, &TC, ck, &tc);
    nis_trainer *sc = nis_trainer_resume(nis_ebm_target(&C), sp, err, sizeof err);
    CHECK(sc != NULL, "%s", err);
    CHECK(nis_ebm_trainer_use_sampler(&TC, sc, err, sizeof err) == NIS_OK, "%s", err);
    for (int i = 0; i < 2; i++) CHECK(nis_ebm_train_step(&TC, data, NDATA, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(params_equal(&A, &C), "resumed joint run: energy bit-identical");
    nis_params *ga = nis_trainer_generator(sa), *gc = nis_trainer_generator(sc);
    CHECK(ga->n == gc->n && !memcmp(ga->data, gc->data, (size_t)ga->n * sizeof(nis_real)),
          "resumed joint run: generator bit-identical");
    /* detaching the sampler goes back to the buffer */
    CHECK(nis_ebm_trainer_use_sampler(&TC, NULL, err, sizeof err) == NIS_OK && TC.sampler == NULL, "detach");
    tc.langevin_steps = 2;
    TC.cfg.langevin_steps = 2;
    CHECK(nis_ebm_train_step(&TC, data, NDATA, &st, err, sizeof err) == NIS_OK && st.grad_evals == 2 &&
              isnan(st.sampler_loss), "buffer step after detaching: %s", err);
    nis_trainer_free(sa);
    nis_trainer_free(sc);
    nis_ebm_trainer_free(&TA);
    nis_ebm_trainer_free(&TC);
    nis_ebm_free(&A);
    nis_ebm_free(&C);
    free(buf0);
    unlink(ck);
    unlink(sp);
}

/* A noise-conditional DSM energy (levels 0.05 .. 0.8): training steps are finite and deterministic, noise_max
 * survives a save/load round trip and a damaged value is refused, and the annealed walk is the sequence of ULA
 * runs on the level views, geometric from noise_max to noise, steps split evenly, h scaled by (s / noise)². */
static void test_conditional(const nis_real *data) {
    nis_ebm E, L, M;
    nis_ebm_trainer T;
    char err[256], en[128];
    tmp_path(en, sizeof en, "cond.safetensors");
    nis_ebm_config cfg = tiny();
    cfg.noise = 0.05, cfg.noise_max = 0.8;
    nis_ebm_train_config tc = tiny_train();
    tc.langevin_steps = 0;
    tc.ema = 0.9;
    char ck[128];
    tmp_path(ck, sizeof ck, "cond-ck.safetensors");
    CHECK(nis_ebm_init(&E, &cfg, 3, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_trainer_init(&T, &E, &tc, 9, err, sizeof err) == NIS_OK, "%s", err);
    for (int i = 0; i < 4; i++) {
        nis_ebm_step_stats st;
        CHECK(nis_ebm_train_step(&T, data, NDATA, &st, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(isfinite(st.loss) && st.grad_evals == 0, "conditional DSM step %d: loss %g", i, st.loss);
        if (i == 1) CHECK(nis_ebm_trainer_save(&T, ck, err, sizeof err) == NIS_OK, "%s", err);
    }
    /* the moving average: after 4 updates (warm decays 1/10 .. 4/13) it differs from the weights; a swap exchanges
     * them and a second swap restores them; a run resumed at 2 updates ends with the same weights and average */
    CHECK(T.ema.shadow && T.ema.updates == 4 && memcmp(T.ema.shadow, E.P->data, (size_t)E.P->n * sizeof(nis_real)),
          "the average after 4 updates");
    nis_real w0 = E.P->data[0], a0 = T.ema.shadow[0];
    nis_ebm_trainer_swap_average(&T);
    CHECK(E.P->data[0] == a0 && T.ema.shadow[0] == w0, "swap_average");
    nis_ebm_trainer_swap_average(&T);
    CHECK(E.P->data[0] == w0, "swap back");
    {
        nis_ebm R;
        nis_ebm_trainer TR;
        CHECK(nis_ebm_load(ck, &R, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(nis_ebm_trainer_init(&TR, &R, &tc, 0, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(nis_ebm_trainer_resume(&TR, ck, err, sizeof err) == NIS_OK && TR.ema.updates == 2, "%s", err);
        for (int i = 2; i < 4; i++) CHECK(nis_ebm_train_step(&TR, data, NDATA, NULL, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(params_equal(&E, &R) && !memcmp(TR.ema.shadow, T.ema.shadow, (size_t)E.P->n * sizeof(nis_real)),
              "resumed with the average: bit-identical weights and average");
        nis_ebm_trainer_free(&TR);
        nis_ebm_free(&R);
    }
    unlink(ck);
    CHECK(nis_ebm_save(en, &E, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_load(en, &L, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(L.cfg.noise == 0.05 && L.cfg.noise_max == 0.8 && nis_ebm_is_conditional(&L) && L.temperature == 0.05 &&
          params_equal(&E, &L), "noise_max round trip: %g %g", L.cfg.noise, L.cfg.noise_max);

    /* a damaged noise_max (same length, so the header stays consistent) */
    FILE *fp = fopen(en, "rb");
    static char buf[1 << 16];
    size_t nb = fp ? fread(buf, 1, sizeof buf, fp) : 0;
    if (fp) fclose(fp);
    char *at = NULL;
    for (size_t i = 0; !at && i + 14 < nb; i++)
        if (!memcmp(buf + i, "ebm.noise_max\"", 14)) at = strchr(buf + i + 14, '0');   /* its value "0.8000..." */
    CHECK(nb > 0 && nb < sizeof buf && at, "noise_max in the file's header");
    if (at) *at = '-';
    CHECK(nis_write_file_atomic(en, buf, nb, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_load(en, &M, err, sizeof err) == NIS_EFORMAT && strstr(err, "ebm.noise_max"), "damaged: %s", err);

    /* the annealed walk against the ULA runs it should be */
    enum { N = 6, STEPS = 7, LEVELS = 3 };
    nis_real *x1 = malloc(N * D * sizeof *x1), *x2 = malloc(N * D * sizeof *x2), *x3 = malloc(N * D * sizeof *x3);
    nis_rng r1 = nis_rng_init(4, 0), r2 = nis_rng_init(4, 0), r3 = nis_rng_init(4, 0);
    int64_t ge = -1;
    const double h = 1e-4;
    CHECK(nis_ebm_langevin(&L, STEPS, h, LEVELS, 1, &r1, x1, N, &ge, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_langevin(&L, STEPS, h, LEVELS, 1, &r2, x2, N, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ge == STEPS && !memcmp(x1, x2, N * D * sizeof *x1), "annealed walk: %lld evals, deterministic",
          (long long)ge);
    nis_rng_fill_uniform(&r3, x3, N * D, 0, 1);
    const double lev[LEVELS] = {0.8, 0.2, 0.05};
    const int64_t share[LEVELS] = {2, 2, 3};
    for (int i = 0; i < LEVELS; i++) {
        nis_ebm view;
        CHECK(nis_ebm_at_level(&L, lev[i], &view, err, sizeof err) == NIS_OK, "%s", err);
        nis_ula_config u = {.steps = share[i], .step_size = h * (lev[i] / 0.05) * (lev[i] / 0.05)};
        nis_mcmc_stats ms;
        CHECK(nis_ula_run(nis_ebm_target(&view), &u, &r3, x3, N, &ms, err, sizeof err) == NIS_OK, "%s", err);
    }
    double worst = 0;
    for (int64_t i = 0; i < N * D; i++) worst = fmax(worst, fabs((double)x1[i] - x3[i]));
    CHECK(worst <= 1e-5, "annealed walk vs ULA on the level views: %g", worst);
    /* at temperature T each step's noise is sqrt(2 h T): the same ULA runs with that noise */
    const double temp = 0.25;
    r1 = nis_rng_init(5, 0), r3 = nis_rng_init(5, 0);
    CHECK(nis_ebm_langevin(&L, STEPS, h, LEVELS, temp, &r1, x1, N, NULL, err, sizeof err) == NIS_OK, "%s", err);
    nis_rng_fill_uniform(&r3, x3, N * D, 0, 1);
    for (int i = 0; i < LEVELS; i++) {
        nis_ebm view;
        CHECK(nis_ebm_at_level(&L, lev[i], &view, err, sizeof err) == NIS_OK, "%s", err);
        const double hi = h * (lev[i] / 0.05) * (lev[i] / 0.05);
        nis_ula_config u = {.steps = share[i], .step_size = hi, .noise = sqrt(2 * hi * temp)};
        nis_mcmc_stats ms;
        CHECK(nis_ula_run(nis_ebm_target(&view), &u, &r3, x3, N, &ms, err, sizeof err) == NIS_OK, "%s", err);
    }
    worst = 0;
    for (int64_t i = 0; i < N * D; i++) worst = fmax(worst, fabs((double)x1[i] - x3[i]));
    CHECK(worst <= 1e-5, "walk at temperature %g vs ULA with noise sqrt(2hT): %g", temp, worst);
    CHECK(nis_ebm_langevin(&L, STEPS, h, LEVELS, 0, &r1, x1, N, NULL, err, sizeof err) == NIS_EINVAL &&
          strstr(err, "temperature"), "temperature 0: %s", err);
    CHECK(nis_ebm_langevin(&L, STEPS, h, LEVELS, NAN, &r1, x1, N, NULL, err, sizeof err) == NIS_EINVAL,
          "temperature NaN is invalid");
    CHECK(nis_ebm_langevin(&L, 2, h, 3, 1, &r1, x1, N, NULL, err, sizeof err) == NIS_EINVAL && strstr(err, "step"),
          "fewer steps than levels: %s", err);
    nis_ebm ml;
    nis_ebm_config mc = tiny();
    CHECK(nis_ebm_init(&ml, &mc, 1, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_langevin(&ml, 10, 0, 2, 1, &r1, x1, N, NULL, err, sizeof err) == NIS_EINVAL &&
          strstr(err, "noise-conditional"), "levels on an ML energy: %s", err);
    nis_ebm_free(&ml);
    free(x1), free(x2), free(x3);
    nis_ebm_trainer_free(&T);
    nis_ebm_free(&E);
    nis_ebm_free(&L);
    unlink(en);
}

int main(void) {
    nis_set_threads(1);
    nis_real *data = malloc(NDATA * D * sizeof *data);
    make_data(data);
    test_shapes_and_langevin_move();
    test_training_raises_gap(data);
    test_round_trip_and_resume(data);
    test_joint_training(data);
    test_conditional(data);
    free(data);
    return check_done("test_ebm");
}
