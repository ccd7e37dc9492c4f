/* src/nn/imgnets.c — the image generator (transposed convs) and the U-Net-lite of the one-step image samplers. */
#include "nis/nn.h"
#include "nis/ops.h"

#include <stdio.h>

nis_status nis_imggen_add(nis_imggen *G, nis_params *P, const char *prefix, int latent, int ch, int c, int h, int w,
                          nis_act act, bool sigmoid) {
    G->sigmoid = sigmoid;
    const nis_conv_spec convts[2] = {
        {.channels = ch / 2, .kernel = 4, .stride = 2, .pad = 1, .out_pad = 0},
        {.channels = c, .kernel = 4, .stride = 2, .pad = 1, .out_pad = 0},
    };
    return nis_deconvnet_add(&G->net, P, prefix, latent, ch, h / 4, w / 4, 2, convts, act);
}

nis_tensor *nis_imggen_forward(nis_ctx *ctx, const nis_imggen *G, nis_tensor *z) {
    nis_tensor *x = nis_deconvnet_forward(ctx, &G->net, z);
    if (G->sigmoid) x = nis_sigmoid(ctx, x);
    return x ? nis_reshape(ctx, x, 2, (int64_t[]){x->shape[0], -1}) : NULL;
}

nis_status nis_unet_add(nis_unet *U, nis_params *P, const char *prefix, int S, int c, int h, int w, nis_act act,
                        bool pooled) {
    char name[6][96];
    static const char *const part[6] = {"in", "down1", "down2", "up1", "up2", "out"};
    for (int i = 0; i < 6; i++) snprintf(name[i], sizeof name[i], "%s.%s", prefix, part[i]);
    U->act = act;
    U->c = c, U->h = h, U->w = w;
    U->pooled = pooled;
    nis_conv2d_layer_add(&U->in, P, name[0], c, S, 3, 1, 1, true);
    if (pooled) {
        nis_conv2d_layer_add(&U->down1, P, name[1], S, 2 * S, 3, 1, 1, true);
        nis_conv2d_layer_add(&U->down2, P, name[2], 2 * S, 2 * S, 3, 1, 1, true);
        nis_conv2d_layer_add(&U->up1c, P, name[3], 2 * S, 2 * S, 3, 1, 1, true);
        nis_conv2d_layer_add(&U->up2c, P, name[4], 2 * S, S, 3, 1, 1, true);
    } else {
        nis_conv2d_layer_add(&U->down1, P, name[1], S, 2 * S, 4, 2, 1, true);
        nis_conv2d_layer_add(&U->down2, P, name[2], 2 * S, 2 * S, 4, 2, 1, true);
        nis_convt2d_layer_add(&U->up1, P, name[3], 2 * S, 2 * S, 4, 2, 1, 0, true);
        nis_convt2d_layer_add(&U->up2, P, name[4], 2 * S, S, 4, 2, 1, 0, true);
    }
    return nis_conv2d_layer_add(&U->out, P, name[5], S, c, 3, 1, 1, true);
}

/* x (B, c*h*w) -> (B, c*h*w) */
nis_tensor *nis_unet_forward(nis_ctx *ctx, const nis_unet *U, nis_tensor *x) {
    if (!x) return NULL;
    int64_t B = x->shape[0];
    nis_tensor *x4 = nis_reshape(ctx, x, 4, (int64_t[]){B, U->c, U->h, U->w});
    nis_tensor *h1 = nis_activation(ctx, U->act, nis_conv2d_layer_forward(ctx, &U->in, x4)), *h2, *h3, *u2, *u1;
    if (U->pooled) {
        h2 = nis_activation(ctx, U->act, nis_conv2d_layer_forward(ctx, &U->down1, nis_avg_pool2d(ctx, h1, 2)));
        h3 = nis_activation(ctx, U->act, nis_conv2d_layer_forward(ctx, &U->down2, nis_avg_pool2d(ctx, h2, 2)));
        u2 = nis_conv2d_layer_forward(ctx, &U->up1c, nis_upsample_nearest2d(ctx, h3, 2));
        u2 = nis_activation(ctx, U->act, nis_add(ctx, u2, h2));
        u1 = nis_conv2d_layer_forward(ctx, &U->up2c, nis_upsample_nearest2d(ctx, u2, 2));
        u1 = nis_activation(ctx, U->act, nis_add(ctx, u1, h1));
    } else {
        h2 = nis_activation(ctx, U->act, nis_conv2d_layer_forward(ctx, &U->down1, h1));
        h3 = nis_activation(ctx, U->act, nis_conv2d_layer_forward(ctx, &U->down2, h2));
        u2 = nis_activation(ctx, U->act, nis_add(ctx, nis_convt2d_layer_forward(ctx, &U->up1, h3), h2));
        u1 = nis_activation(ctx, U->act, nis_add(ctx, nis_convt2d_layer_forward(ctx, &U->up2, u2), h1));
    }
    nis_tensor *y = nis_conv2d_layer_forward(ctx, &U->out, u1);
    return nis_reshape(ctx, y, 2, (int64_t[]){B, -1});
}
