/* nis/io.h — files: atomic writes, safetensors, NumPy .npy.
 *
 * Every function here reports failure as a status code plus a one-line message written into the caller's
 * buffer `err` (of `errlen` bytes; NULL/0 to ignore it).  Messages name the file.  Codes:
 *   NIS_EIO      the file could not be opened, read, written, synced or renamed (message has strerror);
 *   NIS_EFORMAT  the file's content is damaged or not what it claims (message says what is wrong);
 *   NIS_EINVAL   a bad argument from the caller (unknown dtype, NULL data, duplicate tensor names, ...);
 *   NIS_ESHAPE   a tensor exists but its shape is not the one the caller asked for;
 *   NIS_ENOMEM   an allocation failed.
 * On failure nothing is returned (out-pointers are set to NULL / zeroed) and nothing needs to be freed.
 *
 * Writes are atomic: the bytes go to "<path>.tmp.<pid>", which is synced and then renamed over `path`, so a
 * reader sees either the old file or the whole new one, never a half-written one.
 *
 * Data are stored little-endian; the library supports little-endian hosts only.
 */
#ifndef NIS_IO_H
#define NIS_IO_H

#include "nis/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Element types of stored tensors (0 is never a valid dtype).
 */
enum { NIS_DT_F32 = 1, NIS_DT_F64 = 2, NIS_DT_I32 = 3, NIS_DT_I64 = 4 };
/* The dtype of nis_real in this build (F32 in libnis, F64 in libnis_f64). */
#ifdef NIS_REAL_DOUBLE
#define NIS_DT_REAL NIS_DT_F64
#else
#define NIS_DT_REAL NIS_DT_F32
#endif

/* Bytes per element of a dtype (0 if unknown). */
size_t nis_dtype_size(int dtype);
/* safetensors name of a dtype ("F32", "F64", "I32", "I64"; "?" if unknown).  Static string. */
const char *nis_dtype_name(int dtype);

/* ---------------------------------------------------------------------------------------------------------
 * Atomic file writing.  Usage (errors are sticky, so one check at the end is enough):
 *
 *     nis_atomic_file af;
 *     nis_atomic_open(&af, path, err, errlen);
 *     nis_atomic_write(&af, header, header_len);
 *     nis_atomic_write(&af, data, data_len);
 *     return nis_atomic_commit(&af);          // fsync, close, rename over path, fsync the directory
 *
 * The struct lives wherever the caller puts it (usually the stack); its fields are private.  Every
 * nis_atomic_open must be followed by exactly one nis_atomic_commit or nis_atomic_abort, which release
 * everything (also after a failed open).
 */
typedef struct {
    int fd;             /* temp file descriptor, -1 if none */
    nis_status status;  /* first error (sticky) */
    char *path;         /* target path (nis_malloc'd copy) */
    char *tmp;          /* "<path>.tmp.<pid>" (nis_malloc'd), NULL if not created */
    char *err;          /* caller's message buffer */
    size_t errlen;
} nis_atomic_file;

/* Create "<path>.tmp.<pid>" (O_CREAT|O_EXCL, mode 0644 minus umask).  Returns NIS_EIO if it cannot be
 * created (missing directory, permissions, a stale temp file of the same name, another thread of this
 * process writing the same path), NIS_EINVAL (empty path), NIS_ENOMEM.  The caller's err buffer must stay
 * valid until commit/abort, which write their messages there too. */
nis_status nis_atomic_open(nis_atomic_file *af, const char *path, char *err, size_t errlen);
/* Append n bytes (short writes and EINTR are handled).  After an error this and later writes do nothing
 * and the error is returned again by nis_atomic_commit. */
nis_status nis_atomic_write(nis_atomic_file *af, const void *data, size_t n);
/* Finish: fsync, close, rename the temp file over the target, fsync the directory, and remove the temp files of
 * the same target that writers killed before their commit left behind ("<path>.tmp.<pid>" whose process is gone).
 * On any failure (also an
 * earlier one of open/write) the temp file is unlinked and the first error returned (NIS_EIO naming the path
 * and strerror); the target is then untouched.  Releases af's memory in every case. */
nis_status nis_atomic_commit(nis_atomic_file *af);
/* Give up: close and unlink the temp file, release af's memory.  The target is untouched. */
void nis_atomic_abort(nis_atomic_file *af);
/* Write n bytes as the whole content of path, atomically (open + write + commit).  NIS_EIO/NIS_ENOMEM. */
nis_status nis_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* Read a whole regular file into *data (nis_malloc'd, caller frees with nis_free; one extra zero byte is
 * appended, not counted in *size).  NIS_EIO (missing, unreadable, not a regular file), NIS_ENOMEM. */
