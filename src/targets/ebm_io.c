/* src/targets/ebm_io.c — energies <-> safetensors (with optimiser state and extra tensors for training
 * checkpoints, nis/ebm_train.h). */
#include "nis/checkpoint.h"
#include "nis/ebm.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EBM_META 14

/* The "ebm.*" pairs of E into kv (2 * N_EBM_META entries at most), values formatted into vals; returns how many:
 * the strides only when one is not 2, the noise only for a DSM energy, noise_max only for a noise-conditional one,
 * the architecture only for a U-Net, the level features, hidden units and preconditioning only when there are some
 * (files before them have none of them). */
static int ebm_meta(const nis_ebm *E, char vals[N_EBM_META][160], const char **kv) {
    const nis_ebm_config *c = &E->cfg;
    snprintf(vals[0], 160, "%d,%d,%d", c->c, c->h, c->w);
    int o = 0;
    for (int l = 0; l < c->n_conv; l++) o += snprintf(vals[1] + o, (size_t)(160 - o), l ? ",%d" : "%d", c->channels[l]);
    snprintf(vals[2], 160, "%d", c->kernel);
    snprintf(vals[3], 160, "%s", nis_act_name(c->act));
    snprintf(vals[4], 160, "%.17g", c->lambda);
    snprintf(vals[5], 160, "%.17g", c->sigma);
    static const char *keys[N_EBM_META] = {"ebm.image", "ebm.channels", "ebm.kernel", "ebm.act", "ebm.lambda",
                                           "ebm.sigma", "ebm.strides", "ebm.noise", "ebm.noise_max", "ebm.arch",
                                           "ebm.level_features", "ebm.hidden", "ebm.sigma_data", "ebm.data_mean"};
    int n = 6;
    bool all2 = true;
    for (int l = 0; l < c->n_conv; l++) all2 = all2 && (c->strides[l] == 0 || c->strides[l] == 2);
    if (!all2) {
        o = 0;
        for (int l = 0; l < c->n_conv; l++)
            o += snprintf(vals[6] + o, (size_t)(160 - o), l ? ",%d" : "%d", c->strides[l] ? c->strides[l] : 2);
        kv[2 * n] = keys[6], kv[2 * n + 1] = vals[6], n++;
    }
    if (c->noise > 0) {
        snprintf(vals[7], 160, "%.17g", c->noise);
        kv[2 * n] = keys[7], kv[2 * n + 1] = vals[7], n++;
    }
    if (c->noise_max > 0) {
        snprintf(vals[8], 160, "%.17g", c->noise_max);
        kv[2 * n] = keys[8], kv[2 * n + 1] = vals[8], n++;
    }
    if (c->arch == NIS_EBM_UNET) {
        snprintf(vals[9], 160, "unet");
        kv[2 * n] = keys[9], kv[2 * n + 1] = vals[9], n++;
    }
    if (c->level_features) {
        snprintf(vals[10], 160, "%d", c->level_features);
        kv[2 * n] = keys[10], kv[2 * n + 1] = vals[10], n++;
    }
    if (c->hidden) {
        snprintf(vals[11], 160, "%d", c->hidden);
        kv[2 * n] = keys[11], kv[2 * n + 1] = vals[11], n++;
    }
    if (c->sigma_data > 0) {
        snprintf(vals[12], 160, "%.17g", c->sigma_data);
        snprintf(vals[13], 160, "%.17g", c->data_mean);
        kv[2 * n] = keys[12], kv[2 * n + 1] = vals[12], n++;
        kv[2 * n] = keys[13], kv[2 * n + 1] = vals[13], n++;
    }
    for (int i = 0; i < 6; i++) {
        kv[2 * i] = keys[i];
        kv[2 * i + 1] = vals[i];
    }
    return n;
}

