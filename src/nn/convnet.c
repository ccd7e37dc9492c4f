/* src/nn/convnet.c — convolutional builders: a conv net with a linear head (energies, classifiers) and a
 * transposed-conv generator. */
#include "nis/nn.h"

#include <stdio.h>
#include <string.h>

/* False (error set in P) if act is not a known activation. */
static bool act_ok(nis_params *P, const char *prefix, nis_act act) {
    if ((int)act >= NIS_ACT_NONE && (int)act <= NIS_ACT_LEAKY_RELU) return true;
    nis_params_fail(P, NIS_EINVAL, "\"%s\": unknown activation %d", prefix, (int)act);
    return false;
}

/* "<prefix>.<what><i>" into name[256]; false (error set in P) if too long. */
static bool layer_name(nis_params *P, char *name, const char *prefix, const char *what, int i) {
    if (snprintf(name, 256, i > 0 ? "%s.%s%d" : "%s.%s", prefix, what, i) < 256) return true;
    nis_params_fail(P, NIS_EINVAL, "params: prefix \"%s\" too long", prefix);
    return false;
}

/* The checks both builders start with: P not in error, 0 <= n <= NIS_CONVNET_MAX_LAYERS layers, a
 * (c, h, w) shape of positive sizes (a conv net's input, a deconv net's stem), a known activation.  NIS_OK,
 * or P's status (the failure is set in P). */
static nis_status check_net(nis_params *P, const char *prefix, bool deconv, int n, int64_t c, int64_t h, int64_t w,
                            nis_act act) {
    const char *kind = deconv ? "deconvnet" : "convnet";
    if (P->status != NIS_OK) return P->status;
    if (n < 0 || n > NIS_CONVNET_MAX_LAYERS)
        return nis_params_fail(P, NIS_EINVAL, "%s \"%s\": %d %s (at most %d)", kind, prefix, n,
                               deconv ? "layers" : "conv layers", NIS_CONVNET_MAX_LAYERS);
    if (c < 1 || h < 1 || w < 1)
        return nis_params_fail(P, NIS_EINVAL, "%s \"%s\": bad %s shape", kind, prefix, deconv ? "stem" : "input");
    if (!act_ok(P, prefix, act)) return P->status;
    return NIS_OK;
}

nis_status nis_convnet_add(nis_convnet *N, nis_params *P, const char *prefix, int64_t in_c, int64_t in_h,
                           int64_t in_w, int n_conv, const nis_conv_spec *convs, nis_act act, int64_t hidden,
                           int64_t out_features) {
    nis_status st = check_net(P, prefix, false, n_conv, in_c, in_h, in_w, act);
    if (st != NIS_OK) return st;
    if (hidden < 0 || hidden > 65536)
        return nis_params_fail(P, NIS_EINVAL, "convnet \"%s\": %lld hidden units (0..65536)", prefix,
                               (long long)hidden);
    memset(N, 0, sizeof *N);
    N->n_conv = n_conv;
    N->act = act;
    N->in_c = in_c;
    N->in_h = in_h;
    N->in_w = in_w;
    int64_t c = in_c, h = in_h, w = in_w;
    char name[256];
    for (int l = 0; l < n_conv; l++) {
        const nis_conv_spec *s = &convs[l];
        if (s->kernel >= 1 && s->pad >= 0 && (h + 2 * s->pad < s->kernel || w + 2 * s->pad < s->kernel))
            return nis_params_fail(P, NIS_ESHAPE,
                                   "convnet \"%s\": conv%d's kernel %d exceeds its input %lldx%lld", prefix,
                                   l + 1, s->kernel, (long long)h, (long long)w);
        if (!layer_name(P, name, prefix, "conv", l + 1)) return P->status;
        st = nis_conv2d_layer_add(&N->conv[l], P, name, c, s->channels, s->kernel, s->stride, s->pad, true);
        if (st != NIS_OK) return st;
        c = s->channels;
        h = (h + 2 * s->pad - s->kernel) / s->stride + 1;
        w = (w + 2 * s->pad - s->kernel) / s->stride + 1;
    }
    N->out_c = c;
    N->out_h = h;
    N->out_w = w;
    N->hidden_units = hidden;
    if (hidden > 0) {
        if (!layer_name(P, name, prefix, "hidden", 0)) return P->status;
        st = nis_linear_layer_add(&N->hidden, P, name, c * h * w, hidden, true);
        if (st != NIS_OK) return st;
    }
    if (!layer_name(P, name, prefix, "head", 0)) return P->status;
    return nis_linear_layer_add(&N->head, P, name, hidden > 0 ? hidden : c * h * w, out_features, true);
}

nis_status nis_convnet_add_cond(nis_convnet *N, nis_params *P, const char *prefix, int64_t k) {
    if (P->status != NIS_OK) return P->status;
    if (k < 1 || k > 1024 || N->cond_features)
        return nis_params_fail(P, NIS_EINVAL, "convnet \"%s\": conditioning of %lld features (1..1024, once)", prefix,
                               (long long)k);
    char name[256];
    for (int l = 0; l < N->n_conv + (N->hidden_units > 0); l++) {
        if (!layer_name(P, name, prefix, "cond", l + 1)) return P->status;
        int64_t units = l < N->n_conv ? N->conv[l].cout : N->hidden_units;
        nis_status st = nis_linear_layer_add(&N->cond[l], P, name, k, units, false);
        if (st != NIS_OK) return st;
    }
    N->cond_features = k;
    return NIS_OK;
}

