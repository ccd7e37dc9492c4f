/* The EBM target in double precision: its score is -grad f / T and its Hessian-vector products (double
 * backward through the conv net: what the DFT image sampler needs) match central differences of the score;
 * gc_check verifies f to second order as well.  A DSM energy (strides 1, 2; noise 0.3): temperature 1, the
 * DSM objective's parameter gradient (a double backward) and the jump x - s² ∇E(x) against central differences;
 * a noise-conditional one (levels 0.1 .. 1): its objective's value and gradient, level views and jump.
 * The U-Net energy (f = ½ ||x - U(x)||²): its value, f to second order and its DSM gradient.
 * An energy that sees its level (level features): f at a level, views, the DSM gradient with a level per image,
 * a file round trip and the configurations it refuses; the same with EDM's preconditioning.  The exact target of
 * off-data rows (nis_smoothed_eps) against a direct posterior mean and central differences.
 * A tiny energy on 8x8 images keeps it fast. */
#include "gradcheck.h"
#include "nis/ebm_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static nis_ebm_config tiny(void) {
    nis_ebm_config c = nis_ebm_config_default();
    c.h = c.w = 8;
    c.n_conv = 2;
    c.channels[0] = 3, c.channels[1] = 4;
    c.lambda = 0.5, c.sigma = 0.1;   /* T = 0.01 */
    return c;
}

static nis_tensor *f_of(nis_ctx *ctx, nis_tensor *const *x, void *ud) { return nis_ebm_f(ctx, ud, x[0]); }

/* score (B, d) of the target at x into out (values) */
static void score_at(nis_ctx *c, const nis_ebm *E, int64_t B, int64_t d, const double *x, double *out) {
    nis_ctx_reset(c);
    nis_tensor *s = nis_target_score(c, nis_ebm_target(E), nis_tensor_from(c, 2, (int64_t[]){B, d}, x), false);
    CHECK(s != NULL, "score: %s", nis_ctx_message(c));
    for (int64_t i = 0; s && i < B * d; i++) out[i] = s->data[i];
}

/* The levels lev (B values, NULL: none) as a tensor of c, or NULL. */
static nis_tensor *levels_of(nis_ctx *c, int64_t B, const double *lev) {
    return lev ? nis_tensor_from(c, 1, (int64_t[]){B}, lev) : NULL;
}

/* The DSM objective at fixed y, eps (values in yv, ev) and levels lev (may be NULL): its value in ctx. */
static double dsm_value(nis_ctx *c, const nis_ebm *E, int64_t B, int64_t d, const double *yv, const double *ev,
                        const double *lev) {
    nis_ctx_reset(c);
    nis_tensor *l = nis_ebm_dsm_objective(c, E, nis_tensor_from(c, 2, (int64_t[]){B, d}, yv), levels_of(c, B, lev),
                                          nis_tensor_from(c, 2, (int64_t[]){B, d}, ev), NULL);
    CHECK(l != NULL, "dsm objective: %s", nis_ctx_message(c));
    return l ? l->data[0] : NAN;
}

/* The parameters' gradient of the DSM objective at fixed y, eps and levels lev (may be NULL; a double backward)
 * against central differences. */
static void dsm_gradcheck_at(nis_ebm *E, int64_t B, int64_t d, const double *yv, const double *ev, const double *lev,
                             const char *what) {
    nis_ctx *c = nis_ctx_new(0), *c2 = nis_ctx_new(0);
    nis_params *P = E->P;
    double l0 = dsm_value(c, E, B, d, yv, ev, lev);
    nis_tensor *l = nis_ebm_dsm_objective(c, E, nis_tensor_from(c, 2, (int64_t[]){B, d}, yv), levels_of(c, B, lev),
                                          nis_tensor_from(c, 2, (int64_t[]){B, d}, ev), NULL);
    nis_params_zero_grad(P);
    CHECK(l && nis_backward(c, l, NULL) == NIS_OK, "backward: %s", nis_ctx_message(c));
    double worst = 0, scale = 0;
    const double h = 1e-5;
    for (int64_t k = 0; k < P->n; k += P->n / 37 + 1) {
        double p0 = P->data[k];
        P->data[k] = p0 + h;
        double lp = dsm_value(c2, E, B, d, yv, ev, lev);
        P->data[k] = p0 - h;
        double lm = dsm_value(c2, E, B, d, yv, ev, lev);
        P->data[k] = p0;
        double fd = (lp - lm) / (2 * h);
        worst = fmax(worst, fabs(P->grad[k] - fd));
        scale = fmax(scale, fabs(fd));
    }
    printf("%s objective %.6f: parameter gradient vs differences, max error %.3g (scale %.3g)\n", what, l0, worst,
           scale);
    CHECK(scale > 1e-4 && worst <= 1e-6 * fmax(1, scale), "%s gradient: max error %g (scale %g)", what, worst, scale);
    nis_ctx_free(c);
    nis_ctx_free(c2);
}

