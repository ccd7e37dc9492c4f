/* nis/idx.h — IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
 *
 * An IDX file is a big-endian header (two zero bytes, a type byte, the number of dimensions, then each
 * dimension as a 32-bit count) followed by the data.  Supported: unsigned bytes (type 0x08) with 1 to 4
 * dimensions, which covers image files (n, rows, cols) and label files (n,).
 */
#ifndef NIS_IDX_H
#define NIS_IDX_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int ndim;                       /* 1..4 */
    int64_t shape[NIS_MAX_DIMS];    /* shape[0] = number of items */
    int64_t n;                      /* product of the shape */
    uint8_t *data;                  /* n bytes, row-major; owned (nis_malloc), free with nis_idx_free */
} nis_idx;

/* Read path (gzip-compressed or not: detected from the content) into *out.  All-or-nothing: on failure *out
 * is zeroed.  NIS_EIO (cannot open or read), NIS_EFORMAT (bad magic, unsupported type, bad dimension count,
 * zero or oversized dimensions, truncated or trailing data), NIS_ENOMEM; the message names the file. */
nis_status nis_idx_read(const char *path, nis_idx *out, char *err, size_t errlen);
/* Free out->data and zero *a.  NULL ok. */
void nis_idx_free(nis_idx *a);

#ifdef __cplusplus
}
#endif
#endif
