/* src/train/generate.c — n samples of a generator, in chunks: the one loop behind nis_trainer_sample and
 * nis_sampler_generate, so that a trainer and the sampler it saves give the same samples bit for bit. */
#include "internal.h"

#include <stdio.h>

nis_status nis__generate(nis_ctx *ctx, const nis__gen *g, bool noisy, double sigma, const nis_affine_target *aff,
                         nis_rng *rng, int64_t n, nis_real *out, char *err, size_t errlen) {
    const int64_t chunk = nis__gen_chunk(g), dim = g->dim;
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = n - i0 < chunk ? n - i0 : chunk;
        nis_ctx_reset(ctx);
        bool saved = nis_ctx_set_grad(ctx, false);
        nis_tensor *z = nis_new2(ctx, b, g->latent);
        if (z) nis_rng_fill_normal(rng, z->data, z->n, 0, 1);
        nis_tensor *x = nis__gen_forward(ctx, g, z);
        nis_ctx_set_grad(ctx, saved);
        if (!x) {
            snprintf(err, errlen, "sample: %s", nis_ctx_message(ctx));
            return nis_ctx_status(ctx);
        }
        nis_real *u = aff ? x->data : out + i0 * dim;   /* preconditioned: u in place, then x = m + L u */
        for (int64_t j = 0; j < b * dim; j++)
            u[j] = x->data[j] + (noisy ? (nis_real)(sigma * nis_rng_normal(rng)) : 0);
        if (aff) nis_affine_target_to_x(aff, u, b, out + i0 * dim);
    }
    return NIS_OK;
}
