/* src/core/ctx.c — contexts: a chunked bump arena, the sticky error, the grad-recording switch.
 *
 * The arena is a list of chunks.  Allocation bumps an offset in the current chunk and moves to the next
 * chunk (allocating it only if there is none) when it does not fit.  Reset rewinds to the first chunk but
 * keeps all chunks, so a step that repeats the previous step's allocations touches no heap.
 */
#include "ctx.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ALIGN 64

static nis_chunk *chunk_new(size_t cap) {
    nis_chunk *c = nis_malloc(sizeof(nis_chunk) + cap + ALIGN);
    if (!c) return NULL;
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    uintptr_t base = (uintptr_t)(c + 1);
    c->base = (unsigned char *)((base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    return c;
}

nis_ctx *nis_ctx_new(size_t initial_bytes) {
    nis_ctx *ctx = nis_calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->first = chunk_new(initial_bytes ? initial_bytes : ((size_t)1 << 20));
    if (!ctx->first) {
        nis_free(ctx);
        return NULL;
    }
    ctx->cur = ctx->first;
    ctx->grad_enabled = true;
    return ctx;
}

void nis_ctx_free(nis_ctx *ctx) {
    if (!ctx) return;
    for (nis_chunk *c = ctx->first, *n; c; c = n) {
        n = c->next;
        nis_free(c);
    }
    nis_free(ctx);
}

void nis_ctx_reset(nis_ctx *ctx) {
    for (nis_chunk *c = ctx->first; c; c = c->next) c->used = 0;
    ctx->cur = ctx->first;
    ctx->used = 0;
    ctx->last = NULL;
    ctx->status = NIS_OK;
    ctx->msg[0] = '\0';
}

void *nis_ctx_alloc(nis_ctx *ctx, size_t size) {
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    nis_chunk *c = ctx->cur;
    while (c->used + size > c->cap) {
        if (!c->next) {
            size_t cap = c->cap * 2 > size ? c->cap * 2 : size;
            c->next = chunk_new(cap);
            if (!c->next) {
                nis_ctx_fail(ctx, NIS_ENOMEM, "arena: out of memory allocating a chunk of %zu bytes", cap);
                return NULL;
            }
        }
        /* the tail of c is wasted until the next reset */
        ctx->used += c->cap - c->used;
        c->used = c->cap;
        c = c->next;
        ctx->cur = c;
    }
    void *p = c->base + c->used;
    c->used += size;
    ctx->used += size;
    if (ctx->used > ctx->peak) ctx->peak = ctx->used;
    return p;
}

size_t nis_ctx_used(const nis_ctx *ctx) { return ctx->used; }
size_t nis_ctx_peak(const nis_ctx *ctx) { return ctx->peak; }
size_t nis_ctx_reserved(const nis_ctx *ctx) {
    size_t r = 0;
    for (const nis_chunk *c = ctx->first; c; c = c->next) r += c->cap;
    return r;
}

nis_status nis_ctx_status(const nis_ctx *ctx) { return ctx->status; }
const char *nis_ctx_message(const nis_ctx *ctx) { return ctx->msg; }

nis_status nis_ctx_fail(nis_ctx *ctx, nis_status s, const char *fmt, ...) {
    NIS__STICKY_FAIL(ctx, s, fmt);
    return s;
}

void nis_ctx_clear_error(nis_ctx *ctx) {
    ctx->status = NIS_OK;
    ctx->msg[0] = '\0';
}

bool nis_ctx_set_grad(nis_ctx *ctx, bool enabled) {
    bool old = ctx->grad_enabled;
    ctx->grad_enabled = enabled;
    return old;
}

bool nis_ctx_grad_enabled(const nis_ctx *ctx) { return ctx->grad_enabled; }