static void dsm_gradcheck(nis_ebm *E, int64_t B, int64_t d, const double *yv, const double *ev, const char *what) {
    dsm_gradcheck_at(E, B, d, yv, ev, NULL, what);
}

/* ∂f/∂x at x (one image of d values) by central differences, every `step`-th coordinate into g. */
static void fd_grad_f(const nis_ebm *E, int64_t d, const double *x, int step, double *g) {
    nis_ctx *c = nis_ctx_new(0);
    double xe[64];
    const double h = 1e-5;
    for (int64_t i = 0; i < d; i += step) {
        memcpy(xe, x, (size_t)d * sizeof *xe);
        xe[i] = x[i] + h;
        nis_ctx_reset(c);
        double fp = nis_ebm_f(c, E, nis_tensor_from(c, 2, (int64_t[]){1, d}, xe))->data[0];
        xe[i] = x[i] - h;
        nis_ctx_reset(c);
        double fm = nis_ebm_f(c, E, nis_tensor_from(c, 2, (int64_t[]){1, d}, xe))->data[0];
        g[i] = (fp - fm) / (2 * h);
    }
    nis_ctx_free(c);
}

static void test_dsm(void) {
    nis_ebm_config cfg = tiny();
    cfg.strides[0] = 1, cfg.strides[1] = 2, cfg.noise = 0.3;
    nis_ebm E;
    char err[256];
    CHECK(nis_ebm_init(&E, &cfg, 4, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(E.temperature == 1 && fabs(nis_ebm_ula_step(&E) - 0.3 * 0.09) < 1e-15, "DSM energy: T %g, h %g",
          E.temperature, nis_ebm_ula_step(&E));
    CHECK(E.net.conv[0].stride == 1 && E.net.conv[1].stride == 2, "strides %d %d", (int)E.net.conv[0].stride,
          (int)E.net.conv[1].stride);
    CHECK(!nis_ebm_is_conditional(&E), "a one-level DSM energy is not noise-conditional");
    const int64_t B = 2, d = 64;
    double yv[2 * 64], ev[2 * 64];
    for (int64_t i = 0; i < B * d; i++) ev[i] = test_normal(), yv[i] = test_uniform() + 0.3 * ev[i];
    dsm_gradcheck(&E, B, d, yv, ev, "dsm");

    /* the jump: x - s² ∇E(x), ∇E by central differences of f (T = 1) */
    double xj[64], x0[64], g[64];
    for (int64_t i = 0; i < d; i++) xj[i] = x0[i] = test_uniform();
    CHECK(nis_ebm_denoise(&E, xj, 1, err, sizeof err) == NIS_OK, "%s", err);
    fd_grad_f(&E, d, x0, 7, g);
    double worst = 0;
    for (int64_t i = 0; i < d; i += 7) worst = fmax(worst, fabs(xj[i] - (x0[i] - 0.09 * g[i])));
    CHECK(worst < 1e-8, "jump vs x - s^2 grad E: %g", worst);
    nis_ebm ml, view;
    nis_ebm_config mc = tiny();
    CHECK(nis_ebm_init(&ml, &mc, 4, err, sizeof err) == NIS_OK && nis_ebm_denoise(&ml, xj, 1, err, sizeof err) ==
          NIS_EINVAL && strstr(err, "DSM"), "the jump of an ML energy: %s", err);
    CHECK(nis_ebm_at_level(&ml, 0.5, &view, err, sizeof err) == NIS_EINVAL &&
          nis_ebm_at_level(&E, 0.5, &view, err, sizeof err) == NIS_EINVAL, "level views of one-level energies");
    nis_ebm_free(&ml);
    nis_ebm_free(&E);
}

/* A noise-conditional energy (levels 0.1 .. 1): E_s = f / s, its target the lowest level, the DSM objective
 * mean_b ||∇f(y_b) - ε_b||² whatever level made y, and the jump x - noise ∇f. */
static void test_conditional(void) {
    nis_ebm_config cfg = tiny();
    cfg.strides[0] = 1, cfg.strides[1] = 2, cfg.noise = 0.1, cfg.noise_max = 1;
    nis_ebm E, view;
    char err[256];
    CHECK(nis_ebm_init(&E, &cfg, 6, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_is_conditional(&E) && E.temperature == 0.1, "conditional energy: T %g", E.temperature);
    nis_ebm_config bad = cfg;
    bad.noise_max = 0.1;
    CHECK(nis_ebm_init(&view, &bad, 6, err, sizeof err) == NIS_EINVAL, "noise_max = noise is refused");
    bad.noise = 0, bad.noise_max = 1;
    CHECK(nis_ebm_init(&view, &bad, 6, err, sizeof err) == NIS_EINVAL, "noise_max without noise is refused");
    CHECK(nis_ebm_at_level(&E, 0, &view, err, sizeof err) == NIS_EINVAL, "level 0 is refused");

    const int64_t B = 2, d = 64;
    double yv[2 * 64], ev[2 * 64], g[64];
    const double lev[2] = {0.1, 0.7};
    for (int64_t i = 0; i < B * d; i++) ev[i] = test_normal(), yv[i] = test_uniform() + lev[i / d] * ev[i];
    dsm_gradcheck(&E, B, d, yv, ev, "conditional dsm");

    /* the objective's value: mean over images of ||∇f - ε||², ∇f by differences (every coordinate) */
    nis_ctx *c = nis_ctx_new(0);
    double want = 0;
    for (int64_t b = 0; b < B; b++) {
        fd_grad_f(&E, d, yv + b * d, 1, g);
        for (int64_t i = 0; i < d; i++) want += (g[i] - ev[b * d + i]) * (g[i] - ev[b * d + i]) / (double)B;
    }
    double got = dsm_value(c, &E, B, d, yv, ev, NULL);
    CHECK_CLOSE(got, want, 1e-7, 1e-9);

    /* a level view: log q_s = -f / s, sharing the parameters */
    CHECK(nis_ebm_at_level(&E, 0.5, &view, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(view.P == E.P && view.temperature == 0.5 && nis_ebm_target(&view)->data == &view, "the view");
    nis_ctx_reset(c);
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, d}, yv);
    nis_tensor *f = nis_ebm_f(c, &E, x), *lq = nis_ebm_target(&view)->log_prob(c, nis_ebm_target(&view), x),
               *l0 = nis_ebm_target(&E)->log_prob(c, nis_ebm_target(&E), x);
    for (int64_t b = 0; b < B; b++) {
        CHECK_CLOSE(lq->data[b], -f->data[b] / 0.5, 1e-12, 1e-12);
        CHECK_CLOSE(l0->data[b], -f->data[b] / 0.1, 1e-12, 1e-12);
    }

    /* the jump from the lowest level: x - noise² ∇(f / noise) = x - noise ∇f */
    double xj[64];
    memcpy(xj, yv, sizeof xj);
    CHECK(nis_ebm_denoise(&E, xj, 1, err, sizeof err) == NIS_OK, "%s", err);
    fd_grad_f(&E, d, yv, 5, g);
    double worst = 0;
    for (int64_t i = 0; i < d; i += 5) worst = fmax(worst, fabs(xj[i] - (yv[i] - 0.1 * g[i])));
    CHECK(worst < 1e-8, "conditional jump vs x - noise grad f: %g", worst);
    nis_ctx_free(c);
    nis_ebm_free(&E);
}

/* A U-Net energy (noise-conditional, levels 0.1 .. 1): f = ½ ||x - U(x)||² against U's own output, f to second
 * order, and its DSM objective's parameter gradient (a double backward through the transposed convs). */
static void test_unet(void) {
    nis_ebm_config cfg = tiny();
    cfg.arch = NIS_EBM_UNET, cfg.n_conv = 1, cfg.channels[0] = 2, cfg.noise = 0.1, cfg.noise_max = 1;
    nis_ebm E, bad_E;
    char err[256];
    CHECK(nis_ebm_init(&E, &cfg, 8, err, sizeof err) == NIS_OK, "%s", err);
    nis_ebm_config bad = cfg;
    bad.h = 6;
    CHECK(nis_ebm_init(&bad_E, &bad, 8, err, sizeof err) == NIS_EINVAL && strstr(err, "divisible"),
          "a U-Net energy on 6x8 images is refused: %s", err);
    bad = cfg, bad.n_conv = 2;
    CHECK(nis_ebm_init(&bad_E, &bad, 8, err, sizeof err) == NIS_EINVAL, "a U-Net energy with two widths is refused");
    const int64_t B = 2, d = 64;
    double yv[2 * 64], ev[2 * 64];
    const double lev[2] = {0.1, 0.7};
    for (int64_t i = 0; i < B * d; i++) ev[i] = test_normal(), yv[i] = test_uniform() + lev[i / d] * ev[i];
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, d}, yv);
    nis_tensor *f = nis_ebm_f(c, &E, x), *u = nis_unet_forward(c, &E.unet, x);
    CHECK(f && u && f->ndim == 1 && f->shape[0] == B, "U-Net f: %s", nis_ctx_message(c));
    for (int64_t b = 0; f && u && b < B; b++) {
        double want = 0;
        for (int64_t i = 0; i < d; i++) want += 0.5 * (yv[b * d + i] - u->data[b * d + i]) * (yv[b * d + i] - u->data[b * d + i]);
        CHECK_CLOSE(f->data[b], want, 1e-12, 1e-12);
    }
    gc_spec sp = {2, {B, d}, 0, 1};
    CHECK(gc_check("unet ebm f", f_of, &E, 1, &sp, 2, 1e-6), "gradcheck of the U-Net f");
    dsm_gradcheck(&E, B, d, yv, ev, "unet dsm");
    nis_ctx_free(c);
    nis_ebm_free(&E);
}

/* The pooled U-Net (nis_unet with `pooled`, the image samplers' score network option): U(x) to second order in
 * x, and its parameter gradient (the sampler's score network trains by it; DFT's loss differentiates through it). */
static nis_tensor *unet_of(nis_ctx *ctx, nis_tensor *const *x, void *ud) { return nis_unet_forward(ctx, ud, x[0]); }

static void test_pooled_unet(void) {
    nis_params *P = nis_params_new();
    nis_unet U;
    CHECK(nis_unet_add(&U, P, "score", 2, 1, 8, 8, NIS_ACT_SILU, true) == NIS_OK && nis_params_finalize(P) == NIS_OK,
          "pooled U-Net: %s", nis_params_message(P));
    CHECK(nis_params_get(P, "score.up1.weight") && nis_params_get(P, "score.up1.weight")->n == 4 * 4 * 9,
          "pooled U-Net: up1 is a 3x3 conv of 4 channels");
    nis_rng rng = nis_rng_init(4, 0);
    nis_params_init(P, &rng);
    gc_spec sp = {2, {2, 64}, 0, 1};
    CHECK(gc_check("pooled unet", unet_of, &U, 1, &sp, 2, 1e-6), "gradcheck of the pooled U-Net");
    /* parameters: <w, U(x)> against central differences of a few weights of every layer */
    nis_ctx *c = nis_ctx_new(0);
    double xv[2 * 64], wv[2 * 64];
    for (int i = 0; i < 128; i++) xv[i] = test_uniform(), wv[i] = test_normal();
    nis_params_zero_grad(P);
    nis_tensor *y = nis_unet_forward(c, &U, nis_tensor_from(c, 2, (int64_t[]){2, 64}, xv));
    nis_tensor *L = nis_sum(c, nis_mul(c, y, nis_tensor_from(c, 2, (int64_t[]){2, 64}, wv)));
    CHECK(L && nis_backward(c, L, NULL) == NIS_OK, "backward: %s", nis_ctx_message(c));
    static const char *const names[] = {"score.in.weight", "score.down1.weight", "score.down2.weight",
                                        "score.up1.weight", "score.up2.weight", "score.out.bias"};
    double worst = 0;
    for (int k = 0; k < 6; k++) {
        nis_tensor *p = nis_params_get(P, names[k]);
        for (int64_t i = 0; p && i < p->n; i += 7) {
            double keep = p->data[i], l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                p->data[i] = keep + (sgn ? -1e-6 : 1e-6);
                nis_ctx_reset(c);
                nis_tensor *yy = nis_unet_forward(c, &U, nis_tensor_from(c, 2, (int64_t[]){2, 64}, xv));
                double acc = 0;
                for (int j = 0; yy && j < 128; j++) acc += yy->data[j] * wv[j];
                l[sgn] = acc;
            }
            p->data[i] = keep;
            worst = fmax(worst, fabs((l[0] - l[1]) / 2e-6 - p->grad[i]));
        }
    }
    CHECK(worst < 1e-6, "pooled U-Net parameter gradient vs differences: %g", worst);
    nis_ctx_free(c);
    nis_params_free(P);
}

