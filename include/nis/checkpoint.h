/* nis/checkpoint.h — a model's parameters and its Adam state in one safetensors file.
 *
 * Layout: one tensor per parameter under its own name ("sampler.fc1.weight", dtype F32 in libnis); with an
 * optimiser, its moments as "<name>.adam_m" / "<name>.adam_v" and the step count in the metadata key
 * "adam.step"; free-form string metadata (model configuration, target, seed, ...) beside it.  Files are
 * written atomically; loading is all-or-nothing: every check passes before any value is copied.
 */
#ifndef NIS_CHECKPOINT_H
#define NIS_CHECKPOINT_H

#include "nis/io.h"
#include "nis/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write P (finalized) and, if opt is not NULL and has taken a step, its Adam state, with n_meta metadata
 * pairs (meta_kv[2i] key, meta_kv[2i+1] value; keys starting with "adam." are reserved).  NIS_EIO,
 * NIS_ENOMEM, NIS_EINVAL; the message goes to err. */
nis_status nis_checkpoint_save(const char *path, const nis_params *P, const nis_adam *opt, int n_meta,
                               const char *const *meta_kv, char *err, size_t errlen);

/* The same with n_extra more tensors (their entries are copied; the data they point to is only read), e.g. a
 * replay buffer next to a model.  Their names must not clash with P's. */
nis_status nis_checkpoint_save_extra(const char *path, const nis_params *P, const nis_adam *opt, int n_extra,
                                     const nis_st_entry *extra, int n_meta, const char *const *meta_kv, char *err,
                                     size_t errlen);

/* Read a checkpoint into P (declared and finalized with the same names and shapes) and, if opt is not NULL
 * and the file has Adam state, into opt and P's moments.  Every parameter of P must be in the file with its
 * exact shape and the file may hold nothing else but optimiser state (NIS_EFORMAT / NIS_ESHAPE naming the
 * tensor otherwise); on any error P and opt are unchanged. */
nis_status nis_checkpoint_load(const char *path, nis_params *P, nis_adam *opt, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
