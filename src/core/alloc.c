/* src/core/alloc.c — the library's allocator hook and allocation counter. */
#include "nis/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void *std_malloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void *std_realloc(void *p, size_t n, void *ud) { (void)ud; return realloc(p, n); }
static void std_free(void *p, void *ud) { (void)ud; free(p); }

static nis_allocator g_alloc = {std_malloc, std_realloc, std_free, NULL};
static _Atomic uint64_t g_count;

void nis_set_allocator(const nis_allocator *a) {
    if (a) g_alloc = *a;
    else g_alloc = (nis_allocator){std_malloc, std_realloc, std_free, NULL};
}

void *nis_malloc(size_t size) {
    void *p = g_alloc.malloc_fn(size ? size : 1, g_alloc.ud);
    if (p) atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed);
    return p;
}

void *nis_calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    size_t bytes = n * size;
    void *p = nis_malloc(bytes);
    if (p && bytes) memset(p, 0, bytes);
    return p;
}

void *nis_realloc(void *p, size_t size) {
    void *q = g_alloc.realloc_fn(p, size ? size : 1, g_alloc.ud);
    if (q) atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed);
    return q;
}

void nis_free(void *p) {
    if (p) g_alloc.free_fn(p, g_alloc.ud);
}

uint64_t nis_alloc_count(void) { return atomic_load_explicit(&g_count, memory_order_relaxed); }

const char *nis_status_name(nis_status s) {
    switch (s) {
    case NIS_OK: return "OK";
    case NIS_ENOMEM: return "ENOMEM";
    case NIS_ESHAPE: return "ESHAPE";
    case NIS_EINVAL: return "EINVAL";
    case NIS_EIO: return "EIO";
    case NIS_EFORMAT: return "EFORMAT";
    case NIS_ENUMERIC: return "ENUMERIC";
    case NIS_ESTATE: return "ESTATE";
    }
    return "E?";
}
