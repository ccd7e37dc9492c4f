/* Float32 checks of the element-wise unary ops and the ops with a constant: forward values within 1e-6
 * relative, stability at +-100, NULL propagation and sticky errors, no heap allocation on a rebuilt graph. */
#include "check.h"
#include "nis/core.h"
#include "nis/ops.h"

#include <string.h>

typedef nis_tensor *(*op1)(nis_ctx *, nis_tensor *);
typedef nis_tensor *(*op2)(nis_ctx *, nis_tensor *, double);

static const struct { const char *name; op1 f; } ops1[] = {
    {"neg", nis_neg},       {"square", nis_square}, {"sqrt", nis_sqrt},         {"exp", nis_exp},
    {"log", nis_log},       {"log1p", nis_log1p},   {"tanh", nis_tanh},         {"sigmoid", nis_sigmoid},
    {"softplus", nis_softplus}, {"silu", nis_silu}, {"relu", nis_relu},         {"sin", nis_sin},
    {"cos", nis_cos},       {"abs", nis_abs},       {"step", nis_step},
};
static const struct { const char *name; op2 f; } ops2[] = {
    {"add_scalar", nis_add_scalar}, {"mul_scalar", nis_mul_scalar}, {"rsub_scalar", nis_rsub_scalar},
    {"pow_scalar", nis_pow_scalar}, {"leaky_relu", nis_leaky_relu}, {"elu", nis_elu},
};
#define N1 (int)(sizeof ops1 / sizeof ops1[0])
#define N2 (int)(sizeof ops2 / sizeof ops2[0])

/* y = f(x) at the float inputs xs[0..n) equals want[i] within 1e-6 relative (exactly where want is 0). */
static void check_values(nis_ctx *ctx, const char *name, nis_tensor *y, const float *xs, const double *want,
                         int n) {
    CHECK(y != NULL && y->n == n, "%s: no result: %s", name, nis_ctx_message(ctx));
    for (int i = 0; y && i < n; i++)
        CHECK(fabs((double)y->data[i] - want[i]) <= 1e-6 * fabs(want[i]), "%s(%g) = %.9g, want %.9g", name,
              (double)xs[i], (double)y->data[i], want[i]);
}