/* x: (B, in_c, in_h, in_w) or (B, in_c*in_h*in_w), cond (B, k) or NULL -> (B, out_features) */
nis_tensor *nis_convnet_forward_cond(nis_ctx *ctx, const nis_convnet *N, nis_tensor *x, nis_tensor *cond) {
    if (!x) return NULL;
    if ((cond != NULL) != (N->cond_features > 0) ||
        (cond && (cond->ndim != 2 || cond->shape[0] != x->shape[0] || cond->shape[1] != N->cond_features)))
    {
        nis_ctx_fail(ctx, NIS_ESHAPE, "convnet: %s", N->cond_features ? "a conditioned net needs cond (B, k)"
                                                                      : "cond given to a net without conditioning");
        return NULL;
    }
    int64_t B = x->shape[0];
    if (x->ndim == 2 && N->n_conv > 0) x = nis_reshape(ctx, x, 4, (int64_t[]){B, N->in_c, N->in_h, N->in_w});
    for (int l = 0; l < N->n_conv; l++) {
        nis_tensor *h = nis_conv2d_layer_forward(ctx, &N->conv[l], x);
        if (cond)   /* the per-image shift (B, C) -> (B, C, 1, 1), broadcast over the plane */
            h = nis_add(ctx, h, nis_reshape(ctx, nis_linear_layer_forward(ctx, &N->cond[l], cond), 4,
                                            (int64_t[]){B, N->conv[l].cout, 1, 1}));
        x = nis_activation(ctx, N->act, h);
    }
    if (x && x->ndim != 2) x = nis_reshape(ctx, x, 2, (int64_t[]){B, -1});
    if (N->hidden_units > 0) {
        nis_tensor *h = nis_linear_layer_forward(ctx, &N->hidden, x);
        if (cond) h = nis_add(ctx, h, nis_linear_layer_forward(ctx, &N->cond[N->n_conv], cond));
        x = nis_activation(ctx, N->act, h);
    }
    return nis_linear_layer_forward(ctx, &N->head, x);
}

nis_tensor *nis_convnet_forward(nis_ctx *ctx, const nis_convnet *N, nis_tensor *x) {
    return nis_convnet_forward_cond(ctx, N, x, NULL);
}

nis_status nis_deconvnet_add(nis_deconvnet *G, nis_params *P, const char *prefix, int64_t in_features,
                             int64_t c0, int64_t h0, int64_t w0, int n_convt, const nis_conv_spec *convts,
                             nis_act act) {
    nis_status st = check_net(P, prefix, true, n_convt, c0, h0, w0, act);
    if (st != NIS_OK) return st;
    memset(G, 0, sizeof *G);
    G->n_convt = n_convt;
    G->act = act;
    G->c0 = c0;
    G->h0 = h0;
    G->w0 = w0;
    char name[256];
    if (!layer_name(P, name, prefix, "stem", 0)) return P->status;
    st = nis_linear_layer_add(&G->stem, P, name, in_features, c0 * h0 * w0, true);
    if (st != NIS_OK) return st;
    int64_t c = c0, h = h0, w = w0;
    for (int l = 0; l < n_convt; l++) {
        const nis_conv_spec *s = &convts[l];
        if (s->out_pad >= s->stride)
            return nis_params_fail(P, NIS_EINVAL, "deconvnet \"%s\": convt%d: out_pad %d not below stride %d",
                                   prefix, l + 1, s->out_pad, s->stride);
        if (!layer_name(P, name, prefix, "convt", l + 1)) return P->status;
        st = nis_convt2d_layer_add(&G->convt[l], P, name, c, s->channels, s->kernel, s->stride, s->pad,
                                   s->out_pad, true);
        if (st != NIS_OK) return st;
        h = (h - 1) * s->stride - 2 * s->pad + s->kernel + s->out_pad;
        w = (w - 1) * s->stride - 2 * s->pad + s->kernel + s->out_pad;
        if (h < 1 || w < 1)
            return nis_params_fail(P, NIS_ESHAPE, "deconvnet \"%s\": convt%d gives an empty image", prefix,
                                   l + 1);
        c = s->channels;
    }
    G->out_c = c;
    G->out_h = h;
    G->out_w = w;
    return NIS_OK;
}

/* z: (B, in_features) -> (B, out_c, out_h, out_w) */
nis_tensor *nis_deconvnet_forward(nis_ctx *ctx, const nis_deconvnet *G, nis_tensor *z) {
    if (!z) return NULL;
    int64_t B = z->shape[0];
    nis_tensor *x = nis_linear_layer_forward(ctx, &G->stem, z);
    if (G->n_convt > 0) x = nis_activation(ctx, G->act, x);
    x = nis_reshape(ctx, x, 4, (int64_t[]){B, G->c0, G->h0, G->w0});
    for (int l = 0; l < G->n_convt; l++) {
        x = nis_convt2d_layer_forward(ctx, &G->convt[l], x);
        if (l + 1 < G->n_convt) x = nis_activation(ctx, G->act, x);
    }
    return x;
}
