/* src/io/safetensors.c — safetensors writer and validating reader (cJSON for the header).
 *
 * Layout: u64 little-endian N, N bytes of UTF-8 JSON header (padded with spaces), then the byte buffer.
 * The reader loads the whole file, checks every rule of the format (see nis_st_read in nis/io.h) before it
 * returns anything, and copies a tensor out of the file buffer only when its data are not aligned to the
 * element size (possible in valid files, e.g. an F64 tensor after an odd number of F32 values).
 */
#include "nis/io.h"
#include "io_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nis io supports little-endian hosts only"
#endif

#define ST_MAX_HEADER 100000000u       /* 100 MB, the limit of the reference implementation */
#define ST_MAX_INT ((double)(1ull << 53)) /* largest integer a JSON number (double) holds exactly */

struct nis_st_file {
    char *path;
    unsigned char *bytes;   /* the whole file */
    size_t size;
    int n;
    nis_st_entry *entries;  /* names are nis_malloc'd; data point into bytes or into copies[i] */
    void **copies;          /* aligned copies of misaligned tensors (NULL where not needed) */
    int n_meta;
    char **meta;            /* 2*n_meta strings: key, value, ... */
};


static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = nis_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

size_t nis_dtype_size(int dtype) {
    switch (dtype) {
    case NIS_DT_F32: case NIS_DT_I32: return 4;
    case NIS_DT_F64: case NIS_DT_I64: return 8;
    }
    return 0;
}

const char *nis_dtype_name(int dtype) {
    switch (dtype) {
    case NIS_DT_F32: return "F32";
    case NIS_DT_F64: return "F64";
    case NIS_DT_I32: return "I32";
    case NIS_DT_I64: return "I64";
    }
    return "?";
}

static int dtype_from_name(const char *s) {
    for (int d = NIS_DT_F32; d <= NIS_DT_I64; d++)
        if (strcmp(s, nis_dtype_name(d)) == 0) return d;
    return 0;
}

/* "(2, 3)" into buf. */
static const char *shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ", %" PRId64 : "%" PRId64, shape[i]);
    if (k < size) snprintf(buf + k, size - k, ndim == 1 ? ",)" : ")");
    return buf;
}

/* Bytes of a tensor of `ndim` dims, or false if a dim is negative or the size overflows. */
static bool tensor_bytes(int dtype, int ndim, const int64_t *shape, uint64_t *bytes) {
    uint64_t b = nis_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || __builtin_mul_overflow(b, (uint64_t)shape[i], &b)) return false;
    }
    *bytes = b;
    return b <= (uint64_t)INT64_MAX;
}

/* True if s[0..n) is valid UTF-8 without NUL bytes, overlong forms, surrogates or code points > U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0) return false;
        if (c < 0x80) { i++; continue; }
        int len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
        else return false;
        if (n - i < (size_t)len) return false;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += (size_t)len;
    }
    return true;
}

static bool valid_str(const char *s) { return valid_utf8((const unsigned char *)s, strlen(s)); }

/* ---------------------------------------------------------------------------------------------------------
 * Writing
 */

/* A JSON integer item holding v exactly (cJSON numbers are doubles, which would round above 2^53). */
static cJSON *json_int(int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cJSON_CreateRaw(buf);
}