/* f evaluated at a level view (ud): the view's level reaches the level features */
static nis_tensor *f_view(nis_ctx *ctx, nis_tensor *const *x, void *ud) { return nis_ebm_f(ctx, ud, x[0]); }

/* A noise-conditional conv energy with level features (levels 0.1 .. 1), with a linear head (hidden 0) or a
 * hidden layer of that many units (which the level shifts too). */
static void test_level_input(int hidden) {
    nis_ebm_config cfg = tiny();
    cfg.noise = 0.1, cfg.noise_max = 1, cfg.level_features = 4, cfg.hidden = hidden;
    nis_ebm E, bad_E, view, back;
    char err[256];
    CHECK(nis_ebm_init(&E, &cfg, 9, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(E.P->count == 2 * 2 + 2 + 2 + (hidden ? 3 : 0),
          "convs, [hidden,] head and one conditioning Linear per conv [and hidden layer]: %d tensors", E.P->count);
    if (hidden)
        CHECK(nis_params_get(E.P, "energy.hidden.weight") && nis_params_get(E.P, "energy.cond3.weight") &&
                  nis_params_get(E.P, "energy.head.weight")->shape[1] == hidden,
              "hidden layer's tensors");
    nis_ebm_config bad = cfg;
    bad.noise_max = 0;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "level features on a one-level energy");
    bad = cfg, bad.arch = NIS_EBM_UNET, bad.n_conv = 1;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "level features on a U-Net energy");
    bad = cfg, bad.level_features = 65;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "65 level features");
    bad = cfg, bad.hidden = -1;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "-1 hidden units");

    const int64_t B = 2, d = 64;
    double yv[2 * 64], ev[2 * 64], half[2] = {0.5, 0.5}, low[2] = {0.1, 0.1};
    const double lev[2] = {0.15, 0.8};
    for (int64_t i = 0; i < B * d; i++) ev[i] = test_normal(), yv[i] = test_uniform() + lev[i / d] * ev[i];
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, d}, yv);
    /* f sees the level: f(x, 0.5) != f(x, 0.1); E's own f is f at its lowest level; a view's log q = -f(x, s) / s */
    nis_tensor *fh = nis_ebm_f_at(c, &E, x, nis_tensor_from(c, 1, (int64_t[]){B}, half)),
               *fl = nis_ebm_f_at(c, &E, x, nis_tensor_from(c, 1, (int64_t[]){B}, low)), *f0 = nis_ebm_f(c, &E, x);
    CHECK(nis_ebm_at_level(&E, 0.5, &view, err, sizeof err) == NIS_OK, "%s", err);
    nis_tensor *lq = nis_ebm_target(&view)->log_prob(c, nis_ebm_target(&view), x);
    CHECK(fh && fl && f0 && lq, "f at levels: %s", nis_ctx_message(c));
    for (int64_t b = 0; fh && fl && f0 && lq && b < B; b++) {
        CHECK(fabs(fh->data[b] - fl->data[b]) > 1e-6, "f(x, 0.5) = f(x, 0.1) = %g: the level is not seen", fh->data[b]);
        CHECK_CLOSE(f0->data[b], fl->data[b], 1e-12, 1e-12);
        CHECK_CLOSE(lq->data[b], -fh->data[b] / 0.5, 1e-12, 1e-12);
    }
    CHECK(nis_ebm_f_at(c, &E, x, nis_tensor_from(c, 1, (int64_t[]){1}, half)) == NULL &&
              nis_ctx_status(c) == NIS_ESHAPE, "one level for two images is refused");
    nis_ctx_clear_error(c);

    /* f at a level to second order, and the DSM objective with a level per image */
    gc_spec sp = {2, {B, d}, 0, 1};
    CHECK(gc_check("level-input f at 0.5", f_view, &view, 1, &sp, 2, 1e-6), "gradcheck of f at a level");
    dsm_gradcheck_at(&E, B, d, yv, ev, lev, "level-input dsm");
    double per_image = dsm_value(c, &E, B, d, yv, ev, lev), own = dsm_value(c, &E, B, d, yv, ev, NULL);
    CHECK(fabs(per_image - own) > 1e-9, "the levels reach the objective (%g at both)", own);

    /* a file round trip keeps the features and the values */
    char path[128];
    snprintf(path, sizeof path, "/tmp/nis_test_ebm_f64_%d.safetensors", (int)getpid());
    CHECK(nis_ebm_save(path, &E, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_load(path, &back, err, sizeof err) == NIS_OK, "%s", err);
    remove(path);
    CHECK(back.cfg.level_features == 4 && back.cfg.hidden == hidden, "level features, hidden units after loading: %d, %d",
          back.cfg.level_features, back.cfg.hidden);
    nis_ctx_reset(c);
    x = nis_tensor_from(c, 2, (int64_t[]){B, d}, yv);
    nis_tensor *fa = nis_ebm_f(c, &E, x), *fb = nis_ebm_f(c, &back, x);
    for (int64_t b = 0; fa && fb && b < B; b++) CHECK_CLOSE(fb->data[b], fa->data[b], 1e-6, 1e-6);
    nis_ebm_free(&back);
    nis_ctx_free(c);
    nis_ebm_free(&E);
}

