/* src/nn/internal.h — helpers shared by the files of src/nn (private). */
#ifndef NIS_SRC_NN_INTERNAL_H
#define NIS_SRC_NN_INTERNAL_H

#include "nis/nn.h"

/* (n,) reals, 64-byte aligned and zeroed; *raw receives the pointer to nis_free.  NULL on overflow or when
 * out of memory. */
nis_real *nis__alloc_reals(int64_t n, void **raw);

#endif
