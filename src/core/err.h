/* src/core/err.h — the library's one helper for filling a caller's message buffer (private). */
#ifndef NIS_SRC_CORE_ERR_H
#define NIS_SRC_CORE_ERR_H

#include <stddef.h>

/* printf into the caller's message buffer err (errlen bytes); nothing if err is NULL or errlen 0. */
void nis__set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
