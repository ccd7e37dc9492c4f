/* src/io/npy.c — NumPy .npy files: write format 1.0, read 1.0 / 2.0 / 3.0, float32 and float64, C order.
 *
 * A file is the magic "\x93NUMPY", a major and a minor version byte, the header length (u16 little-endian
 * in 1.0, u32 in 2.0 and 3.0), the header — the repr of a Python dict such as
 * "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" padded with spaces and ended by '\n' —
 * and the raw data.  The header is parsed by a small recursive-descent parser for exactly that subset of
 * Python literals (strings, True/False, tuples of integers), which never reads past the header's bytes.
 */
#include "nis/io.h"
#include "io_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nis io supports little-endian hosts only"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};



/* ---------------------------------------------------------------------------------------------------------
 * Writing
 */

nis_status nis_npy_write(const char *path, int dtype, int ndim, const int64_t *shape, const void *data,
                         char *err, size_t errlen) {
    if (!path) path = "";
    if (dtype != NIS_DT_F32 && dtype != NIS_DT_F64) {
        nis__set_err(err, errlen, "cannot write '%s': dtype must be F32 or F64", path);
        return NIS_EINVAL;
    }
    if (ndim < 0 || ndim > NIS_MAX_DIMS || (ndim > 0 && !shape)) {
        nis__set_err(err, errlen, "cannot write '%s': ndim %d not in 0..%d", path, ndim, NIS_MAX_DIMS);
        return NIS_EINVAL;
    }
    uint64_t bytes = nis_dtype_size(dtype);
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || __builtin_mul_overflow(bytes, (uint64_t)shape[d], &bytes) || bytes > INT64_MAX) {
            nis__set_err(err, errlen, "cannot write '%s': bad shape", path);
            return NIS_EINVAL;
        }
    }
    if (bytes > 0 && !data) {
        nis__set_err(err, errlen, "cannot write '%s': no data", path);
        return NIS_EINVAL;
    }

    /* header dict, then spaces and '\n' so that 10 + header length is a multiple of 64 */
    char hdr[256];
    int k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     dtype == NIS_DT_F32 ? "<f4" : "<f8");
    for (int d = 0; d < ndim; d++)
        k += snprintf(hdr + k, sizeof hdr - (size_t)k, d ? ", %" PRId64 : "%" PRId64, shape[d]);
    k += snprintf(hdr + k, sizeof hdr - (size_t)k, ndim == 1 ? ",), }" : "), }");
    size_t total = (10 + (size_t)k + 1 + 63) / 64 * 64, hlen = total - 10;
    memset(hdr + k, ' ', hlen - (size_t)k);
    hdr[hlen - 1] = '\n';
    unsigned char pre[10];
    memcpy(pre, npy_magic, 6);
    pre[6] = 1, pre[7] = 0, pre[8] = (unsigned char)(hlen & 0xFF), pre[9] = (unsigned char)(hlen >> 8);

    nis_atomic_file af;
    nis_atomic_open(&af, path, err, errlen);
    nis_atomic_write(&af, pre, sizeof pre);
    nis_atomic_write(&af, hdr, hlen);
    nis_atomic_write(&af, data, (size_t)bytes);
    return nis_atomic_commit(&af);
}

/* ---------------------------------------------------------------------------------------------------------
 * Header parser
 */

typedef struct {
    const char *p, *end;
    char why[128];      /* what went wrong (first failure) */
} parser;

static bool fail(parser *ps, const char *why) {
    if (!ps->why[0]) snprintf(ps->why, sizeof ps->why, "%s", why);
    return false;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

/* Consume c (after whitespace) if it is next. */
static bool eat(parser *ps, char c) {
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

/* A quoted string ('...' or "...", no escapes needed by numpy headers) into out[size]. */
static bool parse_str(parser *ps, char *out, size_t size) {
    skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"')) return fail(ps, "expected a string");
    char q = *ps->p++;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != q) {
        if (*ps->p == '\\' || *ps->p == '\n') return fail(ps, "unsupported character in a string");
        if (n + 1 >= size) return fail(ps, "string too long");
        out[n++] = *ps->p++;
    }
    if (ps->p >= ps->end) return fail(ps, "unterminated string");
    ps->p++;
    out[n] = '\0';
    return true;
}

/* Consume the word w if it is next. */
static bool eat_word(parser *ps, const char *w) {
    skip_ws(ps);
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, w, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

static bool parse_bool(parser *ps, bool *v) {
    if (eat_word(ps, "True")) return *v = true, true;
    if (eat_word(ps, "False")) return *v = false, true;
    return fail(ps, "expected True or False");
}

/* A non-negative integer (Python 2 headers may add an 'L'). */
static bool parse_int(parser *ps, int64_t *v) {
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        if (ps->p < ps->end && *ps->p == '-') return fail(ps, "negative dimension in shape");
        return fail(ps, "expected an integer in shape");
    }
    int64_t x = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, *ps->p - '0', &x))
            return fail(ps, "dimension overflows");
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l')) ps->p++;
    *v = x;
    return true;
}

