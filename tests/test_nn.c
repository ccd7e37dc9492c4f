/* Parameters, layers and builders: name lookup and errors, PyTorch's default init (bounds, moments, the
 * ConvTranspose2d fan-in), layer wiring, MLP fits (linear least squares reached in closed form; a tanh MLP
 * fitting sin), conv-net and generator shapes. */
#include "check.h"
#include "nis/nn.h"

#include <string.h>

/* Moments of n values that should be U(-b, b): mean 0 (var b^2/3), variance b^2/3 (4th moment b^4/5);
 * each within 5 standard errors, and the extremes inside [-b, b] and near its ends. */
static void check_uniform(const char *what, const nis_tensor *t, double b) {
    double s = 0, s2 = 0, mx = 0;
    for (int64_t i = 0; i < t->n; i++) {
        double x = t->data[i];
        s += x;
        s2 += x * x;
        mx = fmax(mx, fabs(x));
    }
    double n = (double)t->n, var = b * b / 3, mean = s / n, v = s2 / n - mean * mean;
    CHECK(mx <= b, "%s: max |w| = %g exceeds the bound %g", what, mx, b);
    CHECK(mx > b * (1 - 20 / n), "%s: max |w| = %g, far below the bound %g (wrong fan_in?)", what, mx, b);
    CHECK(fabs(mean) < 5 * sqrt(var / n), "%s: mean %g", what, mean);
    CHECK(fabs(v - var) < 5 * sqrt((b * b * b * b / 5 - var * var) / n), "%s: variance %g, expected %g", what,
          v, var);
}

static void test_params(void) {
    nis_params *P = nis_params_new();
    CHECK(nis_params_add(P, "a.weight", 2, (int64_t[]){3, 5}) == 0, "first index");
    CHECK(nis_params_add(P, "a.bias", 1, (int64_t[]){3}) == 1, "second index");
    CHECK(nis_params_add(P, "scalar", 0, NULL) == 2, "scalar index");
    CHECK(nis_params_get(P, "a.weight") == NULL, "a view before finalize");
    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    CHECK(nis_params_count(P) == 3 && nis_params_numel(P) == 19, "count %d numel %lld", nis_params_count(P),
          (long long)nis_params_numel(P));
    CHECK(((uintptr_t)P->data & 63) == 0 && ((uintptr_t)P->grad & 63) == 0, "buffers not 64-byte aligned");
    nis_tensor *w = nis_params_get(P, "a.weight"), *b = nis_params_get(P, "a.bias"), *s = nis_params_at(P, 2);
    CHECK(w && b && s, "lookup failed");
    if (w && b && s) {
        CHECK(w->data == P->data && b->data == P->data + 15 && s->data == P->data + 18, "view offsets");
        CHECK(w->grad == P->grad && b->grad == P->grad + 15, "grad offsets");
        CHECK(w->ndim == 2 && w->shape[0] == 3 && w->shape[1] == 5 && w->n == 15, "weight shape");
        CHECK(s->ndim == 0 && s->n == 1, "scalar shape");
        CHECK(w->requires_grad && !w->op && strcmp(w->name, "a.weight") == 0, "view is a named leaf");
    }
    CHECK(nis_params_get(P, "a.nope") == NULL && nis_params_at(P, 3) == NULL && nis_params_at(P, -1) == NULL,
          "unknown names / indices");
    bool zero = true;
    for (int64_t i = 0; i < P->n; i++) zero = zero && P->data[i] == 0 && P->grad[i] == 0;
    CHECK(zero, "buffers not zeroed");
    P->grad[4] = 1;
    nis_params_zero_grad(P);
    CHECK(P->grad[4] == 0, "zero_grad");
    nis_params_set_requires_grad(P, false);
    CHECK(w && !w->requires_grad, "freeze");

    CHECK(nis_params_add(P, "late", 1, (int64_t[]){2}) == -1 && nis_params_status(P) == NIS_ESTATE,
          "add after finalize: %s", nis_params_message(P));
    CHECK(strstr(nis_params_message(P), "late") != NULL, "message names the tensor: %s",
          nis_params_message(P));
    nis_params_free(P);

    /* errors are sticky: one check at finalize */
    P = nis_params_new();
    nis_params_add(P, "x", 1, (int64_t[]){2});
    CHECK(nis_params_add(P, "x", 1, (int64_t[]){2}) == -1, "duplicate name accepted");
    nis_params_add(P, "y", 1, (int64_t[]){2});
    CHECK(nis_params_finalize(P) == NIS_EINVAL, "finalize after an error");
    CHECK(strstr(nis_params_message(P), "duplicate") != NULL, "message: %s", nis_params_message(P));
    nis_params_free(P);
    P = nis_params_new();
    CHECK(nis_params_add(P, "bad", 2, (int64_t[]){3, -1}) == -1 && nis_params_status(P) == NIS_ESHAPE,
          "negative size accepted");
    nis_params_free(P);
    P = nis_params_new();
    CHECK(nis_params_finalize(P) == NIS_OK && nis_params_numel(P) == 0, "an empty set finalizes");
    nis_params_free(P);
}