static void check_forward(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    enum { N = 5 };
    const float xs[N] = {-2.5f, -0.75f, 0.3f, 1.25f, 3.5f};
    const float pos[N] = {0.1f, 0.6f, 1.0f, 2.75f, 7.0f};
    nis_tensor *x = nis_tensor_from(ctx, 1, (int64_t[]){N}, xs);
    nis_tensor *xp = nis_tensor_from(ctx, 1, (int64_t[]){N}, pos);
    double w[N];
    /* references in double from the float inputs */
#define REF(src, expr)                                                                                      \
    for (int i = 0; i < N; i++) {                                                                           \
        double v = (double)(src)[i];                                                                        \
        w[i] = (expr);                                                                                      \
    }
    REF(xs, -v) check_values(ctx, "neg", nis_neg(ctx, x), xs, w, N);
    REF(xs, v * v) check_values(ctx, "square", nis_square(ctx, x), xs, w, N);
    REF(pos, sqrt(v)) check_values(ctx, "sqrt", nis_sqrt(ctx, xp), pos, w, N);
    REF(xs, exp(v)) check_values(ctx, "exp", nis_exp(ctx, x), xs, w, N);
    REF(pos, log(v)) check_values(ctx, "log", nis_log(ctx, xp), pos, w, N);
    REF(pos, log1p(v)) check_values(ctx, "log1p", nis_log1p(ctx, xp), pos, w, N);
    REF(xs, tanh(v)) check_values(ctx, "tanh", nis_tanh(ctx, x), xs, w, N);
    REF(xs, 1 / (1 + exp(-v))) check_values(ctx, "sigmoid", nis_sigmoid(ctx, x), xs, w, N);
    REF(xs, log1p(exp(v))) check_values(ctx, "softplus", nis_softplus(ctx, x), xs, w, N);
    REF(xs, v / (1 + exp(-v))) check_values(ctx, "silu", nis_silu(ctx, x), xs, w, N);
    REF(xs, v > 0 ? v : 0) check_values(ctx, "relu", nis_relu(ctx, x), xs, w, N);
    REF(xs, sin(v)) check_values(ctx, "sin", nis_sin(ctx, x), xs, w, N);
    REF(xs, cos(v)) check_values(ctx, "cos", nis_cos(ctx, x), xs, w, N);
    REF(xs, fabs(v)) check_values(ctx, "abs", nis_abs(ctx, x), xs, w, N);
    REF(xs, v > 0 ? 1 : 0) check_values(ctx, "step", nis_step(ctx, x), xs, w, N);
    REF(xs, v + 1.5) check_values(ctx, "add_scalar", nis_add_scalar(ctx, x, 1.5), xs, w, N);
    REF(xs, v * -0.25) check_values(ctx, "mul_scalar", nis_mul_scalar(ctx, x, -0.25), xs, w, N);
    REF(xs, 2.5 - v) check_values(ctx, "rsub_scalar", nis_rsub_scalar(ctx, x, 2.5), xs, w, N);
    REF(xs, v * v * v) check_values(ctx, "pow 3", nis_pow_scalar(ctx, x, 3), xs, w, N);
    REF(pos, pow(v, -1.5)) check_values(ctx, "pow -1.5", nis_pow_scalar(ctx, xp, -1.5), pos, w, N);
    REF(pos, sqrt(v)) check_values(ctx, "pow 0.5", nis_pow_scalar(ctx, xp, 0.5), pos, w, N);
    REF(xs, v > 0 ? v : 0.1 * v) check_values(ctx, "leaky_relu", nis_leaky_relu(ctx, x, 0.1), xs, w, N);
    REF(xs, v > 0 ? v : 1.5 * expm1(v)) check_values(ctx, "elu", nis_elu(ctx, x, 1.5), xs, w, N);
#undef REF

    /* stability at +-100 in float: finite and correct */
    nis_tensor *big = nis_tensor_from(ctx, 1, (int64_t[]){2}, (float[]){100, -100});
    nis_tensor *sp = nis_softplus(ctx, big), *sg = nis_sigmoid(ctx, big), *si = nis_silu(ctx, big);
    CHECK(sp && sp->data[0] == 100 && isfinite(sp->data[1]) && sp->data[1] >= 0 && sp->data[1] < 1e-40f,
          "softplus(+-100) = %g, %g", sp ? sp->data[0] : NAN, sp ? sp->data[1] : NAN);
    /* float: e^-v held to [-87, 87] (op.h, libmvec's fast path), so sigmoid(-100) = 1 / (1 + e^87) = 1.6e-38 */
    CHECK(sg && sg->data[0] == 1 && !isnan(sg->data[1]) && sg->data[1] > 0 && sg->data[1] < 2e-38f,
          "sigmoid(+-100) = %g, %g", sg ? sg->data[0] : NAN, sg ? sg->data[1] : NAN);
    CHECK(si && si->data[0] == 100 && !isnan(si->data[1]) && fabsf(si->data[1]) < 2e-36f, "silu(+-100) = %g, %g",
          si ? si->data[0] : NAN, si ? si->data[1] : NAN);
    /* the same in a 1000-element loop (the vector path, with tails), and the held values are what σ(-87) gives */
    nis_tensor *row = nis_new1(ctx, 1000);
    for (int i = 0; i < 1000; i++) row->data[i] = (float)(i % 3 == 0 ? -100 : i % 3 == 1 ? 100 : 0.25 * (i % 7));
    nis_tensor *sr = nis_sigmoid(ctx, row);
    bool held = sr != NULL;
    for (int i = 0; held && i < 1000; i++)
        held = i % 3 == 0 ? sr->data[i] == sr->data[0] && sr->data[i] < 2e-38f
             : i % 3 == 1 ? sr->data[i] == 1
                          : fabs(sr->data[i] - 1 / (1 + exp(-0.25 * (i % 7)))) < 1e-6;
    CHECK(held, "sigmoid over a 1000-element row: held and exact values");
    nis_ctx_free(ctx);
}

/* NULL input or context -> NULL (a NULL input on a context without error is the caller's mistake and sets
 * EINVAL); after a failure every op returns NULL and the first error stays. */
