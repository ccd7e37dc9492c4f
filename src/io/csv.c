/* src/io/csv.c — CSV loader: a header row of names (unless no_header), then rows of numbers with one label
 * column.  Fields are comma-separated and may be double-quoted ("" inside quotes is one quote); spaces
 * around a field are ignored; blank lines are skipped.  Every problem is reported as FILE:LINE:COL. */
#include "nis/data.h"
#include "nis/io.h"
#include "core/err.h"
#include "data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s, *e;      /* the field's text (inside the quotes if quoted) */
    const char *at;         /* where the field starts in the line (for error columns) */
} field;

/* Split line [ls, le) into at most max fields (f[0..*nf)).  Returns NIS_OK, or NIS_EFORMAT with the message
 * in err (a quoting error, or more than max fields: "ragged"). */
static nis_status split_line(const char *path, int line, const char *ls, const char *le, field *f, int max,
                             int *nf, char *err, size_t errlen) {
    const char *p = ls;
    int k = 0;
    for (;;) {
        if (k == max)
            return nis__data_fail(err, errlen, path, line, (long)(p - ls) + 1,
                                  "ragged row: more than %d fields", max);
        f[k].at = p;
        while (p < le && (*p == ' ' || *p == '\t')) p++;
        if (p < le && *p == '"') {
            const char *q = ++p;
            for (;;) {
                if (q >= le)
                    return nis__data_fail(err, errlen, path, line, (long)(f[k].at - ls) + 1,
                                          "unterminated quoted field");
                if (*q == '"' && q + 1 < le && q[1] == '"') q += 2;
                else if (*q == '"') break;
                else q++;
            }
            f[k].s = p, f[k].e = q;
            p = q + 1;
            while (p < le && (*p == ' ' || *p == '\t')) p++;
            if (p < le && *p != ',')
                return nis__data_fail(err, errlen, path, line, (long)(p - ls) + 1,
                                      "text after a closing quote");
        } else {
            const char *q = p;
            while (q < le && *q != ',') q++;
            f[k].s = p, f[k].e = q;
            nis__trim(&f[k].s, &f[k].e);
            p = q;
        }
        k++;
        if (p >= le) break;
        p++;   /* the comma */
    }
    *nf = k;
    return NIS_OK;
}

/* Copy a field's text, turning "" into " (only quoted fields contain them). */
static char *field_dup(const field *f) {
    char *r = nis__strndup(f->s, (size_t)(f->e - f->s));
    if (!r) return NULL;
    char *w = r;
    for (const char *q = r; *q; q++) {
        *w++ = *q;
        if (q[0] == '"' && q[1] == '"') q++;
    }
    *w = 0;
    return r;
}

/* Column i of the header, for nis__column_index. */
static const char *csv_name(const void *names, int i) { return ((char *const *)names)[i]; }

