/* src/io/libsvm.c — LIBSVM / svmlight text loader: one row per line, "LABEL IDX:VAL IDX:VAL ... # comment",
 * indices 1-based and strictly increasing, absent entries 0, an optional "qid:N" ignored.  The number of
 * features is opts->n_features, or the largest index in the file.  Every problem is reported as
 * FILE:LINE:COL. */
#include "nis/data.h"
#include "nis/io.h"
#include "data_internal.h"
#include "io_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int64_t row, idx;   /* 0-based row and column */
    float v;
} entry;

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* The LIBSVM parser (a nis__data_parser): L's lines -> *out. */
static nis_status parse_libsvm(nis__lines L, const char *path, const nis_data_opts *opts, nis_dataset *out,
                               char *err, size_t errlen) {
    nis_status s = NIS_OK;
    entry *ent = NULL;
    size_t ne = 0, cap = 0;
    nis__fvec Y = {0};
    int64_t n = 0, d = 0;
    nis_dataset ds = {0};
    if (opts->n_features > NIS_DATA_MAX_FEATURES) {
        nis__set_err(err, errlen, "%s: %" PRId64 " features asked for, above the limit of %d", path, opts->n_features,
                     NIS_DATA_MAX_FEATURES);
        return NIS_EINVAL;
    }

    while (nis__lines_next(&L)) {
        const char *le = L.le, *hash = memchr(L.ls, '#', (size_t)(L.le - L.ls));
        if (hash) le = hash;
        const char *p = L.ls;
        while (p < le && is_space(*p)) p++;
        if (p == le) continue;  /* blank or comment-only line */
        /* label */
        const char *ts = p;
        while (p < le && !is_space(*p)) p++;
        float y;
        if (nis__is_missing(ts, p)) {
            s = nis__data_fail(err, errlen, path, L.line, (long)(ts - L.ls) + 1, "missing label");
            goto fail;
        }
        char q[NIS__QUOTE_NAME];    /* a token from the file, quoted (a number: only NIS__QUOTE_TOKEN of it) */
        if (!nis__label_value(ts, p, opts->positive, true, &y)) {
            s = nis__data_fail(err, errlen, path, L.line, (long)(ts - L.ls) + 1, "label '%s' is not 0/1 or "
                               "-1/+1 (name the positive class to map other labels)",
                               nis__quote(q, sizeof q, ts, (size_t)(p - ts)));
            goto fail;
        }
        if (!nis__fvec_push(&Y, y)) goto oom;
        /* IDX:VAL pairs */
        int64_t last = 0;
        for (;;) {
            while (p < le && is_space(*p)) p++;
            if (p >= le) break;
            ts = p;
            while (p < le && !is_space(*p)) p++;
            long col = (long)(ts - L.ls) + 1;
            const char *colon = memchr(ts, ':', (size_t)(p - ts));
            if (!colon) {
                s = nis__data_fail(err, errlen, path, L.line, col, "expected IDX:VALUE, found '%s'",
                                   nis__quote(q, sizeof q, ts, (size_t)(p - ts)));
                goto fail;
            }
            if (colon - ts == 3 && !memcmp(ts, "qid", 3)) continue;
            double iv, v;
            /* range first: converting a double outside int64's range is undefined */
            if (!nis__parse_num(ts, colon, &iv) || !(iv >= 1 && iv <= NIS_DATA_MAX_FEATURES) || iv != floor(iv)) {
                s = nis__data_fail(err, errlen, path, L.line, col, "feature index '%s' is not an integer in "
                                   "[1, %d]", nis__quote(q, NIS__QUOTE_TOKEN, ts, (size_t)(colon - ts)),
                                   NIS_DATA_MAX_FEATURES);
                goto fail;
            }
            int64_t idx = (int64_t)iv;
            if (idx <= last) {
                s = nis__data_fail(err, errlen, path, L.line, col, "feature index %" PRId64 " not above the "
                                   "previous %" PRId64, idx, last);
                goto fail;
            }
            if (opts->n_features > 0 && idx > opts->n_features) {
                s = nis__data_fail(err, errlen, path, L.line, col, "feature index %" PRId64 " above the number "
                                   "of features %" PRId64, idx, opts->n_features);
                goto fail;
            }
            if (nis__is_missing(colon + 1, p)) {
                s = nis__data_fail(err, errlen, path, L.line, (long)(colon + 1 - L.ls) + 1,
                                   "missing value of feature %" PRId64, idx);
                goto fail;
            }
            if (!nis__parse_num(colon + 1, p, &v)) {
                s = nis__data_fail(err, errlen, path, L.line, (long)(colon + 1 - L.ls) + 1, "not a number: '%s'",
                                   nis__quote(q, NIS__QUOTE_TOKEN, colon + 1, (size_t)(p - colon - 1)));
                goto fail;
            }
            last = idx;
            if (idx > d) d = idx;
            if (ne == cap) {
                cap = cap ? 2 * cap : 1024;
                entry *b = nis_realloc(ent, cap * sizeof *ent);
                if (!b) goto oom;
                ent = b;
            }
            ent[ne++] = (entry){n, idx - 1, (float)v};
        }
        n++;
    }
    if (n == 0) {
        s = nis__data_fail(err, errlen, path, L.line + 1, 1, "empty file: no rows");
        goto fail;
    }
    if ((s = nis__check_positive(opts->positive, Y.v, n, err, errlen, path, 1, 1))) goto fail;
    if (opts->n_features > 0) d = opts->n_features;
    if (d == 0) {
        s = nis__data_fail(err, errlen, path, L.line, 1, "no features in any row");
        goto fail;
    }
    if (n > NIS_DATA_MAX_CELLS / d) {
        const double gib = 4.0 / 1073741824.0;
        s = nis__data_fail(err, errlen, path, L.line, 1, "%" PRId64 " rows x %" PRId64 " features is a dense "
                           "matrix of %.1f GiB, above the limit of %.0f GiB", n, d, (double)n * (double)d * gib,
                           (double)NIS_DATA_MAX_CELLS * gib);
        goto fail;
    }
    if ((s = nis_dataset_alloc(&ds, n, d))) goto oom;
    for (int64_t j = 0; j < d; j++) {
        char nm[32];
        snprintf(nm, sizeof nm, "x%" PRId64, j + 1);
        if (!(ds.names[j] = nis__strndup(nm, strlen(nm)))) goto oom;
    }
    for (size_t k = 0; k < ne; k++) ds.X[ent[k].row * d + ent[k].idx] = ent[k].v;
    memcpy(ds.y, Y.v, (size_t)n * sizeof *ds.y);
    *out = ds;
    nis_free(ent);
    nis_free(Y.v);
    return NIS_OK;

oom:
    s = NIS_ENOMEM;
    nis__set_err(err, errlen, "%s: out of memory", path);
fail:
    nis_dataset_free(&ds);
    nis_free(ent);
    nis_free(Y.v);
    return s;
}

nis_status nis_data_load_libsvm(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err,
                                size_t errlen) {
    return nis__data_load(path, opts, out, err, errlen, parse_libsvm);
}
