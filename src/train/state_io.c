/* src/train/state_io.c — a trainer's whole state <-> one safetensors file (nis_trainer_checkpoint,
 * nis_trainer_resume), so that a killed run continues bit-identically.
 *
 * Format "nis-trainer-1": the generator's and the score network's parameters under their own names, their Adam
 * moments ("<name>.adam_m", "<name>.adam_v", once a step was taken), the EMA ("ema.<name>"), the preconditioner
 * ("precond.mean", "precond.L"); metadata: every field of the configuration under its schema name and text form
 * (src/train/config.c), the objective, the counters (iter, target_evals, the Adam steps, ema_updates, sigma_now)
 * and the noise generator's state, plus the caller's extra pairs. */
#include "internal.h"
#include "core/err.h"
#include "nis/io.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT "nis-trainer-1"
#define NAME_LEN 160

/* The counters beside the configuration. */
typedef struct {
    const char *key;
    int64_t *v;
} counter;

/* The noise generator's state as text: 12 words and the spare normal. */
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

/* Entries "<prefix><name><suffix>" for every parameter of P (values from base, or its moments). */
static int add_entries(nis_st_entry *e, char (*names)[NAME_LEN], int n, const nis_params *P, const char *prefix,
                       const nis_real *base, bool moments) {
    for (int i = 0; i < P->count; i++) {
        const nis_param *p = &P->p[i];
        for (int k = 0; k < (moments ? 3 : 1); k++) {
            nis_st_entry *x = &e[n];
            x->dtype = NIS_DT_REAL;
            x->ndim = p->t.ndim;
            memcpy(x->shape, p->t.shape, sizeof x->shape);
            snprintf(names[n], NAME_LEN, "%s%s%s", prefix, p->t.name, k == 0 ? "" : k == 1 ? ".adam_m" : ".adam_v");
            x->name = names[n];
            x->data = (k == 0 ? base : k == 1 ? P->m : P->v) + p->offset;
            n++;
        }
    }
    return n;
}

