/* src/io/arff.c — ARFF loader (Weka's Attribute-Relation File Format), dense data only.
 *
 *   % comment
 *   @relation NAME
 *   @attribute NAME numeric | real | integer | {v1, v2, ...}
 *   @data
 *   1.5, v2, ...
 *
 * Keywords are case-insensitive; names and nominal values may be quoted with ' or " (a backslash escapes
 * the next character inside quotes).  Numeric attributes give one column; a nominal attribute with k values
 * gives k one-hot columns "NAME=VALUE".  The class attribute (opts->label, default the last) maps to 1 when
 * it equals opts->positive and 0 otherwise.  Every problem is reported as FILE:LINE:COL. */
#include "nis/data.h"
#include "nis/io.h"
#include "data_internal.h"
#include "io_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *name;
    int k;              /* number of nominal values; 0 = numeric */
    char **vals;        /* k values (raw text inside any quotes) */
    int64_t col;        /* first output column (features only) */
    int line;           /* where it was declared */
} attr;

typedef struct {
    const char *s, *e, *at;
} tok;

/* Next comma-separated token of [*p, le): quoted with ' or " (backslash escapes), or bare and trimmed.
 * Moves *p past the comma.  Returns false on a quoting error (message in err). */
static bool next_tok(const char **p, const char *le, tok *t, const char *path, int line, const char *ls,
                     char *err, size_t errlen) {
    const char *q = *p;
    t->at = q;
    while (q < le && (*q == ' ' || *q == '\t')) q++;
    if (q < le && (*q == '\'' || *q == '"')) {
        char quote = *q++;
        t->s = q;
        while (q < le && *q != quote) q += (*q == '\\' && q + 1 < le) ? 2 : 1;
        if (q >= le) {
            nis__data_fail(err, errlen, path, line, (long)(t->at - ls) + 1, "unterminated quoted value");
            return false;
        }
        t->e = q++;
        while (q < le && (*q == ' ' || *q == '\t')) q++;
        if (q < le && *q != ',') {
            nis__data_fail(err, errlen, path, line, (long)(q - ls) + 1, "text after a closing quote");
            return false;
        }
    } else {
        t->s = q;
        while (q < le && *q != ',') q++;
        t->e = q;
        nis__trim(&t->s, &t->e);
    }
    *p = q < le ? q + 1 : q;
    return true;
}

static bool tok_eq(const tok *t, const char *s) {
    size_t n = (size_t)(t->e - t->s);
    return strlen(s) == n && memcmp(s, t->s, n) == 0;
}

/* Does the line start with keyword kw (case-insensitive) followed by a space or its end? */
static bool keyword(const char *s, const char *e, const char *kw) {
    size_t n = strlen(kw);
    return (size_t)(e - s) >= n && strncasecmp(s, kw, n) == 0 && (s + n == e || s[n] == ' ' || s[n] == '\t');
}

static void free_attrs(attr *a, int na) {
    if (!a) return;
    for (int i = 0; i < na; i++) {
        nis_free(a[i].name);
        nis__free_names(a[i].vals, a[i].k);
    }
    nis_free(a);
}

