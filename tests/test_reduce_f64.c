/* Reductions (double precision): sum, mean, sum_axis, mean_axis, logsumexp.  Gradient checks of first and
 * second order over every axis (negative ones too) with and without keepdim on 2-D, 3-D and 4-D shapes;
 * sum_axis's blocked kernels against a plain double loop and across thread counts (bit-identical);
 * logsumexp with large inputs; errors name the op. */
#include "gradcheck.h"

typedef struct { int axis; bool keepdim; } axis_ud;

/* linear reductions are squared so that their second derivatives are not zero */
static nis_tensor *sq(nis_ctx *c, nis_tensor *y) { return nis_mul(c, y, y); }

static nis_tensor *f_sum(nis_ctx *c, nis_tensor *const *x, void *u) { (void)u; return sq(c, nis_sum(c, x[0])); }
static nis_tensor *f_mean(nis_ctx *c, nis_tensor *const *x, void *u) { (void)u; return sq(c, nis_mean(c, x[0])); }
static nis_tensor *f_sum_axis(nis_ctx *c, nis_tensor *const *x, void *u) {
    const axis_ud *a = u;
    return sq(c, nis_sum_axis(c, x[0], a->axis, a->keepdim));
}
static nis_tensor *f_mean_axis(nis_ctx *c, nis_tensor *const *x, void *u) {
    const axis_ud *a = u;
    return sq(c, nis_mean_axis(c, x[0], a->axis, a->keepdim));
}
static nis_tensor *f_lse(nis_ctx *c, nis_tensor *const *x, void *u) {
    const axis_ud *a = u;
    return nis_logsumexp(c, x[0], a->axis, a->keepdim);
}

/* Gradient checks of each axis op for every axis of `sp` (positive and negative), keepdim on and off. */
static void check_axes(const gc_spec *sp) {
    static const struct { const char *name; gc_fn f; } ops[] = {
        {"sum_axis", f_sum_axis}, {"mean_axis", f_mean_axis}, {"logsumexp", f_lse}};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (int axis = -sp->ndim; axis < sp->ndim; axis++)
            for (int kd = 0; kd < 2; kd++) {
                axis_ud u = {axis, kd};
                char name[96];
                snprintf(name, sizeof name, "%s %d-D axis %d keepdim %d", ops[o].name, sp->ndim, axis, kd);
                gc_check(name, ops[o].f, &u, 1, sp, 2, 1e-6);
            }
}

/* Output shape of a reduction: the axis removed, or kept as 1. */
static void check_shapes(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_zeros(ctx, 3, (int64_t[]){2, 3, 4});
    nis_tensor *s = nis_sum(ctx, x), *a = nis_sum_axis(ctx, x, 1, false), *k = nis_logsumexp(ctx, x, -1, true);
    CHECK(s && s->ndim == 0 && s->n == 1, "sum is a scalar");
    CHECK(a && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 4, "sum_axis(1) of (2,3,4) is (2,4)");
    CHECK(k && k->ndim == 3 && k->shape[0] == 2 && k->shape[1] == 3 && k->shape[2] == 1, "keepdim (2,3,1)");
    nis_ctx_free(ctx);
}

/* sum_axis and sum against a plain double loop, on shapes large enough for the blocked kernels, and
 * bit-identical results for 1 and 4 threads. */
static void check_kernels(void) {
    /* a last entry of 1 means 2-D; covers rows of 2, narrow columns (2, 4, 8) with and without row groups,
     * a narrow block shorter than 8 values, wide columns with groups, and a single long row */
    static const int64_t shapes[][3] = {{3000, 37, 1}, {37, 3000, 1}, {1, 50000, 1}, {7, 2000, 9},
                                        {5, 3, 7},     {20000, 2, 1}, {9000, 4, 1}, {13, 3, 2},
                                        {3, 5000, 8},  {40, 2, 1}};
    nis_ctx *ctx = nis_ctx_new(0);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int nd = shapes[k][2] == 1 ? 2 : 3;
        nis_tensor *x = nis_tensor_new(ctx, nd, shapes[k]);
        for (int64_t i = 0; i < x->n; i++) x->data[i] = test_normal();
        for (int axis = 0; axis < nd; axis++) {
            int64_t outer = 1, len = x->shape[axis], inner = 1;
            for (int i = 0; i < axis; i++) outer *= x->shape[i];
            for (int i = axis + 1; i < nd; i++) inner *= x->shape[i];
            nis_set_threads(1);
            nis_tensor *y1 = nis_sum_axis(ctx, x, axis, false);
            nis_set_threads(4);
            nis_tensor *y4 = nis_sum_axis(ctx, x, axis, false);
            nis_set_threads(1);
            double worst = 0;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t i = 0; i < inner; i++) {
                    double ref = 0;
                    for (int64_t l = 0; l < len; l++) ref += x->data[(o * len + l) * inner + i];
                    worst = fmax(worst, fabs(y1->data[o * inner + i] - ref));
                }
            CHECK(worst < 1e-9, "sum_axis shape %d %lld %lld axis %d: error %g", nd, (long long)shapes[k][0],
                  (long long)shapes[k][1], axis, worst);
            CHECK(memcmp(y1->data, y4->data, (size_t)y1->n * sizeof(nis_real)) == 0,
                  "sum_axis axis %d: 1 and 4 threads differ", axis);
        }
        nis_set_threads(1);
        nis_tensor *s1 = nis_sum(ctx, x);
        nis_set_threads(4);
        nis_tensor *s4 = nis_sum(ctx, x);
        nis_set_threads(1);
        double ref = 0;
        for (int64_t i = 0; i < x->n; i++) ref += x->data[i];
        CHECK_CLOSE(s1->data[0], ref, 1e-9, 0);
        CHECK(s1->data[0] == s4->data[0], "sum: 1 and 4 threads differ");
    }
    CHECK(nis_ctx_status(ctx) == NIS_OK, "%s", nis_ctx_message(ctx));
    nis_ctx_free(ctx);
}

