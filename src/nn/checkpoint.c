/* src/nn/checkpoint.c — nis_params (+ Adam state) <-> safetensors (through src/io/safetensors.c). */
#include "nis/checkpoint.h"
#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUFFIX_M ".adam_m"
#define SUFFIX_V ".adam_v"

/* "<name><suffix>" in a nis_malloc'd buffer. */
static char *join(const char *name, const char *suffix) {
    size_t a = strlen(name), b = strlen(suffix);
    char *s = nis_malloc(a + b + 1);
    if (s) {
        memcpy(s, name, a);
        memcpy(s + a, suffix, b + 1);
    }
    return s;
}

nis_status nis_checkpoint_save(const char *path, const nis_params *P, const nis_adam *opt, int n_meta,
                               const char *const *meta_kv, char *err, size_t errlen) {
    return nis_checkpoint_save_extra(path, P, opt, 0, NULL, n_meta, meta_kv, err, errlen);
}

nis_status nis_checkpoint_save_extra(const char *path, const nis_params *P, const nis_adam *opt, int n_extra,
                                     const nis_st_entry *extra, int n_meta, const char *const *meta_kv, char *err,
                                     size_t errlen) {
    bool moments = opt && opt->step > 0 && P->m && P->v;
    int per = moments ? 3 : 1, n = P->count * per + (n_extra > 0 ? n_extra : 0);
    nis_st_entry *e = nis_calloc((size_t)(n ? n : 1), sizeof *e);
    char **names = nis_calloc((size_t)(n ? n : 1), sizeof *names);
    const char **kv = nis_calloc((size_t)(2 * n_meta + 2), sizeof *kv);
    char step[32];
    nis_status st = NIS_OK;
    if (!e || !names || !kv) {
        snprintf(err, errlen, "%s: out of memory", path);
        st = NIS_ENOMEM;
        goto done;
    }
    for (int i = 0; i < P->count; i++) {
        const nis_param *p = &P->p[i];
        for (int k = 0; k < per; k++) {
            nis_st_entry *x = &e[i * per + k];
            x->dtype = NIS_DT_REAL;
            x->ndim = p->t.ndim;
            memcpy(x->shape, p->t.shape, sizeof x->shape);
            if (k == 0) {
                x->name = p->t.name;
                x->data = p->t.data;
            } else {
                names[i * per + k] = join(p->t.name, k == 1 ? SUFFIX_M : SUFFIX_V);
                if (!names[i * per + k]) {
                    snprintf(err, errlen, "%s: out of memory", path);
                    st = NIS_ENOMEM;
                    goto done;
                }
                x->name = names[i * per + k];
                x->data = (k == 1 ? P->m : P->v) + p->offset;
            }
        }
    }
    for (int i = 0; i < n_extra; i++) e[P->count * per + i] = extra[i];
    for (int i = 0; i < 2 * n_meta; i += 2) {
        if (!strncmp(meta_kv[i], "adam.", 5)) {
            snprintf(err, errlen, "%s: metadata key '%s' is reserved", path, meta_kv[i]);
            st = NIS_EINVAL;
            goto done;
        }
        kv[i] = meta_kv[i];
        kv[i + 1] = meta_kv[i + 1];
    }
    int nm = n_meta;
    if (moments) {
        snprintf(step, sizeof step, "%" PRId64, opt->step);
        kv[2 * nm] = "adam.step";
        kv[2 * nm + 1] = step;
        nm++;
    }
    st = nis_st_write(path, n, e, nm, kv, err, errlen);
done:
    if (names)
        for (int i = 0; i < n; i++) nis_free(names[i]);
    nis_free(names);
    nis_free(e);
    nis_free(kv);
    return st;
}

/* True if `name` is "<param><suffix>" for a parameter of P. */
static bool is_moment_of(const nis_params *P, const char *name) {
    size_t n = strlen(name);
    const char *sfx[2] = {SUFFIX_M, SUFFIX_V};
    for (int k = 0; k < 2; k++) {
        size_t s = strlen(sfx[k]);
        if (n > s && !strcmp(name + n - s, sfx[k])) {
            for (int i = 0; i < P->count; i++)
                if (strlen(P->p[i].t.name) == n - s && !strncmp(P->p[i].t.name, name, n - s)) return true;
        }
    }
    return false;
}

nis_status nis_checkpoint_load(const char *path, nis_params *P, nis_adam *opt, char *err, size_t errlen) {
    nis_st_file *f = NULL;
    nis_status st = nis_st_read(path, &f, err, errlen);
    if (st != NIS_OK) return st;
    nis_real *vals = NULL, *m = NULL, *v = NULL;
    /* the file may hold only P's parameters and their moments */
    for (int i = 0; i < nis_st_count(f); i++) {
        const char *name = nis_st_get(f, i)->name;
        if (nis_params_find(P, name) < 0 && !is_moment_of(P, name)) {
            char q[NIS__QUOTE_NAME];
            snprintf(err, errlen, "%s: unexpected tensor '%s' (not a parameter of this model)", path,
                     nis__quote(q, sizeof q, name, strlen(name)));
            st = NIS_EFORMAT;
            goto done;
        }
    }
    const char *step_s = nis_st_meta(f, "adam.step");
    bool moments = opt && step_s;
    vals = nis_malloc((size_t)P->n * sizeof *vals);
    if (moments) {
        m = nis_malloc((size_t)P->n * sizeof *m);
        v = nis_malloc((size_t)P->n * sizeof *v);
    }
    if (!vals || (moments && (!m || !v))) {
        snprintf(err, errlen, "%s: out of memory", path);
        st = NIS_ENOMEM;
        goto done;
    }
    for (int i = 0; i < P->count && st == NIS_OK; i++) {
        const nis_param *p = &P->p[i];
        st = nis_st_load(f, p->t.name, NIS_DT_REAL, p->t.ndim, p->t.shape, vals + p->offset, true, err, errlen);
        for (int k = 1; moments && k <= 2 && st == NIS_OK; k++) {
            char *nm = join(p->t.name, k == 1 ? SUFFIX_M : SUFFIX_V);
            if (!nm) {
                snprintf(err, errlen, "%s: out of memory", path);
                st = NIS_ENOMEM;
                break;
            }
            st = nis_st_load(f, nm, NIS_DT_REAL, p->t.ndim, p->t.shape, (k == 1 ? m : v) + p->offset, true, err,
                             errlen);
            nis_free(nm);
        }
    }
    int64_t step = 0;
    if (st == NIS_OK && moments) {
        char *end;
        step = strtoll(step_s, &end, 10);
        if (*end || step < 1) {
            char q[NIS__QUOTE_NAME];
            snprintf(err, errlen, "%s: bad adam.step '%s'", path, nis__quote(q, sizeof q, step_s, strlen(step_s)));
            st = NIS_EFORMAT;
        } else if (nis_params_alloc_moments(P, true) != NIS_OK) {
            snprintf(err, errlen, "%s: %s", path, nis_params_message(P));
            st = NIS_ENOMEM;
        }
    }
    if (st == NIS_OK) {
        memcpy(P->data, vals, (size_t)P->n * sizeof *vals);
        if (moments) {
            memcpy(P->m, m, (size_t)P->n * sizeof *m);
            memcpy(P->v, v, (size_t)P->n * sizeof *v);
            opt->step = step;
        }
    }
done:
    nis_free(vals);
    nis_free(m);
    nis_free(v);
    nis_st_close(f);
    return st;
}