nis_status nis_ebm_save_extra(const char *path, const nis_ebm *E, const nis_adam *opt, int n_extra,
                              const nis_st_entry *extra, int n_meta, const char *const *meta_kv, char *err,
                              size_t errlen) {
    int n_kv = N_EBM_META + n_meta;
    const char **kv = nis_calloc((size_t)(2 * n_kv), sizeof *kv);
    char vals[N_EBM_META][160];
    if (!kv) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NIS_ENOMEM;
    }
    int n_ebm = ebm_meta(E, vals, kv), k = 2 * n_ebm;
    n_kv = n_ebm + n_meta;
    nis_status st = NIS_OK;
    for (int i = 0; i < 2 * n_meta && st == NIS_OK; i += 2) {
        if (!strncmp(meta_kv[i], "ebm.", 4)) {   /* "adam." is checked by nis_checkpoint_save_extra */
            snprintf(err, errlen, "%s: metadata key '%s' is reserved", path, meta_kv[i]);
            st = NIS_EINVAL;
        }
        kv[k++] = meta_kv[i];
        kv[k++] = meta_kv[i + 1];
    }
    if (st == NIS_OK) st = nis_checkpoint_save_extra(path, E->P, opt, n_extra, extra, n_kv, kv, err, errlen);
    nis_free(kv);
    return st;
}

nis_status nis_ebm_save(const char *path, const nis_ebm *E, int n_meta, const char *const *meta_kv, char *err,
                        size_t errlen) {
    return nis_ebm_save_extra(path, E, NULL, 0, NULL, n_meta, meta_kv, err, errlen);
}

static nis_status bad_key(const char *path, const char *key, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: metadata '%s' is missing or invalid (not an energy file?)", path, key);
    return NIS_EFORMAT;
}

/* Parse up to max comma-separated positive ints; returns how many, or -1 on a bad entry. */
static int parse_ints(const char *s, int *out, int max) {
    int n = 0;
    while (s && *s) {
        if (n == max) return -1;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > 1 << 20) return -1;
        out[n++] = (int)v;
        if (*end == ',') end++;
        else if (*end) return -1;
        s = end;
    }
    return n;
}