static void test_init(void) {
    nis_params *P = nis_params_new();
    nis_linear_layer lin;
    nis_conv2d_layer conv;
    nis_convt2d_layer convt;
    nis_linear_layer_add(&lin, P, "lin", 256, 128, true);
    nis_conv2d_layer_add(&conv, P, "conv", 16, 32, 3, 1, 1, true);
    nis_convt2d_layer_add(&convt, P, "convt", 64, 2, 3, 2, 1, 1, true);
    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    nis_rng rng = nis_rng_init(1234, 0);
    CHECK(nis_params_init(P, &rng) == NIS_OK, "init: %s", nis_params_message(P));
    check_uniform("linear weight", nis_params_get(P, "lin.weight"), 1 / sqrt(256.0));
    check_uniform("linear bias", nis_params_get(P, "lin.bias"), 1 / sqrt(256.0));
    check_uniform("conv weight", nis_params_get(P, "conv.weight"), 1 / sqrt(16 * 9.0));
    check_uniform("conv bias", nis_params_get(P, "conv.bias"), 1 / sqrt(16 * 9.0));
    /* PyTorch's ConvTranspose2d: weight (cin, cout, k, k), fan_in = cout k k = 18 (not cin k k = 576) */
    nis_tensor *tw = nis_params_get(P, "convt.weight");
    CHECK(tw && tw->shape[0] == 64 && tw->shape[1] == 2, "convt weight layout (cin, cout, k, k)");
    check_uniform("convt weight", tw, 1 / sqrt(18.0));
    nis_tensor *tb = nis_params_get(P, "convt.bias");
    double mb = 0;
    for (int i = 0; i < 2; i++) mb = fmax(mb, fabs(tb->data[i]));
    CHECK(mb <= 1 / sqrt(18.0), "convt bias %g beyond its bound", mb);

    /* same seed: same values, whatever else was declared before; other seed: different */
    nis_params *Q = nis_params_new();
    nis_params_add(Q, "other.weight", 1, (int64_t[]){7});
    nis_params_set_init(Q, 0, (nis_init){NIS_INIT_NORMAL, 0, 1});
    nis_linear_layer lin2;
    nis_linear_layer_add(&lin2, Q, "lin", 256, 128, true);
    nis_params_finalize(Q);
    nis_params_init(Q, &rng);
    nis_tensor *a = nis_params_get(P, "lin.weight"), *b = nis_params_get(Q, "lin.weight");
    CHECK(memcmp(a->data, b->data, (size_t)a->n * sizeof(nis_real)) == 0, "init depends on other parameters");
    nis_rng rng2 = nis_rng_init(1235, 0);
    nis_params_init(Q, &rng2);
    CHECK(a->data[0] != b->data[0] && a->data[1] != b->data[1], "init ignores the seed");
    nis_params_free(Q);

    /* a constant initialiser */
    nis_params_set_init(P, lin.b, (nis_init){NIS_INIT_CONST, 0.25, 0});
    nis_params_init(P, &rng);
    CHECK(nis_params_get(P, "lin.bias")->data[127] == 0.25f, "const init");
    nis_params_free(P);
}

/* One full-batch step of  loss = mean((net(x) - y)^2)  with Adam; returns the loss (NaN on error). */
typedef nis_tensor *(*net_fn)(nis_ctx *, const void *, nis_tensor *);
static double train_step(nis_ctx *ctx, net_fn f, const void *net, nis_params *P, nis_adam *opt, nis_real *X,
                         nis_real *Y, int64_t B, int64_t din, int64_t dout) {
    nis_ctx_reset(ctx);
    nis_tensor *x = nis_tensor_wrap(ctx, 2, (int64_t[]){B, din}, X);
    nis_tensor *y = nis_tensor_wrap(ctx, 2, (int64_t[]){B, dout}, Y);
    nis_tensor *loss = nis_mean(ctx, nis_square(ctx, nis_sub(ctx, f(ctx, net, x), y)));
    if (!loss) return NAN;
    nis_params_zero_grad(P);
    if (nis_backward(ctx, loss, NULL) != NIS_OK || nis_adam_step(opt, P) != NIS_OK) return NAN;
    return loss->data[0];
}