nis_status nis_trainer_checkpoint(nis_trainer *tr, const char *path, int n_meta, const char *const *meta_kv) {
    char *err = tr->msg;
    size_t errlen = sizeof tr->msg;
    const nis_schema *sc = nis_train_schema();
    const nis_params *G = tr->nets.G, *S = tr->nets.S;
    int64_t d = tr->t->dim, evals = tr->q.rows, ema_updates = tr->ema.shadow ? tr->ema.updates : 0;
    int64_t gstep = tr->opt_g.step, sstep = tr->opt_s.step, iter = tr->iter;
    int64_t calm = tr->mon_calm;
    counter cnt[] = {{"iter", &iter}, {"target_evals", &evals}, {"gen_adam_step", &gstep},
                     {"score_adam_step", &sstep}, {"ema_updates", &ema_updates}, {"monitor_calm", &calm}};
    const int n_cnt = (int)(sizeof cnt / sizeof cnt[0]);
    bool mg = gstep > 0 && G->m && G->v, ms = sstep > 0 && S->m && S->v;
    int n = G->count * (mg ? 3 : 1) + S->count * (ms ? 3 : 1) + (tr->ema.shadow ? G->count : 0) + 3;
    int nkv = sc->count + n_cnt + 5 + n_meta;
    nis_st_entry *e = nis_calloc((size_t)n, sizeof *e);
    char (*names)[NAME_LEN] = nis_calloc((size_t)n, sizeof *names);
    char (*vals)[64] = nis_calloc((size_t)(sc->count + n_cnt + 1), sizeof *vals);
    const char **kv = nis_calloc((size_t)(2 * nkv), sizeof *kv);
    nis_status st = NIS_ENOMEM;
    if (!e || !names || !vals || !kv) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    int k = add_entries(e, names, 0, G, "", G->data, mg);
    k = add_entries(e, names, k, S, "", S->data, ms);
    if (tr->ema.shadow) k = add_entries(e, names, k, G, "ema.", tr->ema.shadow, false);
    if (tr->pre_m) {
        e[k++] = (nis_st_entry){.name = "precond.mean", .dtype = NIS_DT_REAL, .ndim = 1, .shape = {d}, .data = tr->pre_m};
        e[k++] = (nis_st_entry){.name = "precond.L", .dtype = NIS_DT_REAL, .ndim = 2, .shape = {d, d}, .data = tr->pre_L};
    }
    if (tr->mon_have)   /* the convergence monitor's last check, so that a resumed run stops where this one would */
        e[k++] = (nis_st_entry){.name = "monitor.prev", .dtype = NIS_DT_F64, .ndim = 2, .shape = {2, d},
                                .data = tr->mon_prev};
    char rng[320];
    rng_format(&tr->rng, rng, sizeof rng);
    int m = 0, v = 0;
    kv[m++] = "format", kv[m++] = FORMAT;
    kv[m++] = "target", kv[m++] = tr->t->name ? tr->t->name : "";
    kv[m++] = "objective", kv[m++] = tr->obj->name;
    kv[m++] = "rng", kv[m++] = rng;
    snprintf(vals[v], sizeof vals[v], "%.17g", tr->sigma);
    kv[m++] = "sigma_now", kv[m++] = vals[v++];
    for (int i = 0; i < n_cnt; i++) {
        snprintf(vals[v], sizeof vals[v], "%" PRId64, *cnt[i].v);
        kv[m++] = cnt[i].key, kv[m++] = vals[v++];
    }
    for (int i = 0; i < sc->count; i++) {
        nis_field_format(&sc->fields[i], &tr->cfg, vals[v], sizeof vals[v]);
        kv[m++] = sc->fields[i].name, kv[m++] = vals[v++];
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

/* Copy the tensors "<prefix><name><suffix>" of every parameter of P from f into base (+ offset). */
static nis_status load_set(const nis_st_file *f, const nis_params *P, const char *prefix, const char *suffix,
                           nis_real *base, char *err, size_t errlen) {
    char name[NAME_LEN];
    for (int i = 0; i < P->count; i++) {
        const nis_param *p = &P->p[i];
        if ((size_t)snprintf(name, sizeof name, "%s%s%s", prefix, p->t.name, suffix) >= sizeof name) {
            snprintf(err, errlen, "tensor name too long");
            return NIS_EINVAL;
        }
        nis_status st = nis_st_load(f, name, NIS_DT_REAL, p->t.ndim, p->t.shape, base + p->offset, true, err, errlen);
        if (st != NIS_OK) return st;
    }
    return NIS_OK;
}

/* Fields added to the configuration after checkpoints were first written: missing in older files, which then
 * read as their defaults (sigma_max 0: one level; the Laplace whitening, the monitor and the pooled score U-Net did
 * not exist). */
static bool added_later(const char *name) {
    static const char *const later[] = {"sigma_max", "whiten_by", "monitor_every", "stop_drift", "score_net"};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
        if (!strcmp(name, later[i])) return true;
    return false;
}

/* The configuration, counters, σ and noise state of f; false with a message (err without the path). */
static bool read_state(const nis_st_file *f, nis_train_config *c, int64_t cnt[5], double *sigma, nis_rng *rng,
                       char *err, size_t errlen) {
    const nis_schema *sc = nis_train_schema();
    const char *fmt = nis_st_meta(f, "format"), *sig = nis_st_meta(f, "sigma_now");
    static const char *const keys[5] = {"iter", "target_evals", "gen_adam_step", "score_adam_step", "ema_updates"};
    if (!fmt || strcmp(fmt, FORMAT)) {
        char q[NIS__QUOTE_NAME];
        snprintf(err, errlen, "not a nis training checkpoint (metadata 'format' is %s)",
                 fmt ? nis__quote(q, sizeof q, fmt, strlen(fmt)) : "missing");
        return false;
    }
    memset(c, 0, sizeof *c);
    nis_schema_defaults(sc, c);
    for (int i = 0; i < sc->count; i++) {
        const char *v = nis_st_meta(f, sc->fields[i].name);
        char e2[200];
        if (!v && added_later(sc->fields[i].name)) continue;   /* older files: the default */
        if (!v) {
            snprintf(err, errlen, "metadata '%s' is missing", sc->fields[i].name);
            return false;
        }
        if (nis_field_parse(&sc->fields[i], c, v, e2, sizeof e2) != NIS_OK) {
            snprintf(err, errlen, "metadata %s", e2);
            return false;
        }
    }
    if (c->whiten && !nis_st_meta(f, "whiten_by")) c->whiten_by = NIS_WHITEN_PILOT;   /* the only kind there was */
    for (int i = 0; i < 5; i++)
        if (!nis_st_meta_int(f, keys[i], 0, INT64_MAX, &cnt[i])) {
            snprintf(err, errlen, "metadata '%s' is missing or not a count", keys[i]);
            return false;
        }
    char *end = NULL;
    *sigma = sig ? strtod(sig, &end) : NAN;
    if (!sig || *end || !(*sigma > 0) || !isfinite(*sigma)) {
        snprintf(err, errlen, "metadata 'sigma_now' is missing or not a finite number > 0");
        return false;
    }
    if (!rng_parse(nis_st_meta(f, "rng"), rng)) {
        snprintf(err, errlen, "metadata 'rng' is missing or malformed");
        return false;
    }
    return true;
}

nis_trainer *nis_trainer_resume(const nis_target *t, const char *path, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return NULL;
    nis_train_config c;
    int64_t cnt[5];
    double sigma;
    nis_rng rng;
    nis_trainer *tr = NULL;
    nis_real *pre = NULL;
    char e2[400];
    const char *obj = nis_st_meta(f, "objective");
    nis_status st = NIS_EFORMAT;
    if (!read_state(f, &c, cnt, &sigma, &rng, e2, sizeof e2)) goto fail;
    if (!obj || strcmp(obj, nis_objective_builtin(c.method)->name)) {
        char q[NIS__QUOTE_NAME];
        snprintf(e2, sizeof e2, "trained with objective '%s', not the built-in one of method %s",
                 obj ? nis__quote(q, sizeof q, obj, strlen(obj)) : "?", nis_method_name(c.method));
        goto fail;
    }
    if (!t) {
        snprintf(e2, sizeof e2, "no target");
        goto fail;
    }
    nis_train_start start = {0};
    if (nis_st_find(f, "precond.mean")) {
        int64_t d = t->dim;
        pre = nis_malloc((size_t)(d + d * d) * sizeof *pre);
        if (!pre) {
            snprintf(e2, sizeof e2, "out of memory");
            goto fail;
        }
        if (nis_st_load(f, "precond.mean", NIS_DT_REAL, 1, (int64_t[]){d}, pre, true, e2, sizeof e2) != NIS_OK ||
            nis_st_load(f, "precond.L", NIS_DT_REAL, 2, (int64_t[]){d, d}, pre + d, true, e2, sizeof e2) != NIS_OK)
            goto fail;
        start.precond_mean = pre, start.precond_L = pre + d;
    }
    if (!(tr = nis__trainer_alloc(t, &c, &start, e2, sizeof e2))) goto fail;
    nis_params *G = tr->nets.G, *S = tr->nets.S;
    st = load_set(f, G, "", "", G->data, e2, sizeof e2);
    if (st == NIS_OK) st = load_set(f, S, "", "", S->data, e2, sizeof e2);
    if (st == NIS_OK && cnt[2] > 0 && (st = nis_params_alloc_moments(G, true)) == NIS_OK) {
        st = load_set(f, G, "", ".adam_m", G->m, e2, sizeof e2);
        if (st == NIS_OK) st = load_set(f, G, "", ".adam_v", G->v, e2, sizeof e2);
    }
    if (st == NIS_OK && cnt[3] > 0 && (st = nis_params_alloc_moments(S, true)) == NIS_OK) {
        st = load_set(f, S, "", ".adam_m", S->m, e2, sizeof e2);
        if (st == NIS_OK) st = load_set(f, S, "", ".adam_v", S->v, e2, sizeof e2);
    }
    if (st == NIS_OK && c.ema > 0) {
        st = nis_ema_init(&tr->ema, G, c.ema);
        if (st != NIS_OK) snprintf(e2, sizeof e2, "%s", nis_params_message(G));
        else st = load_set(f, G, "ema.", "", tr->ema.shadow, e2, sizeof e2);
    }
    if (st != NIS_OK) goto fail;
    tr->iter = cnt[0], tr->q.rows = cnt[1], tr->opt_g.step = cnt[2], tr->opt_s.step = cnt[3];
    if (tr->ema.shadow) tr->ema.updates = cnt[4];
    if (nis_st_find(f, "monitor.prev")) {   /* optional: files before the monitor, or saved before its first check */
        int64_t calm = 0, d = t->dim;
        if (!(tr->mon_prev = nis_malloc((size_t)(2 * d) * sizeof *tr->mon_prev))) {
            snprintf(e2, sizeof e2, "out of memory");
            goto fail;
        }
        if (nis_st_load(f, "monitor.prev", NIS_DT_F64, 2, (int64_t[]){2, d}, tr->mon_prev, true, e2, sizeof e2) != NIS_OK)
            goto fail;
        if (nis_st_meta(f, "monitor_calm") && !nis_st_meta_int(f, "monitor_calm", 0, INT64_MAX, &calm)) {
            snprintf(e2, sizeof e2, "metadata 'monitor_calm' is not a count");
            goto fail;
        }
        tr->mon_have = true, tr->mon_calm = calm;
    }
    tr->sigma = sigma;
    tr->rng = rng;
    nis_free(pre);
    nis_st_close(f);
    return tr;
fail:
    snprintf(err, errlen, "%s: %s", path, e2);
    nis_trainer_free(tr);
    nis_free(pre);
    nis_st_close(f);
    return NULL;
}
