/* Gradient checks (first and second order, double precision) for the element-wise unary ops and the ops with
 * a constant, on input ranges away from kinks and domain edges; forward values against the C library's
 * double functions; softplus and sigmoid at +-100. */
#include "gradcheck.h"

/* One op under test: f(x) for a parameterless op, or f(x, c) for an op with a constant. */
typedef struct {
    const char *name;
    nis_tensor *(*f1)(nis_ctx *, nis_tensor *);
    nis_tensor *(*f2)(nis_ctx *, nis_tensor *, double);
    double c;
    double lo, hi;   /* input range */
} unary_case;

static nis_tensor *f_case(nis_ctx *ctx, nis_tensor *const *x, void *ud) {
    const unary_case *u = ud;
    return u->f1 ? u->f1(ctx, x[0]) : u->f2(ctx, x[0], u->c);
}

/* The C library's value of each case at v (double), for the forward checks. */
static double reference(const unary_case *u, double v) {
    const char *n = u->name;
    if (!strcmp(n, "square")) return v * v;
    if (!strcmp(n, "sqrt")) return sqrt(v);
    if (!strcmp(n, "exp")) return exp(v);
    if (!strcmp(n, "log")) return log(v);
    if (!strcmp(n, "log1p")) return log1p(v);
    if (!strcmp(n, "tanh")) return tanh(v);
    if (!strcmp(n, "sigmoid")) return 1 / (1 + exp(-v));
    if (!strcmp(n, "softplus")) return log1p(exp(v));
    if (!strcmp(n, "silu")) return v / (1 + exp(-v));
    if (!strcmp(n, "relu")) return v > 0 ? v : 0;
    if (!strcmp(n, "sin")) return sin(v);
    if (!strcmp(n, "cos")) return cos(v);
    if (!strcmp(n, "abs")) return fabs(v);
    if (!strcmp(n, "neg")) return -v;
    if (!strcmp(n, "step")) return v > 0 ? 1 : 0;
    if (!strcmp(n, "leaky_relu")) return v > 0 ? v : u->c * v;
    if (!strcmp(n, "elu")) return v > 0 ? v : u->c * (exp(v) - 1);
    if (!strcmp(n, "add_scalar")) return v + u->c;
    if (!strcmp(n, "mul_scalar")) return v * u->c;
    if (!strcmp(n, "rsub_scalar")) return u->c - v;
    if (!strcmp(n, "pow_scalar")) return pow(v, u->c);
    return NAN;
}

static const unary_case cases[] = {
    {"neg", nis_neg, NULL, 0, -2, 2},
    {"square", nis_square, NULL, 0, -2, 2},
    {"sqrt", nis_sqrt, NULL, 0, 0.5, 2},
    {"exp", nis_exp, NULL, 0, -2, 2},
    {"log", nis_log, NULL, 0, 0.5, 2},
    {"log1p", nis_log1p, NULL, 0, -0.5, 2},
    {"tanh", nis_tanh, NULL, 0, -2, 2},
    {"sigmoid", nis_sigmoid, NULL, 0, -3, 3},
    {"softplus", nis_softplus, NULL, 0, -3, 3},
    {"silu", nis_silu, NULL, 0, -3, 3},
    {"sin", nis_sin, NULL, 0, -3, 3},
    {"cos", nis_cos, NULL, 0, -3, 3},
    {"relu", nis_relu, NULL, 0, 0.1, 2},
    {"relu", nis_relu, NULL, 0, -2, -0.1},
    {"abs", nis_abs, NULL, 0, 0.1, 2},
    {"abs", nis_abs, NULL, 0, -2, -0.1},
    {"step", nis_step, NULL, 0, 0.1, 2},
    {"step", nis_step, NULL, 0, -2, -0.1},
    {"leaky_relu", NULL, nis_leaky_relu, 0.2, 0.1, 2},
    {"leaky_relu", NULL, nis_leaky_relu, 0.2, -2, -0.1},
    {"elu", NULL, nis_elu, 1.0, 0.1, 2},
    {"elu", NULL, nis_elu, 1.0, -2, -0.1},
    {"elu", NULL, nis_elu, 0.7, -2, -0.1},
    {"add_scalar", NULL, nis_add_scalar, 1.5, -2, 2},
    {"mul_scalar", NULL, nis_mul_scalar, -0.75, -2, 2},
    {"rsub_scalar", NULL, nis_rsub_scalar, 2.5, -2, 2},
    {"pow_scalar", NULL, nis_pow_scalar, 2, -2, 2},
    {"pow_scalar", NULL, nis_pow_scalar, 3, -2, 2},
    {"pow_scalar", NULL, nis_pow_scalar, 0.5, 0.5, 2},
    {"pow_scalar", NULL, nis_pow_scalar, -1.5, 0.5, 2},
    {"pow_scalar", NULL, nis_pow_scalar, 1, -2, 2},
    {"pow_scalar", NULL, nis_pow_scalar, 0, 0.5, 2},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The forward value of case u at the points pts[0..n) matches reference() to 1e-14 relative. */
static void check_forward(const unary_case *u, const double *pts, int n) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_tensor_from(ctx, 1, (int64_t[]){n}, pts);
    nis_tensor *y = f_case(ctx, &x, (void *)u);
    CHECK(y != NULL && y->n == n, "%s: forward failed: %s", u->name, nis_ctx_message(ctx));
    for (int i = 0; y && i < n; i++) {
        double want = reference(u, pts[i]);
        CHECK(fabs(y->data[i] - want) <= 1e-14 * fmax(1, fabs(want)), "%s(%g) = %.17g, want %.17g", u->name,
              pts[i], y->data[i], want);
    }
    nis_ctx_free(ctx);
}

