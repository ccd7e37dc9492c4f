/* src/train/sampler_io.c — loading a saved sampler for generation (nis sample). */
#include "internal.h"
#include "nis/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nis_sampler {
    nis_params *P;
    nis_mlp gen;
    nis_ctx *ctx;
    int latent, dim;
    double sigma;
    bool noisy;
    char target[64];
};

/* Integer metadata `key` in [lo, hi]. */
static bool meta_int(const nis_st_file *f, const char *key, long lo, long hi, long *out, const char *path, char *err,
                     size_t errlen) {
    const char *s = nis_st_meta(f, key);
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < lo || v > hi) {
        snprintf(err, errlen, "%s: metadata '%s' is missing or not an integer in [%ld, %ld]", path, key, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

nis_sampler *nis_sampler_load(const char *path, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return NULL;
    nis_sampler *s = NULL;
    long latent, dim, width, depth;
    const char *fmt = nis_st_meta(f, "format"), *act_s = nis_st_meta(f, "act"), *sig_s = nis_st_meta(f, "sigma");
    const char *noisy_s = nis_st_meta(f, "noisy_output"), *target = nis_st_meta(f, "target");
    nis_act act;
    char *end = NULL;
    double sigma = sig_s ? strtod(sig_s, &end) : NAN;
    if (!fmt || strcmp(fmt, "nis-sampler-1")) {
        snprintf(err, errlen, "%s: not a nis sampler (metadata 'format' is %s)", path, fmt ? fmt : "missing");
    } else if (!meta_int(f, "latent", 1, 1 << 20, &latent, path, err, errlen) ||
               !meta_int(f, "dim", 1, 1 << 20, &dim, path, err, errlen) ||
               !meta_int(f, "width", 1, 1 << 20, &width, path, err, errlen) ||
               !meta_int(f, "depth", 0, NIS_MLP_MAX_LAYERS - 1, &depth, path, err, errlen)) {
        /* message set */
    } else if (!act_s || !nis_act_parse(act_s, &act)) {
        snprintf(err, errlen, "%s: metadata 'act' is missing or unknown", path);
    } else if (!sig_s || *end || !(sigma >= 0) || !isfinite(sigma)) {
        snprintf(err, errlen, "%s: metadata 'sigma' is missing or not a finite number >= 0", path);
    } else if ((s = nis_calloc(1, sizeof *s)) == NULL || (s->P = nis_params_new()) == NULL ||
               (s->ctx = nis_ctx_new(0)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else {
        int64_t w[NIS_MLP_MAX_LAYERS + 2];
        int n = nis__mlp_widths(w, latent, (int)width, (int)depth, dim);
        nis_mlp_add(&s->gen, s->P, "sampler", n, w, act);
        if (nis_params_finalize(s->P) != NIS_OK) {
            snprintf(err, errlen, "%s: %s", path, nis_params_message(s->P));
        } else if (nis_checkpoint_load(path, s->P, NULL, err, errlen) == NIS_OK) {
            s->latent = (int)latent;
            s->dim = (int)dim;
            s->sigma = sigma;
            s->noisy = noisy_s && !strcmp(noisy_s, "1");
            snprintf(s->target, sizeof s->target, "%s", target ? target : "");
            nis_st_close(f);
            return s;
        }
    }
    nis_sampler_free(s);
    nis_st_close(f);
    return NULL;
}

void nis_sampler_free(nis_sampler *s) {
    if (!s) return;
    nis_params_free(s->P);
    nis_ctx_free(s->ctx);
    nis_free(s);
}

int nis_sampler_dim(const nis_sampler *s) { return s->dim; }
const char *nis_sampler_target(const nis_sampler *s) { return s->target; }

nis_status nis_sampler_generate(nis_sampler *s, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                                size_t errlen) {
    bool add = noisy < 0 ? s->noisy : noisy > 0;
    const int64_t chunk = 4096;
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = n - i0 < chunk ? n - i0 : chunk;
        nis_ctx_reset(s->ctx);
        nis_ctx_set_grad(s->ctx, false);
        nis_tensor *z = nis_new2(s->ctx, b, s->latent);
        if (z) nis_rng_fill_normal(rng, z->data, z->n, 0, 1);
        nis_tensor *x = nis_mlp_forward(s->ctx, &s->gen, z);
        if (!x) {
            snprintf(err, errlen, "sample: %s", nis_ctx_message(s->ctx));
            return nis_ctx_status(s->ctx);
        }
        for (int64_t j = 0; j < b * s->dim; j++)
            out[i0 * s->dim + j] = x->data[j] + (add ? (nis_real)(s->sigma * nis_rng_normal(rng)) : 0);
    }
    return NIS_OK;
}