/* EDM's preconditioning (sigma_data > 0): with the network's weights zero, f(x, s) is the Gaussian energy
 * s ||x - m||² / (2 (s² + sd²)) exactly; with its weights, f to second order at a level, the DSM objective's value
 * (EDM's weight per row, by hand) and gradient, a file round trip, and the configurations refused. */
static void test_precondition(void) {
    nis_ebm_config cfg = tiny();
    cfg.noise = 0.1, cfg.noise_max = 1, cfg.level_features = 4, cfg.hidden = 3, cfg.sigma_data = 0.3,
    cfg.data_mean = 0.13;
    nis_ebm E, bad_E, view, back;
    char err[256];
    CHECK(nis_ebm_init(&E, &cfg, 11, err, sizeof err) == NIS_OK, "%s", err);
    nis_ebm_config bad = cfg;
    bad.level_features = 0;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "preconditioning without level features");
    bad = cfg, bad.sigma_data = -1;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "sigma_data < 0");
    bad = cfg, bad.data_mean = NAN;
    CHECK(nis_ebm_init(&bad_E, &bad, 9, err, sizeof err) == NIS_EINVAL, "a NaN data mean");
    /* the statistics from pixel values: mean 0.25, spread √(0.25 - 0.0625) */
    const nis_real px[4] = {0, 1, 0, 0}, flat[3] = {0.5, 0.5, 0.5};
    bad = tiny();
    CHECK(nis_ebm_config_precondition(&bad, px, 4, err, sizeof err) == NIS_OK, "%s", err);
    CHECK_CLOSE(bad.data_mean, 0.25, 1e-15, 0);
    CHECK_CLOSE(bad.sigma_data, sqrt(0.1875), 1e-15, 0);
    CHECK(nis_ebm_config_precondition(&bad, flat, 3, err, sizeof err) == NIS_EINVAL && bad.data_mean == 0.25,
          "constant pixels are refused and leave the config alone");
    CHECK(nis_ebm_config_precondition(&bad, px, 0, err, sizeof err) == NIS_EINVAL, "no pixels are refused");

    const int64_t B = 2, d = 64;
    double yv[2 * 64], ev[2 * 64], g[64];
    const double lev[2] = {0.12, 0.9};
    for (int64_t i = 0; i < B * d; i++) ev[i] = test_normal(), yv[i] = test_uniform() + lev[i / d] * ev[i];
    nis_ctx *c = nis_ctx_new(0);

    /* the Gaussian part alone: zero weights make the network's output 0 (no biases left either) */
    nis_real *saved = malloc((size_t)E.P->n * sizeof *saved);
    memcpy(saved, E.P->data, (size_t)E.P->n * sizeof *saved);
    memset(E.P->data, 0, (size_t)E.P->n * sizeof *E.P->data);
    nis_tensor *f = nis_ebm_f_at(c, &E, nis_tensor_from(c, 2, (int64_t[]){B, d}, yv),
                                 nis_tensor_from(c, 1, (int64_t[]){B}, lev));
    CHECK(f != NULL, "f: %s", nis_ctx_message(c));
    for (int64_t b = 0; f && b < B; b++) {
        double ss = 0;
        for (int64_t i = 0; i < d; i++) ss += (yv[b * d + i] - 0.13) * (yv[b * d + i] - 0.13);
        CHECK_CLOSE(f->data[b], lev[b] * ss / (2 * (lev[b] * lev[b] + 0.09)), 1e-12, 1e-12);
    }
    memcpy(E.P->data, saved, (size_t)E.P->n * sizeof *saved);
    free(saved);

    /* EDM's weight, normalised to mean 1 over log-uniform levels in [0.1, 1]: E[s²] = 0.99 / (2 ln 10) */
    const double m2 = 0.99 / (2 * log(10.0));
    CHECK_CLOSE(nis_ebm_dsm_weight(&E, 0.5), (0.25 + 0.09) / (m2 + 0.09), 1e-14, 0);
    double want = 0;
    for (int64_t b = 0; b < B; b++) {
        CHECK(nis_ebm_at_level(&E, lev[b], &view, err, sizeof err) == NIS_OK, "%s", err);
        fd_grad_f(&view, d, yv + b * d, 1, g);   /* ∇f at the row's level */
        double r2 = 0;
        for (int64_t i = 0; i < d; i++) r2 += (g[i] - ev[b * d + i]) * (g[i] - ev[b * d + i]);
        want += nis_ebm_dsm_weight(&E, lev[b]) * r2 / (double)B;
    }
    CHECK_CLOSE(dsm_value(c, &E, B, d, yv, ev, lev), want, 1e-7, 1e-9);
    dsm_gradcheck_at(&E, B, d, yv, ev, lev, "preconditioned dsm");
    CHECK(nis_ebm_at_level(&E, 0.4, &view, err, sizeof err) == NIS_OK, "%s", err);
    gc_spec sp = {2, {B, d}, 0, 1};
    CHECK(gc_check("preconditioned f at 0.4", f_view, &view, 1, &sp, 2, 1e-6), "gradcheck of f");

    char path[128];
    snprintf(path, sizeof path, "/tmp/nis_test_ebm_pre_%d.safetensors", (int)getpid());
    CHECK(nis_ebm_save(path, &E, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_ebm_load(path, &back, err, sizeof err) == NIS_OK, "%s", err);
    remove(path);
    CHECK(back.cfg.sigma_data == 0.3 && back.cfg.data_mean == 0.13, "preconditioning after loading: %g, %g",
          back.cfg.sigma_data, back.cfg.data_mean);
    nis_ctx_reset(c);
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, d}, yv);
    nis_tensor *fa = nis_ebm_f(c, &E, x), *fb = nis_ebm_f(c, &back, x);
    for (int64_t b = 0; fa && fb && b < B; b++) CHECK_CLOSE(fb->data[b], fa->data[b], 1e-6, 1e-6);
    nis_ebm_free(&back);
    nis_ctx_free(c);
    nis_ebm_free(&E);
}

