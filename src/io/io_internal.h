/* src/io/io_internal.h — helpers shared by the file-format code (private). */
#ifndef NIS_SRC_IO_INTERNAL_H
#define NIS_SRC_IO_INTERNAL_H

#include <stddef.h>

/* printf into the caller's message buffer err (errlen bytes); nothing if err is NULL or errlen 0. */
void nis__set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* printf a problem into why (wl bytes; the caller's message buffer while validating) and return
 * NIS_EFORMAT. */
#include "nis/core.h"
nis_status nis__bad_format(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