/* A tuple of integers: "()", "(3,)", "(2, 3)", "(2, 3,)".  A 1-tuple needs its comma, as in Python. */
static bool parse_shape(parser *ps, int *ndim, int64_t *shape) {
    if (!eat(ps, '(')) return fail(ps, "shape is not a tuple");
    int n = 0;
    bool comma = false;
    while (!eat(ps, ')')) {
        if (n >= NIS_MAX_DIMS) return fail(ps, "shape has more than " STR(NIS_MAX_DIMS) " dims (unsupported)");
        if (!parse_int(ps, &shape[n++])) return false;
        comma = eat(ps, ',');
        if (!comma) {
            if (!eat(ps, ')')) return fail(ps, "expected ',' or ')' in shape");
            break;
        }
    }
    if (n == 1 && !comma) return fail(ps, "shape (n) is not a tuple (needs a trailing comma)");
    *ndim = n;
    return true;
}

typedef struct {
    char descr[32];
    bool fortran;
    int ndim;
    int64_t shape[NIS_MAX_DIMS];
} npy_header;

/* The dict with exactly the keys 'descr', 'fortran_order' and 'shape', then only whitespace. */
static bool parse_header(parser *ps, npy_header *h) {
    bool have[3] = {false, false, false};
    if (!eat(ps, '{')) return fail(ps, "not a dict");
    while (!eat(ps, '}')) {
        if (ps->p == ps->end) return fail(ps, "dict is not closed");
        char key[32];
        if (!parse_str(ps, key, sizeof key)) return false;
        if (!eat(ps, ':')) return fail(ps, "expected ':' after a key");
        int which = strcmp(key, "descr") == 0 ? 0 : strcmp(key, "fortran_order") == 0 ? 1
                  : strcmp(key, "shape") == 0 ? 2 : -1;
        if (which < 0) return fail(ps, "unexpected key");
        if (have[which]) return fail(ps, "duplicate key");
        have[which] = true;
        if (which == 0 && eat(ps, '[')) return fail(ps, "structured dtypes are not supported");
        bool ok = which == 0 ? parse_str(ps, h->descr, sizeof h->descr)
                : which == 1 ? parse_bool(ps, &h->fortran)
                : parse_shape(ps, &h->ndim, h->shape);
        if (!ok) return false;
        if (!eat(ps, ',')) {
            if (!eat(ps, '}')) return fail(ps, "expected ',' or '}' in the dict");
            break;
        }
    }
    if (!have[0] || !have[1] || !have[2]) return fail(ps, "lacks descr, fortran_order or shape");
    skip_ws(ps);
    if (ps->p != ps->end) return fail(ps, "bytes after the dict");
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading
 */

/* The magic and the version of b[0..size) (the file, or its head). */
static nis_status check_preamble(const unsigned char *b, size_t size, char *why, size_t wl) {
    if (size < 10 || memcmp(b, npy_magic, 6) != 0) return nis__bad_format(why, wl, "bad magic (not a .npy file)");
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return nis__bad_format(why, wl, "unsupported format version %d.%d", major, minor);
    return NIS_OK;
}

/* Validate the file in b[0..size) and fill out (data allocated, converted to want, 0 = the file's). */
static nis_status parse_npy(const unsigned char *b, size_t size, int want, nis_npy_array *out, char *why,
                            size_t wl) {
    nis_status pst = check_preamble(b, size, why, wl);
    if (pst != NIS_OK) return pst;
    int major = b[6];
    size_t hs = major == 1 ? 10 : 12;
    if (size < hs) return nis__bad_format(why, wl, "file ends inside the preamble");
    uint64_t hlen = 0;
    for (size_t k = 8; k < hs; k++) hlen |= (uint64_t)b[k] << (8 * (k - 8));
    if (hlen > size - hs)
        return nis__bad_format(why, wl, "header length %" PRIu64 " goes beyond the end of the file", hlen);

    parser ps = {.p = (const char *)b + hs, .end = (const char *)b + hs + hlen};
    npy_header h = {.ndim = 0};
    if (!parse_header(&ps, &h)) return nis__bad_format(why, wl, "bad header: %s", ps.why);
    int dtype = strcmp(h.descr, "<f4") == 0 ? NIS_DT_F32 : strcmp(h.descr, "<f8") == 0 ? NIS_DT_F64 : 0;
    if (!dtype) {
        char q[NIS__QUOTE_NAME];
        const char *d = nis__quote(q, sizeof q, h.descr, strlen(h.descr));
        if (h.descr[0] == '>') return nis__bad_format(why, wl, "big-endian dtype '%s' is not supported", d);
        if (strchr(h.descr, 'O')) return nis__bad_format(why, wl, "object dtype '%s' is not supported", d);
        return nis__bad_format(why, wl, "dtype '%s' is not supported (only '<f4' and '<f8')", d);
    }
    if (h.fortran) return nis__bad_format(why, wl, "fortran_order True is not supported");
    uint64_t n = 1, bytes;
    for (int d = 0; d < h.ndim; d++)
        if (__builtin_mul_overflow(n, (uint64_t)h.shape[d], &n)) return nis__bad_format(why, wl, "shape product overflows");
    if (__builtin_mul_overflow(n, (uint64_t)nis_dtype_size(dtype), &bytes) || bytes > INT64_MAX)
        return nis__bad_format(why, wl, "shape product overflows");
    size_t off = hs + (size_t)hlen, have = size - off;
    if (have < bytes)
        return nis__bad_format(why, wl, "data truncated: %zu bytes, shape needs %" PRIu64, have, bytes);
    if (have > bytes)
        return nis__bad_format(why, wl, "%" PRIu64 " extra bytes after the data", (uint64_t)have - bytes);

    int dt = want ? want : dtype;
    void *data = nis_malloc((size_t)n * nis_dtype_size(dt));
    if (!data) return NIS_ENOMEM;
    const unsigned char *src = b + off;
    if (dt == dtype) memcpy(data, src, (size_t)bytes);
    else if (dt == NIS_DT_F32) {
        float *o = data;
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, src + 8 * i, 8);
            o[i] = (float)v;
        }
    } else {
        double *o = data;
        for (size_t i = 0; i < n; i++) {
            float v;
            memcpy(&v, src + 4 * i, 4);
            o[i] = (double)v;
        }
    }
    out->dtype = dt;
    out->ndim = h.ndim;
    for (int d = 0; d < NIS_MAX_DIMS; d++) out->shape[d] = d < h.ndim ? h.shape[d] : 1;
    out->n = (int64_t)n;
    out->data = data;
    return NIS_OK;
}

