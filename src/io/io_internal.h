/* src/io/io_internal.h — helpers shared by the file-format code (private). */
#ifndef NIS_SRC_IO_INTERNAL_H
#define NIS_SRC_IO_INTERNAL_H

#include "core/err.h"   /* nis__set_err */

#include <stddef.h>

/* printf a problem into why (wl bytes; the caller's message buffer while validating) and return
 * NIS_EFORMAT. */
#include "nis/core.h"
nis_status nis__bad_format(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Encode px (h rows of w pixels, comp = 1 grey or 3 RGB bytes each) as PNG and write it to path atomically
 * (src/io/plot.c).  NIS_ENOMEM, NIS_EIO. */
nis_status nis__write_png(const char *path, int w, int h, int comp, const unsigned char *px, char *err,
                          size_t errlen);

#endif