/* Check the writer's arguments; fills bytes[i]. */
static nis_status check_write_args(const char *path, int n, const nis_st_entry *e, int n_meta,
                                   const char *const *kv, uint64_t *bytes, char *err, size_t errlen) {
    if (n < 0 || (n > 0 && !e) || n_meta < 0 || (n_meta > 0 && !kv)) {
        nis__set_err(err, errlen, "cannot write '%s': bad tensor or metadata count", path);
        return NIS_EINVAL;
    }
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *name = e[i].name;
        if (!name || !valid_str(name) || strcmp(name, "__metadata__") == 0) {
            nis__set_err(err, errlen, "cannot write '%s': tensor %d has a missing, reserved or non-UTF-8 name", path,
                    i);
            return NIS_EINVAL;
        }
        if (!nis_dtype_size(e[i].dtype) || e[i].ndim < 0 || e[i].ndim > NIS_MAX_DIMS ||
            !tensor_bytes(e[i].dtype, e[i].ndim, e[i].shape, &bytes[i]) ||
            __builtin_add_overflow(total, bytes[i], &total) || total > (uint64_t)INT64_MAX) {
            nis__set_err(err, errlen, "cannot write '%s': tensor '%s' has a bad dtype, ndim or shape", path, name);
            return NIS_EINVAL;
        }
        if (bytes[i] > 0 && !e[i].data) {
            nis__set_err(err, errlen, "cannot write '%s': tensor '%s' has no data", path, name);
            return NIS_EINVAL;
        }
    }
    for (int i = 0; i < 2 * n_meta; i++) {
        if (!kv[i] || !valid_str(kv[i])) {
            nis__set_err(err, errlen, "cannot write '%s': metadata string %d is missing or not UTF-8", path, i);
            return NIS_EINVAL;
        }
    }
    return NIS_OK;
}

/* The JSON header for the entries (offsets in the given order), or NULL with a message. */
static cJSON *build_header(const char *path, int n, const nis_st_entry *e, int n_meta, const char *const *kv,
                           const uint64_t *bytes, nis_status *st, char *err, size_t errlen) {
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    *st = NIS_ENOMEM;
    if (ok && n_meta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        ok = meta != NULL;
        for (int i = 0; ok && i < n_meta; i++) {
            if (cJSON_GetObjectItemCaseSensitive(meta, kv[2 * i])) {
                nis__set_err(err, errlen, "cannot write '%s': duplicate metadata key '%s'", path, kv[2 * i]);
                *st = NIS_EINVAL;
                cJSON_Delete(root);
                return NULL;
            }
            ok = cJSON_AddStringToObject(meta, kv[2 * i], kv[2 * i + 1]) != NULL;
        }
    }
    uint64_t off = 0;
    for (int i = 0; ok && i < n; i++) {
        if (cJSON_GetObjectItemCaseSensitive(root, e[i].name)) {
            nis__set_err(err, errlen, "cannot write '%s': duplicate tensor name '%s'", path, e[i].name);
            *st = NIS_EINVAL;
            cJSON_Delete(root);
            return NULL;
        }
        cJSON *t = cJSON_AddObjectToObject(root, e[i].name);
        ok = t && cJSON_AddStringToObject(t, "dtype", nis_dtype_name(e[i].dtype));
        cJSON *shape = ok ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        ok = offs != NULL;
        for (int d = 0; ok && d < e[i].ndim; d++) ok = cJSON_AddItemToArray(shape, json_int(e[i].shape[d]));
        ok = ok && cJSON_AddItemToArray(offs, json_int((int64_t)off));
        off += bytes[i];
        ok = ok && cJSON_AddItemToArray(offs, json_int((int64_t)off));
    }
    if (!ok) {
        nis__set_err(err, errlen, "cannot write '%s': out of memory", path);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

nis_status nis_st_write(const char *path, int n, const nis_st_entry *entries, int n_meta,
                        const char *const *meta_kv, char *err, size_t errlen) {
    if (!path) path = "";
    uint64_t *bytes = nis_calloc(n > 0 ? (size_t)n : 1, sizeof *bytes);
    if (!bytes) {
        nis__set_err(err, errlen, "cannot write '%s': out of memory", path);
        return NIS_ENOMEM;
    }
    nis_status st = check_write_args(path, n, entries, n_meta, meta_kv, bytes, err, errlen);
    cJSON *root = st == NIS_OK ? build_header(path, n, entries, n_meta, meta_kv, bytes, &st, err, errlen) : NULL;
    char *json = root ? cJSON_PrintUnformatted(root) : NULL;
    if (root && !json) {
        nis__set_err(err, errlen, "cannot write '%s': out of memory", path);
        st = NIS_ENOMEM;
    }
    cJSON_Delete(root);
    size_t len = json ? strlen(json) : 0, padded = (len + 7) / 8 * 8;
    if (json && padded > ST_MAX_HEADER) {
        nis__set_err(err, errlen, "cannot write '%s': header of %zu bytes exceeds the 100 MB limit", path, padded);
        st = NIS_EINVAL;
    } else if (json) {
        unsigned char head[8];
        for (int k = 0; k < 8; k++) head[k] = (unsigned char)((uint64_t)padded >> (8 * k));
        char spaces[8];
        memset(spaces, ' ', sizeof spaces);
        nis_atomic_file af;
        nis_atomic_open(&af, path, err, errlen);
        nis_atomic_write(&af, head, 8);
        nis_atomic_write(&af, json, len);
        nis_atomic_write(&af, spaces, padded - len);
        for (int i = 0; i < n; i++) nis_atomic_write(&af, entries[i].data, (size_t)bytes[i]);
        st = nis_atomic_commit(&af);
    }
    cJSON_free(json);
    nis_free(bytes);
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading
 */

void nis_st_close(nis_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) {
        nis_free((void *)f->entries[i].name);
        if (f->copies) nis_free(f->copies[i]);
    }
    for (int i = 0; i < 2 * f->n_meta; i++) nis_free(f->meta[i]);
    nis_free(f->entries);
    nis_free(f->copies);
    nis_free(f->meta);
    nis_free(f->bytes);
    nis_free(f->path);
    nis_free(f);
}

/* A non-negative JSON integer (<= 2^53) into *v. */
static bool json_uint(const cJSON *j, int64_t *v) {
    if (!cJSON_IsNumber(j)) return false;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= ST_MAX_INT) || d != (double)(int64_t)d) return false;
    *v = (int64_t)d;
    return true;
}


