/* src/train/ebm_internal.h — private helpers shared by the EBM files (ebm_io.c, ebm.c). */
#ifndef NIS_SRC_TRAIN_EBM_INTERNAL_H
#define NIS_SRC_TRAIN_EBM_INTERNAL_H

#include "nis/ebm.h"
#include "nis/io.h"

/* Write E's parameters and "ebm.*" metadata to path; with opt (step > 0 and moments present) also the
 * "<name>.adam_m/.adam_v" tensors and "adam.step"; with buffer also "buffer" (buffer_n, c, h, w); then the
 * extra metadata pairs.  Atomic.  NIS_EINVAL, NIS_EIO, NIS_ENOMEM. */
nis_status nis__ebm_write(const char *path, const nis_ebm *E, const nis_adam *opt, const nis_real *buffer,
                          int64_t buffer_n, int n_meta, const char *const *meta_kv, char *err, size_t errlen);

/* The configuration stored in f's "ebm.*" metadata.  NIS_EFORMAT naming the bad key. */
nis_status nis__ebm_read_config(const nis_st_file *f, const char *path, nis_ebm_config *cfg, char *err,
                                size_t errlen);

/* An integer metadata value (decimal, >= 0).  NIS_EFORMAT naming the key if missing or bad. */
nis_status nis__ebm_meta_i64(const nis_st_file *f, const char *path, const char *key, int64_t *out, char *err,
                             size_t errlen);

#endif
