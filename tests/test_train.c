/* The trainer end to end (small and fast): a short DFT training on gauss reaches a stated energy distance;
 * runs are bit-identical for the same seed; a target that yields NaN stops training with NIS_ENUMERIC and
 * leaves the sampler as it was; a saved sampler generates exactly what the trainer generates; the sampler's EMA
 * follows its recurrence; a preconditioned run (q(m + L u)) maps its samples back, also from a saved sampler; the
 * DFT + KL hybrid trains and counts its target scores; the automatic score model; a checkpointed run resumes
 * bit-identically (also preconditioned, and with the monitor's stopping rule: it stops at the same update); a run
 * with files keeps the last good save when an update fails (a plug-in
 * objective makes update 45 fail). */
#include "check.h"
#include "nis/io.h"
#include "nis/metrics.h"
#include "nis/ops.h"
#include "nis/train.h"

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static nis_train_config small(nis_method m) {
    nis_train_config c = nis_train_config_default(m);
    c.batch = 128;
    c.width = c.score_width = 32;
    c.depth = c.score_depth = 2;
    c.lr = 1e-3;
    c.lr_score = 3e-3;
    c.seed = 3;
    c.score_model = NIS_SCORE_PLAIN;
    return c;
}

static nis_trainer *trainer(const nis_target *t, const nis_train_config *c, char *err) {
    return nis_trainer_new(t, c, NULL, err, 256);
}

static double train_ed(nis_method m, int64_t iters, double *ed_floor) {
    const nis_target *t = nis_target_2d("gauss");
    nis_train_config c = small(m);
    char err[256];
    nis_trainer *tr = trainer(t, &c, err);
    CHECK(tr != NULL, "%s", err);
    if (!tr) return NAN;
    for (int64_t i = 0; i < iters; i++)
        if (nis_trainer_step(tr, NULL) != NIS_OK) {
            CHECK(0, "%s step %lld: %s", nis_method_name(m), (long long)i, nis_trainer_message(tr));
            break;
        }
    static nis_real x[2000 * 2];
    nis_rng g = nis_rng_init(9, 0);
    nis_trainer_sample(tr, &g, 2000, c.noisy_output, x);
    nis_eval_result r;
    CHECK(nis_evaluate(t, x, 2000, 1, &r, err, sizeof err) == NIS_OK, "%s", err);
    nis_trainer_free(tr);
    *ed_floor = r.ed_floor;
    return r.ed;
}

static nis_tensor *nan_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    (void)t;   /* square root of a negative number: NaN values and scores everywhere */
    return nis_sqrt(c, nis_add_scalar(c, nis_neg(c, nis_sum_axis(c, nis_square(c, x), 1, false)), -1));
}


/* A plug-in objective: DFT's losses, with the sampler's loss made NaN at update 45 (a fault at a known update). */
static nis_tensor *nan_at_45(const nis_train_step *s, double *monitor) {
    nis_tensor *l = nis_objective_builtin(NIS_METHOD_DFT)->sampler_loss(s, monitor);
    if (l && s->iter + 1 == 45) *monitor = NAN;
    return l;
}

/* A plug-in objective: DFT's losses, after counting the antithetic pairs whose two x0 differ in any bit, in a
 * draw without a graph and one with (nis_train_draw runs g on the first half and repeats it). */
static int64_t g_pair_mismatch, g_pair_rows;
static nis_tensor *pairs_equal(const nis_train_step *s, double *monitor) {
    for (int graph = 0; graph < 2; graph++) {
        nis_tensor *eps, *x0 = nis_train_draw(s, graph, &eps, NULL);
        if (!x0) return NULL;
        const int64_t half = x0->shape[0] / 2, d = x0->shape[1];
        for (int64_t i = 0; i < half * d; i++) g_pair_mismatch += x0->data[i] != x0->data[half * d + i];
        for (int64_t i = 0; i < half * d; i++) g_pair_mismatch += eps->data[i] != -eps->data[half * d + i];
        g_pair_rows += half;
    }
    return nis_objective_builtin(NIS_METHOD_DFT)->sampler_loss(s, monitor);
}

