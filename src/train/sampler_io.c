/* src/train/sampler_io.c — a sampler for generation: written by nis_trainer_save, read by nis_sampler_load.
 *
 * Format "nis-sampler-1" (safetensors): the generator's EMA weights under their own names ("sampler.fc*" for an
 * MLP, "gen.*" for the image generator), "precond.mean" and "precond.L" when trained on a whitened target, and
 * metadata target, method, latent, dim, act, sigma, noisy_output; an MLP adds width and depth; an image generator
 * adds net "conv", img_c, img_h, img_w, gen_channels and sigmoid_output (a file without "net" is an MLP's). */
#include "internal.h"
#include "core/err.h"
#include "nis/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT "nis-sampler-1"

nis_status nis_trainer_save(nis_trainer *tr, const char *path) {
    const nis_train_config *c = &tr->cfg;
    const bool conv = c->net == NIS_NET_CONV;
    char v[8][48];
    snprintf(v[0], 48, "%lld", (long long)c->latent);
    snprintf(v[1], 48, "%d", tr->t->dim);
    snprintf(v[2], 48, "%lld", (long long)(conv ? c->img_c : c->width));
    snprintf(v[3], 48, "%lld", (long long)(conv ? c->img_h : c->depth));
    snprintf(v[4], 48, "%.17g", tr->sigma);
    snprintf(v[5], 48, "%lld", (long long)c->img_w);
    snprintf(v[6], 48, "%lld", (long long)c->gen_channels);
    const char *kv[] = {"format", FORMAT, "target", tr->t->name ? tr->t->name : "", "method", tr->obj->name,
                        "latent", v[0], "dim", v[1], conv ? "img_c" : "width", v[2], conv ? "img_h" : "depth", v[3],
                        "act", nis_act_name(c->act), "sigma", v[4], "noisy_output", c->noisy_output ? "1" : "0",
                        "net", "conv", "img_w", v[5], "gen_channels", v[6], "sigmoid_output", c->sigmoid_output ? "1" : "0"};
    int n_kv = (int)(sizeof kv / sizeof kv[0] / 2) - (conv ? 0 : 4);
    const int64_t d = tr->t->dim;
    nis_st_entry pre[2] = {{.name = "precond.mean", .dtype = NIS_DT_REAL, .ndim = 1, .shape = {d}, .data = tr->pre_m},
                           {.name = "precond.L", .dtype = NIS_DT_REAL, .ndim = 2, .shape = {d, d}, .data = tr->pre_L}};
    if (tr->ema.shadow) nis_ema_swap(&tr->ema, tr->nets.G);   /* the averaged weights, swapped back below */
    nis_status st = nis_checkpoint_save_extra(path, tr->nets.G, NULL, tr->pre_m ? 2 : 0, pre, n_kv, kv, tr->msg,
                                              sizeof tr->msg);
    if (tr->ema.shadow) nis_ema_swap(&tr->ema, tr->nets.G);
    return st;
}

struct nis_sampler {
    nis_params *P;
    nis__gen gen;
    nis_ctx *ctx;
    double sigma;
    bool noisy;
    int img[3];                   /* conv: (c, h, w) */
    char target[64];
    nis_real *pre_m, *pre_L;      /* trained with a preconditioner: x = m + L u (dim), (dim, dim); else NULL */
    nis_affine_target affine;     /* its mapping (inner: a stand-in target of the right dim) */
    nis_target stand_in;
};

/* The sampler's parameters, and with "precond.mean" in the file also its preconditioner: every tensor of the file
 * must be one of these, with its exact shape (the checkpoint rules of nis/checkpoint.h). */
static nis_status load_tensors(nis_sampler *s, const nis_st_file *f, const char *path, char *err, size_t errlen) {
    if (!nis_st_find(f, "precond.mean")) return nis_checkpoint_load(path, s->P, NULL, err, errlen);
    const int64_t d = s->gen.dim;
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
    s->stand_in = (nis_target){.name = "precond", .dim = (int)d};
    nis_affine_target_init(&s->affine, &s->stand_in, s->pre_m, s->pre_L);
    return st;
}

/* Integer metadata `key` in [lo, hi] into *out; false with a message. */
static bool meta_int(const nis_st_file *f, const char *key, long lo, long hi, int64_t *out, const char *path, char *err,
                     size_t errlen) {
    if (nis_st_meta_int(f, key, lo, hi, out)) return true;
    snprintf(err, errlen, "%s: metadata '%s' is missing or not an integer in [%ld, %ld]", path, key, lo, hi);
    return false;
}

