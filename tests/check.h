/* tests/check.h — the tests' assertions.  A failed CHECK prints where and why and makes the test exit 1;
 * check_done() prints "N passed, M failed" and returns the exit status, so no failure can exit 0. */
#ifndef NIS_TESTS_CHECK_H
#define NIS_TESTS_CHECK_H

#include "nis/core.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int check_passed_, check_failed_;

#define CHECK(cond, ...)                                                                                    \
    do {                                                                                                    \
        if (cond) {                                                                                         \
            check_passed_++;                                                                                \
        } else {                                                                                            \
            check_failed_++;                                                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                                                                   \
            fputc('\n', stderr);                                                                            \
        }                                                                                                   \
    } while (0)

/* |a - b| <= atol + rtol |b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                                       \
    do {                                                                                                    \
        double a_ = (double)(a), b_ = (double)(b);                                                          \
        CHECK(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_), "%s = %.10g, %s = %.10g", #a, a_, #b, b_);       \
    } while (0)

static inline int check_done(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ ? 1 : (check_passed_ ? 0 : 1);   /* a test that checked nothing fails */
}

/* A small deterministic generator for test inputs (splitmix64), independent of the library's RNG. */
static uint64_t test_rng_state_ = 0x9E3779B97F4A7C15ull;
static inline void test_seed(uint64_t s) { test_rng_state_ = s * 0x9E3779B97F4A7C15ull + 1; }
static inline double test_uniform(void) {
    uint64_t z = (test_rng_state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}
static inline double test_normal(void) {
    double u = test_uniform(), v = test_uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* True if s is one line of printable text: no byte below 0x20 or equal to 0x7f, and valid UTF-8 (the ranges of
 * RFC 3629: no overlong form, surrogate or code point above U+10FFFF).  Written apart from nis__quote. */
static inline bool check_clean_line(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned c = *p;
        int len = c < 0x80 ? 1 : c < 0xC2 ? 0 : c <= 0xDF ? 2 : c <= 0xEF ? 3 : c <= 0xF4 ? 4 : 0;
        if (len == 0 || c < 0x20 || c == 0x7F) return false;
        for (int k = 1; k < len; k++)
            if ((p[k] & 0xC0) != 0x80) return false;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
            (c == 0xF4 && p[1] > 0x8F))
            return false;
        p += len;
    }
    return true;
}

/* The capped allocator of check_alloc_cap: allocations above the cap fail (an allocation that a loader should never
 * make shows as NIS_ENOMEM). */
static size_t check_cap_;
static void *check_cap_malloc_(size_t n, void *ud) { return n > check_cap_ ? NULL : malloc(n ? n : 1); }
static void *check_cap_realloc_(void *p, size_t n, void *ud) { return n > check_cap_ ? NULL : realloc(p, n ? n : 1); }
static void check_cap_free_(void *p, void *ud) { free(p); }
/* Make every library allocation above cap bytes fail (cap 0: the C library's allocator again). */
static inline void check_alloc_cap(size_t cap) {
    static const nis_allocator a = {check_cap_malloc_, check_cap_realloc_, check_cap_free_, NULL};
    check_cap_ = cap;
    nis_set_allocator(cap ? &a : NULL);
}

#endif