/* Per-tensor bookkeeping while validating: entry index and byte range in the buffer. */
typedef struct {
    const char *name;
    int idx;
    int64_t begin, end;
} span;

static int cmp_span_name(const void *a, const void *b) {
    return strcmp(((const span *)a)->name, ((const span *)b)->name);
}
static int cmp_span_offset(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* One tensor description j (called name) into e (name not yet set) and s. */
static nis_status parse_entry(const char *name, const cJSON *j, int64_t buf_size, nis_st_entry *e, span *s,
                              char *why, size_t wl) {
    char q[NIS__QUOTE_NAME];
    name = nis__quote(q, sizeof q, name, strlen(name));     /* from here on, the name as messages show it */
    if (!cJSON_IsObject(j)) return nis__bad_format(why, wl, "tensor \"%s\" is not an object", name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!dt || !sh || !of) return nis__bad_format(why, wl, "tensor \"%s\" lacks dtype, shape or data_offsets", name);
    if (!cJSON_IsString(dt)) return nis__bad_format(why, wl, "tensor \"%s\" has a dtype that is not a string", name);
    e->dtype = dtype_from_name(dt->valuestring);
    char qd[20];
    if (!e->dtype)
        return nis__bad_format(why, wl, "tensor \"%s\" has unsupported dtype \"%s\"", name,
                               nis__quote(qd, sizeof qd, dt->valuestring, strlen(dt->valuestring)));
    if (!cJSON_IsArray(sh)) return nis__bad_format(why, wl, "tensor \"%s\" has a shape that is not an array", name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > NIS_MAX_DIMS)
        return nis__bad_format(why, wl, "tensor \"%s\" has %d dims (at most %d supported)", name, nd, NIS_MAX_DIMS);
    e->ndim = nd;
    for (int d = 0; d < NIS_MAX_DIMS; d++) e->shape[d] = 1;
    int d = 0;
    for (const cJSON *x = sh->child; x; x = x->next, d++) {
        if (cJSON_IsNumber(x) && x->valuedouble < 0)
            return nis__bad_format(why, wl, "tensor \"%s\" has a negative dimension", name);
        if (!json_uint(x, &e->shape[d]))
            return nis__bad_format(why, wl, "tensor \"%s\" has a dimension that is not an integer", name);
    }
    uint64_t bytes;
    if (!tensor_bytes(e->dtype, e->ndim, e->shape, &bytes))
        return nis__bad_format(why, wl, "tensor \"%s\" has a size that overflows", name);
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_uint(of->child, &s->begin) ||
        !json_uint(of->child->next, &s->end))
        return nis__bad_format(why, wl, "tensor \"%s\" has data_offsets that are not two non-negative integers", name);
    if (s->begin > s->end)
        return nis__bad_format(why, wl, "tensor \"%s\" has data_offsets [%" PRId64 ", %" PRId64 "] with begin > end", name,
                   s->begin, s->end);
    if (s->end > buf_size)
        return nis__bad_format(why, wl, "tensor \"%s\" has data_offsets [%" PRId64 ", %" PRId64 "] outside the %" PRId64
                   "-byte buffer", name, s->begin, s->end, buf_size);
    if ((uint64_t)(s->end - s->begin) != bytes)
        return nis__bad_format(why, wl, "tensor \"%s\" has %" PRId64 " bytes of data but dtype and shape need %" PRIu64,
                   name, s->end - s->begin, bytes);
    return NIS_OK;
}

