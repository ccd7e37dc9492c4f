/* src/train/imgsampler_io.c — the image sampler's whole training state <-> one safetensors file (resume), and
 * the generate-only loader nis_imggen. */
#include "imgsampler_internal.h"
#include "nis/io.h"
#include "nis/ops.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT "nis-imgsampler-1"

/* ---- metadata: a table of (key, kind, field) over a config and the counters --------------------------- */
typedef enum { K_I64, K_INT, K_U64, K_DBL, K_BOOL } kind;
typedef struct {
    const char *key;
    kind k;
    void *p;
    bool optional;   /* added after the format's first release: absent in older files, then left at 0 */
} field;

typedef struct {
    nis_imgsampler_config c;
    int64_t iter, evals, gen_step, score_step, ema_updates;
    int method, act;
    double sigma_now;
} state;

static int fields_of(state *s, field *f) {
    int n = 0;
#define F(key_, k_, p_) f[n++] = (field){key_, k_, p_, false}
    F("method", K_INT, &s->method);
    F("act", K_INT, &s->act);
    F("img_c", K_INT, &s->c.img_c);
    F("img_h", K_INT, &s->c.img_h);
    F("img_w", K_INT, &s->c.img_w);
    F("batch", K_I64, &s->c.batch);
    F("latent", K_INT, &s->c.latent);
    F("gen_channels", K_INT, &s->c.gen_channels);
    F("score_channels", K_INT, &s->c.score_channels);
    F("lr_gen", K_DBL, &s->c.lr_gen);
    F("lr_score", K_DBL, &s->c.lr_score);
    F("score_steps", K_INT, &s->c.score_steps);
    F("sigma", K_DBL, &s->c.sigma);
    F("sigma_start", K_DBL, &s->c.sigma_start);
    F("anneal_iters", K_I64, &s->c.anneal_iters);
    F("antithetic", K_BOOL, &s->c.antithetic);
    F("noisy_output", K_BOOL, &s->c.noisy_output);
    F("sigmoid_output", K_BOOL, &s->c.sigmoid_output);
    F("grad_clip", K_DBL, &s->c.grad_clip);
    F("ema_decay", K_DBL, &s->c.ema_decay);
    F("score_eps", K_BOOL, &s->c.score_eps);
    F("seed", K_U64, &s->c.seed);
    F("iter", K_I64, &s->iter);
    F("target_evals", K_I64, &s->evals);
    F("gen_adam_step", K_I64, &s->gen_step);
    F("score_adam_step", K_I64, &s->score_step);
    F("ema_updates", K_I64, &s->ema_updates);
    F("sigma_now", K_DBL, &s->sigma_now);
    f[n++] = (field){"score_residual", K_BOOL, &s->c.score_residual, true};
#undef F
    return n;
}
#define MAX_FIELDS 32

static void format_field(const field *f, char *buf, size_t size) {
    switch (f->k) {
    case K_I64: snprintf(buf, size, "%" PRId64, *(int64_t *)f->p); break;
    case K_INT: snprintf(buf, size, "%d", *(int *)f->p); break;
    case K_U64: snprintf(buf, size, "%" PRIu64, *(uint64_t *)f->p); break;
    case K_DBL: snprintf(buf, size, "%.17g", *(double *)f->p); break;
    case K_BOOL: snprintf(buf, size, "%d", *(bool *)f->p ? 1 : 0); break;
    }
}

static bool parse_field(const field *f, const char *v) {
    char *end = NULL;
    errno = 0;
    if (!v || !*v) return false;
    switch (f->k) {
    case K_I64: *(int64_t *)f->p = strtoll(v, &end, 10); break;
    case K_INT: {
        long x = strtol(v, &end, 10);
        if (x < -1000000000L || x > 1000000000L) return false;
        *(int *)f->p = (int)x;
        break;
    }
    case K_U64: *(uint64_t *)f->p = strtoull(v, &end, 10); break;
    case K_DBL: *(double *)f->p = strtod(v, &end); break;
    case K_BOOL:
        if (strcmp(v, "0") && strcmp(v, "1")) return false;
        *(bool *)f->p = v[0] == '1';
        return true;
    }
    return errno == 0 && end && *end == '\0';
}

/* The noise generator's state as text: 13 words and the spare normal. */
static void rng_format(const nis_rng *r, char *buf, size_t size) {
    snprintf(buf, size, "%" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
             " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %.17g",
             r->key[0], r->key[1], r->ctr[0], r->ctr[1], r->ctr[2], r->ctr[3], r->block[0], r->block[1], r->block[2],
             r->block[3], r->used, r->has_spare, r->spare);
}

