/* Two classes of an IDX image set as a dataset (on tiny files the test writes), its errors, and the seeded
 * synthetic logistic data. */
#include "check.h"
#include "nis/data.h"

#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tmpdir.h"

int main(void) {
    tmpdir_make("test_idx_dataset");
    /* 5 images of 2 x 3, labels 0 6 3 6 0 */
    unsigned char img[16 + 30], lab[8 + 5], lab4[8 + 4];
    memcpy(img, (unsigned char[]){0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 3}, 16);
    for (int i = 0; i < 30; i++) img[16 + i] = (unsigned char)(i * 8);
    memcpy(lab, (unsigned char[]){0, 0, 8, 1, 0, 0, 0, 5, 0, 6, 3, 6, 0}, 13);
    memcpy(lab4, (unsigned char[]){0, 0, 8, 1, 0, 0, 0, 4, 0, 6, 3, 6}, 12);
    const char *pi = WB("img.gz", img, sizeof img, 1), *pl = WB("lab.gz", lab, sizeof lab, 1);
    nis_dataset ds;
    char err[256] = "";
    CHECK(nis_idx_dataset_load(pi, pl, 0, 6, &ds, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ds.n == 4 && ds.d == 6 && !ds.intercept, "shape %lld x %lld", (long long)ds.n, (long long)ds.d);
    const float want_y[4] = {0, 1, 1, 0};
    const int item[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4 && ds.n == 4; i++) {
        CHECK(ds.y[i] == want_y[i], "y[%d] = %g", i, ds.y[i]);
        for (int j = 0; j < 6; j++)
            CHECK(ds.X[i * 6 + j] == (float)((item[i] * 6 + j) * 8) / 255.0f, "X[%d][%d] = %g", i, j, ds.X[i * 6 + j]);
    }
    CHECK(ds.names && strcmp(ds.names[0], "px_0_0") == 0 && strcmp(ds.names[5], "px_1_2") == 0, "names");
    CHECK(nis_dataset_add_intercept(&ds) == NIS_OK && ds.d == 7, "intercept");
    nis_dataset_free(&ds);
    /* swapped classes swap the labels */
    CHECK(nis_idx_dataset_load(pi, pl, 6, 0, &ds, err, sizeof err) == NIS_OK && ds.n == 4 && ds.y[0] == 1, "swap");
    nis_dataset_free(&ds);
    /* errors: nothing returned, message names the file */
    const char *p4 = WB("lab4.gz", lab4, sizeof lab4, 1);
    CHECK(nis_idx_dataset_load(pi, p4, 0, 6, &ds, err, sizeof err) == NIS_EFORMAT && ds.X == NULL, "count mismatch");
    CHECK(strstr(err, "lab4.gz") != NULL, "message '%s'", err);
    CHECK(nis_idx_dataset_load(pl, pl, 0, 6, &ds, err, sizeof err) == NIS_EFORMAT && ds.X == NULL, "labels as images");
    CHECK(nis_idx_dataset_load(pi, pl, 1, 2, &ds, err, sizeof err) == NIS_EINVAL && ds.X == NULL, "absent classes");
    CHECK(nis_idx_dataset_load(pi, pl, 3, 3, &ds, err, sizeof err) == NIS_EINVAL, "same class twice");
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.gz", g_dir);
    CHECK(nis_idx_dataset_load(missing, pl, 0, 6, &ds, err, sizeof err) == NIS_EIO && strstr(err, "none.gz"),
          "missing file: '%s'", err);
    unlink(pi), unlink(pl), unlink(p4);
    rmdir(g_dir);

    /* synthetic logistic data: deterministic, and the true weights classify well */
    nis_dataset a, b;
    double w[6];
    CHECK(nis_dataset_synthetic_logistic(3000, 5, 4.0, 11, &a, w) == NIS_OK, "synthetic");
    CHECK(nis_dataset_synthetic_logistic(3000, 5, 4.0, 11, &b, NULL) == NIS_OK, "synthetic again");
    CHECK(a.n == 3000 && a.d == 5 && memcmp(a.X, b.X, sizeof(float) * 15000) == 0 &&
              memcmp(a.y, b.y, sizeof(float) * 3000) == 0, "same seed, same data");
    int correct = 0, pos = 0;
    for (int64_t i = 0; i < a.n; i++) {
        double z = w[5];
        for (int j = 0; j < 5; j++) z += w[j] * a.X[i * 5 + j];
        correct += (z > 0) == (a.y[i] > 0.5);
        pos += a.y[i] > 0.5;
    }
    CHECK(correct > 0.75 * 3000, "true weights classify %d of 3000", correct);
    CHECK(pos > 300 && pos < 2700, "both classes: %d positives", pos);
    nis_dataset_free(&b);
    CHECK(nis_dataset_synthetic_logistic(3000, 5, 4.0, 12, &b, NULL) == NIS_OK &&
              memcmp(a.X, b.X, sizeof(float) * 15000) != 0, "another seed, other data");
    nis_dataset_free(&a), nis_dataset_free(&b);
    CHECK(nis_dataset_synthetic_logistic(0, 5, 1, 1, &a, NULL) == NIS_EINVAL && a.X == NULL, "n = 0");
    return check_done("test_idx_dataset");
}
