/* Gradient checks (first and second order, double precision) for the broadcasting binary ops, sum_to,
 * broadcast_to and matmul. */
#include "gradcheck.h"

static nis_tensor *f_add(nis_ctx *c, nis_tensor *const *x, void *u) { (void)u; return nis_add(c, x[0], x[1]); }
static nis_tensor *f_sub(nis_ctx *c, nis_tensor *const *x, void *u) { (void)u; return nis_sub(c, x[0], x[1]); }
static nis_tensor *f_mul(nis_ctx *c, nis_tensor *const *x, void *u) { (void)u; return nis_mul(c, x[0], x[1]); }
static nis_tensor *f_div(nis_ctx *c, nis_tensor *const *x, void *u) { (void)u; return nis_div(c, x[0], x[1]); }
/* a product of the op's result with itself makes every second derivative non-trivial */
static nis_tensor *f_mul_sq(nis_ctx *c, nis_tensor *const *x, void *u) {
    (void)u;
    nis_tensor *y = nis_mul(c, x[0], x[1]);
    return nis_mul(c, y, y);
}
static nis_tensor *f_matmul(nis_ctx *c, nis_tensor *const *x, void *u) {
    const int *t = u;
    nis_tensor *y = nis_matmul(c, x[0], x[1], t[0], t[1]);
    return nis_mul(c, y, y);
}
static nis_tensor *f_sum_to(nis_ctx *c, nis_tensor *const *x, void *u) {
    (void)u;
    nis_tensor *y = nis_sum_to(c, x[0], 2, (int64_t[]){1, 3});
    return nis_mul(c, y, y);
}
static nis_tensor *f_bcast(nis_ctx *c, nis_tensor *const *x, void *u) {
    (void)u;
    nis_tensor *y = nis_broadcast_to(c, x[0], 3, (int64_t[]){2, 4, 3});
    return nis_mul(c, y, y);
}

int main(void) {
    test_seed(1);
    typedef nis_tensor *(*fn)(nis_ctx *, nis_tensor *const *, void *);
    const fn ops[] = {f_add, f_sub, f_mul, f_div, f_mul_sq};
    const char *names[] = {"add", "sub", "mul", "div", "mul_sq"};
    /* same shape, row (C,), row (1, C), column (B, 1), scalar, scalar on the left, 3-D with (C,) */
    const gc_spec cases[][2] = {
        {{2, {3, 4}, 0.5, 2}, {2, {3, 4}, 0.5, 2}},
        {{2, {3, 4}, 0.5, 2}, {1, {4}, 0.5, 2}},
        {{2, {3, 4}, 0.5, 2}, {2, {1, 4}, 0.5, 2}},
        {{2, {3, 4}, 0.5, 2}, {2, {3, 1}, 0.5, 2}},
        {{2, {3, 4}, 0.5, 2}, {0, {0}, 0.5, 2}},
        {{0, {0}, 0.5, 2}, {2, {3, 4}, 0.5, 2}},
        {{3, {2, 3, 4}, 0.5, 2}, {1, {4}, 0.5, 2}},
        {{4, {2, 1, 3, 1}, 0.5, 2}, {3, {2, 1, 5}, 0.5, 2}},
    };
    for (int o = 0; o < 5; o++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s case %zu", names[o], k);
            gc_check(name, ops[o], NULL, 2, cases[k], 2, 1e-6);
        }
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int t[2] = {ta, tb};
            gc_spec s[2] = {{2, {ta ? 4 : 3, ta ? 3 : 4}, -1, 1}, {2, {tb ? 5 : 4, tb ? 4 : 5}, -1, 1}};
            char name[64];
            snprintf(name, sizeof name, "matmul ta=%d tb=%d", ta, tb);
            gc_check(name, f_matmul, t, 2, s, 2, 1e-6);
        }
    gc_check("sum_to", f_sum_to, NULL, 1, (gc_spec[]){{2, {4, 3}, -1, 1}}, 2, 1e-6);
    gc_check("broadcast_to", f_bcast, NULL, 1, (gc_spec[]){{2, {4, 1}, -1, 1}}, 2, 1e-6);

    /* shape errors name the op and both shapes, and are sticky */
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *a = nis_new2(ctx, 3, 4), *b = nis_new2(ctx, 2, 4);
    CHECK(nis_add(ctx, a, b) == NULL, "add of (3,4) and (2,4) must fail");
    CHECK(nis_ctx_status(ctx) == NIS_ESHAPE, "status %d", nis_ctx_status(ctx));
    CHECK(strstr(nis_ctx_message(ctx), "add") && strstr(nis_ctx_message(ctx), "(3, 4)") &&
              strstr(nis_ctx_message(ctx), "(2, 4)"),
          "message: %s", nis_ctx_message(ctx));
    CHECK(nis_mul(ctx, a, a) == NULL, "ops after an error return NULL");
    nis_ctx_reset(ctx);
    CHECK(nis_matmul(ctx, nis_new2(ctx, 3, 4), nis_new2(ctx, 3, 4), false, false) == NULL, "matmul inner");
    CHECK(strstr(nis_ctx_message(ctx), "matmul") != NULL, "message: %s", nis_ctx_message(ctx));
    nis_ctx_free(ctx);
    return check_done("test_binary_f64");
}