/* The CSV parser (a nis__data_parser): L's lines -> *out. */
static nis_status parse_csv(nis__lines L, const char *path, const nis_data_opts *opts, nis_dataset *out,
                            char *err, size_t errlen) {
    nis_status s = NIS_OK;
    field *f = NULL;
    char **names = NULL;        /* ncol column names (header) */
    char **feat = NULL;         /* d feature names, moved into the dataset */
    nis__fvec X = {0}, Y = {0};
    int ncol = 0, label = -1;
    int64_t n = 0;

    for (int i = 0; i < opts->skip_lines; i++) nis__lines_next(&L);
    bool have = false;
    while ((have = nis__lines_next(&L)) && nis__blank(L.ls, L.le)) {}
    if (!have) {
        s = nis__data_fail(err, errlen, path, L.line + 1, 1, "empty file: no %s", opts->no_header ? "rows" :
                           "header row");
        goto fail;
    }

    /* the first row: the header, or (no_header) the first data row, which fixes the number of columns */
    {
        int max = 1;
        for (const char *p = L.ls; p < L.le; p++) max += *p == ',';
        f = nis_malloc((size_t)(max + 1) * sizeof *f);
        if (!f) goto oom;
        if ((s = split_line(path, L.line, L.ls, L.le, f, max, &ncol, err, errlen))) goto fail;
        if (ncol < 2) {
            s = nis__data_fail(err, errlen, path, L.line, 1, "need a label column and at least one feature "
                               "column, found %d column", ncol);
            goto fail;
        }
        names = nis_calloc((size_t)ncol, sizeof *names);
        if (!names) goto oom;
        for (int j = 0; j < ncol; j++) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "x%d", j);
            names[j] = opts->no_header ? nis__strndup(tmp, strlen(tmp)) : field_dup(&f[j]);
            if (!names[j]) goto oom;
        }
        label = nis__column_index(opts->label, ncol, opts->no_header ? NULL : csv_name, names);
        if (label < 0) {
            char qn[NIS__QUOTE_NAME];   /* the caller's name (from a flag or a run's config.json), quoted */
            s = nis__data_fail(err, errlen, path, L.line, 1, "label column '%s' not found",
                               nis_quote(qn, sizeof qn, opts->label));
            s = NIS_EINVAL;
            goto fail;
        }
        if (opts->no_header) L.p = L.ls, L.line--;      /* read the row again as data */
    }

    /* data rows */
    while (nis__lines_next(&L)) {
        if (nis__blank(L.ls, L.le)) continue;
        int nf;
        if ((s = split_line(path, L.line, L.ls, L.le, f, ncol, &nf, err, errlen))) goto fail;
        if (nf != ncol) {
            s = nis__data_fail(err, errlen, path, L.line, (long)(L.le - L.ls) + 1,
                               "ragged row: %d fields, expected %d", nf, ncol);
            goto fail;
        }
        for (int j = 0; j < ncol; j++) {
            long col = (long)(f[j].s - L.ls) + 1;
            char qn[NIS__QUOTE_NAME], qv[NIS__QUOTE_NAME];      /* the column's name, the cell (quoted) */
            if (nis__is_missing(f[j].s, f[j].e)) {
                s = nis__data_fail(err, errlen, path, L.line, col, "missing value in column '%s'",
                                   nis__quote(qn, sizeof qn, names[j], strlen(names[j])));
                goto fail;
            }
            double v;
            float y;
            if (j == label) {
                if (!nis__label_value(f[j].s, f[j].e, opts->positive, false, &y)) {
                    s = nis__data_fail(err, errlen, path, L.line, col, "label '%s' is not 0 or 1 (name the "
                                       "positive class to map other labels)",
                                       nis__quote(qv, sizeof qv, f[j].s, (size_t)(f[j].e - f[j].s)));
                    goto fail;
                }
                if (!nis__fvec_push(&Y, y)) goto oom;
            } else {
                if (!nis__parse_num(f[j].s, f[j].e, &v)) {
                    char qt[NIS__QUOTE_TOKEN];
                    s = nis__data_fail(err, errlen, path, L.line, col, "not a number in column '%s': '%s'",
                                       nis__quote(qn, sizeof qn, names[j], strlen(names[j])),
                                       nis__quote(qt, sizeof qt, f[j].s, (size_t)(f[j].e - f[j].s)));
                    goto fail;
                }
                if (!nis__fvec_push(&X, (float)v)) goto oom;
            }
        }
        n++;
    }
    if (n == 0) {
        s = nis__data_fail(err, errlen, path, L.line + 1, 1, "no data rows");
        goto fail;
    }

    if ((s = nis__check_positive(opts->positive, Y.v, n, err, errlen, path, opts->skip_lines + 1, 1))) goto fail;

    /* feature names: every column but the label, in order */
    feat = nis_calloc((size_t)ncol, sizeof *feat);
    if (!feat) goto oom;
    for (int j = 0, k = 0; j < ncol; j++) {
        if (j == label) continue;
        feat[k++] = names[j];
        names[j] = NULL;
    }
    nis__dataset_take(out, n, ncol - 1, X.v, Y.v, feat);
    nis__free_names(names, ncol);
    nis_free(f);
    return NIS_OK;

oom:
    s = NIS_ENOMEM;
    if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
fail:
    nis__free_names(names, ncol);
    nis_free(feat);
    nis_free(f);
    nis_free(X.v);
    nis_free(Y.v);
    return s;
}

nis_status nis_data_load_csv(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err,
                             size_t errlen) {
    return nis__data_load(path, opts, out, err, errlen, parse_csv);
}