static nis_tensor *mlp_fn(nis_ctx *ctx, const void *net, nis_tensor *x) {
    return nis_mlp_forward(ctx, net, x);
}

/* Solve the n x n system A z = r (Gaussian elimination with partial pivoting, in place; n <= 8). */
static void solve(int n, double A[][8], double *r) {
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(A[i][c]) > fabs(A[piv][c])) piv = i;
        for (int j = 0; j < n; j++) {
            double t = A[c][j];
            A[c][j] = A[piv][j];
            A[piv][j] = t;
        }
        double t = r[c];
        r[c] = r[piv];
        r[piv] = t;
        for (int i = c + 1; i < n; i++) {
            double f = A[i][c] / A[c][c];
            for (int j = c; j < n; j++) A[i][j] -= f * A[c][j];
            r[i] -= f * r[c];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int j = i + 1; j < n; j++) r[i] -= A[i][j] * r[j];
        r[i] /= A[i][i];
    }
}

/* y = A x + b + noise fitted by a widths {3, 2} "MLP" (one Linear) with Adam, against least squares. */
static void test_linear_fit(void) {
    enum { B = 256, DI = 3, DO = 2 };
    static nis_real X[B * DI], Y[B * DO];
    const double A[DO][DI] = {{1.5, -2.0, 0.5}, {0.3, 0.8, -1.2}}, bias[DO] = {0.7, -0.4};
    test_seed(11);
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < DI; j++) X[i * DI + j] = (nis_real)(2 * test_uniform() - 1);
        for (int o = 0; o < DO; o++) {
            double y = bias[o] + 0.1 * test_normal();
            for (int j = 0; j < DI; j++) y += A[o][j] * X[i * DI + j];
            Y[i * DO + o] = (nis_real)y;
        }
    }
    /* closed form: theta_o = (X1^T X1)^-1 X1^T y_o with X1 = [X 1] */
    double theta[DO][DI + 1];
    for (int o = 0; o < DO; o++) {
        double G[8][8] = {{0}}, r[8] = {0};
        for (int i = 0; i < B; i++) {
            double row[DI + 1] = {X[i * DI], X[i * DI + 1], X[i * DI + 2], 1};
            for (int j = 0; j <= DI; j++) {
                r[j] += row[j] * Y[i * DO + o];
                for (int k = 0; k <= DI; k++) G[j][k] += row[j] * row[k];
            }
        }
        solve(DI + 1, G, r);
        for (int j = 0; j <= DI; j++) theta[o][j] = r[j];
    }

    nis_params *P = nis_params_new();
    nis_mlp M;
    nis_mlp_add(&M, P, "lin", 2, (int64_t[]){DI, DO}, NIS_ACT_TANH); /* no hidden layer: act unused */
    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    nis_rng rng = nis_rng_init(5, 0);
    nis_params_init(P, &rng);
    nis_ctx *ctx = nis_ctx_new(0);
    nis_adam opt = nis_adam_default(0.05);
    double loss = NAN;
    for (int it = 0; it < 1500; it++) {
        if (it >= 500) opt.lr *= 0.993;
        loss = train_step(ctx, mlp_fn, &M, P, &opt, X, Y, B, DI, DO);
        if (isnan(loss)) break;
    }
    CHECK(!isnan(loss), "training failed: %s", nis_ctx_message(ctx));
    nis_tensor *W = nis_params_get(P, "lin.fc1.weight"), *b = nis_params_get(P, "lin.fc1.bias");
    double worst = 0;
    for (int o = 0; o < DO; o++) {
        for (int j = 0; j < DI; j++) worst = fmax(worst, fabs(W->data[o * DI + j] - theta[o][j]));
        worst = fmax(worst, fabs(b->data[o] - theta[o][DI]));
    }
    CHECK(worst < 1e-3, "linear fit: max |theta - theta_ls| = %g", worst);
    printf("linear fit: loss %.6f, max |theta - theta_ls| = %.2e\n", loss, worst);
    nis_ctx_free(ctx);
    nis_params_free(P);
}