/* Parse "@attribute NAME TYPE" in [s, e) (s just after the keyword) into *a.  NIS_OK / EFORMAT / ENOMEM. */
static nis_status parse_attr(const char *path, int line, const char *ls, const char *s, const char *e, attr *a,
                             char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    a->line = line;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    const char *ns = s, *ne;
    if (s < e && (*s == '\'' || *s == '"')) {
        char quote = *s++;
        ns = s;
        while (s < e && *s != quote) s += (*s == '\\' && s + 1 < e) ? 2 : 1;
        if (s >= e) return nis__data_fail(err, errlen, path, line, (long)(ns - ls), "unterminated quoted name");
        ne = s++;
    } else {
        while (s < e && *s != ' ' && *s != '\t' && *s != '{') s++;
        ne = s;
    }
    if (ne == ns) return nis__data_fail(err, errlen, path, line, (long)(ns - ls) + 1, "missing attribute name");
    if (!(a->name = nis__strndup(ns, (size_t)(ne - ns)))) return NIS_ENOMEM;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    long col = (long)(s - ls) + 1;
    if (s < e && *s == '{') {
        const char *le = s + 1;     /* the closing brace, outside quotes */
        for (char quote = 0; le < e && (quote || *le != '}'); le++) {
            if (quote && *le == '\\') le++;
            else if (*le == quote) quote = 0;
            else if (!quote && (*le == '\'' || *le == '"')) quote = *le;
        }
        if (le >= e) return nis__data_fail(err, errlen, path, line, (long)(e - ls) + 1, "expected '}'");
        const char *rest = le + 1;
        while (rest < e && (*rest == ' ' || *rest == '\t')) rest++;
        if (rest < e && *rest != '%')
            return nis__data_fail(err, errlen, path, line, (long)(rest - ls) + 1, "text after '}'");
        const char *p = s + 1;
        int cap = 1;
        for (const char *q = p; q < le; q++) cap += *q == ',';
        if (!(a->vals = nis_calloc((size_t)cap, sizeof *a->vals))) return NIS_ENOMEM;
        while (p < le || a->k == 0) {
            tok t;
            if (!next_tok(&p, le, &t, path, line, ls, err, errlen)) return NIS_EFORMAT;
            if (t.s == t.e || a->k == cap)
                return nis__data_fail(err, errlen, path, line, (long)(t.at - ls) + 1, "empty nominal value");
            char q[NIS__QUOTE_NAME];
            for (int i = 0; i < a->k; i++)
                if (tok_eq(&t, a->vals[i]))
                    return nis__data_fail(err, errlen, path, line, (long)(t.s - ls) + 1,
                                          "duplicate nominal value '%s'", nis__quote(q, sizeof q, a->vals[i],
                                                                                     strlen(a->vals[i])));
            if (!(a->vals[a->k] = nis__strndup(t.s, (size_t)(t.e - t.s)))) return NIS_ENOMEM;
            a->k++;
        }
        return NIS_OK;
    }
    const char *te = s;
    while (te < e && *te != ' ' && *te != '\t') te++;
    if (keyword(s, te, "numeric") || keyword(s, te, "real") || keyword(s, te, "integer")) return NIS_OK;
    char qt[NIS__QUOTE_NAME], qn[NIS__QUOTE_NAME];
    return nis__data_fail(err, errlen, path, line, col, "unsupported type '%s' of attribute '%s' (numeric, "
                          "real, integer or {nominal values})", nis__quote(qt, sizeof qt, s, (size_t)(te - s)),
                          nis__quote(qn, sizeof qn, a->name, strlen(a->name)));
}

/* Name of attribute i, for nis__column_index (which finds the class attribute). */
static const char *attr_name(const void *attrs, int i) { return ((const attr *)attrs)[i].name; }

