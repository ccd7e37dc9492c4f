/* src/train/classifier_train.c — training the FID classifier (nis/fid.h) by Adam on softmax cross-entropy:
 * random affine augmentation (shift, rotation, scale), cosine learning rate, an optional line per epoch. */
#include "core/err.h"
#include "internal.h"
#include "nis/classifier_train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

nis_classifier_train_opts nis_classifier_train_defaults(void) {
    return (nis_classifier_train_opts){.epochs = 15, .batch = 64, .lr = 2e-3, .max_shift = 2, .max_rotate = 10,
                                       .max_scale = 0.1, .seed = 0, .log = NULL};
}

/* dst (c, h, w) = src under a random affine map about the image centre: rotation by a uniform angle in
 * [-rot, rot] degrees, scaling by a uniform factor in [1 - scale, 1 + scale], translation by uniform amounts in
 * [-shift, shift] pixels per axis; bilinear interpolation, zero outside.  The identity when all three are 0. */
static void augment_image(nis_real *dst, const float *src, int c, int h, int w, double shift, double rot,
                          double scale, nis_rng *rng) {
    double th = rot > 0 ? (2 * nis_rng_uniform(rng) - 1) * rot * 3.141592653589793 / 180 : 0;
    double sc = scale > 0 ? 1 + (2 * nis_rng_uniform(rng) - 1) * scale : 1;
    double ty = shift > 0 ? (2 * nis_rng_uniform(rng) - 1) * shift : 0;
    double tx = shift > 0 ? (2 * nis_rng_uniform(rng) - 1) * shift : 0;
    double cy = 0.5 * (h - 1), cx = 0.5 * (w - 1), co = cos(th) / sc, si = sin(th) / sc;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            /* source point: the inverse map (rotate by -th, divide by sc) of the output point minus the shift */
            double py = y - cy - ty, px = x - cx - tx;
            double sy = co * py - si * px + cy, sx = si * py + co * px + cx;
            int y0 = (int)floor(sy), x0 = (int)floor(sx);
            double fy = sy - y0, fx = sx - x0;
            for (int ch = 0; ch < c; ch++) {
                const float *im = src + (size_t)ch * h * w;
                double v = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int yy = y0 + dy, xx = x0 + dx;
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                        v += (dy ? fy : 1 - fy) * (dx ? fx : 1 - fx) * im[yy * w + xx];
                    }
                dst[((size_t)ch * h + y) * w + x] = (nis_real)v;
            }
        }
}

nis_status nis_classifier_train(nis_classifier *C, const nis_images *train, const nis_images *test,
                                const nis_classifier_train_opts *opts, double *test_accuracy, char *err,
                                size_t errlen) {
    if (test_accuracy) *test_accuracy = NAN;
    nis_status st = nis_classifier_check_images(C, train, "training", err, errlen);
    if (st == NIS_OK && test) st = nis_classifier_check_images(C, test, "test", err, errlen);
    if (st != NIS_OK) return st;
    if (opts->epochs < 0 || opts->batch < 1 || !(opts->lr > 0) || !(opts->max_shift >= 0) ||
        !(opts->max_shift < C->cfg.in_h) || !(opts->max_rotate >= 0 && opts->max_rotate <= 180) ||
        !(opts->max_scale >= 0 && opts->max_scale < 1)) {
        nis__set_err(err, errlen, "classifier: bad training options (epochs %d, batch %d, lr %g, shift %g, rotate %g, "
                "scale %g)", opts->epochs, opts->batch, opts->lr, opts->max_shift, opts->max_rotate, opts->max_scale);
        return NIS_EINVAL;
    }
    int64_t n = train->n, D = (int64_t)C->cfg.in_c * C->cfg.in_h * C->cfg.in_w, B = opts->batch < n ? opts->batch : n;
    int64_t steps_per_epoch = (n + B - 1) / B, total = steps_per_epoch * opts->epochs;
    int64_t *perm = nis_malloc((size_t)n * sizeof *perm);
    int32_t *lab = nis_malloc((size_t)B * sizeof *lab);
    nis_ctx *ctx = nis_ctx_new(0);
    if (!perm || !lab || !ctx) {
        nis__set_err(err, errlen, "classifier: out of memory");
        st = NIS_ENOMEM;
    }
    for (int64_t i = 0; st == NIS_OK && i < n; i++) perm[i] = i;
    nis_rng rng = nis_rng_init(opts->seed, NIS_STREAM_CLASSIFIER);
    nis_adam adam = nis_adam_default(opts->lr);
    int64_t step = 0;
    for (int ep = 0; st == NIS_OK && ep < opts->epochs; ep++) {
        double t0 = nis_seconds(), loss_sum = 0;
        for (int64_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
            int64_t j = nis_rng_below(&rng, (uint32_t)(i + 1));
            int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int64_t s = 0; st == NIS_OK && s < steps_per_epoch; s++, step++) {
            int64_t first = s * B, b = n - first < B ? n - first : B;
            nis_ctx_reset(ctx);
            nis_tensor *x = nis_new4(ctx, b, C->cfg.in_c, C->cfg.in_h, C->cfg.in_w);
            if (!x) break;
            for (int64_t k = 0; k < b; k++) {
                int64_t idx = perm[first + k];
                augment_image(x->data + k * D, train->x + idx * D, C->cfg.in_c, C->cfg.in_h, C->cfg.in_w,
                              opts->max_shift, opts->max_rotate, opts->max_scale, &rng);
                lab[k] = train->label[idx];
            }
            nis_tensor *loss = nis_softmax_cross_entropy(ctx, nis_classifier_forward(ctx, C, x, NULL), lab);
            if (!loss) break;
            if (!isfinite(loss->data[0])) {
                nis__set_err(err, errlen, "classifier: loss is not finite at epoch %d, step %" PRId64, ep + 1, s);
                st = NIS_ENUMERIC;
                break;
            }
            loss_sum += loss->data[0] * (double)b;
            nis_params_zero_grad(C->P);
            st = nis_backward(ctx, loss, NULL);
            if (st != NIS_OK) {
                nis__set_err(err, errlen, "classifier: backward: %s", nis_ctx_message(ctx));
                break;
            }
            /* cosine decay from lr to lr / 20 */
            adam.lr = nis__sched_cosine(opts->lr, opts->lr / 20, total, step);
            st = nis_adam_step(&adam, C->P);
            if (st != NIS_OK) nis__set_err(err, errlen, "classifier: %s", nis_params_message(C->P));
        }
        if (st == NIS_OK && nis_ctx_status(ctx) != NIS_OK) {
            st = nis_ctx_status(ctx);
            nis__set_err(err, errlen, "classifier: %s", nis_ctx_message(ctx));
        }
        if (st == NIS_OK && opts->log) {
            double acc = NAN;
            if (test) st = nis_classifier_accuracy(C, test, &acc, err, errlen);
            fprintf(opts->log, "epoch %d/%d: train loss %.4f, test accuracy %.4f, %.1f s\n", ep + 1, opts->epochs,
                    loss_sum / (double)n, acc, nis_seconds() - t0);
            fflush(opts->log);
        }
    }
    if (st == NIS_OK && test && test_accuracy) st = nis_classifier_accuracy(C, test, test_accuracy, err, errlen);
    nis_free(perm);
    nis_free(lab);
    nis_ctx_free(ctx);
    return st;
}
