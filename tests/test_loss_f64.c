/* Losses (double precision): softmax and softmax_cross_entropy.  Values against hand-computed numbers,
 * stability with large logits, gradient checks of first and second order, errors naming the op. */
#include "gradcheck.h"

static nis_tensor *f_softmax(nis_ctx *c, nis_tensor *const *x, void *u) {
    (void)u;
    return nis_softmax(c, x[0]);
}
static nis_tensor *f_xent(nis_ctx *c, nis_tensor *const *x, void *u) {
    return nis_softmax_cross_entropy(c, x[0], u);
}
/* the loss times a second input: its gradient in the logits then depends on the upstream g */
static nis_tensor *f_xent_scaled(nis_ctx *c, nis_tensor *const *x, void *u) {
    return nis_mul(c, nis_softmax_cross_entropy(c, x[0], u), x[1]);
}

/* logits [[1, 2, 3], [1, 1, 1]], labels [2, 0]:
 *   row 0: log(e + e^2 + e^3) - 3 = 0.40760596444438013;  row 1: log 3 = 1.0986122886681098;
 *   loss = mean = 0.753109126556245;
 *   gradient (softmax - onehot) / 2: row 0 = (e^k / (e + e^2 + e^3)) / 2 - [0, 0, 0.5],
 *   row 1 = [1/3 - 1, 1/3, 1/3] / 2. */
static void check_xent_values(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_requires_grad(nis_tensor_from(ctx, 2, (int64_t[]){2, 3}, (nis_real[]){1, 2, 3, 1, 1, 1}));
    int32_t labels[2] = {2, 0};
    nis_tensor *loss = nis_softmax_cross_entropy(ctx, x, labels);
    CHECK(loss && loss->ndim == 0, "loss is a scalar");
    labels[0] = 1;   /* the op copied the labels: changing ours must not change its gradient */
    CHECK_CLOSE(loss->data[0], 0.753109126556245, 1e-15, 1e-14);
    nis_tensor *g;
    CHECK(nis_grad(ctx, 1, &loss, NULL, 1, &x, false, &g) == NIS_OK, "%s", nis_ctx_message(ctx));
    const double want[6] = {0.04501528658519023, 0.12236423552739882, 0.3326204778874109 - 0.5,
                            (1.0 / 3 - 1) / 2,   1.0 / 6,             1.0 / 6};
    for (int i = 0; i < 6; i++) CHECK_CLOSE(g->data[i], want[i], 1e-15, 1e-13);

    /* softmax of large logits: finite, rows sum to 1, shift-invariant */
    nis_tensor *big = nis_tensor_from(ctx, 2, (int64_t[]){2, 3}, (nis_real[]){1001, 1002, 1003, -999, -999, -999});
    nis_tensor *p = nis_softmax(ctx, big);
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int c = 0; c < 3; c++) s += p->data[r * 3 + c];
        CHECK_CLOSE(s, 1.0, 1e-15, 0);
    }
    CHECK_CLOSE(p->data[2], 2 * 0.3326204778874109, 1e-15, 1e-14);
    CHECK_CLOSE(p->data[4], 1.0 / 3, 1e-15, 1e-14);
    /* cross-entropy of the shifted logits is the same loss */
    int32_t lab2[2] = {2, 0};
    nis_tensor *lb = nis_softmax_cross_entropy(ctx, big, lab2);
    CHECK(lb && isfinite(lb->data[0]), "finite loss for large logits");
    CHECK_CLOSE(lb->data[0], 0.753109126556245, 1e-12, 0);
    CHECK(nis_ctx_status(ctx) == NIS_OK, "%s", nis_ctx_message(ctx));
    nis_ctx_free(ctx);
}

static void check_errors(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_zeros(ctx, 2, (int64_t[]){3, 4});
    const int32_t bad[2][3] = {{0, 4, 1}, {0, 1, -1}};
    for (int k = 0; k < 2; k++) {
        CHECK(nis_softmax_cross_entropy(ctx, x, bad[k]) == NULL, "bad label must fail");
        const char *m = nis_ctx_message(ctx);
        char row[32], lab[32];
        snprintf(row, sizeof row, "row %d", k ? 2 : 1);
        snprintf(lab, sizeof lab, "label %d", k ? -1 : 4);
        CHECK(nis_ctx_status(ctx) == NIS_EINVAL, "status %s", nis_status_name(nis_ctx_status(ctx)));
        CHECK(strstr(m, "softmax_cross_entropy") && strstr(m, row) && strstr(m, lab), "message: %s", m);
        nis_ctx_clear_error(ctx);
    }
    nis_tensor *x3 = nis_zeros(ctx, 3, (int64_t[]){2, 3, 4});
    CHECK(nis_softmax(ctx, x3) == NULL && nis_ctx_status(ctx) == NIS_ESHAPE, "softmax of 3-D");
    CHECK(strstr(nis_ctx_message(ctx), "softmax") && strstr(nis_ctx_message(ctx), "(2, 3, 4)"), "message: %s",
          nis_ctx_message(ctx));
    nis_ctx_clear_error(ctx);
    CHECK(nis_softmax_cross_entropy(ctx, x3, bad[0]) == NULL && nis_ctx_status(ctx) == NIS_ESHAPE, "xent 3-D");
    CHECK(strstr(nis_ctx_message(ctx), "softmax_cross_entropy") != NULL, "message: %s", nis_ctx_message(ctx));
    nis_ctx_clear_error(ctx);
    CHECK(nis_softmax_cross_entropy(ctx, x, NULL) == NULL && nis_ctx_status(ctx) == NIS_EINVAL, "NULL labels");
    nis_ctx_free(ctx);
}

int main(void) {
    test_seed(3);
    gc_check("softmax (3, 4)", f_softmax, NULL, 1, (gc_spec[]){{2, {3, 4}, -2, 2}}, 2, 1e-6);
    gc_check("softmax (1, 5)", f_softmax, NULL, 1, (gc_spec[]){{2, {1, 5}, -2, 2}}, 2, 1e-6);
    gc_check("softmax (4, 1)", f_softmax, NULL, 1, (gc_spec[]){{2, {4, 1}, -2, 2}}, 2, 1e-6);
    int32_t labels[5] = {3, 0, 1, 3, 2};
    gc_check("cross_entropy (5, 4)", f_xent, labels, 1, (gc_spec[]){{2, {5, 4}, -2, 2}}, 2, 1e-6);
    gc_check("cross_entropy * s", f_xent_scaled, labels, 2, (gc_spec[]){{2, {5, 4}, -2, 2}, {0, {0}, 0.5, 2}}, 2,
             1e-6);
    check_xent_values();
    check_errors();
    return check_done("test_loss_f64");
}
