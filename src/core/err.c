/* src/core/err.c — nis__set_err and nis__quote (see err.h). */
#include "core/err.h"
#include "nis/core.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void nis__set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The length (1-4) of the UTF-8 sequence at s[0..n) and its code point in *cp; 0 if s does not start with a
 * valid one (a stray continuation byte, a sequence cut short, an overlong form, a surrogate, above U+10FFFF). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) return *cp = c, 1;
    if ((c & 0xE0) == 0xC0) len = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

const char *nis__quote(char *buf, size_t cap, const char *s, size_t n) {
    if (!buf || !cap) return "";
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t w = 0, cut = 0;      /* bytes written; the last character boundary that leaves room for "..." */
    for (size_t i = 0; i < n;) {
        char t[8];              /* one character's text: at most two escapes (a C1 control) */
        uint32_t cp = 0;
        size_t len = utf8_char(u + i, n - i, &cp), k = 0;
        if (len == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            if (len == 0) len = 1;
            for (size_t j = 0; j < len; j++) {
                t[k++] = '\\', t[k++] = 'x';
                t[k++] = hex[u[i + j] >> 4], t[k++] = hex[u[i + j] & 15];
            }
        } else if (cp == '\\') {
            t[k++] = '\\', t[k++] = '\\';
        } else {
            memcpy(t, u + i, len);
            k = len;
        }
        if (w + k > cap - 1) {  /* does not fit: back to the cut, then as much of "..." as fits */
            w = cut;
            for (int d = 0; d < 3 && w < cap - 1; d++) buf[w++] = '.';
            break;
        }
        memcpy(buf + w, t, k);
        w += k;
        i += len;
        if (w + 3 <= cap - 1) cut = w;
    }
    buf[w] = '\0';
    return buf;
}

const char *nis_quote(char *buf, size_t cap, const char *s) { return nis__quote(buf, cap, s, s ? strlen(s) : 0); }