/* The generator's configuration from f's metadata into c (and dim, σ); false with a message. */
static bool read_meta(const nis_st_file *f, const char *path, nis_train_config *c, int64_t *dim, double *sigma,
                      char *err, size_t errlen) {
    const char *fmt = nis_st_meta(f, "format"), *net = nis_st_meta(f, "net"), *act = nis_st_meta(f, "act");
    const char *sig = nis_st_meta(f, "sigma");
    char *end = NULL;
    *sigma = sig ? strtod(sig, &end) : NAN;
    char q[NIS__QUOTE_NAME];      /* a metadata value, quoted */
    if (!fmt || strcmp(fmt, FORMAT)) {
        snprintf(err, errlen, "%s: not a nis sampler (metadata 'format' is %s)", path,
                 fmt ? nis__quote(q, sizeof q, fmt, strlen(fmt)) : "missing");
        return false;
    }
    if (net && strcmp(net, "conv")) {
        snprintf(err, errlen, "%s: metadata 'net' is '%s', not conv (or absent: an MLP)", path,
                 nis__quote(q, sizeof q, net, strlen(net)));
        return false;
    }
    c->net = net ? NIS_NET_CONV : NIS_NET_MLP;
    if (!meta_int(f, "latent", 1, 1 << 20, &c->latent, path, err, errlen) ||
        !meta_int(f, "dim", 1, 1 << 24, dim, path, err, errlen))
        return false;
    if (c->net == NIS_NET_MLP && (!meta_int(f, "width", 1, 1 << 20, &c->width, path, err, errlen) ||
                                  !meta_int(f, "depth", 0, NIS_MLP_MAX_LAYERS - 1, &c->depth, path, err, errlen)))
        return false;
    if (c->net == NIS_NET_CONV && (!meta_int(f, "img_c", 1, 4096, &c->img_c, path, err, errlen) ||
                                   !meta_int(f, "img_h", 4, 4096, &c->img_h, path, err, errlen) ||
                                   !meta_int(f, "img_w", 4, 4096, &c->img_w, path, err, errlen) ||
                                   !meta_int(f, "gen_channels", 2, 4096, &c->gen_channels, path, err, errlen)))
        return false;
    const char *sg = nis_st_meta(f, "sigmoid_output");
    c->sigmoid_output = !sg || strcmp(sg, "0");
    if (c->net == NIS_NET_CONV && (c->img_h % 4 || c->img_w % 4 || c->img_c * c->img_h * c->img_w != *dim)) {
        snprintf(err, errlen, "%s: image shape %lldx%lldx%lld does not fit dim %lld (h, w multiples of 4)", path,
                 (long long)c->img_c, (long long)c->img_h, (long long)c->img_w, (long long)*dim);
        return false;
    }
    if (!act || !nis_act_parse(act, &c->act)) {
        snprintf(err, errlen, "%s: metadata 'act' is missing or unknown", path);
        return false;
    }
    if (!sig || *end || !(*sigma >= 0) || !isfinite(*sigma)) {
        snprintf(err, errlen, "%s: metadata 'sigma' is missing or not a finite number >= 0", path);
        return false;
    }
    return true;
}

nis_sampler *nis_sampler_load(const char *path, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return NULL;
    nis_sampler *s = NULL;
    nis_train_config c = nis_train_config_default(NIS_METHOD_DFT);
    int64_t dim;
    double sigma;
    if (!read_meta(f, path, &c, &dim, &sigma, err, errlen)) {
        /* message set */
    } else if ((s = nis_calloc(1, sizeof *s)) == NULL || (s->P = nis_params_new()) == NULL ||
               (s->ctx = nis_ctx_new(0)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else if (nis__gen_add(&s->gen, s->P, &c, dim) != NIS_OK || nis_params_finalize(s->P) != NIS_OK) {
        snprintf(err, errlen, "%s: %s", path, nis_params_message(s->P));
    } else if (load_tensors(s, f, path, err, errlen) == NIS_OK) {
        const char *noisy = nis_st_meta(f, "noisy_output"), *target = nis_st_meta(f, "target");
        s->sigma = sigma;
        s->noisy = noisy && !strcmp(noisy, "1");
        s->img[0] = (int)c.img_c, s->img[1] = (int)c.img_h, s->img[2] = (int)c.img_w;
        snprintf(s->target, sizeof s->target, "%s", target ? target : "");
        nis_st_close(f);
        return s;
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

int nis_sampler_dim(const nis_sampler *s) { return (int)s->gen.dim; }
const char *nis_sampler_target(const nis_sampler *s) { return s->target; }

bool nis_sampler_image_shape(const nis_sampler *s, int *c, int *h, int *w) {
    if (s->gen.kind != NIS_NET_CONV) return false;
    *c = s->img[0], *h = s->img[1], *w = s->img[2];
    return true;
}

nis_status nis_sampler_generate(nis_sampler *s, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                                size_t errlen) {
    bool add = noisy < 0 ? s->noisy : noisy > 0;
    return nis__generate(s->ctx, &s->gen, add, s->sigma, s->pre_m ? &s->affine : NULL, rng, n, out, err, errlen);
}

void nis_sampler_report(const nis_sampler *s, nis_real *x, int64_t n) {
    void (*fn)(const nis_target *, nis_real *, int64_t) = nis_target_report_by_name(s->target);
    nis_target t = {.name = s->target, .dim = (int)s->gen.dim};
    if (fn) fn(&t, x, n);
}