static bool rng_parse(const char *v, nis_rng *r) {
    if (!v) return false;
    unsigned long w[12];
    double spare;
    char tail;
    int n = sscanf(v, "%lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lg %c", &w[0], &w[1], &w[2], &w[3], &w[4], &w[5],
                   &w[6], &w[7], &w[8], &w[9], &w[10], &w[11], &spare, &tail);
    if (n != 13) return false;
    for (int i = 0; i < 12; i++)
        if (w[i] > 0xffffffffUL) return false;
    if (w[10] > 4 || w[11] > 1 || !isfinite(spare)) return false;
    r->key[0] = (uint32_t)w[0], r->key[1] = (uint32_t)w[1];
    for (int i = 0; i < 4; i++) r->ctr[i] = (uint32_t)w[2 + i], r->block[i] = (uint32_t)w[6 + i];
    r->used = (uint32_t)w[10], r->has_spare = (uint32_t)w[11], r->spare = spare;
    return true;
}

/* "<a><b>" into buf (false if it does not fit). */
static bool cat2(char *buf, size_t size, const char *a, const char *b) {
    return (size_t)snprintf(buf, size, "%s%s", a, b) < size;
}

/* ---- save ------------------------------------------------------------------------------------------------ */
#define NAME_LEN 160

static int add_entries(nis_st_entry *e, char (*names)[NAME_LEN], int n, const nis_params *P, const char *prefix,
                       const nis_real *base, bool moments) {
    for (int i = 0; i < P->count; i++) {
        const nis_param *p = &P->p[i];
        for (int k = 0; k < (moments ? 3 : 1); k++) {
            nis_st_entry *x = &e[n];
            x->dtype = NIS_DT_REAL;
            x->ndim = p->t.ndim;
            memcpy(x->shape, p->t.shape, sizeof x->shape);
            const char *suffix = k == 0 ? "" : k == 1 ? ".adam_m" : ".adam_v";
            snprintf(names[n], NAME_LEN, "%s%s%s", prefix, p->t.name, suffix);
            x->name = names[n];
            x->data = (k == 0 ? base : k == 1 ? P->m : P->v) + p->offset;
            n++;
        }
    }
    return n;
}

nis_status nis_imgsampler_save(const nis_imgsampler *s, const char *path, int n_meta, const char *const *meta_kv,
                               char *err, size_t errlen) {
    state S = {.c = s->cfg, .iter = s->iter, .evals = s->target_evals, .gen_step = s->opt_g.step,
               .score_step = s->opt_s.step, .ema_updates = s->has_ema ? s->ema.updates : 0,
               .method = (int)s->cfg.method, .act = (int)s->cfg.act, .sigma_now = s->sigma};
    field f[MAX_FIELDS];
    int nf = fields_of(&S, f);
    bool mg = s->opt_g.step > 0 && s->G->m && s->G->v, ms = s->opt_s.step > 0 && s->S->m && s->S->v;
    int n = s->G->count * (mg ? 3 : 1) + s->S->count * (ms ? 3 : 1) + (s->has_ema ? s->G->count : 0);
    int nkv = nf + 4 + n_meta;
    nis_st_entry *e = nis_calloc((size_t)n + 1, sizeof *e);
    char (*names)[NAME_LEN] = nis_calloc((size_t)n + 1, sizeof *names);
    char (*vals)[64] = nis_calloc((size_t)nf + 1, sizeof *vals);
    const char **kv = nis_calloc((size_t)(2 * nkv), sizeof *kv);
    nis_status st = NIS_ENOMEM;
    if (!e || !names || !vals || !kv) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    int k = 0;
    k = add_entries(e, names, k, s->G, "", s->G->data, mg);
    k = add_entries(e, names, k, s->S, "", s->S->data, ms);
    if (s->has_ema) k = add_entries(e, names, k, s->G, "ema.", s->ema.shadow, false);
    char rng[320];
    rng_format(&s->rng, rng, sizeof rng);
    int m = 0;
    kv[m++] = "format", kv[m++] = FORMAT;
    kv[m++] = "target", kv[m++] = s->t && s->t->name ? s->t->name : "";
    kv[m++] = "method_name", kv[m++] = nis_method_name(s->cfg.method);
    kv[m++] = "rng", kv[m++] = rng;
    for (int i = 0; i < nf; i++) {
        format_field(&f[i], vals[i], sizeof vals[i]);
        kv[m++] = f[i].key, kv[m++] = vals[i];
    }
    for (int i = 0; i < 2 * n_meta; i++) kv[m++] = meta_kv[i];
    st = nis_st_write(path, k, e, m / 2, kv, err, errlen);
done:
    nis_free(e);
    nis_free(names);
    nis_free(vals);
    nis_free(kv);
    return st;
}