static void check_errors(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_full(ctx, 2, (int64_t[]){2, 3}, 0.5f);
    for (int k = 0; k < N1; k++) {
        CHECK(ops1[k].f(ctx, NULL) == NULL, "%s(NULL) must be NULL", ops1[k].name);
        CHECK(nis_ctx_status(ctx) == NIS_EINVAL && strstr(nis_ctx_message(ctx), "NULL"),
              "%s(NULL) must set EINVAL: %s", ops1[k].name, nis_ctx_message(ctx));
        nis_ctx_clear_error(ctx);
        CHECK(ops1[k].f(NULL, x) == NULL, "%s with a NULL context must be NULL", ops1[k].name);
    }
    for (int k = 0; k < N2; k++) {
        CHECK(ops2[k].f(ctx, NULL, 2) == NULL, "%s(NULL) must be NULL", ops2[k].name);
        CHECK(nis_ctx_status(ctx) == NIS_EINVAL, "%s(NULL) must set EINVAL", ops2[k].name);
        nis_ctx_clear_error(ctx);
        CHECK(ops2[k].f(NULL, x, 2) == NULL, "%s with a NULL context must be NULL", ops2[k].name);
    }
    CHECK(nis_exp(ctx, nis_exp(ctx, NULL)) == NULL, "NULL propagates through a chain");
    nis_ctx_clear_error(ctx);

    CHECK(nis_add(ctx, x, nis_new2(ctx, 4, 3)) == NULL, "(2,3) + (4,3) must fail");
    CHECK(nis_ctx_status(ctx) == NIS_ESHAPE, "status %d", (int)nis_ctx_status(ctx));
    char msg[256];
    snprintf(msg, sizeof msg, "%s", nis_ctx_message(ctx));
    for (int k = 0; k < N1; k++)
        CHECK(ops1[k].f(ctx, x) == NULL, "%s after a failure must be NULL", ops1[k].name);
    for (int k = 0; k < N2; k++)
        CHECK(ops2[k].f(ctx, x, 2) == NULL, "%s after a failure must be NULL", ops2[k].name);
    CHECK(nis_ctx_status(ctx) == NIS_ESHAPE && !strcmp(msg, nis_ctx_message(ctx)), "first error kept: %s",
          nis_ctx_message(ctx));
    nis_ctx_reset(ctx);
    x = nis_full(ctx, 2, (int64_t[]){2, 3}, 0.5f);
    CHECK(nis_exp(ctx, x) != NULL, "ops work again after a reset");
    nis_ctx_free(ctx);
}

/* step is a constant; a graph of these ops with a second-order gradient, rebuilt after a reset, makes no
 * heap allocation (everything comes from the arena). */
static void check_graph(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    uint64_t before = 0;
    for (int step = 0; step < 3; step++) {
        if (step == 2) before = nis_alloc_count();
        nis_ctx_reset(ctx);
        nis_tensor *x = nis_requires_grad(nis_full(ctx, 2, (int64_t[]){4, 5}, 0.25f));
        nis_tensor *s = nis_step(ctx, x);
        CHECK(s && !s->requires_grad, "step must not require grad");
        nis_tensor *h = nis_silu(ctx, nis_mul_scalar(ctx, x, 2));
        h = nis_add(ctx, nis_softplus(ctx, h), nis_elu(ctx, nis_tanh(ctx, h), 0.5));
        nis_tensor *loss = nis_sum(ctx, nis_pow_scalar(ctx, nis_add_scalar(ctx, h, 1), 1.5));
        nis_tensor *g[1], *gg[1];
        CHECK(nis_grad(ctx, 1, &loss, NULL, 1, &x, true, g) == NIS_OK, "grad: %s", nis_ctx_message(ctx));
        nis_tensor *gs = nis_sum(ctx, nis_square(ctx, g[0]));
        CHECK(nis_grad(ctx, 1, &gs, NULL, 1, &x, false, gg) == NIS_OK, "grad2: %s", nis_ctx_message(ctx));
        CHECK(gg[0] && isfinite(gg[0]->data[0]), "second-order gradient finite");
    }
    CHECK(nis_alloc_count() == before, "a rebuilt graph allocated %llu times from the heap",
          (unsigned long long)(nis_alloc_count() - before));
    nis_ctx_free(ctx);
}

int main(void) {
    check_forward();
    check_errors();
    check_graph();
    return check_done("test_unary");
}