/* A tanh MLP {1, 32, 32, 1} learns sin(2x) on [-2, 2] (128 points) to MSE < 1e-3 in 2000 Adam steps. */
static void test_tanh_fit(void) {
    enum { B = 128 };
    static nis_real X[B], Y[B];
    for (int i = 0; i < B; i++) {
        X[i] = (nis_real)(-2 + 4.0 * i / (B - 1));
        Y[i] = (nis_real)sin(2 * X[i]);
    }
    nis_params *P = nis_params_new();
    nis_mlp M;
    nis_mlp_add(&M, P, "f", 4, (int64_t[]){1, 32, 32, 1}, NIS_ACT_TANH);
    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    nis_rng rng = nis_rng_init(3, 0);
    nis_params_init(P, &rng);
    nis_ctx *ctx = nis_ctx_new(0);
    nis_adam opt = nis_adam_default(0.01);
    double first = train_step(ctx, mlp_fn, &M, P, &opt, X, Y, B, 1, 1), loss = first;
    for (int it = 1; it < 2000 && !isnan(loss); it++)
        loss = train_step(ctx, mlp_fn, &M, P, &opt, X, Y, B, 1, 1);
    CHECK(loss < 1e-3, "tanh fit: final MSE %g (first %g)", loss, first);
    printf("tanh fit: MSE %.4f -> %.2e\n", first, loss);
    nis_ctx_free(ctx);
    nis_params_free(P);
}

static void test_layers(void) {
    nis_params *P = nis_params_new();
    nis_mlp M;
    CHECK(nis_mlp_add(&M, P, "net", 4, (int64_t[]){2, 8, 8, 3}, NIS_ACT_SILU) == NIS_OK, "mlp_add");
    nis_linear_layer L;
    nis_linear_layer_add(&L, P, "nobias", 3, 2, false);
    const char *names[] = {"net.fc1.weight", "net.fc1.bias", "net.fc2.weight", "net.fc2.bias",
                           "net.fc3.weight", "net.fc3.bias", "nobias.weight"};
    CHECK(nis_params_count(P) == 7, "count %d", nis_params_count(P));
    for (int i = 0; i < 7 && i < nis_params_count(P); i++)
        CHECK(strcmp(P->p[i].t.name, names[i]) == 0, "name %d: %s", i, P->p[i].t.name);

    /* forward before finalize: an error in the context, not a crash */
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_full(ctx, 2, (int64_t[]){4, 2}, 0.5);
    CHECK(nis_mlp_forward(ctx, &M, x) == NULL && nis_ctx_status(ctx) == NIS_ESTATE,
          "forward before finalize");
    nis_ctx_reset(ctx);

    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    nis_rng rng = nis_rng_init(9, 9);
    nis_params_init(P, &rng);
    /* the layer is x W^T + b with its own tensors */
    x = nis_tensor_from(ctx, 2, (int64_t[]){2, 2}, (nis_real[]){0.5f, -1.0f, 2.0f, 0.25f});
    nis_tensor *y = nis_linear_layer_forward(ctx, &M.layer[0], x);
    const nis_real *W = nis_params_get(P, "net.fc1.weight")->data,
                   *b = nis_params_get(P, "net.fc1.bias")->data;
    CHECK(y && y->shape[0] == 2 && y->shape[1] == 8, "linear layer shape");
    for (int i = 0; y && i < 2; i++)
        for (int o = 0; o < 8; o++)
            CHECK_CLOSE(y->data[i * 8 + o],
                        b[o] + W[o * 2] * x->data[i * 2] + W[o * 2 + 1] * x->data[i * 2 + 1], 1e-6, 1e-6);
    nis_tensor *z = nis_mlp_forward(ctx, &M, x);
    CHECK(z && z->ndim == 2 && z->shape[0] == 2 && z->shape[1] == 3, "mlp output shape");
    nis_tensor *u = nis_linear_layer_forward(ctx, &L, nis_full(ctx, 2, (int64_t[]){1, 3}, 1));
    CHECK(u && u->shape[1] == 2, "layer without bias");
    CHECK(nis_mlp_forward(ctx, &M, nis_full(ctx, 2, (int64_t[]){4, 5}, 1)) == NULL &&
              nis_ctx_status(ctx) == NIS_ESHAPE,
          "wrong input width accepted");
    nis_ctx_free(ctx);
    nis_params_free(P);

    /* builder errors */
    P = nis_params_new();
    CHECK(nis_mlp_add(&M, P, "m", 1, (int64_t[]){3}, NIS_ACT_RELU) == NIS_EINVAL, "one width accepted");
    nis_params_free(P);
    P = nis_params_new();
    CHECK(nis_mlp_add(&M, P, "m", 2, (int64_t[]){3, 0}, NIS_ACT_RELU) == NIS_EINVAL, "zero width accepted");
    nis_params_free(P);

    /* activation names */
    nis_act a;
    CHECK(nis_act_parse("leaky_relu", &a) && a == NIS_ACT_LEAKY_RELU, "parse leaky_relu");
    CHECK(nis_act_parse("silu", &a) && a == NIS_ACT_SILU && strcmp(nis_act_name(a), "silu") == 0, "silu");
    CHECK(!nis_act_parse("gelu", &a), "unknown activation parsed");
}

