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
    nis_real *pre_m, *pre_L;      /* trained with precond_*: x = m + L u (dim), (dim, dim); else NULL */
    nis_affine_target affine;     /* its mapping (inner: a stand-in target of the right dim) */
    nis_target stand_in;
};

/* The sampler's parameters, and with "precond.mean" in the file also its preconditioner: every tensor of the file
 * must be one of these, with its exact shape (the checkpoint rules of nis/checkpoint.h). */
static nis_status load_tensors(nis_sampler *s, const nis_st_file *f, const char *path, char *err, size_t errlen) {
    if (!nis_st_find(f, "precond.mean")) return nis_checkpoint_load(path, s->P, NULL, err, errlen);
    const int64_t d = s->dim;
    s->pre_m = nis_malloc((size_t)d * sizeof(nis_real));
    s->pre_L = nis_malloc((size_t)(d * d) * sizeof(nis_real));
    if (!s->pre_m || !s->pre_L) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NIS_ENOMEM;
    }
    if (nis_st_count(f) != s->P->count + 2) {
        snprintf(err, errlen, "%s: holds %d tensors, want the sampler's %d and its preconditioner's 2", path,
                 nis_st_count(f), s->P->count);
        return NIS_EFORMAT;
    }
    nis_status st = nis_st_load(f, "precond.mean", NIS_DT_REAL, 1, (int64_t[]){d}, s->pre_m, true, err, errlen);
    if (st == NIS_OK) st = nis_st_load(f, "precond.L", NIS_DT_REAL, 2, (int64_t[]){d, d}, s->pre_L, true, err, errlen);
    for (int i = 0; st == NIS_OK && i < s->P->count; i++) {
        const nis_tensor *t = &s->P->p[i].t;
        st = nis_st_load(f, t->name, NIS_DT_REAL, t->ndim, t->shape, t->data, true, err, errlen);
    }
    for (int64_t i = 0; st == NIS_OK && i < d + d * d; i++)
        if (!isfinite(i < d ? s->pre_m[i] : s->pre_L[i - d])) {
            snprintf(err, errlen, "%s: the preconditioner holds a non-finite value", path);
            st = NIS_EFORMAT;
        }
    s->stand_in = (nis_target){.name = "precond", .dim = s->dim};
    nis_affine_target_init(&s->affine, &s->stand_in, s->pre_m, s->pre_L);
    return st;
}

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
        } else if ((s->dim = (int)dim, load_tensors(s, f, path, err, errlen)) == NIS_OK) {
            s->latent = (int)latent;
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
    nis_free(s->pre_m), nis_free(s->pre_L);
    nis_free(s);
}

int nis_sampler_dim(const nis_sampler *s) { return s->dim; }
const char *nis_sampler_target(const nis_sampler *s) { return s->target; }

nis_status nis_sampler_generate(nis_sampler *s, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                                size_t errlen) {
    bool add = noisy < 0 ? s->noisy : noisy > 0;
    return nis__generate(s->ctx, &s->gen, s->latent, s->dim, add, s->sigma, s->pre_m ? &s->affine : NULL, rng, n,
                         out, err, errlen);
}