/* nis_smoothed_eps: the exact denoising target of the n images smoothed at level s, against the posterior mean
 * computed directly (log-sum-exp of -||y - x_i||² / 2 s²) and, as a score, against central differences of
 * log Σ_i exp(-||y - x_i||² / 2 s²); one image gives (y - x) / s; the trainer refuses off_data without levels. */
static double log_smoothed(const double *x, int n, int d, const double *y, double s) {
    double mx = -INFINITY, l[7], z = 0;
    for (int i = 0; i < n; i++) {
        double r = 0;
        for (int j = 0; j < d; j++) r += (y[j] - x[i * d + j]) * (y[j] - x[i * d + j]);
        l[i] = -r / (2 * s * s), mx = fmax(mx, l[i]);
    }
    for (int i = 0; i < n; i++) z += exp(l[i] - mx);
    return mx + log(z);
}

static void test_smoothed_eps(void) {
    enum { n = 7, d = 5, m = 4 };
    double x[n * d], y[m * d], eps[m * d], one[d];
    const double s[m] = {0.05, 0.2, 1, 3};
    for (int i = 0; i < n * d; i++) x[i] = test_uniform();
    for (int i = 0; i < m * d; i++) y[i] = test_uniform() + 0.3 * test_normal();
    CHECK(nis_smoothed_eps(x, n, d, NULL, y, s, m, eps) == NIS_OK, "smoothed eps");
    for (int k = 0; k < m; k++) {
        double l[n], mx = -INFINITY, z = 0, xh[d] = {0};
        for (int i = 0; i < n; i++) {
            double r = 0;
            for (int j = 0; j < d; j++) r += (y[k * d + j] - x[i * d + j]) * (y[k * d + j] - x[i * d + j]);
            l[i] = -r / (2 * s[k] * s[k]), mx = fmax(mx, l[i]);
        }
        for (int i = 0; i < n; i++) z += exp(l[i] - mx);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) xh[j] += exp(l[i] - mx) / z * x[i * d + j];
        for (int j = 0; j < d; j++) CHECK_CLOSE(eps[k * d + j], (y[k * d + j] - xh[j]) / s[k], 1e-9, 1e-9);
        /* -eps / s is the score of the smoothed images: central differences of its log density */
        for (int j = 0; j < d; j++) {
            double yp[d], ym[d], h = 1e-5 * s[k];
            memcpy(yp, y + k * d, sizeof yp), memcpy(ym, y + k * d, sizeof ym);
            yp[j] += h, ym[j] -= h;
            double fd = (log_smoothed(x, n, d, yp, s[k]) - log_smoothed(x, n, d, ym, s[k])) / (2 * h);
            CHECK_CLOSE(-eps[k * d + j] / s[k], fd, 1e-5, 1e-6);
        }
    }
    double sq[n];
    for (int i = 0; i < n; i++) {
        sq[i] = 0;
        for (int j = 0; j < d; j++) sq[i] += x[i * d + j] * x[i * d + j];
    }
    double eps2[m * d];
    CHECK(nis_smoothed_eps(x, n, d, sq, y, s, m, eps2) == NIS_OK && !memcmp(eps, eps2, sizeof eps),
          "given norms give the same bits");
    CHECK(nis_smoothed_eps(x, 1, d, NULL, y, s + 1, 1, one) == NIS_OK, "one image");
    for (int j = 0; j < d; j++) CHECK_CLOSE(one[j], (y[j] - x[j]) / 0.2, 1e-12, 1e-12);
    const double zero[1] = {0};
    CHECK(nis_smoothed_eps(x, n, d, NULL, y, zero, 1, one) == NIS_EINVAL, "level 0 is refused");
    CHECK(nis_smoothed_eps(NULL, n, d, NULL, y, s, 1, one) == NIS_EINVAL, "no images are refused");

    nis_ebm_config cfg = tiny();   /* not noise-conditional */
    nis_ebm E;
    nis_ebm_trainer T;
    char err[256];
    CHECK(nis_ebm_init(&E, &cfg, 3, err, sizeof err) == NIS_OK, "%s", err);
    nis_ebm_train_config tc = nis_ebm_train_defaults();
    tc.off_data = 2;
    CHECK(nis_ebm_trainer_init(&T, &E, &tc, 1, err, sizeof err) == NIS_EINVAL && strstr(err, "off_data"),
          "off_data without levels: %s", err);
    nis_ebm_trainer_free(&T);
    nis_ebm_free(&E);
}

