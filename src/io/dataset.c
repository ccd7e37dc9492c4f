/* src/io/dataset.c — the in-memory dataset: allocation, seeded train/test split, standardisation with the
 * training split's statistics, the intercept column, and the line/number helpers the loaders share. */
#include "nis/data.h"
#include "nis/io.h"
#include "nis/rng.h"
#include "data_internal.h"
#include "io_internal.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------------------
 * Helpers for the loaders
 */

void nis__lines_init(nis__lines *L, const char *buf, size_t len) {
    L->p = buf, L->end = buf + len, L->ls = L->le = buf, L->line = 0;
}

bool nis__lines_next(nis__lines *L) {
    if (L->p >= L->end) return false;
    const char *nl = memchr(L->p, '\n', (size_t)(L->end - L->p));
    L->ls = L->p;
    L->le = nl ? nl : L->end;
    L->p = nl ? nl + 1 : L->end;
    if (L->le > L->ls && L->le[-1] == '\r') L->le--;
    L->line++;
    return true;
}

bool nis__blank(const char *s, const char *e) {
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t') return false;
    return true;
}

void nis__trim(const char **s, const char **e) {
    while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

nis_status nis__data_fail(char *err, size_t errlen, const char *path, int line, long col, const char *fmt,
                          ...) {
    if (err && errlen) {
        int k = snprintf(err, errlen, "%s:%d:%ld: ", path, line, col);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return NIS_EFORMAT;
}

bool nis__parse_num(const char *s, const char *e, double *v) {
    char buf[64];
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (memchr(buf, 0, n)) return false;        /* an embedded NUL byte */
    char *q;
    double x = strtod(buf, &q);
    if (q != buf + n || !(fabs(x) <= FLT_MAX)) return false;   /* tables hold floats: 1e39 would be inf */
    /* strtod also takes "inf", "nan", hex: keep plain decimal numbers only */
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", buf[i])) return false;
    *v = x;
    return true;
}

bool nis__is_missing(const char *s, const char *e) { return s == e || (e - s == 1 && *s == '?'); }

char *nis__strndup(const char *s, size_t n) {
    char *r = nis_malloc(n + 1);
    if (!r) return NULL;
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

bool nis__fvec_push(nis__fvec *a, float x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        float *v = nis_realloc(a->v, cap * sizeof *v);
        if (!v) return false;
        a->v = v, a->cap = cap;
    }
    a->v[a->n++] = x;
    return true;
}

bool nis__label_value(const char *s, const char *e, const char *positive, bool allow_pm1, float *y) {
    double v, pv;
    if (positive) {
        size_t n = (size_t)(e - s);
        bool eq = strlen(positive) == n && memcmp(positive, s, n) == 0;
        if (!eq && nis__parse_num(positive, positive + strlen(positive), &pv) && nis__parse_num(s, e, &v))
            eq = v == pv;
        *y = eq ? 1.0f : 0.0f;
        return true;
    }
    if (!nis__parse_num(s, e, &v)) return false;
    if (v == 1) *y = 1.0f;
    else if (v == 0 || (allow_pm1 && v == -1)) *y = 0.0f;
    else return false;
    return true;
}

nis_status nis__check_positive(const char *positive, const float *y, int64_t n, char *err, size_t errlen,
                               const char *path, int line, long col) {
    if (!positive) return NIS_OK;
    for (int64_t i = 0; i < n; i++)
        if (y[i] == 1.0f) return NIS_OK;
    char qn[NIS__QUOTE_NAME];   /* the caller's name (from a flag or a run's config.json), quoted */
    nis__data_fail(err, errlen, path, line, col, "positive class '%s' does not occur in the labels",
                   nis_quote(qn, sizeof qn, positive));
    return NIS_EINVAL;
}

void nis__dataset_take(nis_dataset *out, int64_t n, int64_t d, float *X, float *y, char **names) {
    out->n = n, out->d = d, out->X = X, out->y = y, out->names = names, out->intercept = false;
}

void nis__free_names(char **names, int64_t d) {
    if (!names) return;
    for (int64_t j = 0; j < d; j++) nis_free(names[j]);
    nis_free(names);
}

/* ---------------------------------------------------------------------------------------------------------
 * Public API
 */

nis_data_format nis_data_format_parse(const char *name) {
    if (!name) return 0;
    if (!strcmp(name, "csv")) return NIS_DATA_CSV;
    if (!strcmp(name, "arff")) return NIS_DATA_ARFF;
    if (!strcmp(name, "libsvm") || !strcmp(name, "svmlight")) return NIS_DATA_LIBSVM;
    return 0;
}

nis_status nis_data_load(const char *path, nis_data_format format, const nis_data_opts *opts,
                         nis_dataset *out, char *err, size_t errlen) {
    switch (format) {
    case NIS_DATA_CSV: return nis_data_load_csv(path, opts, out, err, errlen);
    case NIS_DATA_ARFF: return nis_data_load_arff(path, opts, out, err, errlen);
    case NIS_DATA_LIBSVM: return nis_data_load_libsvm(path, opts, out, err, errlen);
    }
    memset(out, 0, sizeof *out);
    nis__set_err(err, errlen, "cannot load '%s': unknown data format %d", path ? path : "", (int)format);
    return NIS_EINVAL;
}

void nis_dataset_free(nis_dataset *ds) {
    if (!ds) return;
    nis_free(ds->X);
    nis_free(ds->y);
    nis__free_names(ds->names, ds->d);
    memset(ds, 0, sizeof *ds);
}

nis_status nis_dataset_alloc(nis_dataset *out, int64_t n, int64_t d) {
    memset(out, 0, sizeof *out);
    if (n < 0 || d < 0) return NIS_EINVAL;
    if (d > 0 && (uint64_t)n > SIZE_MAX / sizeof(float) / 2 / (uint64_t)d) return NIS_ENOMEM;
    float *X = nis_calloc((size_t)(n * d) + 1, sizeof *X);
    float *y = nis_calloc((size_t)n + 1, sizeof *y);
    char **names = nis_calloc((size_t)d + 1, sizeof *names);
    if (!X || !y || !names) {
        nis_free(X), nis_free(y), nis_free(names);
        return NIS_ENOMEM;
    }
    nis__dataset_take(out, n, d, X, y, names);
    return NIS_OK;
}

/* Copy rows idx[0..m) of src into a new dataset *dst (names copied too). */
static nis_status take_rows(const nis_dataset *src, const uint32_t *idx, int64_t m, nis_dataset *dst) {
    nis_status s = nis_dataset_alloc(dst, m, src->d);
    if (s) return s;
    dst->intercept = src->intercept;
    for (int64_t j = 0; j < src->d; j++) {
        if (!src->names || !src->names[j]) continue;   /* an unnamed column stays unnamed */
        dst->names[j] = nis__strndup(src->names[j], strlen(src->names[j]));
        if (!dst->names[j]) {
            nis_dataset_free(dst);
            return NIS_ENOMEM;
        }
    }
    for (int64_t i = 0; i < m; i++) {
        memcpy(dst->X + i * src->d, src->X + (int64_t)idx[i] * src->d, (size_t)src->d * sizeof(float));
        dst->y[i] = src->y[idx[i]];
    }
    return NIS_OK;
}

nis_status nis_dataset_split(const nis_dataset *all, double test_frac, uint64_t seed, nis_dataset *train,
                             nis_dataset *test, char *err, size_t errlen) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int64_t n = all->n;
    int64_t n_test = test_frac > 0 && test_frac < 1 ? (int64_t)llround(test_frac * (double)n) : 0;
    if (n_test < 1 || n_test > n - 1 || n > UINT32_MAX) {
        nis__set_err(err, errlen, "cannot split %lld rows with test fraction %g: each part needs a row",
                     (long long)n, test_frac);
        return NIS_EINVAL;
    }
    uint32_t *perm = nis_malloc((size_t)n * sizeof *perm);
    if (!perm) goto oom;
    for (int64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    nis_rng r = nis_rng_init(seed, NIS_STREAM_SPLIT);
    for (int64_t i = n - 1; i > 0; i--) {        /* Fisher-Yates */
        uint32_t j = nis_rng_below(&r, (uint32_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    nis_status s = take_rows(all, perm, n_test, test);
    if (!s) s = take_rows(all, perm + n_test, n - n_test, train);
    nis_free(perm);
    if (!s) return NIS_OK;
    nis_dataset_free(train);
    nis_dataset_free(test);
oom:
    nis__set_err(err, errlen, "cannot split %lld rows: out of memory", (long long)n);
    return NIS_ENOMEM;
}

nis_status nis_dataset_standardize(nis_dataset *train, nis_dataset *test, double *mean, double *sd) {
    int64_t d = train->d, n = train->n;
    if (test && test->d != d) return NIS_EINVAL;
    double *mu = nis_calloc((size_t)d + 1, sizeof *mu), *sg = nis_calloc((size_t)d + 1, sizeof *sg);
    if (!mu || !sg) {
        nis_free(mu), nis_free(sg);
        return NIS_ENOMEM;
    }
    int64_t dj = train->intercept ? d - 1 : d;   /* columns to standardise */
    /* two passes in double over rows, fixed order: deterministic */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < dj; j++) mu[j] += train->X[i * d + j];
    for (int64_t j = 0; j < dj; j++) mu[j] = n ? mu[j] / (double)n : 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < dj; j++) {
            double t = train->X[i * d + j] - mu[j];
            sg[j] += t * t;
        }
    for (int64_t j = 0; j < dj; j++) {
        sg[j] = n ? sqrt(sg[j] / (double)n) : 0;
        if (!(sg[j] > 0)) sg[j] = 1;             /* a constant column is only centred */
    }
    for (int64_t j = dj; j < d; j++) mu[j] = 0, sg[j] = 1;
    nis_dataset *parts[2] = {train, test};
    for (int k = 0; k < 2; k++) {
        nis_dataset *p = parts[k];
        if (!p) continue;
        for (int64_t i = 0; i < p->n; i++)
            for (int64_t j = 0; j < dj; j++)
                p->X[i * d + j] = (float)((p->X[i * d + j] - mu[j]) / sg[j]);
    }
    if (mean) memcpy(mean, mu, (size_t)d * sizeof *mu);
    if (sd) memcpy(sd, sg, (size_t)d * sizeof *sg);
    nis_free(mu), nis_free(sg);
    return NIS_OK;
}

nis_status nis_dataset_add_intercept(nis_dataset *ds) {
    if (ds->intercept) return NIS_ESTATE;
    int64_t n = ds->n, d = ds->d;
    float *X = nis_malloc((size_t)(n * (d + 1)) * sizeof *X + 1);
    char **names = nis_malloc((size_t)(d + 1) * sizeof *names);
    char *nm = nis__strndup("(intercept)", 11);
    if (!X || !names || !nm) {
        nis_free(X), nis_free(names), nis_free(nm);
        return NIS_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(X + i * (d + 1), ds->X + i * d, (size_t)d * sizeof *X);
        X[i * (d + 1) + d] = 1.0f;
    }
    if (d) memcpy(names, ds->names, (size_t)d * sizeof *names);
    names[d] = nm;
    nis_free(ds->X);
    nis_free(ds->names);
    ds->X = X, ds->names = names, ds->d = d + 1, ds->intercept = true;
    return NIS_OK;
}

nis_status nis_data_prepare(const nis_dataset *all, double test_frac, uint64_t seed, nis_dataset *train,
                            nis_dataset *test, char *err, size_t errlen) {
    nis_status s = nis_dataset_split(all, test_frac, seed, train, test, err, errlen);
    if (s) return s;
    s = nis_dataset_standardize(train, test, NULL, NULL);
    if (!s) s = nis_dataset_add_intercept(train);
    if (!s) s = nis_dataset_add_intercept(test);
    if (!s) return NIS_OK;
    nis_dataset_free(train);
    nis_dataset_free(test);
    nis__set_err(err, errlen, "cannot prepare the dataset: %s", s == NIS_ENOMEM ? "out of memory" :
                 "it already has an intercept column");
    return s;
}

int nis__column_index(const char *label, int n, const char *(*name_of)(const void *ctx, int i), const void *ctx) {
    if (!label) return n - 1;
    if (name_of)
        for (int i = 0; i < n; i++)
            if (!strcmp(name_of(ctx, i), label)) return i;
    char *q;
    long v = strtol(label, &q, 10);
    if (q == label || *q) return -1;
    if (v < 0) v += n;
    return v >= 0 && v < n ? (int)v : -1;
}

/* The head check of a text data file (nis__read_file_head; ud: the path): a NUL byte means a binary file, refused
 * at its line and column before the rest of a possibly huge file is read. */
static nis_status text_head(const char *head, size_t n, size_t file_size, void *ud, char *err, size_t errlen) {
    const char *nul = memchr(head, '\0', n);
    if (!nul) return NIS_OK;
    int line = 1;
    const char *ls = head;
    for (const char *p = head; p < nul; p++)
        if (*p == '\n') line++, ls = p + 1;
    return nis__data_fail(err, errlen, (const char *)ud, line, (long)(nul - ls) + 1, "a NUL byte: not a text file");
}

nis_status nis__data_load(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err, size_t errlen,
                          nis__data_parser parse) {
    static const nis_data_opts defaults;
    if (!opts) opts = &defaults;
    memset(out, 0, sizeof *out);
    void *buf;
    size_t len;
    nis_status s = nis__read_file_head(path, &buf, &len, text_head, (void *)path, err, errlen);
    if (s != NIS_OK) return s;
    nis__lines L;
    nis__lines_init(&L, buf, len);
    s = parse(L, path, opts, out, err, errlen);
    nis_free(buf);
    return s;
}
