/* src/nn/params.c — a model's parameters: one flat buffer each for values, gradients and the optimiser's
 * moments, cut into named persistent leaf tensors. */
#include "internal.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ALIGN 64

nis_real *nis__alloc_reals(int64_t n, void **raw) {
    if (n < 0 || (uint64_t)n > (SIZE_MAX - ALIGN) / sizeof(nis_real)) return NULL;
    size_t bytes = (size_t)n * sizeof(nis_real);
    unsigned char *p = nis_malloc(bytes + ALIGN);
    *raw = p;
    if (!p) return NULL;
    nis_real *a = (nis_real *)(((uintptr_t)p + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    memset(a, 0, bytes);
    return a;
}

/* n rounded up so that a buffer placed after n reals starts 64-byte aligned. */
static int64_t padded(int64_t n) {
    const int64_t per = ALIGN / (int64_t)sizeof(nis_real);
    return (n + per - 1) / per * per;
}

nis_params *nis_params_new(void) { return nis_calloc(1, sizeof(nis_params)); }

void nis_params_free(nis_params *P) {
    if (!P) return;
    for (int i = 0; i < P->count; i++) nis_free((void *)P->p[i].t.name);
    nis_free(P->p);
    nis_free(P->raw_data);
    nis_free(P->raw_m);
    nis_free(P->raw_v);
    nis_free(P);
}

nis_status nis_params_fail(nis_params *P, nis_status s, const char *fmt, ...) {
    NIS__STICKY_FAIL(P, s, fmt);
    return s;
}

nis_status nis_params_status(const nis_params *P) { return P->status; }
const char *nis_params_message(const nis_params *P) { return P->msg; }
void nis_params_clear_error(nis_params *P) {
    P->status = NIS_OK;
    P->msg[0] = '\0';
}

int nis_params_find(const nis_params *P, const char *name) {
    for (int i = 0; i < P->count; i++)
        if (strcmp(P->p[i].t.name, name) == 0) return i;
    return -1;
}

int nis_params_add(nis_params *P, const char *name, int ndim, const int64_t *shape) {
    if (P->status != NIS_OK) return -1;
    if (P->finalized) {
        nis_params_fail(P, NIS_ESTATE, "params: add \"%s\" after finalize", name);
        return -1;
    }
    if (!name || !*name || nis_params_find(P, name) >= 0) {
        nis_params_fail(P, NIS_EINVAL, "params: %s name \"%s\"", name && *name ? "duplicate" : "empty",
                        name ? name : "");
        return -1;
    }
    if (ndim < 0 || ndim > NIS_MAX_DIMS) {
        nis_params_fail(P, NIS_ESHAPE, "params: \"%s\" has %d dimensions (at most %d)", name, ndim,
                        NIS_MAX_DIMS);
        return -1;
    }
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && n > (INT64_MAX / 16 - P->n) / shape[d])) {
            nis_params_fail(P, NIS_ESHAPE, "params: \"%s\" has bad size %lld in dimension %d", name,
                            (long long)shape[d], d);
            return -1;
        }
        n *= shape[d];
    }
    if (P->count == P->cap) {
        int cap = P->cap ? 2 * P->cap : 16;
        nis_param *q = nis_realloc(P->p, (size_t)cap * sizeof *q);
        if (!q) {
            nis_params_fail(P, NIS_ENOMEM, "params: out of memory declaring \"%s\"", name);
            return -1;
        }
        P->p = q;
        P->cap = cap;
    }
    size_t len = strlen(name);
    char *copy = nis_malloc(len + 1);
    if (!copy) {
        nis_params_fail(P, NIS_ENOMEM, "params: out of memory declaring \"%s\"", name);
        return -1;
    }
    memcpy(copy, name, len + 1);

    nis_param *e = &P->p[P->count];
    memset(e, 0, sizeof *e);
    e->t.ndim = ndim;
    for (int d = 0; d < NIS_MAX_DIMS; d++) e->t.shape[d] = d < ndim ? shape[d] : 1;
    e->t.n = n;
    e->t.requires_grad = true;
    e->t.name = copy;
    e->offset = P->n;
    e->init = (nis_init){NIS_INIT_ZERO, 0, 0};
    P->n += n;
    return P->count++;
}

nis_status nis_params_set_init(nis_params *P, int i, nis_init init) {
    if (P->status != NIS_OK) return P->status;
    if (i < 0 || i >= P->count) return nis_params_fail(P, NIS_EINVAL, "params: set_init: bad index %d", i);
    P->p[i].init = init;
    return NIS_OK;
}

nis_status nis_params_finalize(nis_params *P) {
    if (P->status != NIS_OK) return P->status;
    if (P->finalized) return nis_params_fail(P, NIS_ESTATE, "params: finalize called twice");
    int64_t np = padded(P->n);
    nis_real *buf = nis__alloc_reals(2 * np, &P->raw_data);
    if (!buf)
        return nis_params_fail(P, NIS_ENOMEM, "params: out of memory allocating %lld parameters",
                               (long long)P->n);
    P->data = buf;
    P->grad = buf + np;
    for (int i = 0; i < P->count; i++) {
        P->p[i].t.data = P->data + P->p[i].offset;
        P->p[i].t.grad = P->grad + P->p[i].offset;
    }
    P->finalized = true;
    return NIS_OK;
}

nis_status nis_params_alloc_moments(nis_params *P, bool both) {
    if (P->status != NIS_OK) return P->status;
    if (!P->finalized) return nis_params_fail(P, NIS_ESTATE, "params: optimiser used before finalize");
    if (!P->m && !(P->m = nis__alloc_reals(P->n, &P->raw_m)))
        return nis_params_fail(P, NIS_ENOMEM, "params: out of memory allocating optimiser state");
    if (both && !P->v && !(P->v = nis__alloc_reals(P->n, &P->raw_v)))
        return nis_params_fail(P, NIS_ENOMEM, "params: out of memory allocating optimiser state");
    return NIS_OK;
}

nis_tensor *nis_params_at(const nis_params *P, int i) {
    if (!P->finalized || i < 0 || i >= P->count) return NULL;
    return &P->p[i].t;
}

nis_tensor *nis_params_get(const nis_params *P, const char *name) {
    return nis_params_at(P, nis_params_find(P, name));
}

int nis_params_count(const nis_params *P) { return P->count; }

int64_t nis_params_numel(const nis_params *P) { return P->n; }

void nis_params_zero_grad(nis_params *P) {
    if (P->grad) memset(P->grad, 0, (size_t)P->n * sizeof(nis_real));
}

void nis_params_set_requires_grad(nis_params *P, bool on) {
    for (int i = 0; i < P->count; i++) P->p[i].t.requires_grad = on;
}

nis_status nis_params_copy_data(nis_params *P, const nis_params *src) {
    if (P->status != NIS_OK) return P->status;
    if (!P->finalized || !src->finalized)
        return nis_params_fail(P, NIS_ESTATE, "params: copy_data before finalize");
    bool same = P->count == src->count && P->n == src->n;
    for (int i = 0; same && i < P->count; i++)
        same = strcmp(P->p[i].t.name, src->p[i].t.name) == 0 && nis_same_shape(&P->p[i].t, &src->p[i].t);
    if (!same) return nis_params_fail(P, NIS_EINVAL, "params: copy_data between different models");
    memcpy(P->data, src->data, (size_t)P->n * sizeof(nis_real));
    return NIS_OK;
}
