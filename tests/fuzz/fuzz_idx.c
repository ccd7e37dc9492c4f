/* tests/fuzz/fuzz_idx.c — libFuzzer target of the IDX reader (nis_idx_read), plain and gzip-compressed.  An input is
 * one byte (odd: the harness gzips the rest before writing it, so the fuzzer's mutations reach the parser through
 * zlib) and then the file.  A file that loads must hold n = prod(shape) readable bytes, 1..4 dims of size >= 1. */
#include "fuzz.h"
#include "nis/idx.h"

#include <zlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("idx");
    return 0;
}

/* Write n bytes gzip-compressed as the file `name`; its path. */
static const char *write_gz(const char *name, const uint8_t *b, size_t n) {
    const char *path = fuzz_path(name);
    unlink(path);
    gzFile g = gzopen(path, "wb1");
    FUZZ_ASSERT(g != NULL, "gzopen %s", path);
    FUZZ_ASSERT(n == 0 || gzwrite(g, b, (unsigned)n) == (int)n, "gzwrite");
    FUZZ_ASSERT(gzclose(g) == Z_OK, "gzclose");
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 24)) return 0;
    const char *path = data[0] & 1 ? write_gz("in.idx.gz", data + 1, size - 1)
                                   : fuzz_write("in.idx", data + 1, size - 1);
    nis_idx a;
    char err[512] = "";
    nis_status st = nis_idx_read(path, &a, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(fuzz_zeroed(&a, sizeof a), "output not zeroed on failure");
        return 0;
    }
    FUZZ_ASSERT(a.ndim >= 1 && a.ndim <= 4 && a.data, "ndim %d", a.ndim);
    int64_t n = 1;
    for (int k = 0; k < NIS_MAX_DIMS; k++) {
        FUZZ_ASSERT(k < a.ndim ? a.shape[k] >= 1 : a.shape[k] == 1, "shape");
        n *= a.shape[k];
    }
    bool plain = !(data[0] & 1) && !(size >= 3 && data[1] == 0x1f && data[2] == 0x8b);   /* else zlib inflates it */
    FUZZ_ASSERT(n == a.n && (!plain || (size_t)n + 4 + 4 * (size_t)a.ndim == size - 1), "size");
    unsigned sum = 0;
    for (int64_t i = 0; i < a.n; i++) sum += a.data[i];
    (void)sum;
    nis_idx_free(&a);
    return 0;
}