int main(void) {
    test_seed(5);
    nis_ebm E;
    char err[256];
    nis_ebm_config cfg = tiny();
    CHECK(nis_ebm_init(&E, &cfg, 3, err, sizeof err) == NIS_OK, "%s", err);
    CHECK_CLOSE(E.temperature, 0.01, 1e-15, 0);
    CHECK_CLOSE(nis_ebm_ula_step(&E), 0.005, 1e-15, 0);
    const int64_t B = 3, d = 64;
    CHECK(nis_ebm_target(&E)->dim == d, "dim %d", nis_ebm_target(&E)->dim);

    /* f to second order (every op's backward-of-backward on this net) */
    gc_spec sp = {2, {B, d}, 0, 1};
    CHECK(gc_check("ebm f", f_of, &E, 1, &sp, 2, 1e-6), "gradcheck of f");

    double *x = malloc(B * d * sizeof *x), *v = malloc(B * d * sizeof *v), *xs = malloc(B * d * sizeof *xs);
    double *sp_ = malloc(B * d * sizeof *sp_), *sm = malloc(B * d * sizeof *sm);
    for (int64_t i = 0; i < B * d; i++) x[i] = test_uniform(), v[i] = test_normal();
    nis_ctx *c = nis_ctx_new(0), *c2 = nis_ctx_new(0);

    /* score = -grad f / T, and log q = -f / T */
    nis_tensor *xt = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){B, d}, x));
    nis_tensor *f = nis_ebm_f(c, &E, xt), *gf;
    CHECK(f && f->ndim == 1 && f->shape[0] == B, "f must be (B,)");
    CHECK(nis_grad(c, 1, &f, NULL, 1, &xt, false, &gf) == NIS_OK, "%s", nis_ctx_message(c));
    nis_tensor *lq = nis_ebm_target(&E)->log_prob(c, nis_ebm_target(&E), xt);
    for (int64_t b = 0; b < B; b++) CHECK_CLOSE(lq->data[b], -f->data[b] / 0.01, 1e-9, 1e-12);
    score_at(c2, &E, B, d, x, sp_);
    double worst = 0;
    for (int64_t i = 0; i < B * d; i++) worst = fmax(worst, fabs(sp_[i] + gf->data[i] / 0.01));
    CHECK(worst < 1e-9, "score vs -grad f / T: %g", worst);

    /* HVP vs central differences of the score along v */
    nis_ctx_reset(c);
    nis_tensor *hv = nis_target_hvp(c, nis_ebm_target(&E), nis_tensor_from(c, 2, (int64_t[]){B, d}, x),
                                    nis_tensor_from(c, 2, (int64_t[]){B, d}, v));
    CHECK(hv && hv->n == B * d, "hvp: %s", nis_ctx_message(c));
    const double h = 1e-5;
    for (int64_t i = 0; i < B * d; i++) xs[i] = x[i] + h * v[i];
    score_at(c2, &E, B, d, xs, sp_);
    for (int64_t i = 0; i < B * d; i++) xs[i] = x[i] - h * v[i];
    score_at(c2, &E, B, d, xs, sm);
    double err_max = 0, scale = 0, nonzero = 0;
    for (int64_t i = 0; hv && i < B * d; i++) {
        double fd = (sp_[i] - sm[i]) / (2 * h);
        err_max = fmax(err_max, fabs(hv->data[i] - fd));
        scale = fmax(scale, fabs(fd));
        nonzero += fabs(hv->data[i]);
    }
    CHECK(nonzero > 1e-3, "the HVP of a SiLU conv energy is not zero (%g)", nonzero);
    CHECK(err_max <= 1e-6 * fmax(1, scale), "hvp vs finite differences: max error %g (scale %g)", err_max, scale);

    nis_ctx_free(c);
    nis_ctx_free(c2);
    free(x), free(v), free(xs), free(sp_), free(sm);
    nis_ebm_free(&E);
    test_dsm();
    test_conditional();
    test_unet();
    test_pooled_unet();
    test_level_input(0);
    test_level_input(5);
    test_precondition();
    test_smoothed_eps();
    return check_done("test_ebm_f64");
}
