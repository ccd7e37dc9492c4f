/* tests/fuzz/fuzz_safetensors.c — libFuzzer target of the safetensors reader (nis_st_read and the accessors).
 * A file that loads must be consistent: every tensor has a unique name, a known dtype, a shape of non-negative
 * dims, data aligned to its element size and readable to the last byte (ASan checks), and nis_st_load copies it
 * (also converted to the other float type) or refuses with a clean message. */
#include "fuzz.h"
#include "nis/io.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("st");
    return 0;
}

/* Check entry e of f and copy it out with nis_st_load. */
static void check_entry(const nis_st_file *f, const nis_st_entry *e) {
    FUZZ_ASSERT(e && e->name && nis_st_find(f, e->name) == e, "find");
    size_t es = nis_dtype_size(e->dtype);
    FUZZ_ASSERT(es > 0 && e->ndim >= 0 && e->ndim <= NIS_MAX_DIMS, "dtype %d ndim %d", e->dtype, e->ndim);
    uint64_t n = 1;
    for (int k = 0; k < e->ndim; k++) {
        FUZZ_ASSERT(e->shape[k] >= 0, "shape");
        n *= (uint64_t)e->shape[k];
    }
    FUZZ_ASSERT(n == 0 || ((uintptr_t)e->data % es == 0), "misaligned data");
    unsigned sum = 0;
    const unsigned char *b = e->data;
    for (uint64_t i = 0; i < n * es; i++) sum += b[i];   /* every byte readable */
    if (n > ((uint64_t)1 << 20)) return;
    int want = e->dtype == NIS_DT_F32 ? NIS_DT_F64 : e->dtype == NIS_DT_F64 ? NIS_DT_F32 : e->dtype;
    void *dst = malloc((size_t)(n ? n : 1) * 8);
    char err[512] = "";
    nis_status st = nis_st_load(f, e->name, want, e->ndim, e->shape, dst, true, err, sizeof err);
    FUZZ_ASSERT(st == NIS_OK, "load of a listed tensor: %s", err);
    int64_t other[NIS_MAX_DIMS + 1] = {(int64_t)n + 1};
    st = nis_st_load(f, e->name, e->dtype, 1, other, dst, false, err, sizeof err);   /* the message quotes the */
    FUZZ_ASSERT(st == NIS_ESHAPE && err[0], "wrong shape accepted");                /* caller's name as given */
    st = nis_st_load(f, "no such tensor", e->dtype, e->ndim, e->shape, dst, false, err, sizeof err);
    fuzz_check_failure(st, err);
    free(dst);
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("in.safetensors", data, size);
    nis_st_file *f = (nis_st_file *)1;
    char err[512] = "";
    nis_status st = nis_st_read(path, &f, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(f == NULL, "out not NULL on failure");
        return 0;
    }
    int n = nis_st_count(f);
    FUZZ_ASSERT(n >= 0 && nis_st_get(f, n) == NULL && nis_st_get(f, -1) == NULL, "count");
    for (int i = 0; i < n; i++) check_entry(f, nis_st_get(f, i));
    for (int i = 0; i < nis_st_meta_count(f); i++) {
        const char *k, *v;
        FUZZ_ASSERT(nis_st_meta_at(f, i, &k, &v) && k && v, "meta_at");
        FUZZ_ASSERT(nis_st_meta(f, k) != NULL, "meta");
        int64_t x;
        (void)nis_st_meta_int(f, k, INT64_MIN, INT64_MAX, &x);
    }
    nis_st_close(f);
    return 0;
}