/* A temporary directory's path into buf (created). */
static const char *temp_dir(char *buf, size_t size) {
    snprintf(buf, size, "/tmp/nis-test-train-XXXXXX");
    return mkdtemp(buf);
}

/* The first n samples of the EMA sampler of tr, drawn with seed 4, into x (n, dim). */
static void draw(nis_trainer *tr, int n, nis_real *x) {
    nis_rng g = nis_rng_init(4, 0);
    nis_trainer_sample(tr, &g, n, true, x);
}

int main(void) {
    /* 1. a short DFT run on N(0, I): from an initial energy distance of about 0.5 to near the floor */
    double fl, ed0 = train_ed(NIS_METHOD_DFT, 0, &fl), ed = train_ed(NIS_METHOD_DFT, 400, &fl);
    printf("dft on gauss: energy distance %.4f after 0 updates, %.4f after 400 (floor %.4f)\n", ed0, ed, fl);
    CHECK(ed0 > 0.1, "the untrained sampler is already close (%.4f): the test is vacuous", ed0);
    CHECK(ed < 0.01, "DFT energy distance %.4f after 400 updates (want < 0.01)", ed);
    double edk = train_ed(NIS_METHOD_KL, 400, &fl);
    printf("kl on gauss: %.4f\n", edk);
    CHECK(edk < 0.01, "KL energy distance %.4f after 400 updates (want < 0.01)", edk);
    double edf = train_ed(NIS_METHOD_FISHER, 400, &fl);
    printf("fisher on gauss: %.4f\n", edf);
    CHECK(edf < 0.02, "Fisher energy distance %.4f after 400 updates (want < 0.02)", edf);

    /* 2. reproducibility: same seed, same updates -> identical samples */
    const nis_target *t = nis_target_2d("gauss");
    nis_train_config c = small(NIS_METHOD_DFT);
    char err[256];
    nis_real a[64], b[64];
    for (int rep = 0; rep < 2; rep++) {
        nis_trainer *tr = trainer(t, &c, err);
        for (int i = 0; i < 20; i++) nis_trainer_step(tr, NULL);
        nis_rng g = nis_rng_init(1, 0);
        nis_trainer_sample(tr, &g, 32, true, rep ? b : a);
        if (rep == 0) {
            /* 4. a saved sampler generates exactly what the trainer does */
            char path[] = "/tmp/nis-test-train-XXXXXX";
            int fd = mkstemp(path);
            if (fd >= 0) close(fd);
            CHECK(nis_trainer_save(tr, path) == NIS_OK, "%s", nis_trainer_message(tr));
            nis_sampler *s = nis_sampler_load(path, err, sizeof err);
            CHECK(s != NULL, "%s", err);
            nis_real l[64];
            g = nis_rng_init(1, 0);
            if (s) CHECK(nis_sampler_generate(s, &g, 32, -1, l, err, sizeof err) == NIS_OK, "%s", err);
            CHECK(s && memcmp(l, a, sizeof l) == 0, "loaded sampler differs from the trainer");
            nis_sampler_free(s);
            unlink(path);
        }
        nis_trainer_free(tr);
    }
    CHECK(memcmp(a, b, sizeof a) == 0, "two runs with the same seed differ");

    /* 3. a NaN target: the step fails with ENUMERIC and the sampler is unchanged */
    nis_target bad = {.name = "nan", .dim = 2, .log_prob = nan_lp};
    nis_trainer *tr = trainer(&bad, &c, err);
    nis_rng g = nis_rng_init(1, 0);
    nis_trainer_sample(tr, &g, 32, false, a);
    nis_status st = nis_trainer_step(tr, NULL);
    CHECK(st == NIS_ENUMERIC, "status %s", nis_status_name(st));
    CHECK(strstr(nis_trainer_message(tr), "not finite") != NULL, "message: %s", nis_trainer_message(tr));
    g = nis_rng_init(1, 0);
    nis_trainer_sample(tr, &g, 32, false, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "a failed update changed the sampler");
    nis_trainer_free(tr);

    /* 5. EMA of the sampler: with a linear sampler (depth 0) and fixed z a clean sample is linear in the weights,
     * so the EMA run's sample must equal the same recurrence applied to the plain run's samples after each update
     * (decay min(0.9, (1 + t) / (10 + t)) at update t); the EMA does not change the training itself; a saved EMA
     * sampler generates what the trainer generates. */
    {
        nis_train_config ce = small(NIS_METHOD_DFT);
        ce.depth = 0, ce.ema = 0;   /* tp: the plain run */
        double want[64], dec = 0.9;
        nis_real cur[64], got[64];
        nis_trainer *tp = trainer(t, &ce, err);
        ce.ema = dec;
        nis_trainer *te = trainer(t, &ce, err);
        CHECK(tp && te, "%s", err);
        nis_rng ge = nis_rng_init(5, 0);
        if (tp) nis_trainer_sample(tp, &ge, 32, false, cur);
        for (int j = 0; j < 64; j++) want[j] = cur[j];
        for (int i = 0; tp && te && i < 30; i++) {
            CHECK(nis_trainer_step(tp, NULL) == NIS_OK && nis_trainer_step(te, NULL) == NIS_OK, "step %d", i);
            ge = nis_rng_init(5, 0);
            nis_trainer_sample(tp, &ge, 32, false, cur);
            double d = fmin(dec, (1.0 + i) / (10.0 + i));
            for (int j = 0; j < 64; j++) want[j] = d * want[j] + (1 - d) * cur[j];
        }
        ge = nis_rng_init(5, 0);
        if (te) nis_trainer_sample(te, &ge, 32, false, got);
        double worst = 0, moved = 0;
        for (int j = 0; j < 64; j++) {
            worst = fmax(worst, fabs(got[j] - want[j]));
            moved = fmax(moved, fabs(got[j] - cur[j]));
        }
        printf("ema: max |sample - recurrence| %.2e, max |ema sample - last iterate| %.2e\n", worst, moved);
        CHECK(worst < 1e-5, "EMA sample differs from the EMA recurrence by %.3g", worst);
        CHECK(moved > 1e-4, "EMA sample equals the last iterate (%.3g): the test is vacuous", moved);
        char path[] = "/tmp/nis-test-train-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        CHECK(te && nis_trainer_save(te, path) == NIS_OK, "%s", nis_trainer_message(te));
        nis_sampler *s = nis_sampler_load(path, err, sizeof err);
        nis_real l[64];
        ge = nis_rng_init(5, 0);
        CHECK(s && nis_sampler_generate(s, &ge, 32, 0, l, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(s && memcmp(l, got, sizeof l) == 0, "the saved EMA sampler differs from the trainer's samples");
        ge = nis_rng_init(5, 0);   /* saving swapped the weights back */
        if (te) nis_trainer_sample(te, &ge, 32, false, l);
        CHECK(memcmp(l, got, sizeof l) == 0, "saving changed the trainer");
        nis_sampler_free(s);
        unlink(path);
        nis_trainer_free(tp);
        nis_trainer_free(te);
        ce.ema = 1;
        CHECK(trainer(t, &ce, err) == NULL && strstr(err, "ema"), "ema 1 accepted: %s", err);
    }

    /* 7. a preconditioned trainer works in u and maps back: after the broad start g(z) ≈ z (init_scale 1, fitted
     * in u) its clean samples have mean m and covariance L Lᵀ; a saved sampler maps back too (bit-identical);
     * damaged preconditioners and bad configurations are refused */
    {
        static const nis_real m[2] = {0.3, -0.2}, L[4] = {1.3, 0.2, 0, 0.8};
        nis_train_config cp = small(NIS_METHOD_DFT);
        cp.init_scale = 1;
        nis_train_start sp = {.precond_mean = m, .precond_L = L};
        nis_trainer *tp = nis_trainer_new(t, &cp, &sp, err, sizeof err);
        CHECK(tp != NULL, "%s", err);
        enum { NP = 20000 };
        static nis_real xp[NP * 2];
        nis_rng g7 = nis_rng_init(9, 0);
        CHECK(tp && nis_trainer_sample(tp, &g7, NP, false, xp) == NIS_OK, "preconditioned sample");
        double mu[2] = {0}, cv[4] = {0}, em = 0, ec = 0;
        for (int i = 0; i < NP; i++) mu[0] += xp[2 * i] / NP, mu[1] += xp[2 * i + 1] / NP;
        for (int i = 0; i < NP; i++)
            for (int j = 0; j < 4; j++) cv[j] += (xp[2 * i + j / 2] - mu[j / 2]) * (xp[2 * i + j % 2] - mu[j % 2]) / NP;
        for (int j = 0; j < 2; j++) em = fmax(em, fabs(mu[j] - m[j]));
        for (int j = 0; j < 4; j++)   /* (L Lᵀ)_jk = Σ_r L_jr L_kr */
            ec = fmax(ec, fabs(cv[j] - (L[2 * (j / 2)] * L[2 * (j % 2)] + L[2 * (j / 2) + 1] * L[2 * (j % 2) + 1])));
        printf("preconditioned start: mean error %.3f, covariance error %.3f (L Lᵀ has entries up to 1.73)\n", em, ec);
        CHECK(em < 0.1 && ec < 0.2, "preconditioned samples: mean error %.3f, covariance error %.3f", em, ec);
        char path[] = "/tmp/nis-test-train-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        CHECK(tp && nis_trainer_save(tp, path) == NIS_OK, "%s", nis_trainer_message(tp));
        nis_sampler *s = nis_sampler_load(path, err, sizeof err);
        CHECK(s != NULL, "%s", err);
        nis_real l[64], want[64];
        g7 = nis_rng_init(1, 0);
        if (tp) nis_trainer_sample(tp, &g7, 32, true, want);
        g7 = nis_rng_init(1, 0);
        CHECK(s && nis_sampler_generate(s, &g7, 32, -1, l, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(s && memcmp(l, want, sizeof l) == 0, "the loaded preconditioned sampler differs from the trainer");
        nis_sampler_free(s);
        /* damaged preconditioners are refused, naming the problem: precond.L of the wrong shape, a NaN in the mean */
        nis_st_file *f = NULL;
        CHECK(nis_st_read(path, &f, err, sizeof err) == NIS_OK, "%s", err);
        int ne = f ? nis_st_count(f) : 0, nm = f ? nis_st_meta_count(f) : 0;
        nis_st_entry e[32];
        const char *kv[64];
        for (int i = 0; i < ne && i < 32; i++) e[i] = *nis_st_get(f, i);
        for (int i = 0; i < nm && i < 32; i++) nis_st_meta_at(f, i, &kv[2 * i], &kv[2 * i + 1]);
        static nis_real nan_mean[2] = {0, NAN};
        for (int k = 0; f && ne <= 32 && nm <= 32 && k < 2; k++) {
            char bad_path[64];
            snprintf(bad_path, sizeof bad_path, "%s.bad", path);
            nis_st_entry e2[32];
            memcpy(e2, e, sizeof e2);
            for (int i = 0; i < ne; i++) {
                if (k == 0 && !strcmp(e2[i].name, "precond.L")) e2[i].shape[1] = 1;
                if (k == 1 && !strcmp(e2[i].name, "precond.mean")) e2[i].data = nan_mean;
            }
            CHECK(nis_st_write(bad_path, ne, e2, nm, kv, err, sizeof err) == NIS_OK, "%s", err);
            nis_sampler *sb = nis_sampler_load(bad_path, err, sizeof err);
            CHECK(!sb && strstr(err, k ? "non-finite" : "precond.L"), "damaged preconditioner %d accepted: %s", k, err);
            nis_sampler_free(sb);
            unlink(bad_path);
        }
        nis_st_close(f);
        unlink(path);
        nis_trainer_free(tp);
        sp.precond_L = NULL;
        CHECK(nis_trainer_new(t, &cp, &sp, err, sizeof err) == NULL && strstr(err, "together"), "precond_mean alone: %s", err);
        sp.precond_L = L, sp.mean = m;
        CHECK(nis_trainer_new(t, &cp, &sp, err, sizeof err) == NULL && strstr(err, "start mean"), "precond + mean: %s", err);
    }

    /* 8. score_warmup W is exactly W more score-network updates before the first sampler update: after one step a
     * trainer with (score_steps 5, score_warmup 7) equals one with score_steps 12, bit for bit, and differs from one
     * without the warm-up (-1, the default, is 0 outside a whitened run); a warm-up below -1 is refused */
    {
        nis_train_config cw = small(NIS_METHOD_DFT), c12 = cw, c0 = cw;
        cw.score_warmup = 7, c12.score_steps = 12;
        nis_trainer *ta = trainer(t, &cw, err), *tb = trainer(t, &c12, err), *tz = trainer(t, &c0, err);
        CHECK(ta && tb && tz, "%s", err);
        nis_real xa[64], xb[64], xz[64];
        nis_train_stats sa = {0}, sb = {0};
        if (ta && tb && tz) {
            CHECK(nis_trainer_step(ta, &sa) == NIS_OK && nis_trainer_step(tb, &sb) == NIS_OK &&
                  nis_trainer_step(tz, NULL) == NIS_OK, "warm-up step");
            nis_rng g8 = nis_rng_init(4, 0);
            nis_trainer_sample(ta, &g8, 32, false, xa);
            g8 = nis_rng_init(4, 0);
            nis_trainer_sample(tb, &g8, 32, false, xb);
            g8 = nis_rng_init(4, 0);
            nis_trainer_sample(tz, &g8, 32, false, xz);
            CHECK(memcmp(xa, xb, sizeof xa) == 0, "warm-up 7 + 5 score steps differs from 12 score steps");
            CHECK(memcmp(xa, xz, sizeof xa) != 0, "the warm-up changed nothing: the test is vacuous");
            CHECK(sa.score_loss == sb.score_loss, "score loss %g vs %g", sa.score_loss, sb.score_loss);
        }
        nis_trainer_free(ta), nis_trainer_free(tb), nis_trainer_free(tz);
        cw.score_warmup = -2;
        CHECK(trainer(t, &cw, err) == NULL && strstr(err, "score_warmup"), "score_warmup -2 accepted: %s", err);
    }

    /* 9. the DFT + λ KL hybrid (kl_weight): trains N(0, I) to the floor like test 1; changes the run (not vacuous);
     * counts the KL term's target scores (one per sample with the plain model, none with the residual one, whose KL
     * step needs no s_q); refused for KL and for a negative or NaN weight */
    {
        nis_train_config ch = small(NIS_METHOD_DFT);
        ch.kl_weight = 1000;
        nis_trainer *th = trainer(t, &ch, err);
        CHECK(th != NULL, "%s", err);
        for (int i = 0; th && i < 400; i++)
            if (nis_trainer_step(th, NULL) != NIS_OK) {
                CHECK(0, "hybrid step %d: %s", i, nis_trainer_message(th));
                break;
            }
        static nis_real xh[2000 * 2], xd[2000 * 2];
        nis_rng g9 = nis_rng_init(9, 0);
        nis_eval_result r9;
        if (th) nis_trainer_sample(th, &g9, 2000, true, xh);
        CHECK(th && nis_evaluate(t, xh, 2000, 1, &r9, err, sizeof err) == NIS_OK, "%s", err);
        printf("dft + 1000 kl on gauss: energy distance %.4f after 400 updates\n", th ? r9.ed : NAN);
        CHECK(th && r9.ed < 0.01, "hybrid energy distance %.4f after 400 updates (want < 0.01)", r9.ed);
        nis_trainer_free(th);

        nis_train_config c0 = small(NIS_METHOD_DFT);
        nis_trainer *ta = trainer(t, &c0, err), *tb = trainer(t, &ch, err);
        nis_train_stats sa = {0}, sb = {0};
        CHECK(ta && tb && nis_trainer_step(ta, &sa) == NIS_OK && nis_trainer_step(tb, &sb) == NIS_OK, "one step");
        if (ta && tb) {
            g9 = nis_rng_init(4, 0);
            nis_trainer_sample(ta, &g9, 1000, false, xd);
            g9 = nis_rng_init(4, 0);
            nis_trainer_sample(tb, &g9, 1000, false, xh);
            CHECK(memcmp(xd, xh, 1000 * 2 * sizeof xd[0]) != 0, "kl_weight changed nothing");
            CHECK(sb.target_evals == sa.target_evals + ch.batch, "plain model: %lld target scores, want %lld",
                  (long long)sb.target_evals, (long long)(sa.target_evals + ch.batch));
        }
        nis_trainer_free(ta), nis_trainer_free(tb);
        c0.score_model = ch.score_model = NIS_SCORE_RESIDUAL;
        ta = trainer(t, &c0, err), tb = trainer(t, &ch, err);
        CHECK(ta && tb && nis_trainer_step(ta, &sa) == NIS_OK && nis_trainer_step(tb, &sb) == NIS_OK, "one step");
        CHECK(sb.target_evals == sa.target_evals, "residual model: %lld target scores, want %lld",
              (long long)sb.target_evals, (long long)sa.target_evals);
        nis_trainer_free(ta), nis_trainer_free(tb);

        nis_train_config cb = small(NIS_METHOD_KL);
        cb.kl_weight = 1;
        CHECK(trainer(t, &cb, err) == NULL && strstr(err, "kl_weight"), "KL + kl_weight: %s", err);
        cb = small(NIS_METHOD_DFT);
        cb.kl_weight = -1;
        CHECK(trainer(t, &cb, err) == NULL && strstr(err, "kl_weight"), "kl_weight -1: %s", err);
        cb.kl_weight = NAN;
        CHECK(trainer(t, &cb, err) == NULL && strstr(err, "kl_weight"), "kl_weight NaN: %s", err);
    }

    /* 10. the automatic score model: residual for DFT on a 2-D target, plain for KL and in 3-D; latent 0 = dim */
    {
        nis_train_config ca = small(NIS_METHOD_DFT);
        ca.score_model = NIS_SCORE_AUTO, ca.init_steps = 2;
        nis_trainer *ta = trainer(t, &ca, err);
        CHECK(ta && nis_trainer_config(ta)->score_model == NIS_SCORE_RESIDUAL, "auto on gauss (2-D): not residual");
        CHECK(ta && nis_trainer_config(ta)->latent == 2, "latent 0 did not resolve to the dimension");
        nis_trainer_free(ta);
        ca.method = NIS_METHOD_KL;
        ta = trainer(t, &ca, err);
        CHECK(ta && nis_trainer_config(ta)->score_model == NIS_SCORE_PLAIN, "auto for KL: not plain");
        nis_trainer_free(ta);
    }

    /* 11. evaluation counts, by the counting wrapper: per sample and update, DFT (plain) 1 (the score with its HVP),
     * Fisher 2 (the score and the Laplacian's), the residual DFT 1 + score_steps (s_q in every score step) */
    {
        const nis_method ms[3] = {NIS_METHOD_DFT, NIS_METHOD_FISHER, NIS_METHOD_DFT};
        for (int k = 0; k < 3; k++) {
            nis_train_config cc = small(ms[k]);
            cc.init_steps = 2;
            if (k == 2) cc.score_model = NIS_SCORE_RESIDUAL;
            int64_t want = cc.batch * (k == 0 ? 1 : k == 1 ? 2 : 1 + cc.score_steps);
            nis_trainer *tc = trainer(t, &cc, err);
            nis_train_stats sc = {0};
            CHECK(tc && nis_trainer_step(tc, &sc) == NIS_OK, "count step %d", k);
            CHECK(sc.target_evals == want && nis_trainer_target_evals(tc) == want, "%s%s: %lld evaluations, want %lld",
                  nis_method_name(ms[k]), k == 2 ? " (residual)" : "", (long long)sc.target_evals, (long long)want);
            nis_trainer_free(tc);
        }
    }

    /* 12. resume: 12 updates straight equal 6, ra checkpoint, ra resumed trainer and 6 more, bit for bit (generator,
     * score network, EMA, samples, evaluation count); also with ra preconditioner, which the checkpoint keeps */
    for (int pre = 0; pre < 2; pre++) {
        static const nis_real m[2] = {0.3, -0.2}, L[4] = {1.3, 0.2, 0, 0.8};
        nis_train_config cr = small(NIS_METHOD_KL);
        cr.init_steps = 20, cr.lr_final = 1e-4, cr.iters = 12;
        nis_train_start sr = {.precond_mean = pre ? m : NULL, .precond_L = pre ? L : NULL};
        nis_trainer *ra = nis_trainer_new(t, &cr, &sr, err, sizeof err), *rb = nis_trainer_new(t, &cr, &sr, err, sizeof err);
        char dir[64], path[128];
        CHECK(ra && rb && temp_dir(dir, sizeof dir), "resume: %s", err);
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
        CHECK(ra && nis_trainer_train(ra, 12, NULL, NULL) == NIS_OK && rb && nis_trainer_train(rb, 6, NULL, NULL) == NIS_OK,
              "resume: training");
        CHECK(rb && nis_trainer_checkpoint(rb, path, 0, NULL) == NIS_OK, "%s", nis_trainer_message(rb));
        nis_trainer_free(rb);
        rb = nis_trainer_resume(t, path, err, sizeof err);
        CHECK(rb && nis_trainer_iter(rb) == 6, "resumed: %s", rb ? "wrong update count" : err);
        CHECK(rb && nis_trainer_train(rb, 12, NULL, NULL) == NIS_OK, "resumed training");
        if (ra && rb) {
            nis_params *Ga = nis_trainer_generator(ra), *Gb = nis_trainer_generator(rb);
            nis_params *Sa = nis_trainer_score_net(ra), *Sb = nis_trainer_score_net(rb);
            CHECK(!memcmp(Ga->data, Gb->data, (size_t)Ga->n * sizeof(nis_real)), "generator differs after resume");
            CHECK(!memcmp(Sa->data, Sb->data, (size_t)Sa->n * sizeof(nis_real)), "score net differs after resume");
            CHECK(!memcmp(nis_trainer_ema(ra)->shadow, nis_trainer_ema(rb)->shadow, (size_t)Ga->n * sizeof(nis_real)),
                  "EMA differs after resume");
            CHECK(nis_trainer_target_evals(ra) == nis_trainer_target_evals(rb), "evaluation counts differ");
            nis_real xa[64], xb[64];
            draw(ra, 32, xa), draw(rb, 32, xb);
            CHECK(!memcmp(xa, xb, sizeof xa), "samples differ after resume%s", pre ? " (preconditioned)" : "");
        }
        nis_trainer_free(ra), nis_trainer_free(rb);
        /* damaged checkpoints are refused, naming the file: a truncated copy */
        FILE *f = fopen(path, "r+rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            long len = ftell(f);
            CHECK(ftruncate(fileno(f), len / 2) == 0, "truncate");
            fclose(f);
        }
        CHECK(nis_trainer_resume(t, path, err, sizeof err) == NULL && strstr(err, path), "truncated checkpoint: %s", err);
        unlink(path);
        rmdir(dir);
    }

    /* 13. the convergence monitor and the stopping rule: with a check every 2 updates and a threshold nothing
     * exceeds, the drift is NaN at the first check (nothing to compare with) and finite at the second, and the run
     * stops at the third (two checks in a row below); a run checkpointed between the checks and resumed stops at
     * the same update with the same weights (the monitor's state is in the checkpoint) */
    {
        nis_train_config cm = small(NIS_METHOD_DFT);
        cm.init_steps = 2, cm.iters = 20, cm.monitor_every = 2, cm.stop_drift = 1e9;
        nis_trainer *ma = trainer(t, &cm, err), *mb = trainer(t, &cm, err);
        nis_train_stats st2 = {0}, st4 = {0};
        CHECK(ma && nis_trainer_step(ma, NULL) == NIS_OK && nis_trainer_step(ma, &st2) == NIS_OK &&
              nis_trainer_step(ma, NULL) == NIS_OK && nis_trainer_step(ma, &st4) == NIS_OK, "monitor: steps");
        CHECK(isnan(st2.drift) && isfinite(st4.drift) && st4.drift > 0, "monitor: drift %g at 2 (want NaN), %g at 4",
              st2.drift, st4.drift);
        CHECK(ma && nis_trainer_train(ma, 20, NULL, NULL) == NIS_OK && nis_trainer_iter(ma) == 6 &&
              nis_trainer_stopped(ma) == 6, "monitor: stopped at %lld, want 6", ma ? (long long)nis_trainer_stopped(ma) : -1);
        char dir[64], path[128];
        CHECK(mb && temp_dir(dir, sizeof dir) && nis_trainer_train(mb, 5, NULL, NULL) == NIS_OK, "monitor: resume");
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
        CHECK(mb && nis_trainer_checkpoint(mb, path, 0, NULL) == NIS_OK, "monitor: checkpoint");
        nis_trainer_free(mb);
        mb = nis_trainer_resume(t, path, err, sizeof err);
        CHECK(mb && nis_trainer_train(mb, 20, NULL, NULL) == NIS_OK && nis_trainer_stopped(mb) == 6,
              "monitor: the resumed run stopped at %lld, want 6", mb ? (long long)nis_trainer_stopped(mb) : -1);
        if (ma && mb)
            CHECK(!memcmp(nis_trainer_generator(ma)->data, nis_trainer_generator(mb)->data,
                          (size_t)nis_trainer_generator(ma)->n * sizeof(nis_real)), "monitor: resumed weights differ");
        nis_trainer_free(ma), nis_trainer_free(mb);
        unlink(path);
        rmdir(dir);
    }

    /* 12b. antithetic pairs: the two rows of a pair have the same x0 to the bit and opposite ε */
    {
        nis_train_config cp = small(NIS_METHOD_DFT);
        cp.init_steps = 2;
        CHECK(cp.antithetic, "the default configuration has no antithetic pairs");
        const nis_objective plug = {"dft-pairs", nis_objective_builtin(NIS_METHOD_DFT)->score_loss, pairs_equal};
        nis_trainer *tp = trainer(t, &cp, err);
        CHECK(tp != NULL, "pairs: %s", err);
        if (tp) {
            nis_trainer_set_objective(tp, &plug);
            for (int i = 0; i < 3; i++) nis_trainer_step(tp, NULL);
        }
        CHECK(g_pair_rows == 3 * 2 * 64 && g_pair_mismatch == 0, "antithetic pairs: %lld values differ in %lld pairs",
              (long long)g_pair_mismatch, (long long)g_pair_rows);
        nis_trainer_free(tp);
    }

    /* 13. a run with files: a plug-in objective makes update 45 fail; with saves every 20 the run stops with
     * NIS_ENUMERIC, says it kept update 40's files, and those load (the sampler) and resume (the checkpoint) */
    {
        nis_train_config cn = small(NIS_METHOD_DFT);
        cn.init_steps = 2;
        const nis_objective plug = {"dft-nan-at-45", nis_objective_builtin(NIS_METHOD_DFT)->score_loss, nan_at_45};
        nis_trainer *tn = trainer(t, &cn, err);
        char dir[64], path[128];
        CHECK(tn && temp_dir(dir, sizeof dir), "run: %s", err);
        if (tn) nis_trainer_set_objective(tn, &plug);
        nis_train_run_opts ro = {.dir = dir, .every = 20};
        nis_train_run_result res;
        nis_status st2 = tn ? nis_trainer_run(tn, 100, &ro, &res) : NIS_ESTATE;
        if (tn) snprintf(err, sizeof err, "%s", nis_trainer_message(tn));
        CHECK(st2 == NIS_ENUMERIC, "faulty run: %s", nis_status_name(st2));
        CHECK(strstr(err, "update 45") && strstr(err, "kept the last good sampler") && strstr(err, "(update 40)"),
              "faulty run's message: %s", err);
        CHECK(res.last_saved == 40, "last saved %lld", (long long)res.last_saved);
        snprintf(path, sizeof path, "%s/sampler.safetensors", dir);
        nis_sampler *sl = nis_sampler_load(path, err, sizeof err);
        CHECK(sl != NULL, "kept sampler: %s", err);
        nis_sampler_free(sl);
        unlink(path);
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
        nis_trainer *tk = nis_trainer_resume(t, path, err, sizeof err);
        CHECK(!tk && strstr(err, "dft-nan-at-45"), "a plug-in's checkpoint resumed as the built-in: %s", err);
        nis_trainer_free(tk);
        unlink(path);
        rmdir(dir);
        nis_trainer_free(tn);
    }

    /* bad configuration is refused with a message */
    c.batch = 7;
    CHECK(trainer(t, &c, err) == NULL && strstr(err, "batch"), "odd batch accepted: %s", err);
    return check_done("test_train");
}
