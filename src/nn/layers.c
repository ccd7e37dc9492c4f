/* src/nn/layers.c — Linear, Conv2d, ConvTranspose2d: parameter declaration (with PyTorch's default
 * initialisers) and forward through the ops. */
#include "nis/nn.h"

#include <stdio.h>

/* Declare "<prefix>.<what>" with U(-bound, bound) init; returns its index or -1 (status set in P). */
static int add_param(nis_params *P, const char *prefix, const char *what, int ndim, const int64_t *shape,
                     double bound) {
    if (P->status != NIS_OK) return -1;
    char name[256];
    if (snprintf(name, sizeof name, "%s.%s", prefix, what) >= (int)sizeof name) {
        nis_params_fail(P, NIS_EINVAL, "params: name \"%s.%s\" too long", prefix, what);
        return -1;
    }
    int i = nis_params_add(P, name, ndim, shape);
    if (i >= 0) nis_params_set_init(P, i, (nis_init){NIS_INIT_UNIFORM, -bound, bound});
    return i;
}

/* The views of a layer's weight and bias (NULL if none); false with the context's error set (unless one is
 * set already) if P is not finalized or the layer was never declared. */
static bool views(nis_ctx *ctx, const char *layer, nis_params *P, int w, int b, nis_tensor **W,
                  nis_tensor **B) {
    *W = nis_params_at(P, w);
    *B = b >= 0 ? nis_params_at(P, b) : NULL;
    if (*W && (b < 0 || *B)) return true;
    if (ctx && nis_ctx_status(ctx) == NIS_OK)
        nis_ctx_fail(ctx, NIS_ESTATE, "%s layer: parameters used before nis_params_finalize", layer);
    return false;
}

static nis_status bad_size(nis_params *P, const char *layer, const char *prefix) {
    return nis_params_fail(P, NIS_EINVAL, "%s \"%s\": sizes must be positive (stride >= 1, pad >= 0)", layer,
                           prefix);
}

nis_status nis_linear_layer_add(nis_linear_layer *L, nis_params *P, const char *prefix, int64_t in,
                                int64_t out, bool bias) {
    if (P->status != NIS_OK) return P->status;
    if (in < 1 || out < 1) return bad_size(P, "linear", prefix);
    double bound = nis_default_init_bound(in);
    *L = (nis_linear_layer){.P = P, .b = -1, .in = in, .out = out};
    L->w = add_param(P, prefix, "weight", 2, (int64_t[]){out, in}, bound);
    if (bias) L->b = add_param(P, prefix, "bias", 1, (int64_t[]){out}, bound);
    return P->status;
}

/* x: (B, in) -> (B, out) */
nis_tensor *nis_linear_layer_forward(nis_ctx *ctx, const nis_linear_layer *L, nis_tensor *x) {
    nis_tensor *W, *B;
    return views(ctx, "linear", L->P, L->w, L->b, &W, &B) ? nis_linear(ctx, x, W, B) : NULL;
}

nis_status nis_conv2d_layer_add(nis_conv2d_layer *L, nis_params *P, const char *prefix, int64_t cin,
                                int64_t cout, int k, int stride, int pad, bool bias) {
    if (P->status != NIS_OK) return P->status;
    if (cin < 1 || cout < 1 || k < 1 || stride < 1 || pad < 0) return bad_size(P, "conv2d", prefix);
    double bound = nis_default_init_bound(cin * k * k);
    *L = (nis_conv2d_layer){.P = P, .b = -1, .cin = cin, .cout = cout, .k = k, .stride = stride, .pad = pad};
    L->w = add_param(P, prefix, "weight", 4, (int64_t[]){cout, cin, k, k}, bound);
    if (bias) L->b = add_param(P, prefix, "bias", 1, (int64_t[]){cout}, bound);
    return P->status;
}

/* x: (N, cin, H, W) -> (N, cout, Ho, Wo) */
nis_tensor *nis_conv2d_layer_forward(nis_ctx *ctx, const nis_conv2d_layer *L, nis_tensor *x) {
    nis_tensor *W, *B;
    return views(ctx, "conv2d", L->P, L->w, L->b, &W, &B) ? nis_conv2d(ctx, x, W, B, L->stride, L->pad)
                                                          : NULL;
}

nis_status nis_convt2d_layer_add(nis_convt2d_layer *L, nis_params *P, const char *prefix, int64_t cin,
                                 int64_t cout, int k, int stride, int pad, int out_pad, bool bias) {
    if (P->status != NIS_OK) return P->status;
    if (cin < 1 || cout < 1 || k < 1 || stride < 1 || pad < 0 || out_pad < 0)
        return bad_size(P, "conv_transpose2d", prefix);
    /* PyTorch: fan_in = weight.size(1) * receptive field = cout k k for a (cin, cout, k, k) weight */
    double bound = nis_default_init_bound(cout * k * k);
    *L = (nis_convt2d_layer){
        .P = P, .b = -1, .cin = cin, .cout = cout, .k = k, .stride = stride, .pad = pad, .out_pad = out_pad};
    L->w = add_param(P, prefix, "weight", 4, (int64_t[]){cin, cout, k, k}, bound);
    if (bias) L->b = add_param(P, prefix, "bias", 1, (int64_t[]){cout}, bound);
    return P->status;
}

/* x: (N, cin, H, W) -> (N, cout, Ho, Wo) */
nis_tensor *nis_convt2d_layer_forward(nis_ctx *ctx, const nis_convt2d_layer *L, nis_tensor *x) {
    nis_tensor *W, *B;
    if (!views(ctx, "conv_transpose2d", L->P, L->w, L->b, &W, &B)) return NULL;
    return nis_conv_transpose2d(ctx, x, W, B, L->stride, L->pad, L->out_pad);
}
