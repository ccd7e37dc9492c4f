/* tests/test_io_fuzz.c — deterministic mutation fuzzing of the safetensors and .npy readers.
 *
 * Valid files (written by the library) are mutated 2,000 times each with a fixed seed — byte flips and
 * overwrites (biased towards the header), truncation, a new header length, inserted random bytes or JSON /
 * Python tokens, deleted ranges — and read back.  A reader must never crash (run it under `make asan`),
 * must answer OK or EFORMAT with a message naming the file, one printable line (bytes of the file in it are
 * quoted), and when it answers OK the result must be consistent: shapes non-negative, shape product times
 * element size equal to the bytes the file holds, every data byte readable. */
#include "check.h"
#include "nis/io.h"

#include <string.h>
#include <unistd.h>

#define N_MUT 2000
#define MAX_FILE 4096

static char g_dir[64];

static uint64_t rnd(uint64_t n) { return n ? (uint64_t)(test_uniform() * (double)n) % n : 0; }

/* (Unlinked first: ext4 flushes a file that is truncated and rewritten, which would make this slow.) */
static void write_bytes(const char *path, const void *b, size_t n) {
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    if (n && fwrite(b, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}

static const char *tokens[] = {
    "\"", "{", "}", "[", "]", ",", ":", "-1", "0", "1e308", "1.5", "99999999999999999999", "\"F64\"", "\"I32\"",
    "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "null", "True", "False", "(", ")", "'", "L",
    "4294967296,", " ", "\\u0000", "\xff"};

/* Apply 1..4 random mutations to b[0..*n) (capacity MAX_FILE); header_end is where the header ends. */
static void mutate(unsigned char *b, size_t *n, size_t header_end, size_t len_off, size_t len_bytes) {
    int m = 1 + (int)rnd(4);
    for (int k = 0; k < m; k++) {
        size_t sz = *n;
        switch (rnd(8)) {
        case 0: case 1: {   /* flip bits of a byte, mostly in the header */
            if (!sz) break;
            size_t at = rnd(2) && header_end <= sz ? rnd(header_end) : rnd(sz);
            b[at] ^= (unsigned char)(1 + rnd(255));
            break;
        }
        case 2: {           /* overwrite a byte with a digit or a random value */
            if (!sz) break;
            size_t at = rnd(header_end <= sz ? header_end : sz);
            b[at] = rnd(2) ? (unsigned char)('0' + rnd(10)) : (unsigned char)rnd(256);
            break;
        }
        case 3:             /* truncate */
            *n = rnd(sz + 1);
            break;
        case 4: {           /* a new header length: small change or anything */
            if (sz < len_off + len_bytes) break;
            uint64_t v = 0;
            for (size_t i = 0; i < len_bytes; i++) v |= (uint64_t)b[len_off + i] << (8 * i);
            v = rnd(3) == 0 ? test_uniform() < 0.5 ? rnd(2 * sz + 16) : ~(uint64_t)0 >> rnd(64)
                            : v + rnd(17) - 8;
            for (size_t i = 0; i < len_bytes; i++) b[len_off + i] = (unsigned char)(v >> (8 * i));
            break;
        }
        case 5: {           /* insert random bytes */
            size_t cnt = 1 + rnd(16), at = rnd(sz + 1);
            if (sz + cnt > MAX_FILE) break;
            memmove(b + at + cnt, b + at, sz - at);
            for (size_t i = 0; i < cnt; i++) b[at + i] = (unsigned char)rnd(256);
            *n = sz + cnt;
            break;
        }
        case 6: {           /* insert a token, in the header */
            const char *t = tokens[rnd(sizeof tokens / sizeof tokens[0])];
            size_t cnt = strlen(t), at = rnd((header_end <= sz ? header_end : sz) + 1);
            if (sz + cnt > MAX_FILE) break;
            memmove(b + at + cnt, b + at, sz - at);
            memcpy(b + at, t, cnt);
            *n = sz + cnt;
            break;
        }
        case 7: {           /* delete a range */
            if (!sz) break;
            size_t at = rnd(sz), cnt = 1 + rnd(sz - at < 8 ? sz - at : 8);
            memmove(b + at, b + at + cnt, sz - at - cnt);
            *n = sz - cnt;
            break;
        }
        }
    }
}

/* Read every byte of p[0..n) so ASan sees any out-of-bounds pointer. */
static unsigned touch(const void *p, size_t n) {
    const unsigned char *c = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += c[i];
    return s;
}

static void fuzz_safetensors(void) {
    float a[6] = {1, 2, 3, 4, 5, 6}, odd[3] = {7, 8, 9};
    double s = 0.5;
    int64_t ix[2] = {1, 2};
    nis_st_entry e[] = {
        {"a", NIS_DT_F32, 2, {2, 3}, a},
        {"odd", NIS_DT_F32, 1, {3}, odd},
        {"s", NIS_DT_F64, 0, {0}, &s},
        {"empty", NIS_DT_F32, 2, {3, 0}, NULL},
        {"ix", NIS_DT_I64, 4, {1, 2, 1, 1}, ix},
    };
    const char *meta[] = {"format", "pt", "k", "v"};
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/f.safetensors", g_dir);
    CHECK(nis_st_write(path, 5, e, 2, meta, err, sizeof err) == NIS_OK, "%s", err);
    void *raw;
    size_t size;
    CHECK(nis_read_file(path, &raw, &size, err, sizeof err) == NIS_OK && size < MAX_FILE / 2, "%s", err);
    size_t header_end = 8;
    for (int k = 0; k < 8; k++) header_end += (size_t)((unsigned char *)raw)[k] << (8 * k);
    static unsigned char b[MAX_FILE];
    int ok = 0, rejected = 0, bad = 0;
    unsigned sum = 0;
    for (int it = 0; it < N_MUT; it++) {
        size_t n = size;
        memcpy(b, raw, size);
        mutate(b, &n, header_end, 0, 8);
        write_bytes(path, b, n);
        nis_st_file *f = NULL;
        err[0] = '\0';
        nis_status st = nis_st_read(path, &f, err, sizeof err);
        if (st != NIS_OK) {
            rejected++;
            bool good = st == NIS_EFORMAT && f == NULL && strstr(err, path) != NULL && check_clean_line(err);
            bad += !good;
            if (!good) fprintf(stderr, "iteration %d: %s: %s\n", it, nis_status_name(st), err);
            continue;
        }
        ok++;
        /* consistent: the tensors' sizes add up to the buffer, names are found, data readable */
        uint64_t hn = 0, total = 0;
        for (int k = 0; k < 8; k++) hn |= (uint64_t)b[k] << (8 * k);
        bool good = true;
        for (int i = 0; i < nis_st_count(f); i++) {
            const nis_st_entry *t = nis_st_get(f, i);
            uint64_t bytes = nis_dtype_size(t->dtype);
            good = good && bytes > 0 && t->ndim >= 0 && t->ndim <= NIS_MAX_DIMS && t->data &&
                   nis_st_find(f, t->name) == t;
            for (int d = 0; good && d < t->ndim; d++) {
                good = t->shape[d] >= 0;
                bytes *= (uint64_t)t->shape[d];
            }
            if (!good) break;
            sum += touch(t->data, (size_t)bytes);
            total += bytes;
        }
        for (int i = 0; good && i < nis_st_meta_count(f); i++) {
            const char *k, *v;
            good = nis_st_meta_at(f, i, &k, &v) && nis_st_meta(f, k) == v;
        }
        good = good && total == n - 8 - hn;
        CHECK(good, "iteration %d: inconsistent result", it);
        nis_st_close(f);
    }
    nis_free(raw);
    printf("safetensors: %d mutations, %d accepted, %d rejected (checksum %u)\n", N_MUT, ok, rejected, sum & 0xFF);
    CHECK(bad == 0, "%d bad rejections", bad);
    CHECK(rejected > N_MUT / 2, "most mutations should be rejected (%d)", rejected);
    CHECK(ok > 0, "some mutations should keep the file valid (%d)", ok);
}

static void fuzz_npy(int dtype, int major) {
    double v[24];
    for (int i = 0; i < 24; i++) v[i] = i * 0.25;
    float vf[24];
    for (int i = 0; i < 24; i++) vf[i] = (float)v[i];
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/f.npy", g_dir);
    CHECK(nis_npy_write(path, dtype, 3, (int64_t[]){2, 3, 4}, dtype == NIS_DT_F32 ? (void *)vf : (void *)v, err,
                        sizeof err) == NIS_OK, "%s", err);
    static unsigned char b[MAX_FILE], orig[MAX_FILE];
    FILE *fp = fopen(path, "rb");
    size_t size = fp ? fread(orig, 1, sizeof orig, fp) : 0;
    if (fp) fclose(fp);
    size_t hlen = orig[8] | (size_t)orig[9] << 8, len_off = 8, len_bytes = 2;
    if (major > 1) {   /* the same file as version 2.0/3.0: a 4-byte header length */
        memmove(orig + 12, orig + 10, size - 10);
        orig[6] = (unsigned char)major;
        orig[8] = (unsigned char)hlen, orig[9] = (unsigned char)(hlen >> 8), orig[10] = orig[11] = 0;
        size += 2;
        len_bytes = 4;
    }
    size_t header_end = (major > 1 ? 12 : 10) + hlen;
    nis_npy_array a;
    CHECK(nis_npy_read(path, &a, err, sizeof err) == NIS_OK && a.n == 24, "%s", err);
    nis_npy_free(&a);
    int ok = 0, rejected = 0, bad = 0;
    unsigned sum = 0;
    for (int it = 0; it < N_MUT; it++) {
        size_t n = size;
        memcpy(b, orig, size);
        mutate(b, &n, header_end, len_off, len_bytes);
        write_bytes(path, b, n);
        err[0] = '\0';
        int want = (int)rnd(3);   /* 0 = as stored, else F32 / F64 */
        nis_status st = nis_npy_read_as(path, want, &a, err, sizeof err);
        if (st != NIS_OK) {
            rejected++;
            bool good = st == NIS_EFORMAT && a.data == NULL && strstr(err, path) != NULL && check_clean_line(err);
            bad += !good;
            if (!good) fprintf(stderr, "iteration %d: %s: %s\n", it, nis_status_name(st), err);
            continue;
        }
        ok++;
        int64_t prod = 1;
        bool good = a.ndim >= 0 && a.ndim <= NIS_MAX_DIMS && (want == 0 || a.dtype == want) && a.data;
        for (int d = 0; good && d < a.ndim; d++) {
            good = a.shape[d] >= 0;
            prod *= a.shape[d];
        }
        good = good && prod == a.n;
        if (good) sum += touch(a.data, (size_t)a.n * nis_dtype_size(a.dtype));
        CHECK(good, "iteration %d: inconsistent result", it);
        nis_npy_free(&a);
    }
    printf("npy (%s, v%d.0): %d mutations, %d accepted, %d rejected (checksum %u)\n", nis_dtype_name(dtype), major,
           N_MUT, ok, rejected, sum & 0xFF);
    CHECK(bad == 0, "%d bad rejections", bad);
    CHECK(rejected > N_MUT / 2 && ok > 0, "accepted %d, rejected %d", ok, rejected);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nis_test_io_fuzz_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    test_seed(20240601);
    fuzz_safetensors();
    fuzz_npy(NIS_DT_F32, 1);
    fuzz_npy(NIS_DT_F64, 2);
    char p[128];
    snprintf(p, sizeof p, "%s/f.safetensors", g_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/f.npy", g_dir);
    unlink(p);
    CHECK(rmdir(g_dir) == 0, "temp directory not empty");
    return check_done("test_io_fuzz");
}
