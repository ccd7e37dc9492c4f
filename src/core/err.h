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

/* Quote n bytes of s (bytes from a file: any values, NUL included; s may be NULL when n is 0) into buf (cap
 * bytes, owned by the caller) as one line of printable text for an error message: valid UTF-8 is copied,
 * a backslash becomes "\\", and a control character (ASCII 0x00-0x1f and 0x7f, and the C1 controls
 * U+0080-U+009F) or a byte that is not part of valid UTF-8 becomes "\xNN" (lower-case hex, one per byte), so
 * the text cannot be mistaken for an escape.  If the result does not fit in cap - 1 bytes it is cut between
 * two characters (never inside an escape or a UTF-8 sequence) and ends in "...".  Returns buf, always
 * NUL-terminated; "" (a literal) if buf is NULL or cap is 0.  A buffer of 4 n + 1 bytes never truncates. */
const char *nis__quote(char *buf, size_t cap, const char *s, size_t n);

/* nis__quote buffer sizes: a token shown up to 24 bytes, a name up to 64 (then "...", and the NUL). */
#define NIS__QUOTE_TOKEN 28
#define NIS__QUOTE_NAME 68

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