/* The __metadata__ object m into f->meta. */
static nis_status parse_meta(nis_st_file *f, const cJSON *m, char *why, size_t wl) {
    if (!cJSON_IsObject(m)) return nis__bad_format(why, wl, "__metadata__ is not an object");
    f->meta = nis_calloc((size_t)(2 * cJSON_GetArraySize(m)) + 1, sizeof *f->meta);
    if (!f->meta) return NIS_ENOMEM;
    char q[NIS__QUOTE_NAME];
    for (const cJSON *x = m->child; x; x = x->next) {
        if (!cJSON_IsString(x))
            return nis__bad_format(why, wl, "metadata value of \"%s\" is not a string",
                                   nis__quote(q, sizeof q, x->string, strlen(x->string)));
        if (nis_st_meta(f, x->string))
            return nis__bad_format(why, wl, "duplicate metadata key \"%s\"",
                                   nis__quote(q, sizeof q, x->string, strlen(x->string)));
        char **kv = &f->meta[2 * f->n_meta++];
        kv[0] = dup_str(x->string);
        kv[1] = dup_str(x->valuestring);
        if (!kv[0] || !kv[1]) return NIS_ENOMEM;
    }
    return NIS_OK;
}

/* The JSON object root into f's entries and metadata, and their spans into sp. */
static nis_status parse_root(nis_st_file *f, const cJSON *root, int64_t buf_size, span *sp, char *why,
                             size_t wl) {
    bool seen_meta = false;
    for (const cJSON *x = root->child; x; x = x->next) {
        nis_status st;
        if (strcmp(x->string, "__metadata__") == 0) {
            if (seen_meta) return nis__bad_format(why, wl, "duplicate __metadata__");
            seen_meta = true;
            if ((st = parse_meta(f, x, why, wl)) != NIS_OK) return st;
            continue;
        }
        nis_st_entry *e = &f->entries[f->n];
        if ((st = parse_entry(x->string, x, buf_size, e, &sp[f->n], why, wl)) != NIS_OK) return st;
        e->name = dup_str(x->string);
        sp[f->n].name = e->name;
        sp[f->n].idx = f->n;
        f->n++;
        if (!e->name) return NIS_ENOMEM;
    }
    return NIS_OK;
}

