/* Foreign targets (nis_foreign_target_new: callbacks on arrays), in double precision, on a correlated Gaussian
 * q = N(m, Σ) in 3 dimensions whose callbacks are written by hand: the target's score, HVP and log q are the
 * callbacks'; autodiff through them gives log q's gradient = the score and the score's = the HVP; a third
 * derivative, a missing HVP or log q, and a failing callback fail with one line naming the target; a DFT trainer
 * runs on it. */
#include "check.h"
#include "nis/ops.h"
#include "nis/target.h"
#include "nis/train.h"

#include <string.h>

enum { D = 3 };
static const double m[D] = {1, -2, 0.5};
static const double P[D][D] = {{2, 0.5, 0}, {0.5, 1, -0.3}, {0, -0.3, 1.5}};   /* Σ^-1 */
static int calls, fail_now;

static void prec(const nis_real *x, nis_real *out, bool centre) {
    for (int i = 0; i < D; i++) {
        double s = 0;
        for (int j = 0; j < D; j++) s += P[i][j] * (x[j] - (centre ? m[j] : 0));
        out[i] = -s;
    }
}
static int score(void *ud, const nis_real *x, int64_t n, nis_real *out) {
    (void)ud;
    calls++;
    for (int64_t b = 0; b < n; b++) prec(x + b * D, out + b * D, true);
    return fail_now;
}
static int hvp(void *ud, const nis_real *x, const nis_real *v, int64_t n, nis_real *out) {
    (void)ud, (void)x;
    for (int64_t b = 0; b < n; b++) prec(v + b * D, out + b * D, false);
    return 0;
}
static int log_prob(void *ud, const nis_real *x, int64_t n, nis_real *out) {
    (void)ud;
    for (int64_t b = 0; b < n; b++) {
        nis_real s[D];
        prec(x + b * D, s, true);
        double q = 0;
        for (int i = 0; i < D; i++) q += 0.5 * (x[b * D + i] - m[i]) * s[i];
        out[b] = q;
    }
    return 0;
}

int main(void) {
    CHECK(nis_foreign_target_new("x", 0, score, hvp, NULL, NULL) == NULL, "dim 0 refused");
    CHECK(nis_foreign_target_new("x", D, NULL, hvp, NULL, NULL) == NULL, "no score refused");
    nis_target *t = nis_foreign_target_new("gauss3", D, score, hvp, log_prob, NULL);
    CHECK(t && t->dim == D && !strcmp(t->name, "gauss3"), "made");
    const int64_t B = 4;
    double xv[4 * D], vv[4 * D], want[4 * D], hv[4 * D];
    for (int i = 0; i < B * D; i++) xv[i] = 0.3 * i - 1, vv[i] = (i % 5) - 2.0;
    for (int b = 0; b < B; b++) prec(xv + b * D, want + b * D, true), prec(vv + b * D, hv + b * D, false);
    nis_ctx *c = nis_ctx_new(0);

    /* the score and HVP are the callbacks' */
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, D}, xv), *v = nis_tensor_from(c, 2, (int64_t[]){B, D}, vv);
    nis_tensor *s = nis_target_score(c, t, x, false), *h = nis_target_hvp(c, t, x, v);
    CHECK(s && h, "%s", nis_ctx_message(c));
    for (int i = 0; s && h && i < B * D; i++) CHECK(s->data[i] == want[i] && h->data[i] == hv[i], "value %d", i);

    /* d log q / dx = the score; d (score . v) / dx = H v */
    nis_tensor *xg = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){B, D}, xv)), *g = NULL;
    nis_tensor *lq = nis_sum(c, t->log_prob(c, t, xg));
    CHECK(lq && nis_grad(c, 1, &lq, NULL, 1, &xg, true, &g) == NIS_OK, "%s", nis_ctx_message(c));
    for (int i = 0; g && i < B * D; i++) CHECK_CLOSE(g->data[i], want[i], 1e-12, 1e-12);
    nis_tensor *sv = nis_sum(c, nis_mul(c, g, v)), *g2 = NULL;
    CHECK(nis_grad(c, 1, &sv, NULL, 1, &xg, true, &g2) == NIS_OK, "%s", nis_ctx_message(c));
    for (int i = 0; g2 && i < B * D; i++) CHECK_CLOSE(g2->data[i], hv[i], 1e-12, 1e-12);

    /* a third derivative is refused, naming the target */
    nis_tensor *hs = nis_sum(c, nis_mul(c, g2, v)), *g3 = NULL;
    CHECK(nis_grad(c, 1, &hs, NULL, 1, &xg, false, &g3) != NIS_OK && strstr(nis_ctx_message(c), "gauss3: a third"),
          "third derivative: %s", nis_ctx_message(c));

    /* a failing callback, a missing hvp or log q */
    nis_ctx_reset(c);
    fail_now = 1;
    CHECK(nis_target_score(c, t, nis_tensor_from(c, 2, (int64_t[]){B, D}, xv), false) == NULL &&
              !strcmp(nis_ctx_message(c), "gauss3: the score callback failed"), "failing: %s", nis_ctx_message(c));
    fail_now = 0;
    nis_target *t2 = nis_foreign_target_new("bare", D, score, NULL, NULL, NULL);
    nis_ctx_reset(c);
    x = nis_tensor_from(c, 2, (int64_t[]){B, D}, xv);
    CHECK(nis_target_hvp(c, t2, x, x) == NULL && strstr(nis_ctx_message(c), "bare: Hessian-vector products"), "no hvp");
    nis_ctx_reset(c);
    x = nis_tensor_from(c, 2, (int64_t[]){B, D}, xv);
    CHECK(t2->log_prob(c, t2, x) == NULL && strstr(nis_ctx_message(c), "bare: log q is needed"), "no log q");
    nis_ctx_reset(c);
    CHECK(nis_target_score(c, t, nis_tensor_from(c, 2, (int64_t[]){B, 2}, xv), false) == NULL &&
              nis_ctx_status(c) == NIS_ESHAPE, "wrong width refused");

    /* a DFT trainer runs on it, and its KL trainer without an HVP */
    nis_train_config cfg = nis_train_config_default(NIS_METHOD_DFT);
    cfg.iters = 30, cfg.batch = 16, cfg.width = cfg.score_width = 8, cfg.init_steps = 10, cfg.init_at_mode = false;
    char err[256];
    nis_trainer *tr = nis_trainer_new(t, &cfg, NULL, err, sizeof err);
    CHECK(tr && nis_trainer_train(tr, 30, NULL, NULL) == NIS_OK, "dft on a foreign target: %s",
          tr ? nis_trainer_message(tr) : err);
    nis_trainer_free(tr);
    cfg.method = NIS_METHOD_KL;
    tr = nis_trainer_new(t2, &cfg, NULL, err, sizeof err);
    CHECK(tr && nis_trainer_train(tr, 30, NULL, NULL) == NIS_OK, "kl without an hvp: %s", tr ? nis_trainer_message(tr) : err);
    nis_trainer_free(tr);
    cfg.method = NIS_METHOD_DFT;
    tr = nis_trainer_new(t2, &cfg, NULL, err, sizeof err);
    CHECK(tr && nis_trainer_train(tr, 30, NULL, NULL) != NIS_OK && strstr(nis_trainer_message(tr), "bare: Hessian"),
          "dft without an hvp fails naming it: %s", tr ? nis_trainer_message(tr) : err);
    nis_trainer_free(tr);
    CHECK(calls > 0, "callbacks called");
    nis_foreign_target_free(t2);
    nis_foreign_target_free(t);
    nis_ctx_free(c);
    return check_done("test_foreign_f64");
}
