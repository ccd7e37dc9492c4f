/* src/core/schema.c — defaults, checks, text forms of the fields of a configuration table (nis/schema.h). */
#include "nis/schema.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *at(void *obj, const nis_field *f) { return (char *)obj + f->offset; }
static const void *cat(const void *obj, const nis_field *f) { return (const char *)obj + f->offset; }

static int n_choices(const nis_field *f) {
    int n = 0;
    while (f->choices && f->choices[n]) n++;
    return n;
}

void nis_schema_defaults(const nis_schema *s, void *obj) {
    for (int i = 0; i < s->count; i++) {
        const nis_field *f = &s->fields[i];
        switch (f->type) {
        case NIS_FIELD_INT: *(int64_t *)at(obj, f) = (int64_t)f->def; break;
        case NIS_FIELD_REAL: *(double *)at(obj, f) = f->def; break;
        case NIS_FIELD_BOOL: *(bool *)at(obj, f) = f->def != 0; break;
        case NIS_FIELD_ENUM: *(int *)at(obj, f) = (int)f->def; break;
        }
    }
}

const nis_field *nis_schema_find(const nis_schema *s, const char *name) {
    for (int i = 0; i < s->count; i++)
        if (!strcmp(s->fields[i].name, name)) return &s->fields[i];
    return NULL;
}

void nis_field_format(const nis_field *f, const void *obj, char *buf, size_t size) {
    switch (f->type) {
    case NIS_FIELD_INT: snprintf(buf, size, "%lld", (long long)*(const int64_t *)cat(obj, f)); break;
    case NIS_FIELD_REAL: snprintf(buf, size, "%.17g", *(const double *)cat(obj, f)); break;
    case NIS_FIELD_BOOL: snprintf(buf, size, "%s", *(const bool *)cat(obj, f) ? "true" : "false"); break;
    case NIS_FIELD_ENUM: {
        int v = *(const int *)cat(obj, f);
        snprintf(buf, size, "%s", v >= 0 && v < n_choices(f) ? f->choices[v] : "?");
        break;
    }
    }
}

/* "x, outside [min, max]" check of a number; false with the message. */
static bool in_range(const nis_field *f, double v, const char *text, char *err, size_t errlen) {
    if (v >= f->min && v <= f->max) return true;
    char q[64];
    snprintf(err, errlen, "%s: %s is out of range [%g, %g]", f->name, nis_quote(q, sizeof q, text), f->min, f->max);
    return false;
}

nis_status nis_field_parse(const nis_field *f, void *obj, const char *text, char *err, size_t errlen) {
    char *end = NULL, q[64];
    errno = 0;
    switch (f->type) {
    case NIS_FIELD_INT: {
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end) {
            snprintf(err, errlen, "%s: expected an integer, got '%s'", f->name, nis_quote(q, sizeof q, text));
            return NIS_EINVAL;
        }
        if (!in_range(f, (double)v, text, err, errlen)) return NIS_EINVAL;
        *(int64_t *)at(obj, f) = v;
        return NIS_OK;
    }
    case NIS_FIELD_REAL: {
        double v = strtod(text, &end);
        if (end == text || *end || (!errno && !isfinite(v))) {
            snprintf(err, errlen, "%s: expected a finite number, got '%s'", f->name, nis_quote(q, sizeof q, text));
            return NIS_EINVAL;
        }
        if (errno == ERANGE) {   /* 1e-400 underflows, 1e400 overflows: finite numbers, but not a double's */
            snprintf(err, errlen, "%s: '%s' is outside a double's normal range (magnitudes 2.2e-308 to 1.8e308, or 0)",
                     f->name, nis_quote(q, sizeof q, text));
            return NIS_EINVAL;
        }
        if (!in_range(f, v, text, err, errlen)) return NIS_EINVAL;
        *(double *)at(obj, f) = v;
        return NIS_OK;
    }
    case NIS_FIELD_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "1")) *(bool *)at(obj, f) = true;
        else if (!strcmp(text, "false") || !strcmp(text, "0")) *(bool *)at(obj, f) = false;
        else {
            snprintf(err, errlen, "%s: expected true or false, got '%s'", f->name, nis_quote(q, sizeof q, text));
            return NIS_EINVAL;
        }
        return NIS_OK;
    case NIS_FIELD_ENUM:
        for (int i = 0; i < n_choices(f); i++)
            if (!strcmp(text, f->choices[i])) {
                *(int *)at(obj, f) = i;
                return NIS_OK;
            }
        {
            size_t k = (size_t)snprintf(err, errlen, "%s: unknown %s '%s' (", f->name, f->name, nis_quote(q, sizeof q, text));
            for (int i = 0; i < n_choices(f) && k < errlen; i++)
                k += (size_t)snprintf(err + k, errlen - k, "%s%s", i ? ", " : "", f->choices[i]);
            if (k < errlen) snprintf(err + k, errlen - k, ")");
        }
        return NIS_EINVAL;
    }
    snprintf(err, errlen, "%s: unknown field type", f->name);
    return NIS_EINVAL;
}

nis_status nis_schema_check(const nis_schema *s, const void *obj, char *err, size_t errlen) {
    char text[64], msg[200];
    for (int i = 0; i < s->count; i++) {
        const nis_field *f = &s->fields[i];
        bool ok = true;
        nis_field_format(f, obj, text, sizeof text);
        if (f->type == NIS_FIELD_INT) ok = in_range(f, (double)*(const int64_t *)cat(obj, f), text, msg, sizeof msg);
        else if (f->type == NIS_FIELD_REAL) {
            double v = *(const double *)cat(obj, f);
            ok = isfinite(v) ? in_range(f, v, text, msg, sizeof msg)
                             : (snprintf(msg, sizeof msg, "%s is %s, not a finite number", f->name, text), false);
        } else if (f->type == NIS_FIELD_ENUM) {
            int v = *(const int *)cat(obj, f);
            if (v < 0 || v >= n_choices(f)) ok = false, snprintf(msg, sizeof msg, "%s: unknown value %d", f->name, v);
        }
        if (!ok) {
            snprintf(err, errlen, "%s: %s", s->name, msg);
            return NIS_EINVAL;
        }
    }
    return NIS_OK;
}
