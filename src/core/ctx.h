/* src/core/ctx.h — the context's layout (private). */
#ifndef NIS_SRC_CORE_CTX_H
#define NIS_SRC_CORE_CTX_H

#include "nis/core.h"

typedef struct nis_chunk {
    struct nis_chunk *next;
    size_t cap, used;
    unsigned char *base; /* 64-byte aligned start of the usable bytes */
} nis_chunk;

struct nis_ctx {
    nis_chunk *first, *cur;
    size_t used, peak;       /* bytes handed out since the last reset (incl. wasted chunk tails) / max */
    nis_tensor *last;        /* most recently recorded node (creation order runs through ->prev) */
    uint32_t pass;           /* backward-pass stamp counter */
    bool grad_enabled;
    nis_status status;
    char msg[256];
};

#endif