static void test_convnets(void) {
    nis_params *P = nis_params_new();
    nis_convnet N;
    const nis_conv_spec convs[] = {{32, 3, 1, 1, 0}, {64, 3, 2, 1, 0}, {64, 3, 2, 1, 0}};
    CHECK(nis_convnet_add(&N, P, "energy", 1, 28, 28, 3, convs, NIS_ACT_SILU, 0, 10) == NIS_OK,
          "convnet_add: %s", nis_params_message(P));
    CHECK(N.out_c == 64 && N.out_h == 7 && N.out_w == 7, "conv output %lldx%lldx%lld", (long long)N.out_c,
          (long long)N.out_h, (long long)N.out_w);
    nis_deconvnet G;
    const nis_conv_spec ups[] = {{16, 4, 2, 1, 0}, {1, 4, 2, 1, 0}};
    CHECK(nis_deconvnet_add(&G, P, "gen", 8, 32, 7, 7, 2, ups, NIS_ACT_RELU) == NIS_OK, "deconvnet_add: %s",
          nis_params_message(P));
    CHECK(G.out_c == 1 && G.out_h == 28 && G.out_w == 28, "generator output %lldx%lld", (long long)G.out_h,
          (long long)G.out_w);
    CHECK(nis_params_get(P, "energy.conv3.weight") == NULL &&
              nis_params_find(P, "energy.conv3.weight") >= 0 &&
              nis_params_find(P, "energy.head.weight") >= 0 && nis_params_find(P, "gen.convt2.bias") >= 0,
          "builder names");
    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    nis_tensor *hw = nis_params_get(P, "energy.head.weight");
    CHECK(hw && hw->shape[0] == 10 && hw->shape[1] == 64 * 7 * 7, "head weight shape");
    nis_rng rng = nis_rng_init(2, 0);
    nis_params_init(P, &rng);

    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *z = nis_tensor_new(ctx, 2, (int64_t[]){3, 8});
    nis_rng_fill_normal(&rng, z->data, z->n, 0, 1);
    nis_tensor *img = nis_deconvnet_forward(ctx, &G, z);
    CHECK(img && img->ndim == 4 && img->shape[0] == 3 && img->shape[1] == 1 && img->shape[2] == 28 &&
              img->shape[3] == 28,
          "generator forward: %s", nis_ctx_message(ctx));
    nis_tensor *e = nis_convnet_forward(ctx, &N, img);
    CHECK(e && e->ndim == 2 && e->shape[0] == 3 && e->shape[1] == 10, "convnet forward: %s",
          nis_ctx_message(ctx));
    nis_tensor *flat = img ? nis_reshape(ctx, img, 2, (int64_t[]){3, 784}) : NULL;
    nis_tensor *e2 = nis_convnet_forward(ctx, &N, flat);
    CHECK(e2 && e && memcmp(e->data, e2->data, 30 * sizeof(nis_real)) == 0, "flat input differs");
    /* gradients reach both models' first layers */
    nis_params_zero_grad(P);
    CHECK(nis_backward(ctx, nis_sum(ctx, e), NULL) == NIS_OK, "backward: %s", nis_ctx_message(ctx));
    nis_tensor *c1 = nis_params_get(P, "energy.conv1.weight"), *s1 = nis_params_get(P, "gen.stem.weight");
    double g1 = 0, g2 = 0;
    for (int64_t i = 0; i < c1->n; i++) g1 += fabs(c1->grad[i]);
    for (int64_t i = 0; i < s1->n; i++) g2 += fabs(s1->grad[i]);
    CHECK(g1 > 0 && g2 > 0, "no gradient: conv1 %g, stem %g", g1, g2);
    nis_ctx_free(ctx);
    nis_params_free(P);

    P = nis_params_new();
    const nis_conv_spec big[] = {{4, 9, 1, 0, 0}};
    CHECK(nis_convnet_add(&N, P, "c", 1, 5, 5, 1, big, NIS_ACT_RELU, 0, 2) == NIS_ESHAPE, "9x9 kernel on 5x5");
    nis_params_free(P);
}

int main(void) {
    test_params();
    test_init();
    test_layers();
    test_convnets();
    test_linear_fit();
    test_tanh_fit();
    return check_done("test_nn");
}
