/* tests/fuzz/fuzz_npy.c — libFuzzer target of the .npy reader (nis_npy_read, nis_npy_read_as F32 / F64).  A file
 * that loads must hold n = prod(shape) elements of its dtype, every one readable (ASan checks the buffer). */
#include "fuzz.h"
#include "nis/io.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("npy");
    return 0;
}

/* Read path as dtype (0: the file's) and check the result; the status. */
static nis_status read_one(const char *path, int dtype) {
    nis_npy_array a;
    char err[512] = "";
    nis_status st = dtype ? nis_npy_read_as(path, dtype, &a, err, sizeof err) : nis_npy_read(path, &a, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(fuzz_zeroed(&a, sizeof a), "output not zeroed on failure");
        return st;
    }
    FUZZ_ASSERT(a.dtype == NIS_DT_F32 || a.dtype == NIS_DT_F64, "dtype %d", a.dtype);
    FUZZ_ASSERT(dtype == 0 || a.dtype == dtype, "dtype %d, asked %d", a.dtype, dtype);
    FUZZ_ASSERT(a.ndim >= 0 && a.ndim <= NIS_MAX_DIMS, "ndim %d", a.ndim);
    int64_t n = 1;
    for (int k = 0; k < NIS_MAX_DIMS; k++) {
        FUZZ_ASSERT(a.shape[k] >= 0 && (k < a.ndim || a.shape[k] == 1), "shape");
        n *= a.shape[k];
    }
    FUZZ_ASSERT(n == a.n, "n %lld, shape product %lld", (long long)a.n, (long long)n);
    FUZZ_ASSERT(a.n == 0 || a.data, "no data");
    const unsigned char *b = a.data;
    unsigned sum = 0;
    for (int64_t i = 0; i < a.n * (int64_t)nis_dtype_size(a.dtype); i++) sum += b[i];
    (void)sum;
    nis_npy_free(&a);
    FUZZ_ASSERT(fuzz_zeroed(&a, sizeof a), "nis_npy_free");
    return NIS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("in.npy", data, size);
    nis_status st = read_one(path, 0);
    if (st == NIS_OK || st == NIS_ENOMEM) {   /* the same verdict in either dtype (the allocation size differs) */
        nis_status a = read_one(path, NIS_DT_F32), b = read_one(path, NIS_DT_F64);
        FUZZ_ASSERT((a == NIS_OK || a == NIS_ENOMEM) && (b == NIS_OK || b == NIS_ENOMEM), "verdicts differ");
    } else {
        FUZZ_ASSERT(read_one(path, NIS_DT_F64) == st, "verdicts differ");
    }
    return 0;
}
