/* IDX files: plain and gzip round trips of image- and label-shaped files, and each kind of damage rejected
 * with a message naming the file. */
#include "check.h"
#include "nis/idx.h"

#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tmpdir.h"

static void expect_bad(const char *name, const unsigned char *b, size_t n, const char *what) {
    nis_idx a;
    char err[256] = "";
    const char *p = WB(name, b, n, true);
    nis_status st = nis_idx_read(p, &a, err, sizeof err);
    CHECK(st == NIS_EFORMAT && a.data == NULL, "%s: status %s", name, nis_status_name(st));
    CHECK(strstr(err, name) && strstr(err, what), "%s: message '%s' lacks '%s'", name, err, what);
    unlink(p);
}

int main(void) {
    tmpdir_make("test_idx");
    /* images (3, 2, 4) and labels (3,) */
    unsigned char img[16 + 24], lab[8 + 3];
    memcpy(img, (unsigned char[]){0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4}, 16);
    for (int i = 0; i < 24; i++) img[16 + i] = (unsigned char)(i * 10);
    memcpy(lab, (unsigned char[]){0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9}, 11);
    for (int gz = 0; gz < 2; gz++) {
        nis_idx a;
        char err[256];
        const char *p = WB(gz ? "img.gz" : "img", img, sizeof img, gz);
        CHECK(nis_idx_read(p, &a, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(a.ndim == 3 && a.shape[0] == 3 && a.shape[1] == 2 && a.shape[2] == 4 && a.n == 24, "image shape");
        CHECK(a.data && a.data[0] == 0 && a.data[23] == 230, "image bytes");
        nis_idx_free(&a);
        unlink(p);
        p = WB(gz ? "lab.gz" : "lab", lab, sizeof lab, gz);
        CHECK(nis_idx_read(p, &a, err, sizeof err) == NIS_OK, "%s", err);
        CHECK(a.ndim == 1 && a.n == 3 && a.data[0] == 7 && a.data[2] == 9, "labels");
        nis_idx_free(&a);
        unlink(p);
    }
    expect_bad("short", img, 3, "shorter");
    unsigned char b[48];
    memcpy(b, img, sizeof img);
    b[0] = 1;
    expect_bad("magic", b, sizeof img, "magic");
    memcpy(b, img, sizeof img), b[2] = 0x0D;
    expect_bad("type", b, sizeof img, "type");
    memcpy(b, img, sizeof img), b[3] = 0;
    expect_bad("ndim", b, sizeof img, "dimensions");
    memcpy(b, img, sizeof img), b[7] = 0;
    expect_bad("zerodim", b, sizeof img, "size 0");
    expect_bad("truncated", img, sizeof img - 1, "truncated");
    memcpy(b, img, sizeof img), b[sizeof img] = 1;
    expect_bad("trailing", b, sizeof img + 1, "trailing");
    expect_bad("headerend", img, 10, "inside dimension");
    {   /* a 20-byte file whose header promises 2^31 - 2^16 bytes: refused as truncated, and no more than the 1 MiB
         * first chunk allocated (issue 19: the whole claim was allocated first) */
        unsigned char big[20] = {0, 0, 8, 2, 0, 0, 0x80, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
        check_alloc_cap((size_t)4 << 20);
        expect_bad("promise", big, sizeof big, "truncated");
        check_alloc_cap(0);
    }
    nis_idx a;
    char err[256];
    CHECK(nis_idx_read("/nonexistent/x.gz", &a, err, sizeof err) == NIS_EIO && strstr(err, "/nonexistent/x.gz"),
          "missing file: %s", err);
    rmdir(g_dir);
    return check_done("test_idx");
}