nis_status nis_read_file(const char *path, void **data, size_t *size, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * safetensors (https://huggingface.co/docs/safetensors): u64 little-endian header length N, N bytes of JSON
 * header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}, then
 * the byte buffer, which the tensors cover exactly, without gaps or overlaps.
 */

/* One tensor: a view, never owning its name or data. */
typedef struct {
    const char *name;               /* unique, not "__metadata__" */
    int dtype;                      /* NIS_DT_F32, NIS_DT_F64, NIS_DT_I32, NIS_DT_I64 */
    int ndim;                       /* 0..NIS_MAX_DIMS (0 = scalar, one element) */
    int64_t shape[NIS_MAX_DIMS];    /* shape[i] >= 0 for i < ndim */
    const void *data;               /* prod(shape) contiguous row-major elements of dtype (may be NULL if 0) */
} nis_st_entry;

/* Write `n` tensors and `n_meta` metadata pairs (meta_kv[2i] = key, meta_kv[2i+1] = value, UTF-8 strings)
 * to path, atomically.  The header lists the tensors in the given order, the byte buffer holds their data in
 * the given order, and the header is padded with spaces so the buffer starts at a multiple of 8.  Nothing
 * is retained.  NIS_EINVAL (bad dtype/ndim/shape, NULL name or data, duplicate or reserved names, duplicate
 * metadata keys), NIS_EIO, NIS_ENOMEM. */
nis_status nis_st_write(const char *path, int n, const nis_st_entry *entries, int n_meta,
                        const char *const *meta_kv, char *err, size_t errlen);

/* A loaded safetensors file (the whole file in memory, validated). */
typedef struct nis_st_file nis_st_file;

/* Load and validate path.  On success *out owns everything (free with nis_st_close); on failure *out is
 * NULL.  NIS_EIO (cannot read), NIS_EFORMAT (anything wrong with the content: short file, bad header length,
 * bad JSON, missing or mistyped fields, unknown dtype, bad shape, size mismatch, offsets out of range,
 * overlaps, gaps, trailing bytes, duplicate names, bad metadata), NIS_ENOMEM. */
nis_status nis_st_read(const char *path, nis_st_file **out, char *err, size_t errlen);
/* Free a loaded file and everything it owns (all entries and strings from it become invalid).  NULL ok. */
void nis_st_close(nis_st_file *f);
/* Number of tensors. */
int nis_st_count(const nis_st_file *f);
/* Tensor i (0 <= i < count; header order), or NULL if i is out of range.  Owned by f; the data pointer is
 * aligned to the element size. */
const nis_st_entry *nis_st_get(const nis_st_file *f, int i);
/* The tensor called name, or NULL.  Owned by f. */
const nis_st_entry *nis_st_find(const nis_st_file *f, const char *name);
/* Metadata value for key, or NULL.  Owned by f. */
const char *nis_st_meta(const nis_st_file *f, const char *key);
/* Metadata value for key as a decimal integer in [lo, hi] into *out; false (out unchanged) when it is missing,
 * not an integer or out of range. */
bool nis_st_meta_int(const nis_st_file *f, const char *key, int64_t lo, int64_t hi, int64_t *out);
/* Number of metadata pairs, and pair i (false if out of range).  Strings owned by f. */
int nis_st_meta_count(const nis_st_file *f);
bool nis_st_meta_at(const nis_st_file *f, int i, const char **key, const char **value);

/* Copy tensor `name` into dst (caller-owned, room for prod(shape) elements of `dtype`) after checking that
 * it exists (else NIS_EFORMAT), that its dtype is `dtype` (else NIS_EFORMAT; with `convert` an F64 tensor
 * is also accepted for F32 and an F32 one for F64, converted element-wise) and that its shape is exactly
 * (ndim, shape) (else NIS_ESHAPE, naming the tensor and both shapes). */
nis_status nis_st_load(const nis_st_file *f, const char *name, int dtype, int ndim, const int64_t *shape,
                       void *dst, bool convert, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------------------------
 * NumPy .npy files (format 1.0 written; 1.0, 2.0 and 3.0 read), C-order float32 ('<f4') and float64
 * ('<f8') arrays of up to NIS_MAX_DIMS dimensions.
 */
typedef struct {
    int dtype;                      /* NIS_DT_F32 or NIS_DT_F64 */
    int ndim;                       /* 0..NIS_MAX_DIMS */
    int64_t shape[NIS_MAX_DIMS];    /* shape[i] for i < ndim; unused entries are 1 */
    int64_t n;                      /* number of elements, prod(shape) */
    void *data;                     /* n elements, row-major; owned (nis_malloc), free with nis_npy_free */
} nis_npy_array;

/* Write a C-order array (dtype NIS_DT_F32 or NIS_DT_F64, ndim 0..NIS_MAX_DIMS, shape[i] >= 0) to path,
 * atomically; the data start at a multiple of 64 bytes.  data is only read.  NIS_EINVAL, NIS_EIO,
 * NIS_ENOMEM. */
nis_status nis_npy_write(const char *path, int dtype, int ndim, const int64_t *shape, const void *data,
                         char *err, size_t errlen);
/* Read path into *out with the file's own dtype ('<f4' -> F32, '<f8' -> F64).  On success out->data is
 * owned by the caller (nis_npy_free); on failure *out is zeroed.  NIS_EIO, NIS_EFORMAT (bad magic or
 * version, header beyond the file, unparsable header, big-endian/object/other dtypes, fortran_order True,
 * more than NIS_MAX_DIMS dims, shape overflow, truncated or extra data), NIS_ENOMEM. */
nis_status nis_npy_read(const char *path, nis_npy_array *out, char *err, size_t errlen);
/* Like nis_npy_read, converting the values to `dtype` (NIS_DT_F32 or NIS_DT_F64; 0 keeps the file's). */
nis_status nis_npy_read_as(const char *path, int dtype, nis_npy_array *out, char *err, size_t errlen);
/* Free out->data and zero *a.  NULL ok. */
void nis_npy_free(nis_npy_array *a);

#ifdef __cplusplus
}
#endif
#endif
