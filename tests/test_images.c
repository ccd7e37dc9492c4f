/* Image data sets: MNIST JSON files written here (good, wrong length, out of range, NaN/garbage, missing
 * "data", empty), the 80/20 split over a directory of ten files, and the PNG grid writer. */
#include "check.h"
#include "nis/images.h"
#include "nis/io.h"

#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

/* {"data": [k digits of 784 values]}; digit j pixel p = ((j*7 + p) % 11) / 10 (a fraction in [0, 1]). */
/* Element bad_at (if >= 0) is written as the text bad instead. */
static char *digits_json_bad(int k, int extra, int bad_at, const char *bad) {
    size_t cap = (size_t)(k * 784 + extra) * 8 + 64;
    char *s = malloc(cap), *p = s;
    p += sprintf(p, "{\"data\": [");
    for (int j = 0; j < k; j++)
        for (int q = 0; q < 784; q++) {
            if (j * 784 + q == bad_at) p += sprintf(p, "%s%s", (j || q) ? "," : "", bad);
            else p += sprintf(p, "%s%g", (j || q) ? "," : "", ((j * 7 + q) % 11) / 10.0);
        }
    for (int e = 0; e < extra; e++) p += sprintf(p, ",0.5");
    sprintf(p, "]}\n");
    return s;
}
static char *digits_json(int k, int extra) { return digits_json_bad(k, extra, -1, NULL); }

static void expect_bad(const char *name, const char *text, const char *what) {
    nis_images im;
    char err[256] = "";
    const char *p = W(name, text);
    nis_status st = nis_mnist_json_read(p, 3, &im, err, sizeof err);
    CHECK(st == NIS_EFORMAT && im.x == NULL && im.n == 0, "%s: status %s", name, nis_status_name(st));
    CHECK(strstr(err, name) && strstr(err, what), "%s: message '%s' lacks '%s'", name, err, what);
    unlink(p);
}

int main(void) {
    tmpdir_make("test_images");
    /* a good file of 2 digits */
    char *good = digits_json(2, 0);
    nis_images im;
    char err[256] = "";
    const char *p = W("good.json", good);
    CHECK(nis_mnist_json_read(p, 7, &im, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(im.n == 2 && im.c == 1 && im.h == 28 && im.w == 28, "shape %lld", (long long)im.n);
    CHECK(im.label && im.label[0] == 7 && im.label[1] == 7, "labels");
    CHECK(im.x && fabsf(im.x[784 + 5] - ((7 + 5) % 11) / 10.0f) < 1e-7f && im.x[0] == 0.0f, "values");
    nis_images_free(&im);
    CHECK(im.x == NULL && im.label == NULL && im.n == 0, "free zeroes");
    nis_images_free(NULL);
    unlink(p);

    char *longer = digits_json(1, 3);
    expect_bad("length.json", longer, "not a multiple of 784");
    free(longer);
    const struct { const char *name, *value, *what; } bad[] = {
        {"range.json", "1.5", "data[900] = 1.5 is not in [0, 1]"},
        {"negative.json", "-1e-3", "data[900] = -0.001"},
        {"inf.json", "9e999", "data[900] = inf"},
        {"nan.json", "NaN", "not valid JSON"},
        {"garbage.json", "0.5x", "not valid JSON"},
        {"string.json", "\"0.5\"", "data[900] is not a number"},
        {"null.json", "null", "data[900] is not a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *s = digits_json_bad(2, 0, 900, bad[i].value);
        expect_bad(bad[i].name, s, bad[i].what);
        free(s);
    }
    expect_bad("trailing.json", "{\"data\": []} x", "after the JSON");
    expect_bad("missing.json", "{\"pixels\": [0, 1]}", "no \"data\"");
    expect_bad("notarray.json", "{\"data\": 3}", "not an array");
    expect_bad("emptydata.json", "{\"data\": []}", "empty");
    expect_bad("empty.json", "", "empty file");
    CHECK(nis_mnist_json_read("/nonexistent/0.json", 0, &im, err, sizeof err) == NIS_EIO &&
              strstr(err, "/nonexistent/0.json"),
          "missing file: %s", err);

    /* a directory of ten files with 5, 6, ..., 14 digits: train gets floor(0.8 k) of each */
    int64_t want_tr = 0, want_te = 0;
    for (int d = 0; d < 10; d++) {
        char name[32];
        snprintf(name, sizeof name, "%d.json", d);
        char *s = digits_json(5 + d, 0);
        W(name, s);
        free(s);
        want_tr += (5 + d) * 4 / 5;
        want_te += (5 + d) - (5 + d) * 4 / 5;
    }
    nis_images tr, te;
    CHECK(nis_mnist_load(g_dir, &tr, &te, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(tr.n == want_tr && te.n == want_te, "split %lld/%lld", (long long)tr.n, (long long)te.n);
    /* first train digit of class 0 is digit 0 of 0.json; first test digit is digit 4 (k = 5, 4 train) */
    CHECK(tr.label[0] == 0 && tr.label[tr.n - 1] == 9 && te.label[0] == 0 && te.label[te.n - 1] == 9, "labels");
    CHECK(te.x[5] == (float)(((4 * 7 + 5) % 11) / 10.0), "first test digit is the 5th of 0.json");
    CHECK(tr.label[4] == 1 && te.label[1] == 1, "class boundaries");
    /* grid PNG */
    char png[256];
    snprintf(png, sizeof png, "%s/grid.png", g_dir);
    CHECK(nis_images_write_grid_png(png, te.x, te.n, 28, 28, 5, 2, err, sizeof err) == NIS_OK, "%s", err);
    void *bytes = NULL;
    size_t size = 0;
    CHECK(nis_read_file(png, &bytes, &size, err, sizeof err) == NIS_OK && size > 8 &&
              memcmp(bytes, "\x89PNG", 4) == 0,
          "PNG written (%zu bytes)", size);
    /* 5 columns x ceil(23 / 5) = 5 rows of (28+1) + 1 border, scale 2: 292 x 292 (IHDR big-endian) */
    const unsigned char *b = bytes;
    CHECK(te.n == 23, "23 test digits");
    CHECK(size > 24 && b[18] == (292 >> 8) && b[19] == (292 & 255) && b[22] == (292 >> 8) && b[23] == (292 & 255),
          "PNG size");
    nis_free(bytes);
    unlink(png);
    CHECK(nis_images_write_grid_png(png, te.x, 0, 28, 28, 5, 2, err, sizeof err) == NIS_EINVAL, "n = 0");
    CHECK(access(png, F_OK) != 0, "nothing written on error");
    nis_images_free(&tr);
    nis_images_free(&te);

    /* one damaged file in the directory: load fails, naming it */
    W("6.json", "{\"data\": [0.5]}");
    CHECK(nis_mnist_load(g_dir, &tr, &te, err, sizeof err) == NIS_EFORMAT && tr.x == NULL && te.x == NULL &&
              strstr(err, "6.json"),
          "damaged dir: %s", err);
    for (int d = 0; d < 10; d++) {
        char name[32];
        snprintf(name, sizeof name, "%d.json", d);
        unlink(P(name));
    }
    /* Fashion-MNIST: missing directory gives EIO naming the file */
    CHECK(nis_fashion_load("/nonexistent", &tr, &te, err, sizeof err) == NIS_EIO && strstr(err, "/nonexistent"),
          "fashion missing: %s", err);
    free(good);
    rmdir(g_dir);
    return check_done("test_images");
}