/* The ARFF parser (a nis__data_parser): L's lines -> *out. */
static nis_status parse_arff(nis__lines L, const char *path, const nis_data_opts *opts, nis_dataset *out,
                             char *err, size_t errlen) {
    nis_status s = NIS_OK;
    attr *a = NULL;
    int na = 0, cap = 0, cls = -1, pos = -1;
    int64_t d = 0, n = 0;
    char **feat = NULL;
    nis__fvec X = {0}, Y = {0};
    bool any = false, data = false;

    /* header */
    while (!data && nis__lines_next(&L)) {
        const char *ls = L.ls, *le = L.le;
        nis__trim(&ls, &le);
        if (ls == le || *ls == '%') continue;
        any = true;
        long col = (long)(ls - L.ls) + 1;
        if (keyword(ls, le, "@relation")) continue;
        if (keyword(ls, le, "@data")) {
            data = true;
            break;
        }
        if (!keyword(ls, le, "@attribute")) {
            s = nis__data_fail(err, errlen, path, L.line, col, "expected @relation, @attribute or @data");
            goto fail;
        }
        if (na == cap) {
            cap = cap ? 2 * cap : 16;
            attr *b = nis_realloc(a, (size_t)cap * sizeof *a);
            if (!b) goto oom;
            a = b;
        }
        s = parse_attr(path, L.line, L.ls, ls + 10, le, &a[na], err, errlen);
        na++;
        if (s == NIS_ENOMEM) goto oom;
        if (s) goto fail;
    }
    if (!any) {
        s = nis__data_fail(err, errlen, path, L.line + 1, 1, "empty file");
        goto fail;
    }
    if (!data) {
        s = nis__data_fail(err, errlen, path, L.line + 1, 1, "no @data section");
        goto fail;
    }
    if (na < 2) {
        s = nis__data_fail(err, errlen, path, L.line, 1, "need a class attribute and at least one feature");
        goto fail;
    }
    if ((cls = nis__column_index(opts->label, na, attr_name, a)) < 0) {
        char qn[NIS__QUOTE_NAME];   /* the caller's name (from a flag or a run's config.json), quoted */
        nis__data_fail(err, errlen, path, L.line, 1, "class attribute '%s' not found",
                       nis_quote(qn, sizeof qn, opts->label));
        s = NIS_EINVAL;
        goto fail;
    }
    if (a[cls].k) {
        for (int i = 0; opts->positive && i < a[cls].k; i++)
            if (!strcmp(a[cls].vals[i], opts->positive)) pos = i;
        if (pos < 0) {
            char list[160] = "", q[NIS__QUOTE_NAME];
            size_t w = 0;
            for (int i = 0; i < a[cls].k; i++) {     /* whole values only: room for ", v" and then ", ..." */
                const char *v = nis__quote(q, sizeof q, a[cls].vals[i], strlen(a[cls].vals[i]));
                if (w + strlen(v) + 8 > sizeof list) {
                    snprintf(list + w, sizeof list - w, i ? ", ..." : "...");
                    break;
                }
                w += (size_t)snprintf(list + w, sizeof list - w, i ? ", %s" : "%s", v);
            }
            nis__data_fail(err, errlen, path, a[cls].line, 1, "%s positive class of '%s': one of {%s}",
                           opts->positive ? "unknown" : "name the",
                           nis__quote(q, sizeof q, a[cls].name, strlen(a[cls].name)), list);
            s = NIS_EINVAL;
            goto fail;
        }
    }

    /* output columns and their names */
    for (int i = 0; i < na; i++) {
        if (i == cls) continue;
        a[i].col = d;
        d += a[i].k ? a[i].k : 1;
    }
    if (!(feat = nis_calloc((size_t)d, sizeof *feat))) goto oom;
    for (int i = 0; i < na; i++) {
        if (i == cls) continue;
        for (int v = 0; v < (a[i].k ? a[i].k : 1); v++) {
            size_t m = strlen(a[i].name) + (a[i].k ? strlen(a[i].vals[v]) + 2 : 1);
            char *nm = nis_malloc(m);
            if (!nm) goto oom;
            if (a[i].k) snprintf(nm, m, "%s=%s", a[i].name, a[i].vals[v]);
            else snprintf(nm, m, "%s", a[i].name);
            feat[a[i].col + v] = nm;
        }
    }

    /* data rows */
    while (nis__lines_next(&L)) {
        const char *ls = L.ls, *le = L.le;
        nis__trim(&ls, &le);
        if (ls == le || *ls == '%') continue;
        if (*ls == '{') {
            s = nis__data_fail(err, errlen, path, L.line, (long)(ls - L.ls) + 1, "sparse ARFF rows are not "
                               "supported");
            goto fail;
        }
        size_t row = X.n;
        for (int64_t j = 0; j < d; j++)
            if (!nis__fvec_push(&X, 0.0f)) goto oom;
        const char *p = L.ls;
        for (int i = 0; i < na; i++) {
            tok t;
            char qn[NIS__QUOTE_NAME], qv[NIS__QUOTE_NAME];      /* the attribute's name, the value (quoted) */
            if (p >= L.le && i > 0) {
                s = nis__data_fail(err, errlen, path, L.line, (long)(L.le - L.ls) + 1,
                                   "ragged row: %d values, expected %d", i, na);
                goto fail;
            }
            if (!next_tok(&p, L.le, &t, path, L.line, L.ls, err, errlen)) {
                s = NIS_EFORMAT;
                goto fail;
            }
            long col = (long)(t.s - L.ls) + 1;
            if (nis__is_missing(t.s, t.e)) {
                s = nis__data_fail(err, errlen, path, L.line, col, "missing value of attribute '%s'",
                                   nis__quote(qn, sizeof qn, a[i].name, strlen(a[i].name)));
                goto fail;
            }
            int v = -1;
            double x = 0;
            if (a[i].k) {
                for (int m = 0; m < a[i].k && v < 0; m++)
                    if (tok_eq(&t, a[i].vals[m])) v = m;
                if (v < 0) {
                    s = nis__data_fail(err, errlen, path, L.line, col, "unknown value '%s' of nominal "
                                       "attribute '%s'", nis__quote(qv, sizeof qv, t.s, (size_t)(t.e - t.s)),
                                       nis__quote(qn, sizeof qn, a[i].name, strlen(a[i].name)));
                    goto fail;
                }
            } else if (!nis__parse_num(t.s, t.e, &x)) {
                char qt[NIS__QUOTE_TOKEN];
                s = nis__data_fail(err, errlen, path, L.line, col, "not a number for attribute '%s': '%s'",
                                   nis__quote(qn, sizeof qn, a[i].name, strlen(a[i].name)),
                                   nis__quote(qt, sizeof qt, t.s, (size_t)(t.e - t.s)));
                goto fail;
            }
            if (i == cls) {
                float y;
                if (a[i].k) y = v == pos ? 1.0f : 0.0f;
                else if (!nis__label_value(t.s, t.e, opts->positive, false, &y)) {
                    s = nis__data_fail(err, errlen, path, L.line, col, "class value '%s' is not 0 or 1",
                                       nis__quote(qv, sizeof qv, t.s, (size_t)(t.e - t.s)));
                    goto fail;
                }
                if (!nis__fvec_push(&Y, y)) goto oom;
            } else {
                X.v[row + (size_t)a[i].col + (size_t)(a[i].k ? v : 0)] = a[i].k ? 1.0f : (float)x;
            }
        }
        if (p < L.le || (p > L.ls && p[-1] == ',')) {
            s = nis__data_fail(err, errlen, path, L.line, (long)(p - L.ls) + 1, "ragged row: more than %d values",
                               na);
            goto fail;
        }
        n++;
    }
    if (n == 0) {
        s = nis__data_fail(err, errlen, path, L.line + 1, 1, "no data rows after @data");
        goto fail;
    }
    if ((s = nis__check_positive(opts->positive, Y.v, n, err, errlen, path, a[cls].line, 1))) goto fail;
    nis__dataset_take(out, n, d, X.v, Y.v, feat);
    free_attrs(a, na);
    return NIS_OK;

oom:
    s = NIS_ENOMEM;
    nis__set_err(err, errlen, "%s: out of memory", path);
fail:
    nis__free_names(feat, d);
    free_attrs(a, na);
    nis_free(X.v);
    nis_free(Y.v);
    return s;
}

nis_status nis_data_load_arff(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err,
                              size_t errlen) {
    return nis__data_load(path, opts, out, err, errlen, parse_arff);
}
