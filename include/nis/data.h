/* nis/data.h — tabular datasets for binary classification (Bayesian logistic regression).
 *
 * A nis_dataset holds X (n, d) float row-major, y (n,) in {0, 1} and one name per feature column.  Loaders
 * read CSV (header row), ARFF (numeric and nominal attributes; nominal features one-hot encoded) and
 * LIBSVM/svmlight text.  They validate everything and are all-or-nothing: on any problem nothing is
 * returned (*out is zeroed, nothing needs freeing) and the one-line message in err reads
 * "FILE:LINE:COL: what is wrong" (LINE and COL 1-based, COL counting bytes in the line).  Codes:
 *   NIS_EIO      the file cannot be opened or read;
 *   NIS_EFORMAT  empty file, ragged row, non-numeric cell, missing value ('?' or empty), unknown nominal
 *                value, bad label, malformed header or LIBSVM token;
 *   NIS_EINVAL   a bad option (label column or positive class not found, bad split fraction);
 *   NIS_ENOMEM   an allocation failed.
 *
 * Typical use: load, then nis_data_prepare (seeded 80/20 split, standardisation with the training split's
 * statistics, intercept column).
 */
#ifndef NIS_DATA_H
#define NIS_DATA_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t n;          /* rows */
    int64_t d;          /* feature columns (including the intercept column if `intercept`) */
    float *X;           /* n * d values, row-major; owned (nis_malloc) */
    float *y;           /* n labels, each 0 or 1; owned */
    char **names;       /* d feature names (nis_malloc'd strings); owned */
    bool intercept;     /* the last column is the constant 1 added by nis_dataset_add_intercept */
} nis_dataset;

/* Loader options; a zeroed struct gives the defaults. */
typedef struct {
    /* The label column (CSV) or class attribute (ARFF): NULL = the last one; else a column name, or, when no
     * column has that name, a 0-based index written as an integer ("-1" = last).  Ignored by LIBSVM. */
    const char *label;
    /* The label value that means class 1; every other value means class 0 (one-vs-rest).  NULL: CSV and
     * LIBSVM labels must be numeric 0/1 (LIBSVM also -1/+1), 1 (or +1) being positive; ARFF requires it
     * (one of the class attribute's declared values). */
    const char *positive;
    int skip_lines;     /* CSV: lines to skip before the header (e.g. a line of counts) */
    bool no_header;     /* CSV: no header row; features are named "x0", "x1", ... in file order */
    int64_t n_features; /* LIBSVM: number of features d (0 = the largest index found), <= NIS_DATA_MAX_FEATURES */
} nis_data_opts;

/* Limits of the dense n x d matrix a loader builds.  LIBSVM files name their width by their largest feature index,
 * so a 20-byte file could ask for terabytes: an index above NIS_DATA_MAX_FEATURES, or n x d above NIS_DATA_MAX_CELLS
 * floats (4 GiB), is refused with FILE:LINE:COL before anything that size is allocated. */
#define NIS_DATA_MAX_FEATURES 1000000
#define NIS_DATA_MAX_CELLS ((int64_t)1 << 30)

typedef enum { NIS_DATA_CSV = 1, NIS_DATA_ARFF, NIS_DATA_LIBSVM } nis_data_format;

/* "csv", "arff", "libsvm" (also "svmlight") -> format; 0 if unknown. */
nis_data_format nis_data_format_parse(const char *name);

/* Load path in the given format into *out (caller frees with nis_dataset_free).  opts may be NULL
 * (defaults).  On failure *out is zeroed and err holds "FILE:LINE:COL: ..." (see the top of this file). */
nis_status nis_data_load(const char *path, nis_data_format format, const nis_data_opts *opts,
                         nis_dataset *out, char *err, size_t errlen);
/* The same, one format each.  CSV: comma-separated, fields may be double-quoted ("" inside quotes is a
 * quote), spaces around fields ignored, blank lines skipped; every row has the header's number of fields.
 * ARFF: @relation, @attribute NAME numeric|real|integer|{v1,v2,...}, @data, dense rows only; '%' starts a
 * comment line; a nominal feature with k values becomes k one-hot columns named "NAME=VALUE".  LIBSVM:
 * "LABEL IDX:VAL ..." with 1-based strictly increasing indices, optional "qid:N" and "# comment";
 * features are named "x1", "x2", ...; absent entries are 0. */