/* The head check of a .npy file (nis__read_file_head; ud: the path): its magic and version, before the rest of
 * a possibly huge file is read. */
static nis_status npy_head(const char *head, size_t n, size_t file_size, void *ud, char *err, size_t errlen) {
    char why[96];
    if (check_preamble((const unsigned char *)head, n, why, sizeof why) == NIS_OK) return NIS_OK;
    nis__set_err(err, errlen, "bad .npy file '%s': %s", (const char *)ud, why);
    return NIS_EFORMAT;
}

nis_status nis_npy_read_as(const char *path, int dtype, nis_npy_array *out, char *err, size_t errlen) {
    *out = (nis_npy_array){0};
    if (dtype != 0 && dtype != NIS_DT_F32 && dtype != NIS_DT_F64) {
        nis__set_err(err, errlen, "cannot read '%s': requested dtype must be F32 or F64", path);
        return NIS_EINVAL;
    }
    void *bytes;
    size_t size;
    nis_status st = nis__read_file_head(path, &bytes, &size, npy_head, (void *)path, err, errlen);
    if (st != NIS_OK) return st;
    char why[192];
    st = parse_npy(bytes, size, dtype, out, why, sizeof why);
    nis_free(bytes);
    if (st == NIS_ENOMEM) nis__set_err(err, errlen, "cannot read '%s': out of memory", path);
    else if (st != NIS_OK) nis__set_err(err, errlen, "bad .npy file '%s': %s", path, why);
    return st;
}

nis_status nis_npy_read(const char *path, nis_npy_array *out, char *err, size_t errlen) {
    return nis_npy_read_as(path, 0, out, err, errlen);
}

void nis_npy_free(nis_npy_array *a) {
    if (!a) return;
    nis_free(a->data);
    *a = (nis_npy_array){0};
}