/* Unique names, and byte ranges that cover the buffer exactly (sorts sp by offset). */
static nis_status check_layout(span *sp, int n, int64_t buf_size, char *why, size_t wl) {
    char q[NIS__QUOTE_NAME];
    qsort(sp, (size_t)n, sizeof *sp, cmp_span_name);
    for (int i = 1; i < n; i++)
        if (strcmp(sp[i - 1].name, sp[i].name) == 0)
            return nis__bad_format(why, wl, "duplicate tensor name \"%s\"",
                                   nis__quote(q, sizeof q, sp[i].name, strlen(sp[i].name)));
    qsort(sp, (size_t)n, sizeof *sp, cmp_span_offset);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (sp[i].begin < at)
            return nis__bad_format(why, wl, "tensor \"%s\" overlaps the previous tensor (offset %" PRId64 " < %" PRId64 ")",
                       nis__quote(q, sizeof q, sp[i].name, strlen(sp[i].name)), sp[i].begin, at);
        if (sp[i].begin > at)
            return nis__bad_format(why, wl, "gap of %" PRId64 " bytes before tensor \"%s\"", sp[i].begin - at,
                                   nis__quote(q, sizeof q, sp[i].name, strlen(sp[i].name)));
        at = sp[i].end;
    }
    if (at != buf_size) return nis__bad_format(why, wl, "%" PRId64 " trailing bytes after the last tensor", buf_size - at);
    return NIS_OK;
}

/* Validate f->bytes and fill f.  Returns NIS_OK, NIS_EFORMAT (why says what is wrong) or NIS_ENOMEM. */
static nis_status parse_file(nis_st_file *f, char *why, size_t wl) {
    const unsigned char *b = f->bytes;
    if (f->size < 8) return nis__bad_format(why, wl, "file is %zu bytes, shorter than the 8-byte header length", f->size);
    uint64_t hn = 0;
    for (int k = 0; k < 8; k++) hn |= (uint64_t)b[k] << (8 * k);
    if (hn > ST_MAX_HEADER) return nis__bad_format(why, wl, "header length %" PRIu64 " exceeds the 100 MB limit", hn);
    if (hn > f->size - 8)
        return nis__bad_format(why, wl, "header length %" PRIu64 " exceeds the %zu bytes after it", hn, f->size - 8);
    const char *h = (const char *)b + 8, *end = NULL;
    if (hn == 0 || h[0] != '{') return nis__bad_format(why, wl, "header does not start with '{'");
    if (!valid_utf8(b + 8, (size_t)hn)) return nis__bad_format(why, wl, "header is not valid UTF-8 text");
    cJSON *root = cJSON_ParseWithLengthOpts(h, (size_t)hn, &end, 0);
    if (!root) return nis__bad_format(why, wl, "header is not valid JSON (error at byte %td)", end ? end - h : (ptrdiff_t)0);

    nis_status st = NIS_OK;
    for (const char *p = end; p < h + hn && st == NIS_OK; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            st = nis__bad_format(why, wl, "header has bytes after its JSON");
    if (st == NIS_OK && !cJSON_IsObject(root)) st = nis__bad_format(why, wl, "header is not a JSON object");
    int64_t buf_size = (int64_t)(f->size - 8 - hn);
    size_t count = st == NIS_OK ? (size_t)cJSON_GetArraySize(root) + 1 : 1;
    f->entries = nis_calloc(count, sizeof *f->entries);
    f->copies = nis_calloc(count, sizeof *f->copies);
    span *sp = nis_calloc(count, sizeof *sp);
    if (st == NIS_OK && (!f->entries || !f->copies || !sp)) st = NIS_ENOMEM;
    if (st == NIS_OK) st = parse_root(f, root, buf_size, sp, why, wl);
    if (st == NIS_OK) st = check_layout(sp, f->n, buf_size, why, wl);
    /* data pointers: into the file buffer, or into an aligned copy */
    const unsigned char *data = b + 8 + hn;
    for (int i = 0; st == NIS_OK && i < f->n; i++) {
        nis_st_entry *e = &f->entries[sp[i].idx];
        size_t nb = (size_t)(sp[i].end - sp[i].begin);
        const void *p = data + sp[i].begin;
        if (nb == 0) p = f->bytes;   /* any aligned, non-NULL pointer */
        else if ((uintptr_t)p % nis_dtype_size(e->dtype) != 0) {
            void *c = f->copies[sp[i].idx] = nis_malloc(nb);
            if (!c) st = NIS_ENOMEM;
            else p = memcpy(c, p, nb);
        }
        e->data = p;
    }
    nis_free(sp);
    cJSON_Delete(root);
    return st;
}

nis_status nis_st_read(const char *path, nis_st_file **out, char *err, size_t errlen) {
    *out = NULL;
    nis_st_file *f = nis_calloc(1, sizeof *f);
    if (!f || !(f->path = dup_str(path))) {
        nis_free(f);
        nis__set_err(err, errlen, "cannot read '%s': out of memory", path);
        return NIS_ENOMEM;
    }
    void *bytes;
    nis_status st = nis_read_file(path, &bytes, &f->size, err, errlen);
    f->bytes = bytes;
    if (st != NIS_OK) {
        nis_st_close(f);
        return st;
    }
    char why[256] = "";
    st = parse_file(f, why, sizeof why);
    if (st != NIS_OK) {
        if (st == NIS_ENOMEM) nis__set_err(err, errlen, "cannot read '%s': out of memory", path);
        else nis__set_err(err, errlen, "bad safetensors file '%s': %s", path, why);
        nis_st_close(f);
        return st;
    }
    *out = f;
    return NIS_OK;
}

int nis_st_count(const nis_st_file *f) { return f->n; }

const nis_st_entry *nis_st_get(const nis_st_file *f, int i) {
    return i >= 0 && i < f->n ? &f->entries[i] : NULL;
}

const nis_st_entry *nis_st_find(const nis_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->entries[i].name, name) == 0) return &f->entries[i];
    return NULL;
}