/* ---- load ------------------------------------------------------------------------------------------------ */

/* Read the configuration and counters of f into *S; false with a message. */
static bool read_state(const nis_st_file *f, const char *path, state *S, nis_rng *rng, char *err, size_t errlen) {
    const char *fmt = nis_st_meta(f, "format");
    if (!fmt || strcmp(fmt, FORMAT)) {
        snprintf(err, errlen, "%s: not a nis image sampler (metadata 'format' is %s)", path, fmt ? fmt : "missing");
        return false;
    }
    memset(S, 0, sizeof *S);
    field fl[MAX_FIELDS];
    int nf = fields_of(S, fl);
    for (int i = 0; i < nf; i++)
        if (!(fl[i].optional && !nis_st_meta(f, fl[i].key)) && !parse_field(&fl[i], nis_st_meta(f, fl[i].key))) {
            snprintf(err, errlen, "%s: metadata '%s' is missing or malformed", path, fl[i].key);
            return false;
        }
    if (S->method != NIS_METHOD_DFT && S->method != NIS_METHOD_KL) {
        snprintf(err, errlen, "%s: metadata 'method' %d is not dft or kl", path, S->method);
        return false;
    }
    if (S->act < NIS_ACT_NONE || S->act > NIS_ACT_LEAKY_RELU) {
        snprintf(err, errlen, "%s: metadata 'act' %d is unknown", path, S->act);
        return false;
    }
    S->c.method = (nis_method)S->method;
    S->c.act = (nis_act)S->act;
    if (S->iter < 0 || S->evals < 0 || S->gen_step < 0 || S->score_step < 0 || S->ema_updates < 0 ||
        !(S->sigma_now > 0) || !isfinite(S->sigma_now)) {
        snprintf(err, errlen, "%s: metadata counters or sigma_now out of range", path);
        return false;
    }
    if (rng && !rng_parse(nis_st_meta(f, "rng"), rng)) {
        snprintf(err, errlen, "%s: metadata 'rng' is missing or malformed", path);
        return false;
    }
    char cerr[200];
    if (!nis__imgsampler_config_ok(&S->c, -1, cerr, sizeof cerr)) {
        snprintf(err, errlen, "%s: %s", path, cerr);
        return false;
    }
    return true;
}

/* Copy the tensors "<prefix><name><suffix>" of every parameter of P from f into base (+ offset). */
static nis_status load_set(const nis_st_file *f, const nis_params *P, const char *prefix, const char *suffix,
                           nis_real *base, char *err, size_t errlen) {
    char name[NAME_LEN], tmp[NAME_LEN];
    for (int i = 0; i < P->count; i++) {
        const nis_param *p = &P->p[i];
        if (!cat2(tmp, sizeof tmp, prefix, p->t.name) || !cat2(name, sizeof name, tmp, suffix)) {
            snprintf(err, errlen, "tensor name too long");
            return NIS_EINVAL;
        }
        nis_status st = nis_st_load(f, name, NIS_DT_REAL, p->t.ndim, p->t.shape, base + p->offset, false, err, errlen);
        if (st != NIS_OK) return st;
    }
    return NIS_OK;
}

nis_imgsampler *nis_imgsampler_resume(const nis_target *t, const char *path, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return NULL;
    state S;
    nis_rng rng;
    nis_imgsampler *s = NULL;
    char e2[400];
    if (!read_state(f, path, &S, &rng, err, errlen)) goto fail;
    if (!t || (int64_t)S.c.img_c * S.c.img_h * S.c.img_w != t->dim) {
        snprintf(err, errlen, "%s: image shape %dx%dx%d does not match the target's dimension %d", path, S.c.img_c,
                 S.c.img_h, S.c.img_w, t ? t->dim : 0);
        goto fail;
    }
    s = nis_imgsampler_new(t, &S.c, e2, sizeof e2);
    if (!s) {
        snprintf(err, errlen, "%s: %s", path, e2);
        goto fail;
    }
    nis_status st = load_set(f, s->G, "", "", s->G->data, e2, sizeof e2);
    if (st == NIS_OK) st = load_set(f, s->S, "", "", s->S->data, e2, sizeof e2);
    if (st == NIS_OK && S.gen_step > 0) {
        st = nis_params_alloc_moments(s->G, true);
        if (st == NIS_OK) st = load_set(f, s->G, "", ".adam_m", s->G->m, e2, sizeof e2);
        if (st == NIS_OK) st = load_set(f, s->G, "", ".adam_v", s->G->v, e2, sizeof e2);
    }
    if (st == NIS_OK && S.score_step > 0) {
        st = nis_params_alloc_moments(s->S, true);
        if (st == NIS_OK) st = load_set(f, s->S, "", ".adam_m", s->S->m, e2, sizeof e2);
        if (st == NIS_OK) st = load_set(f, s->S, "", ".adam_v", s->S->v, e2, sizeof e2);
    }
    if (st == NIS_OK && s->has_ema) st = load_set(f, s->G, "ema.", "", s->ema.shadow, e2, sizeof e2);
    if (st != NIS_OK) {
        snprintf(err, errlen, "%s: %s", path, e2);
        goto fail;
    }
    s->opt_g.step = S.gen_step;
    s->opt_s.step = S.score_step;
    if (s->has_ema) s->ema.updates = S.ema_updates;
    s->iter = S.iter;
    s->target_evals = S.evals;
    s->sigma = S.sigma_now;
    s->rng = rng;
    nis_st_close(f);
    return s;
fail:
    nis_imgsampler_free(s);
    nis_st_close(f);
    return NULL;
}

