/* Against PyTorch: a small MLP (Linear, SiLU, Linear, Tanh, Linear) and a small conv net (Conv2d, SiLU,
 * ConvTranspose2d) recomputed with libnis from the weights and inputs PyTorch saved in
 * tests/data/torch_ref.safetensors (made by bench/make_torch_ref.py): loss, parameter gradients, the input
 * gradient, a Hessian-vector product (create_graph), and one Adam step with weight decay, all within 1e-5
 * relative (float32 against float32). */
#include "check.h"
#include "nis/checkpoint.h"
#include "nis/nn.h"

#include <string.h>

#ifndef NIS_TEST_DATA
#define NIS_TEST_DATA "tests/data"
#endif

static nis_st_file *f;

/* The stored tensor `name` (shape must match t) copied into t's data. */
static void load_into(const char *name, nis_tensor *t) {
    char err[256];
    CHECK(nis_st_load(f, name, NIS_DT_F32, t->ndim, t->shape, t->data, false, err, sizeof err) == NIS_OK, "%s", err);
}

/* max |a - ref| / max(1e-3, max |ref|) over the stored tensor `name`. */
static void compare(const char *name, const nis_real *a, int64_t n) {
    const nis_st_entry *e = nis_st_find(f, name);
    CHECK(e != NULL, "%s missing", name);
    if (!e) return;
    const float *r = e->data;
    double worst = 0, scale = 1e-3;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(r[i]));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(a[i] - r[i]));
    CHECK(worst <= 1e-5 * scale, "%s: max difference %.3g (scale %.3g)", name, worst, scale);
}

static void mlp_case(void) {
    nis_params *P = nis_params_new();
    nis_linear_layer l1, l2, l3;
    nis_linear_layer_add(&l1, P, "mlp.fc1", 3, 8, true);
    nis_linear_layer_add(&l2, P, "mlp.fc2", 8, 8, true);
    nis_linear_layer_add(&l3, P, "mlp.fc3", 8, 2, true);
    CHECK(nis_params_finalize(P) == NIS_OK, "%s", nis_params_message(P));
    for (int i = 0; i < nis_params_count(P); i++) load_into(nis_params_at(P, i)->name, nis_params_at(P, i));
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_requires_grad(nis_new2(c, 4, 3)), *t = nis_new2(c, 4, 2), *v = nis_new2(c, 4, 3);
    load_into("mlp.x", x), load_into("mlp.t", t), load_into("mlp.v", v);
    nis_tensor *h = nis_silu(c, nis_linear_layer_forward(c, &l1, x));
    h = nis_tanh(c, nis_linear_layer_forward(c, &l2, h));
    nis_tensor *loss = nis_mean(c, nis_square(c, nis_sub(c, nis_linear_layer_forward(c, &l3, h), t)));
    nis_tensor *gx, *hv;
    CHECK(loss && nis_grad(c, 1, &loss, NULL, 1, &x, true, &gx) == NIS_OK, "%s", nis_ctx_message(c));
    nis_tensor *gv = nis_sum(c, nis_mul(c, gx, v));
    CHECK(nis_grad(c, 1, &gv, NULL, 1, &x, false, &hv) == NIS_OK, "%s", nis_ctx_message(c));
    nis_params_zero_grad(P);
    CHECK(nis_backward(c, loss, NULL) == NIS_OK, "%s", nis_ctx_message(c));
    compare("mlp.loss", loss->data, 1);
    compare("mlp.dx", gx->data, gx->n);
    compare("mlp.hvp", hv->data, hv->n);
    char name[64];
    for (int i = 0; i < nis_params_count(P); i++) {
        nis_tensor *p = nis_params_at(P, i);
        snprintf(name, sizeof name, "mlp.grad.%s", p->name + 4);
        compare(name, p->grad, p->n);
    }
    nis_adam opt = nis_adam_default(1e-2);
    opt.weight_decay = 1e-3;
    CHECK(nis_adam_step(&opt, P) == NIS_OK, "adam");
    for (int i = 0; i < nis_params_count(P); i++) {
        nis_tensor *p = nis_params_at(P, i);
        snprintf(name, sizeof name, "mlp.after.%s", p->name + 4);
        compare(name, p->data, p->n);
    }
    nis_ctx_free(c);
    nis_params_free(P);
}

static void conv_case(void) {
    nis_params *P = nis_params_new();
    nis_conv2d_layer c1;
    nis_convt2d_layer c2;
    nis_conv2d_layer_add(&c1, P, "conv.c1", 1, 2, 3, 1, 1, true);
    nis_convt2d_layer_add(&c2, P, "conv.c2", 2, 1, 4, 2, 1, 0, true);
    CHECK(nis_params_finalize(P) == NIS_OK, "%s", nis_params_message(P));
    for (int i = 0; i < nis_params_count(P); i++) load_into(nis_params_at(P, i)->name, nis_params_at(P, i));
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_new4(c, 2, 1, 6, 6);
    load_into("conv.x", x);
    nis_tensor *y = nis_convt2d_layer_forward(c, &c2, nis_silu(c, nis_conv2d_layer_forward(c, &c1, x)));
    nis_tensor *loss = nis_sum(c, nis_square(c, y));
    nis_params_zero_grad(P);
    CHECK(loss && nis_backward(c, loss, NULL) == NIS_OK, "%s", nis_ctx_message(c));
    if (loss) compare("conv.loss", loss->data, 1);
    char name[64];
    for (int i = 0; i < nis_params_count(P); i++) {
        nis_tensor *p = nis_params_at(P, i);
        snprintf(name, sizeof name, "conv.grad.%s", p->name + 5);
        compare(name, p->grad, p->n);
    }
    nis_ctx_free(c);
    nis_params_free(P);
}

int main(void) {
    char err[256];
    CHECK(nis_st_read(NIS_TEST_DATA "/torch_ref.safetensors", &f, err, sizeof err) == NIS_OK, "%s", err);
    if (!f) return check_done("test_torch_ref");
    mlp_case();
    conv_case();
    nis_st_close(f);
    return check_done("test_torch_ref");
}
