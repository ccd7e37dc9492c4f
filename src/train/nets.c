/* src/train/nets.c — the trainer's networks: the generator (MLP or image generator), the score network (MLP or
 * U-Net), the score model built on it, and the draws of one update. */
#include "internal.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* {in, w, ..., w, out} with `depth` hidden widths; returns the count. */
static int mlp_widths(int64_t *w, int64_t in, int64_t width, int64_t depth, int64_t out) {
    int n = 0;
    w[n++] = in;
    for (int64_t i = 0; i < depth; i++) w[n++] = width;
    w[n++] = out;
    return n;
}

nis_status nis__gen_add(nis__gen *g, nis_params *P, const nis_train_config *c, int64_t dim) {
    memset(g, 0, sizeof *g);
    g->kind = c->net, g->latent = c->latent, g->dim = dim;
    if (c->net == NIS_NET_CONV)
        return nis_imggen_add(&g->conv, P, "gen", (int)c->latent, (int)c->gen_channels, (int)c->img_c,
                              (int)c->img_h, (int)c->img_w, c->act, c->sigmoid_output);
    int64_t w[NIS_MLP_MAX_LAYERS + 2];
    return nis_mlp_add(&g->mlp, P, "sampler", mlp_widths(w, c->latent, c->width, c->depth, dim), w, c->act);
}

nis_tensor *nis__gen_forward(nis_ctx *ctx, const nis__gen *g, nis_tensor *z) {
    return g->kind == NIS_NET_CONV ? nis_imggen_forward(ctx, &g->conv, z) : nis_mlp_forward(ctx, &g->mlp, z);
}

int64_t nis__gen_chunk(const nis__gen *g) { return g->kind == NIS_NET_CONV ? 256 : 4096; }

nis_status nis__nets_init(nis__nets *N, const nis_train_config *c, int64_t dim, char *err, size_t errlen) {
    memset(N, 0, sizeof *N);
    N->residual = c->score_model == NIS_SCORE_RESIDUAL;
    N->batch = c->batch, N->antithetic = c->antithetic;
    N->G = nis_params_new();
    N->S = nis_params_new();
    if (!N->G || !N->S) {
        snprintf(err, errlen, "trainer: out of memory");
        return NIS_ENOMEM;
    }
    nis__gen_add(&N->gen, N->G, c, dim);
    if (c->net == NIS_NET_CONV) {
        nis_unet_add(&N->score_unet, N->S, "score", (int)c->score_channels, (int)c->img_c, (int)c->img_h,
                     (int)c->img_w, c->act, c->score_net == NIS_SCORE_NET_POOLED);
    } else {
        int64_t w[NIS_MLP_MAX_LAYERS + 2];
        nis_mlp_add(&N->score_mlp, N->S, "score", mlp_widths(w, dim, c->score_width, c->score_depth, dim), w, c->act);
    }
    nis_rng init = nis_rng_init((uint64_t)c->seed, NIS_STREAM_INIT), init_s = nis_rng_split(&init, 1);
    if (nis_params_finalize(N->G) || nis_params_init(N->G, &init) || nis_params_finalize(N->S) ||
        nis_params_init(N->S, &init_s)) {
        snprintf(err, errlen, "trainer: %s", nis_params_status(N->G) ? nis_params_message(N->G) : nis_params_message(N->S));
        return NIS_EINVAL;
    }
    return NIS_OK;
}

void nis__nets_free(nis__nets *N) {
    nis_params_free(N->G);
    nis_params_free(N->S);
    memset(N, 0, sizeof *N);
}

nis_tensor *nis__resid(nis_ctx *ctx, void *ud, nis_tensor *x, nis_tensor *sig) {
    const nis_train_step *s = ud;
    const nis__nets *N = s->nets;
    if (N->gen.kind == NIS_NET_CONV) {
        nis_tensor *u = nis_unet_forward(ctx, &N->score_unet, x);
        return sig ? nis_div(ctx, u, sig) : nis_mul_scalar(ctx, u, 1.0 / s->sigma);
    }
    nis_tensor *y = nis_mlp_forward(ctx, &N->score_mlp, x);
    return sig ? nis_div(ctx, nis_mul_scalar(ctx, y, s->sigma), sig) : y;
}

nis_tensor *nis__score(nis_ctx *ctx, void *ud, nis_tensor *x, nis_tensor *sig) {
    const nis_train_step *s = ud;
    nis_tensor *y = nis__resid(ctx, ud, x, sig);
    if (!((const nis__nets *)s->nets)->residual || !y) return y;
    return nis_add(ctx, y, nis_target_score_at(ctx, s->q, x, sig, x->requires_grad));
}

nis_tensor *nis_train_draw(const nis_train_step *s, bool graph, nis_tensor **eps_out, nis_tensor **sig_out) {
    const nis__nets *N = s->nets;
    nis_ctx *c = s->ctx;
    int64_t lz = N->gen.latent, d = N->gen.dim, units = N->antithetic ? N->batch / 2 : N->batch, a = 0, b = units;
    if (s->dist) nis_dist_share(units, s->dist->rank, s->dist->size, &a, &b);   /* this rank's rows (or pairs) */
    int64_t half = b - a, B = N->antithetic ? 2 * half : half;
    nis_tensor *z = nis_new2(c, half, lz), *eps = nis_new2(c, B, d);
    if (!z || !eps) return NULL;
    /* the batch's draws in order, z then ε then the levels, of which this rank fills rows [a, b) */
    nis_rng_skip_normals(s->rng, (uint64_t)(a * lz));
    nis_rng_fill_normal(s->rng, z->data, half * lz, 0, 1);
    nis_rng_skip_normals(s->rng, (uint64_t)((units - b) * lz + a * d));
    nis_rng_fill_normal(s->rng, eps->data, half * d, 0, 1);
    nis_rng_skip_normals(s->rng, (uint64_t)((units - b) * d));
    if (half < B)   /* antithetic: the second half is the first half's z (below) with -ε */
        for (int64_t i = 0; i < half * d; i++) eps->data[half * d + i] = -eps->data[i];
    *eps_out = eps;
    if (sig_out) *sig_out = NULL;
    if (sig_out && s->cfg->sigma_max > 0) {   /* one level per row, log-uniform in [σ, sigma_max]; pairs share it */
        nis_tensor *sig = nis_new2(c, B, 1);
        if (!sig) return NULL;
        double lo = log(s->sigma), hi = log(s->cfg->sigma_max);
        nis_rng_skip_uniforms(s->rng, (uint64_t)a);
        for (int64_t i = 0; i < half; i++) sig->data[i] = (nis_real)exp(lo + nis_rng_uniform(s->rng) * (hi - lo));
        nis_rng_skip_uniforms(s->rng, (uint64_t)(units - b));
        for (int64_t i = half; i < B; i++) sig->data[i] = sig->data[i - half];
        *sig_out = sig;
    }
    /* antithetic pairs share z, so g runs on the first half's rows only and the second half is its copy: the pairs'
     * x0 are equal to the bit, and the generator's work is halved (with a graph, the two halves' gradients meet
     * in the one pass back through g) */
    bool saved = nis_ctx_set_grad(c, graph);
    nis_tensor *x0 = nis__gen_forward(c, &N->gen, z);
    if (x0 && half < B) x0 = nis_concat(c, 2, (nis_tensor *const[]){x0, x0}, 0);
    nis_ctx_set_grad(c, saved);
    return x0;
}
