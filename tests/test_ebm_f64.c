/* The EBM target in double precision: its score is -grad f / T and its Hessian-vector products (double
 * backward through the conv net: what the DFT image sampler needs) match central differences of the score;
 * gc_check verifies f to second order as well.  A tiny energy on 8x8 images keeps it fast. */
#include "gradcheck.h"
#include "nis/ebm.h"

#include <stdlib.h>

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
    return check_done("test_ebm_f64");
}