const char *nis_st_meta(const nis_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[2 * i], key) == 0) return f->meta[2 * i + 1];
    return NULL;
}

bool nis_st_meta_int(const nis_st_file *f, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    const char *s = nis_st_meta(f, key);
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || end == s || *end || errno || v < lo || v > hi) return false;
    *out = v;
    return true;
}

int nis_st_meta_count(const nis_st_file *f) { return f->n_meta; }

bool nis_st_meta_at(const nis_st_file *f, int i, const char **key, const char **value) {
    if (i < 0 || i >= f->n_meta) return false;
    *key = f->meta[2 * i];
    *value = f->meta[2 * i + 1];
    return true;
}

nis_status nis_st_load(const nis_st_file *f, const char *name, int dtype, int ndim, const int64_t *shape,
                       void *dst, bool convert, char *err, size_t errlen) {
    const nis_st_entry *e = nis_st_find(f, name);
    if (!e) {
        nis__set_err(err, errlen, "'%s' has no tensor \"%s\"", f->path, name);
        return NIS_EFORMAT;
    }
    bool floats = (dtype == NIS_DT_F32 || dtype == NIS_DT_F64) &&
                  (e->dtype == NIS_DT_F32 || e->dtype == NIS_DT_F64);
    if (e->dtype != dtype && !(convert && floats)) {
        nis__set_err(err, errlen, "tensor \"%s\" in '%s' has dtype %s, expected %s", name, f->path,
                nis_dtype_name(e->dtype), nis_dtype_name(dtype));
        return NIS_EFORMAT;
    }
    bool same = ndim == e->ndim;
    for (int d = 0; same && d < ndim; d++) same = shape[d] == e->shape[d];
    if (!same) {
        char a[96], b[96];
        nis__set_err(err, errlen, "tensor \"%s\" in '%s' has shape %s, expected %s", name, f->path,
                shape_str(e->ndim, e->shape, a, sizeof a),
                shape_str(ndim < 0 ? 0 : ndim > NIS_MAX_DIMS ? NIS_MAX_DIMS : ndim, shape, b, sizeof b));
        return NIS_ESHAPE;
    }
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    if (n == 0) return NIS_OK;
    if (e->dtype == dtype) memcpy(dst, e->data, n * nis_dtype_size(dtype));
    else if (dtype == NIS_DT_F32) {
        const double *s = e->data;
        float *o = dst;
        for (size_t i = 0; i < n; i++) o[i] = (float)s[i];
    } else {
        const float *s = e->data;
        double *o = dst;
        for (size_t i = 0; i < n; i++) o[i] = (double)s[i];
    }
    return NIS_OK;
}