nis_status nis_data_load_csv(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err,
                             size_t errlen);
nis_status nis_data_load_arff(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err,
                              size_t errlen);
nis_status nis_data_load_libsvm(const char *path, const nis_data_opts *opts, nis_dataset *out, char *err,
                                size_t errlen);

/* Free everything ds owns and zero it.  NULL ok; a zeroed dataset ok. */
void nis_dataset_free(nis_dataset *ds);

/* A zeroed-then-allocated dataset of n rows and d columns: X and y zero, names NULL-filled (the caller sets
 * them, nis_malloc'd, or leaves them NULL: unnamed columns, which every function here accepts).  NIS_ENOMEM (then *out is zeroed), NIS_EINVAL for n < 0 or d < 0. */
nis_status nis_dataset_alloc(nis_dataset *out, int64_t n, int64_t d);

/* Seeded shuffle split: the rows of `all` are permuted (Philox stream of `seed`), the first
 * round(test_frac * n) go to *test and the rest to *train (each a new dataset the caller frees; `all` is
 * only read).  Same seed, same split.  NIS_EINVAL unless 0 < test_frac < 1 and both parts get a row;
 * NIS_ENOMEM.  On failure both outputs are zeroed. */
nis_status nis_dataset_split(const nis_dataset *all, double test_frac, uint64_t seed, nis_dataset *train,
                             nis_dataset *test, char *err, size_t errlen);

/* Standardise the feature columns of train (all except an intercept column) to mean 0 and standard
 * deviation 1 (population sd, over train's rows), and apply the same shift and scale to test (may be NULL).
 * A constant column is only centred.  If mean/sd are non-NULL they receive the d statistics (caller-owned
 * arrays of train->d; 0 and 1 for the intercept column).  NIS_EINVAL if test's d differs; NIS_ENOMEM. */
nis_status nis_dataset_standardize(nis_dataset *train, nis_dataset *test, double *mean, double *sd);

/* Append a constant-1 column named "(intercept)" (d grows by one; X is reallocated).  NIS_ESTATE if ds
 * already has one, NIS_ENOMEM (ds is then unchanged). */
nis_status nis_dataset_add_intercept(nis_dataset *ds);

/* split + standardise (train statistics) + intercept on both parts: the usual preparation.  On failure
 * both outputs are zeroed. */
nis_status nis_data_prepare(const nis_dataset *all, double test_frac, uint64_t seed, nis_dataset *train,
                            nis_dataset *test, char *err, size_t errlen);

/* Two classes of an IDX image set (MNIST / Fashion-MNIST, e.g. train-images-idx3-ubyte.gz with
 * train-labels-idx1-ubyte.gz, plain or gzip): the items whose label is class0 (y = 0) or class1 (y = 1), in file
 * order, one row of rows*cols pixels / 255 in [0, 1] each, columns named "px_R_C".  No intercept (add it with
 * nis_dataset_add_intercept).  Fashion-MNIST: 0 = T-shirt/top, 6 = Shirt.  All-or-nothing like the loaders:
 * NIS_EIO / NIS_EFORMAT (nis_idx_read's errors; an image file of rank < 2; label count or rank not matching),
 * NIS_EINVAL (bad classes, neither class present), NIS_ENOMEM; the message names the file. */
nis_status nis_idx_dataset_load(const char *images, const char *labels, int class0, int class1, nis_dataset *out,
                                char *err, size_t errlen);

/* Synthetic logistic-regression data: n rows of d standard-normal features (named "x1".."xd", no intercept),
 * labels y ~ Bernoulli(sigmoid(w.x + b)) with w_j, b ~ N(0, scale^2 / d) drawn from seed.  Covertype's shape
 * is n = 581012, d = 54.  w_true (may be NULL): d + 1 values receive w then b.  Deterministic in seed.
 * NIS_EINVAL (n < 1, d < 1, bad scale), NIS_ENOMEM (then *out is zeroed). */
nis_status nis_dataset_synthetic_logistic(int64_t n, int64_t d, double scale, uint64_t seed, nis_dataset *out,
                                          double *w_true);

#ifdef __cplusplus
}
#endif
#endif