/* Softplus and sigmoid at +-100: finite, no NaN, and correct; their gradients there too. */
static void check_extremes(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    const double pts[4] = {100, -100, 800, -800};
    nis_tensor *x = nis_requires_grad(nis_tensor_from(ctx, 1, (int64_t[]){4}, pts));
    nis_tensor *sp = nis_softplus(ctx, x), *sg = nis_sigmoid(ctx, x);
    CHECK(sp && sg, "forward failed: %s", nis_ctx_message(ctx));
    if (!sp || !sg) {
        nis_ctx_free(ctx);
        return;
    }
    CHECK(isfinite(sp->data[0]) && sp->data[0] == 100, "softplus(100) = %.17g", sp->data[0]);
    CHECK_CLOSE(sp->data[1], exp(-100.0), 0, 1e-14);
    CHECK(sp->data[2] == 800 && sp->data[3] == 0, "softplus(+-800) = %g, %g", sp->data[2], sp->data[3]);
    CHECK(sg->data[0] == 1, "sigmoid(100) = %.17g", sg->data[0]);
    CHECK_CLOSE(sg->data[1], exp(-100.0), 0, 1e-14);
    CHECK(sg->data[2] == 1 && sg->data[3] == 0, "sigmoid(+-800) = %g, %g", sg->data[2], sg->data[3]);
    nis_tensor *silu = nis_silu(ctx, x);
    CHECK(silu && silu->data[0] == 100 && silu->data[3] == 0 && !isnan(silu->data[3]), "silu at +-100/800");
    /* gradients at the extremes: softplus' = sigmoid, sigmoid' = y (1 - y) */
    nis_tensor *gx[1];
    CHECK(nis_grad(ctx, 1, &sp, NULL, 1, &x, false, gx) == NIS_OK, "grad: %s", nis_ctx_message(ctx));
    CHECK(gx[0]->data[0] == 1 && gx[0]->data[3] == 0, "softplus' at 100, -800: %g %g", gx[0]->data[0],
          gx[0]->data[3]);
    CHECK_CLOSE(gx[0]->data[1], exp(-100.0), 0, 1e-14);
    CHECK(nis_grad(ctx, 1, &sg, NULL, 1, &x, false, gx) == NIS_OK, "grad: %s", nis_ctx_message(ctx));
    for (int i = 0; i < 4; i++) CHECK(isfinite(gx[0]->data[i]), "sigmoid'[%d] = %g", i, gx[0]->data[i]);
    CHECK_CLOSE(gx[0]->data[1], exp(-100.0), 0, 1e-13);
    nis_ctx_free(ctx);
}