bool nis_imgsampler_file_meta(const char *path, const char *key, char *buf, size_t size, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return false;
    const char *v = nis_st_meta(f, key);
    if (v) snprintf(buf, size, "%s", v);
    else snprintf(err, errlen, "%s: no metadata '%s'", path, key);
    nis_st_close(f);
    return v != NULL;
}

/* ---- generate-only loader ------------------------------------------------------------------------------- */
struct nis_imggen {
    nis_imgsampler_config cfg;
    nis_params *G;
    nis__imggen_net gen;
    nis_ctx *ctx;
    double sigma;
};

void nis_imggen_free(nis_imggen *g) {
    if (!g) return;
    nis_params_free(g->G);
    nis_ctx_free(g->ctx);
    nis_free(g);
}

nis_imggen *nis_imggen_load(const char *path, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return NULL;
    state S;
    nis_imggen *g = NULL;
    char e2[400];
    if (!read_state(f, path, &S, NULL, err, errlen)) goto fail;
    if (!(g = nis_calloc(1, sizeof *g)) || !(g->G = nis_params_new()) || !(g->ctx = nis_ctx_new(0))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    g->cfg = S.c;
    g->sigma = S.sigma_now;
    nis__imggen_add(&g->gen, g->G, S.c.latent, S.c.gen_channels, S.c.img_c, S.c.img_h, S.c.img_w, S.c.act,
                    S.c.sigmoid_output);
    if (nis_params_finalize(g->G) != NIS_OK) {
        snprintf(err, errlen, "%s: %s", path, nis_params_message(g->G));
        goto fail;
    }
    if (load_set(f, g->G, S.c.ema_decay > 0 ? "ema." : "", "", g->G->data, e2, sizeof e2) != NIS_OK) {
        snprintf(err, errlen, "%s: %s", path, e2);
        goto fail;
    }
    nis_st_close(f);
    return g;
fail:
    nis_imggen_free(g);
    nis_st_close(f);
    return NULL;
}

void nis_imggen_shape(const nis_imggen *g, int *c, int *h, int *w) {
    *c = g->cfg.img_c, *h = g->cfg.img_h, *w = g->cfg.img_w;
}

double nis_imggen_sigma(const nis_imggen *g) { return g->sigma; }

nis_status nis_imggen_generate(nis_imggen *g, nis_rng *rng, int64_t n, int noisy, nis_real *out, char *err,
                               size_t errlen) {
    const int64_t chunk = 256, L = g->cfg.latent, d = (int64_t)g->cfg.img_c * g->cfg.img_h * g->cfg.img_w;
    bool add = noisy < 0 ? g->cfg.noisy_output : noisy > 0;
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = n - i0 < chunk ? n - i0 : chunk;
        nis_ctx_reset(g->ctx);
        bool saved = nis_ctx_set_grad(g->ctx, false);
        nis_tensor *z = nis_new2(g->ctx, b, L);
        if (z) nis_rng_fill_normal(rng, z->data, z->n, 0, 1);
        nis_tensor *x = nis__imggen_forward(g->ctx, &g->gen, z);
        nis_ctx_set_grad(g->ctx, saved);
        if (!x) {
            snprintf(err, errlen, "generate: %s", nis_ctx_message(g->ctx));
            return nis_ctx_status(g->ctx);
        }
        for (int64_t j = 0; j < b * d; j++)
            out[i0 * d + j] = x->data[j] + (add ? (nis_real)(g->sigma * nis_rng_normal(rng)) : 0);
    }
    return NIS_OK;
}
