/* src/core/err.h — the library's error helpers (private): filling a caller's message buffer, and setting a
 * sticky error (a context's, a parameter set's). */
#ifndef NIS_SRC_CORE_ERR_H
#define NIS_SRC_CORE_ERR_H

#include "nis/core.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* printf into the caller's message buffer err (errlen bytes); nothing if err is NULL or errlen 0. */
void nis__set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The body of a printf-style sticky-error setter `nis_status f(T *obj, nis_status s, const char *fmt, ...)`,
 * for an obj with fields `nis_status status` and `char msg[N]`: if obj->status is NIS_OK, set it to s and
 * printf the message into msg (truncated); an error already set is kept, message and all. */
#define NIS__STICKY_FAIL(obj, s, fmt)                                                                      \
    do {                                                                                                    \
        if ((obj)->status != NIS_OK) break;                                                                 \
        (obj)->status = (s);                                                                                \
        va_list ap_;                                                                                        \
        va_start(ap_, fmt);                                                                                 \
        vsnprintf((obj)->msg, sizeof (obj)->msg, fmt, ap_);                                                 \
        va_end(ap_);                                                                                        \
    } while (0)

#endif