/* A finite number that is the whole of s (NULL: false). */
static bool parse_double(const char *s, double *out) {
    if (!s) return false;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

static bool parse_pos_double(const char *s, double *out) {
    double v;
    if (!parse_double(s, &v) || !(v > 0)) return false;
    *out = v;
    return true;
}

nis_status nis_ebm_file_config(const nis_st_file *f, const char *path, nis_ebm_config *cfg, char *err,
                                size_t errlen) {
    nis_ebm_config c = nis_ebm_config_default();
    int img[3];
    if (parse_ints(nis_st_meta(f, "ebm.image"), img, 3) != 3) return bad_key(path, "ebm.image", err, errlen);
    c.c = img[0];
    c.h = img[1];
    c.w = img[2];
    memset(c.channels, 0, sizeof c.channels);
    c.n_conv = parse_ints(nis_st_meta(f, "ebm.channels"), c.channels, NIS_CONVNET_MAX_LAYERS);
    if (c.n_conv < 1) return bad_key(path, "ebm.channels", err, errlen);
    int k;
    if (parse_ints(nis_st_meta(f, "ebm.kernel"), &k, 1) != 1) return bad_key(path, "ebm.kernel", err, errlen);
    c.kernel = k;
    const char *act = nis_st_meta(f, "ebm.act");
    if (!act || !nis_act_parse(act, &c.act)) return bad_key(path, "ebm.act", err, errlen);
    if (!parse_pos_double(nis_st_meta(f, "ebm.lambda"), &c.lambda)) return bad_key(path, "ebm.lambda", err, errlen);
    if (!parse_pos_double(nis_st_meta(f, "ebm.sigma"), &c.sigma)) return bad_key(path, "ebm.sigma", err, errlen);
    const char *st = nis_st_meta(f, "ebm.strides"), *ns = nis_st_meta(f, "ebm.noise");   /* absent: 2s, ML */
    if (st && parse_ints(st, c.strides, NIS_CONVNET_MAX_LAYERS) != c.n_conv) return bad_key(path, "ebm.strides", err, errlen);
    if (ns && !parse_pos_double(ns, &c.noise)) return bad_key(path, "ebm.noise", err, errlen);
    const char *nm = nis_st_meta(f, "ebm.noise_max");
    if (nm && (!parse_pos_double(nm, &c.noise_max) || !(c.noise_max > c.noise) || !(c.noise > 0)))
        return bad_key(path, "ebm.noise_max", err, errlen);
    const char *arch = nis_st_meta(f, "ebm.arch");   /* absent: the conv net */
    if (arch && strcmp(arch, "unet")) return bad_key(path, "ebm.arch", err, errlen);
    if (arch) c.arch = NIS_EBM_UNET;
    const char *lf = nis_st_meta(f, "ebm.level_features");   /* absent: none */
    if (lf && (parse_ints(lf, &c.level_features, 1) != 1 || c.level_features < 1 || c.level_features > 64 ||
               !(c.noise_max > 0) || c.arch != NIS_EBM_CONVNET))
        return bad_key(path, "ebm.level_features", err, errlen);
    const char *hu = nis_st_meta(f, "ebm.hidden");   /* absent: a linear head */
    if (hu && (parse_ints(hu, &c.hidden, 1) != 1 || c.hidden < 1 || c.hidden > 65536 || c.arch != NIS_EBM_CONVNET))
        return bad_key(path, "ebm.hidden", err, errlen);
    const char *sd = nis_st_meta(f, "ebm.sigma_data"), *dm = nis_st_meta(f, "ebm.data_mean");   /* absent: off */
    if (sd && (!parse_pos_double(sd, &c.sigma_data) || !c.level_features))
        return bad_key(path, "ebm.sigma_data", err, errlen);
    if ((dm != NULL) != (sd != NULL) || (dm && !parse_double(dm, &c.data_mean)))
        return bad_key(path, "ebm.data_mean", err, errlen);
    *cfg = c;
    return NIS_OK;
}

nis_status nis_ebm_load(const char *path, nis_ebm *E, char *err, size_t errlen) {
    memset(E, 0, sizeof *E);
    nis_st_file *f = NULL;
    nis_status s = nis_st_read(path, &f, err, errlen);
    if (s != NIS_OK) return s;
    nis_ebm_config cfg;
    s = nis_ebm_file_config(f, path, &cfg, err, errlen);
    if (s == NIS_OK) {
        char e2[256];
        s = nis_ebm_init(E, &cfg, 0, e2, sizeof e2);
        if (s != NIS_OK) snprintf(err, errlen, "%s: %s", path, e2);
    }
    for (int i = 0; s == NIS_OK && i < E->P->count; i++) {
        const nis_tensor *t = &E->P->p[i].t;
        s = nis_st_load(f, t->name, NIS_DT_REAL, t->ndim, t->shape, t->data, true, err, errlen);
    }
    nis_st_close(f);
    if (s != NIS_OK) nis_ebm_free(E);
    return s;
}

nis_ebm *nis_ebm_open(const char *path, char *err, size_t errlen) {
    nis_ebm *E = nis_malloc(sizeof *E);
    if (!E) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", path ? path : "(null)");
        return NULL;
    }
    if (nis_ebm_load(path, E, err, errlen) != NIS_OK) {
        nis_free(E);
        return NULL;
    }
    return E;
}

void nis_ebm_close(nis_ebm *E) {
    nis_ebm_free(E);
    nis_free(E);
}

void nis_ebm_info(const nis_ebm *E, int *c, int *h, int *w, double *noise, double *noise_max) {
    if (c) *c = E->cfg.c;
    if (h) *h = E->cfg.h;
    if (w) *w = E->cfg.w;
    if (noise) *noise = E->cfg.noise;
    if (noise_max) *noise_max = E->cfg.noise_max;
}
