/* tests/fuzz/fuzz_data.h — the shared body of the CSV, ARFF and LIBSVM targets.  An input is one option byte (which
 * label column, positive class, skipped lines, header or not, LIBSVM width: see fuzz_data_opts) and then the file.
 * A table that loads must be consistent: n >= 1 rows, d >= 1 columns with names, finite features, labels 0 or 1;
 * nis_data_prepare (split, standardise, intercept) then runs on it and must give a finite training part (the test
 * part is scaled by the training part's sd and may overflow) or fail cleanly. */
#ifndef NIS_TESTS_FUZZ_DATA_H
#define NIS_TESTS_FUZZ_DATA_H

#include "fuzz.h"
#include "nis/data.h"

#include <math.h>

/* The loader options of option byte b for `format` (label, positive class, skip_lines, no_header, n_features). */
static inline nis_data_opts fuzz_data_opts(nis_data_format format, uint8_t b) {
    static const char *const label[4] = {NULL, "0", "-1", "y"};
    static const char *const positive[3][4] = {{NULL, "1", "a", "+1"},         /* CSV */
                                               {"a", "1", "g", NULL},           /* ARFF (nominal class) */
                                               {NULL, "1", "+1", "2"}};         /* LIBSVM */
    static const int64_t width[4] = {0, 1, 3, 10};
    nis_data_opts o = {0};
    o.label = format == NIS_DATA_LIBSVM ? NULL : label[b & 3];
    o.positive = positive[format - 1][(b >> 2) & 3];
    o.skip_lines = (b >> 4) & 1;
    o.no_header = (b >> 5) & 1;
    o.n_features = width[(b >> 6) & 3];
    return o;
}

/* Check a loaded table (or, with `prepared`, a part made by nis_data_prepare); with `finite`, every feature. */
static inline void fuzz_data_check(const nis_dataset *ds, bool prepared, bool finite) {
    FUZZ_ASSERT(ds->n >= 1 && ds->d >= 1 && ds->X && ds->y && ds->names, "n %lld d %lld", (long long)ds->n,
                (long long)ds->d);
    FUZZ_ASSERT(ds->intercept == prepared, "intercept");
    for (int64_t j = 0; j < ds->d; j++) FUZZ_ASSERT(ds->names[j] != NULL, "name of column %lld", (long long)j);
    for (int64_t i = 0; i < ds->n; i++) FUZZ_ASSERT(ds->y[i] == 0.0f || ds->y[i] == 1.0f, "label %g", ds->y[i]);
    for (int64_t i = 0; finite && i < ds->n * ds->d; i++)
        FUZZ_ASSERT(isfinite(ds->X[i]), "feature %lld of row %lld is %g", (long long)(i % ds->d),
                    (long long)(i / ds->d), ds->X[i]);
}

/* Load data[1..size) as `format` with the options of data[0], check, prepare, free. */
static inline int fuzz_data_run(nis_data_format format, const char *file, const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    nis_data_opts o = fuzz_data_opts(format, data[0]);
    const char *path = fuzz_write(file, data + 1, size - 1);
    nis_dataset all, tr, te;
    char err[512] = "";
    nis_status st = nis_data_load(path, format, &o, &all, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(fuzz_zeroed(&all, sizeof all), "output not zeroed on failure");
        return 0;
    }
    fuzz_data_check(&all, false, true);
    if (all.n * all.d <= 100000) {
        st = nis_data_prepare(&all, 0.25, data[0], &tr, &te, err, sizeof err);
        if (st == NIS_OK) {
            FUZZ_ASSERT(tr.n + te.n == all.n && tr.d == all.d + 1 && te.d == tr.d, "prepared shapes");
            fuzz_data_check(&tr, true, true);
            fuzz_data_check(&te, true, false);   /* scaled by the training part's sd: may overflow */
            nis_dataset_free(&tr);
            nis_dataset_free(&te);
        } else {
            fuzz_check_failure(st, err);
            FUZZ_ASSERT(fuzz_zeroed(&tr, sizeof tr) && fuzz_zeroed(&te, sizeof te), "prepare: not zeroed");
        }
    }
    nis_dataset_free(&all);
    return 0;
}

#endif
