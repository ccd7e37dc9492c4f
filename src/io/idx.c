/* src/io/idx.c — IDX (MNIST) files through zlib's gz reader, which also reads uncompressed files. */
#include "nis/idx.h"
#include "io_internal.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#define MAX_ITEMS ((int64_t)1 << 31)   /* a sanity bound on the element count */

/* Read exactly n bytes; false on a short read or an error. */
static bool read_all(gzFile f, void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) return false;
        p += got;
        n -= (size_t)got;
    }
    return true;
}

nis_status nis_idx_read(const char *path, nis_idx *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        nis__set_err(err, errlen, "cannot open '%s': %s", path, errno ? strerror(errno) : "out of memory");
        return errno ? NIS_EIO : NIS_ENOMEM;
    }
    nis_status st = NIS_OK;
    unsigned char h[4];
    nis_idx a = {0};
    if (!read_all(f, h, 4)) {
        st = nis__bad_format(err, errlen, "%s: shorter than an IDX header", path);
    } else if (h[0] != 0 || h[1] != 0) {
        st = nis__bad_format(err, errlen, "%s: bad IDX magic %02x %02x", path, h[0], h[1]);
    } else if (h[2] != 0x08) {
        st = nis__bad_format(err, errlen, "%s: IDX type 0x%02x is not supported (unsigned bytes, 0x08, only)", path,
                             h[2]);
    } else if (h[3] < 1 || h[3] > NIS_MAX_DIMS) {
        st = nis__bad_format(err, errlen, "%s: %d dimensions (1 to %d supported)", path, h[3], NIS_MAX_DIMS);
    }
    if (st == NIS_OK) {
        a.ndim = h[3];
        a.n = 1;
        for (int i = 0; i < NIS_MAX_DIMS; i++) a.shape[i] = 1;
        for (int i = 0; i < a.ndim && st == NIS_OK; i++) {
            unsigned char b[4];
            if (!read_all(f, b, 4)) {
                st = nis__bad_format(err, errlen, "%s: header ends inside dimension %d", path, i);
                break;
            }
            int64_t s = (int64_t)b[0] << 24 | (int64_t)b[1] << 16 | (int64_t)b[2] << 8 | b[3];
            if (s < 1 || s > MAX_ITEMS / a.n)
                st = nis__bad_format(err, errlen, "%s: dimension %d has size %lld", path, i, (long long)s);
            a.shape[i] = s;
            a.n *= s;
        }
    }
    /* The data, into a buffer that grows with what the file holds (at most twice that): a 20-byte file whose
     * header promises 2 GiB is refused as truncated without allocating 2 GiB. */
    size_t got = 0, cap = 0;
    while (st == NIS_OK && got < (size_t)a.n) {
        if (got == cap) {
            cap = cap ? 2 * cap : (size_t)1 << 20;
            if (cap > (size_t)a.n) cap = (size_t)a.n;
            unsigned char *b = nis_realloc(a.data, cap);
            if (!b) {
                nis__set_err(err, errlen, "%s: out of memory for %zu bytes", path, cap);
                st = NIS_ENOMEM;
                break;
            }
            a.data = b;
        }
        if (!read_all(f, a.data + got, cap - got))
            st = nis__bad_format(err, errlen, "%s: truncated: fewer than the %lld data bytes the header promises",
                                 path, (long long)a.n);
        got = cap;
    }
    if (st == NIS_OK) {
        unsigned char extra;
        if (gzread(f, &extra, 1) != 0) st = nis__bad_format(err, errlen, "%s: trailing bytes after the data", path);
    }
    gzclose(f);
    if (st != NIS_OK) {
        nis_free(a.data);
        return st;
    }
    *out = a;
    return NIS_OK;
}

void nis_idx_free(nis_idx *a) {
    if (!a) return;
    nis_free(a->data);
    memset(a, 0, sizeof *a);
}
