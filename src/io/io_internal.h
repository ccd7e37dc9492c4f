/* src/io/io_internal.h — helpers shared by the file-format code (private). */
#ifndef NIS_SRC_IO_INTERNAL_H
#define NIS_SRC_IO_INTERNAL_H

#include "core/err.h"   /* nis__set_err */

#include <stddef.h>

/* printf a problem into why (wl bytes; the caller's message buffer while validating) and return
 * NIS_EFORMAT. */
#include "nis/core.h"
nis_status nis__bad_format(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* nis_read_file with a look at the file's first NIS__HEAD bytes (or all of a shorter file) before the rest is
 * read: check(head, n_head, file_size, ud, err, errlen) returns NIS_OK, or a status with its message in err, and
 * then nothing more is read or allocated beyond the head's buffer (a 2 GB file with a bad magic is refused at
 * once).  check may be NULL. */
#define NIS__HEAD ((size_t)65536)
typedef nis_status (*nis__head_check)(const char *head, size_t n_head, size_t file_size, void *ud, char *err,
                                      size_t errlen);
nis_status nis__read_file_head(const char *path, void **data, size_t *size, nis__head_check check, void *ud,
                               char *err, size_t errlen);

/* Encode px (h rows of w pixels, comp = 1 grey or 3 RGB bytes each) as PNG and write it to path atomically
 * (src/io/plot.c).  NIS_ENOMEM, NIS_EIO. */
nis_status nis__write_png(const char *path, int w, int h, int comp, const unsigned char *px, char *err,
                          size_t errlen);

#endif
