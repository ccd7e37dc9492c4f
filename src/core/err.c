/* src/core/err.c — nis__set_err (see err.h). */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

void nis__set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