/* step: a constant; relu/abs gradients are 0 / sign at 0; p.f[0] holds the constant. */
static void check_misc(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_requires_grad(nis_tensor_from(ctx, 1, (int64_t[]){3}, (double[]){-1, 0, 2}));
    nis_tensor *s = nis_step(ctx, x);
    CHECK(s && !s->requires_grad && s->op == NULL, "step must be a constant");
    CHECK(s && s->data[0] == 0 && s->data[1] == 0 && s->data[2] == 1, "step values");
    nis_tensor *y = nis_abs(ctx, x), *gx[1];
    CHECK(nis_grad(ctx, 1, &y, NULL, 1, &x, false, gx) == NIS_OK, "grad: %s", nis_ctx_message(ctx));
    CHECK(gx[0]->data[0] == -1 && gx[0]->data[1] == 0 && gx[0]->data[2] == 1, "abs' = %g %g %g",
          gx[0]->data[0], gx[0]->data[1], gx[0]->data[2]);
    y = nis_relu(ctx, x);
    CHECK(nis_grad(ctx, 1, &y, NULL, 1, &x, false, gx) == NIS_OK, "grad: %s", nis_ctx_message(ctx));
    CHECK(gx[0]->data[0] == 0 && gx[0]->data[1] == 0 && gx[0]->data[2] == 1, "relu' = %g %g %g",
          gx[0]->data[0], gx[0]->data[1], gx[0]->data[2]);
    y = nis_pow_scalar(ctx, x, 0);   /* zero gradient, also at x = 0 */
    CHECK(y && y->data[1] == 1 && y->p.f[0] == 0, "pow(0, 0) = %g", y ? y->data[1] : NAN);
    CHECK(nis_grad(ctx, 1, &y, NULL, 1, &x, false, gx) == NIS_OK, "grad: %s", nis_ctx_message(ctx));
    CHECK(gx[0]->data[0] == 0 && gx[0]->data[1] == 0 && gx[0]->data[2] == 0, "pow0' not zero");
    y = nis_elu(ctx, x, 0.5);
    CHECK(y && y->p.f[0] == 0.5, "elu keeps alpha in p.f[0]");
    nis_ctx_free(ctx);
}

/* A large tensor (threaded kernel path) gives the same values as the reference. */
static void check_large(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    int64_t n = 100000;
    nis_tensor *x = nis_new1(ctx, n);
    for (int64_t i = 0; i < n; i++) x->data[i] = -4 + 8 * test_uniform();
    nis_tensor *y = nis_silu(ctx, x), *z = nis_pow_scalar(ctx, nis_exp(ctx, x), -1.5);
    int bad = 0;
    for (int64_t i = 0; y && z && i < n; i++) {
        double v = x->data[i];
        bad += fabs(y->data[i] - v / (1 + exp(-v))) > 1e-14 * fmax(1, fabs(v));
        bad += fabs(z->data[i] - exp(-1.5 * v)) > 1e-13 * exp(-1.5 * v);
    }
    CHECK(y && z && bad == 0, "%d wrong values in the threaded kernels", bad);
    nis_ctx_free(ctx);
}

int main(void) {
    test_seed(7);
    const gc_spec shapes[] = {{2, {3, 4}, 0, 0}, {4, {2, 3, 2, 2}, 0, 0}};
    for (size_t k = 0; k < N_CASES; k++) {
        const unary_case *u = &cases[k];
        for (int s = 0; s < 2; s++) {
            gc_spec sp = shapes[s];
            sp.lo = u->lo;
            sp.hi = u->hi;
            char name[96];
            snprintf(name, sizeof name, "%s(c=%g) on [%g, %g] %s", u->name, u->c, u->lo, u->hi,
                     s ? "(2,3,2,2)" : "(3,4)");
            gc_check(name, f_case, (void *)u, 1, &sp, 2, 1e-6);
        }
        double pts[4];
        for (int i = 0; i < 4; i++) pts[i] = u->lo + (u->hi - u->lo) * (0.1 + 0.27 * i);
        check_forward(u, pts, 4);
    }
    check_extremes();
    check_misc();
    check_large();
    return check_done("test_unary_f64");
}
