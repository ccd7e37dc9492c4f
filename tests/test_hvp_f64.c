/* Second order through whole networks: the Hessian-vector product of a neural energy built with
 * create_graph, H v = grad_x <grad_x E(x), v>, matches central differences of the gradient,
 * (grad E(x + h v) - grad E(x - h v)) / 2h, in double precision.  This is the term DFT needs. */
#include "check.h"
#include "nis/core.h"
#include "nis/ops.h"

typedef struct { nis_tensor *w[4], *b[4]; bool conv; } net;

static void fill(nis_tensor *t, double scale) {
    for (int64_t i = 0; i < t->n; i++) t->data[i] = scale * (2 * test_uniform() - 1);
}

/* E(x) summed over the batch.  MLP: 3 -> 8 (softplus) -> 8 (silu) -> 1.
 * Conv: (N,1,6,6) -> conv 3ch 3x3 s1 p1 (silu) -> conv 4ch 3x3 s2 p1 (softplus) -> flatten 36 -> 1. */
static nis_tensor *energy(nis_ctx *c, const net *m, nis_tensor *x) {
    if (!m->conv) {
        nis_tensor *h = nis_softplus(c, nis_linear(c, x, m->w[0], m->b[0]));
        h = nis_silu(c, nis_linear(c, h, m->w[1], m->b[1]));
        return nis_sum(c, nis_linear(c, h, m->w[2], m->b[2]));
    }
    nis_tensor *h = nis_silu(c, nis_conv2d(c, x, m->w[0], m->b[0], 1, 1));
    h = nis_softplus(c, nis_conv2d(c, h, m->w[1], m->b[1], 2, 1));
    h = nis_reshape(c, h, 2, (int64_t[]){x->shape[0], -1});
    return nis_sum(c, nis_linear(c, h, m->w[2], m->b[2]));
}

/* grad_x E at x (values copied out into g). */
static void grad_at(nis_ctx *c, const net *m, int ndim, const int64_t *shape, const double *x, double *g) {
    nis_ctx_reset(c);
    nis_tensor *xt = nis_requires_grad(nis_tensor_from(c, ndim, shape, x));
    nis_tensor *e = energy(c, m, xt), *gx;
    CHECK(nis_grad(c, 1, &e, NULL, 1, &xt, false, &gx) == NIS_OK, "%s", nis_ctx_message(c));
    for (int64_t i = 0; i < xt->n; i++) g[i] = gx->data[i];
}

static void check_hvp(const char *name, nis_ctx *pc, const net *m, int ndim, const int64_t *shape) {
    nis_ctx *c = nis_ctx_new(0);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v), *gp = malloc(n * sizeof *gp),
           *gm = malloc(n * sizeof *gm), *xs = malloc(n * sizeof *xs);
    for (int64_t i = 0; i < n; i++) x[i] = 2 * test_uniform() - 1, v[i] = test_normal();

    nis_tensor *xt = nis_requires_grad(nis_tensor_from(c, ndim, shape, x));
    nis_tensor *vt = nis_tensor_from(c, ndim, shape, v);
    nis_tensor *e = energy(c, m, xt), *s, *hv;
    CHECK(nis_grad(c, 1, &e, NULL, 1, &xt, true, &s) == NIS_OK, "%s", nis_ctx_message(c));
    CHECK(s->requires_grad, "%s: create_graph gradient must require grad", name);
    CHECK(nis_grad(c, 1, &s, &vt, 1, &xt, false, &hv) == NIS_OK, "%s", nis_ctx_message(c));

    const double h = 1e-5;
    nis_ctx *c2 = nis_ctx_new(0);
    for (int64_t i = 0; i < n; i++) xs[i] = x[i] + h * v[i];
    grad_at(c2, m, ndim, shape, xs, gp);
    for (int64_t i = 0; i < n; i++) xs[i] = x[i] - h * v[i];
    grad_at(c2, m, ndim, shape, xs, gm);
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        double fd = (gp[i] - gm[i]) / (2 * h);
        worst = fmax(worst, fabs(hv->data[i] - fd));
        scale = fmax(scale, fabs(fd));
    }
    CHECK(scale > 1e-3, "%s: HVP is trivially small (%.3g), test is vacuous", name, scale);
    CHECK(worst < 1e-7 * fmax(1, scale), "%s: HVP error %.3g (scale %.3g)", name, worst, scale);
    nis_ctx_free(c2);
    nis_ctx_free(c);
    free(x), free(v), free(gp), free(gm), free(xs);
    (void)pc;
}

int main(void) {
    test_seed(7);
    nis_ctx *pc = nis_ctx_new(0);   /* holds the (fixed) network weights */
    net mlp = {.conv = false};
    const int64_t ws[3][2] = {{8, 3}, {8, 8}, {1, 8}};
    for (int l = 0; l < 3; l++) {
        mlp.w[l] = nis_new2(pc, ws[l][0], ws[l][1]);
        mlp.b[l] = nis_new1(pc, ws[l][0]);
        fill(mlp.w[l], 0.8), fill(mlp.b[l], 0.3);
    }
    check_hvp("mlp energy (softplus, silu)", pc, &mlp, 2, (int64_t[]){5, 3});

    net cnn = {.conv = true};
    cnn.w[0] = nis_new4(pc, 3, 1, 3, 3), cnn.b[0] = nis_new1(pc, 3);
    cnn.w[1] = nis_new4(pc, 4, 3, 3, 3), cnn.b[1] = nis_new1(pc, 4);
    cnn.w[2] = nis_new2(pc, 1, 36), cnn.b[2] = nis_new1(pc, 1);
    for (int l = 0; l < 3; l++) fill(cnn.w[l], 0.5), fill(cnn.b[l], 0.2);
    check_hvp("conv energy (silu, softplus, stride 2)", pc, &cnn, 4, (int64_t[]){2, 1, 6, 6});
    nis_ctx_free(pc);
    return check_done("test_hvp_f64");
}