/* logsumexp of x = 1000 + small is finite and equals 1000 + log sum exp(small); an all -inf row gives -inf;
 * its gradient is the softmax (rows sum to 1). */
static void check_lse_large(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    const double small[2][3] = {{0.1, -0.3, 0.25}, {2.0, 0.0, -1.0}};
    nis_tensor *x = nis_new2(ctx, 2, 3);
    for (int i = 0; i < 6; i++) x->data[i] = 1000 + small[i / 3][i % 3];
    nis_requires_grad(x);
    nis_tensor *y = nis_logsumexp(ctx, x, 1, false);
    for (int r = 0; r < 2; r++) {
        double ref = 1000 + log(exp(small[r][0]) + exp(small[r][1]) + exp(small[r][2]));
        CHECK(isfinite(y->data[r]), "lse row %d finite", r);
        CHECK_CLOSE(y->data[r], ref, 0, 1e-15);
    }
    nis_tensor *g;
    CHECK(nis_grad(ctx, 1, &y, NULL, 1, &x, false, &g) == NIS_OK, "%s", nis_ctx_message(ctx));
    for (int r = 0; r < 2; r++) {
        double z = exp(small[r][0]) + exp(small[r][1]) + exp(small[r][2]);
        for (int c = 0; c < 3; c++) CHECK_CLOSE(g->data[r * 3 + c], exp(small[r][c]) / z, 1e-15, 1e-13);
    }
    /* large negative along axis 0 (the column-wise kernel), and an all -inf column */
    nis_tensor *xn = nis_tensor_from(ctx, 2, (int64_t[]){2, 2}, (nis_real[]){-1000, -INFINITY, -1001, -INFINITY});
    nis_tensor *yn = nis_logsumexp(ctx, xn, 0, true);
    CHECK_CLOSE(yn->data[0], -1000 + log(1 + exp(-1.0)), 0, 1e-15);
    CHECK(isinf(yn->data[1]) && yn->data[1] < 0, "all -inf column gives -inf, got %g", yn->data[1]);
    nis_ctx_free(ctx);
}

/* An axis out of range fails with EINVAL and a message naming the op. */
static void check_errors(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_zeros(ctx, 2, (int64_t[]){3, 4});
    struct { const char *name; nis_tensor *(*f)(nis_ctx *, nis_tensor *, int, bool); } ops[] = {
        {"sum_axis", nis_sum_axis}, {"mean_axis", nis_mean_axis}, {"logsumexp", nis_logsumexp}};
    for (int o = 0; o < 3; o++)
        for (int axis = -3; axis <= 2; axis += 5) {
            nis_ctx_clear_error(ctx);
            CHECK(ops[o].f(ctx, x, axis, false) == NULL, "%s axis %d must fail", ops[o].name, axis);
            CHECK(nis_ctx_status(ctx) == NIS_EINVAL, "%s: status %d", ops[o].name, nis_ctx_status(ctx));
            CHECK(strstr(nis_ctx_message(ctx), ops[o].name) != NULL, "message: %s", nis_ctx_message(ctx));
        }
    nis_ctx_clear_error(ctx);
    nis_tensor *s = nis_scalar(ctx, 2);
    CHECK(nis_sum_axis(ctx, s, 0, false) == NULL && nis_ctx_status(ctx) == NIS_EINVAL, "sum_axis of scalar");
    nis_ctx_clear_error(ctx);
    CHECK(nis_sum(ctx, NULL) == NULL && nis_mean(ctx, NULL) == NULL && nis_ctx_status(ctx) == NIS_EINVAL,
          "NULL input: NULL, and EINVAL on a context without error");
    nis_ctx_free(ctx);
}

int main(void) {
    test_seed(7);
    gc_check("sum 2-D", f_sum, NULL, 1, (gc_spec[]){{2, {3, 4}, -1, 1}}, 2, 1e-6);
    gc_check("sum 4-D", f_sum, NULL, 1, (gc_spec[]){{4, {2, 1, 3, 2}, -1, 1}}, 2, 1e-6);
    gc_check("mean 3-D", f_mean, NULL, 1, (gc_spec[]){{3, {2, 3, 2}, -1, 1}}, 2, 1e-6);
    check_axes((gc_spec[]){{2, {3, 4}, -2, 2}});
    check_axes((gc_spec[]){{3, {2, 3, 4}, -2, 2}});
    check_axes((gc_spec[]){{4, {2, 3, 1, 2}, -2, 2}});
    check_shapes();
    check_kernels();
    check_lse_large();
    check_errors();
    return check_done("test_reduce_f64");
}
