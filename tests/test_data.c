/* tests/test_data.c — dataset loaders (CSV, ARFF, LIBSVM) on small files written to a mkdtemp directory:
 * values, one-hot layout, label mapping; one bad file per kind of bad input (ragged row, non-numeric cell,
 * unknown nominal value, missing value, empty file, unreadable file, bad label) rejected with the right
 * status and "FILE:LINE:COL" in the message, nothing returned and nothing leaked (also under allocation
 * failures); hostile bytes (CR, ESC, 0xff, bad UTF-8) in cells, names, types and tokens quoted as \xNN, every
 * message one printable line; seeded reproducible split, standardisation with training statistics, intercept
 * column. */
#include "check.h"
#include "nis/data.h"

#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

/* An allocator that counts live blocks and can fail the k-th allocation. */
static long g_live, g_calls, g_fail_at;
static void *t_malloc(size_t n, void *ud) {
    (void)ud;
    if (++g_calls == g_fail_at) return NULL;
    void *p = malloc(n);
    if (p) g_live++;
    return p;
}
static void *t_realloc(void *p, size_t n, void *ud) {
    (void)ud;
    if (++g_calls == g_fail_at) return NULL;
    void *q = realloc(p, n);
    if (q && !p) g_live++;
    return q;
}
static void t_free(void *p, void *ud) {
    (void)ud;
    if (p) g_live--, free(p);
}

typedef nis_status (*loader)(const char *, const nis_data_opts *, nis_dataset *, char *, size_t);

static char g_err[256];     /* the message of the last bad() */

/* Load a bad file: expect status `want`, "path:where" at the start of the message (kept in g_err), which is one
 * printable line, a zeroed output and no leaked block. */
static void bad(loader f, const char *path, const nis_data_opts *o, nis_status want, const char *where) {
    char err[256] = "", expect[600];
    nis_dataset ds;
    memset(&ds, 0xAB, sizeof ds);
    long live = g_live;
    nis_status s = f(path, o, &ds, err, sizeof err);
    snprintf(expect, sizeof expect, "%s:%s", path, where);
    CHECK(s == want, "%s: status %s, want %s (%s)", path, nis_status_name(s), nis_status_name(want), err);
    if (want == NIS_EIO)   /* nis_read_file's message: "cannot open 'PATH': strerror" */
        CHECK(strstr(err, path) != NULL, "message '%s' does not name '%s'", err, path);
    else
        CHECK(strncmp(err, expect, strlen(expect)) == 0, "message '%s' does not start with '%s'", err, expect);
    CHECK(ds.X == NULL && ds.y == NULL && ds.names == NULL && ds.n == 0 && ds.d == 0, "%s: output not zeroed",
          path);
    CHECK(g_live == live, "%s: %ld blocks leaked", path, g_live - live);
    CHECK(check_clean_line(err), "message '%s' is not one printable line", err);
    memcpy(g_err, err, sizeof g_err);
}

/* The last bad() message holds `want`. */
static void says(const char *want) { CHECK(strstr(g_err, want) != NULL, "message '%s' lacks '%s'", g_err, want); }

/* Every allocation failure of a good load gives ENOMEM, a zeroed output and no leak. */
static void oom_sweep(loader f, const char *path, const nis_data_opts *o) {
    int bad_status = 0, leaks = 0, k;
    for (k = 1; k < 200; k++) {
        nis_dataset ds;
        char err[256];
        long live = g_live;
        g_calls = 0, g_fail_at = k;
        nis_status s = f(path, o, &ds, err, sizeof err);
        g_fail_at = 0;
        if (s == NIS_OK) {
            nis_dataset_free(&ds);
            break;
        }
        bad_status += s != NIS_ENOMEM || ds.X != NULL;
        leaks += g_live != live;
    }
    CHECK(k < 200 && bad_status == 0 && leaks == 0, "%s: %d bad statuses, %d leaks over %d failures", path,
          bad_status, leaks, k - 1);
}

static void test_csv(void) {
    nis_data_opts o = {.label = "label"};
    nis_dataset ds;
    char err[256] = "";
    const char *good = W("good.csv", "a, b ,label,\"c \"\"q\"\"\"\r\n1,2.5,1,-3e1\n\n  4 , 5,0,\"6\"\n7,8,1,9\n");
    CHECK(nis_data_load_csv(good, &o, &ds, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ds.n == 3 && ds.d == 3, "n %lld d %lld", (long long)ds.n, (long long)ds.d);
    if (ds.n == 3 && ds.d == 3) {
        CHECK(!strcmp(ds.names[0], "a") && !strcmp(ds.names[1], "b") && !strcmp(ds.names[2], "c \"q\""),
              "names %s|%s|%s", ds.names[0], ds.names[1], ds.names[2]);
        const float X[9] = {1, 2.5f, -30, 4, 5, 6, 7, 8, 9}, y[3] = {1, 0, 1};
        CHECK(!memcmp(ds.X, X, sizeof X) && !memcmp(ds.y, y, sizeof y), "csv values");
        CHECK(!ds.intercept, "no intercept yet");
    }
    nis_dataset_free(&ds);
    CHECK(ds.X == NULL && ds.d == 0, "free zeroes");
    /* label by index (0-based, negative from the end): column 2 is "label" */
    o.label = "-2";
    CHECK(nis_data_load_csv(good, &o, &ds, err, sizeof err) == NIS_OK && ds.d == 3 && ds.y[1] == 0, "%s", err);
    nis_dataset_free(&ds);
    o.label = "0";   /* column a as the label: values 1, 4 are not labels */
    bad(nis_data_load_csv, good, &o, NIS_EFORMAT, "4:3:");
    o.label = "nope";
    bad(nis_data_load_csv, good, &o, NIS_EINVAL, "1:1:");
    /* a line of counts, no header, label last, positive class named */
    const char *bc = W("bc.csv", "3,2,malignant,benign\n1,2,m\n3,4,b\n5,6,m\n");
    o = (nis_data_opts){.skip_lines = 1, .no_header = true, .positive = "m"};
    CHECK(nis_data_load_csv(bc, &o, &ds, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ds.n == 3 && ds.d == 2 && !strcmp(ds.names[1], "x1") && ds.X[5] == 6 && ds.y[0] == 1 && ds.y[1] == 0
          && ds.y[2] == 1, "no-header csv");
    nis_dataset_free(&ds);
    oom_sweep(nis_data_load_csv, good, &(nis_data_opts){.label = "label"});

    o = (nis_data_opts){0};   /* label = last column */
    bad(nis_data_load_csv, W("ragged.csv", "a,b,y\n1,2,0\n3,1\n"), &o, NIS_EFORMAT, "3:4:");
    bad(nis_data_load_csv, W("ragged2.csv", "a,b,y\n1,2,0,7\n"), &o, NIS_EFORMAT, "2:7:");
    bad(nis_data_load_csv, W("nan.csv", "a,b,y\n1,2,0\n1, abc ,1\n"), &o, NIS_EFORMAT, "3:4:");
    bad(nis_data_load_csv, W("inf.csv", "a,b,y\n1,inf,0\n"), &o, NIS_EFORMAT, "2:3:");
    bad(nis_data_load_csv, W("miss.csv", "a,b,y\n1,2,0\n1,2,1\n?,2,1\n"), &o, NIS_EFORMAT, "4:1:");
    bad(nis_data_load_csv, W("miss2.csv", "a,b,y\n1,,0\n"), &o, NIS_EFORMAT, "2:3:");
    bad(nis_data_load_csv, W("empty.csv", ""), &o, NIS_EFORMAT, "1:1:");
    bad(nis_data_load_csv, W("blank.csv", "\n  \n"), &o, NIS_EFORMAT, "3:1:");
    bad(nis_data_load_csv, W("header.csv", "a,b,y\n"), &o, NIS_EFORMAT, "2:1:");
    bad(nis_data_load_csv, W("label.csv", "a,b,y\n1,2,2\n"), &o, NIS_EFORMAT, "2:5:");
    bad(nis_data_load_csv, W("quote.csv", "a,b,y\n1,\"2,0\n"), &o, NIS_EFORMAT, "2:3:");
    o.positive = "yes";
    bad(nis_data_load_csv, W("nopos.csv", "a,y\n1,no\n"), &o, NIS_EINVAL, "1:1:");
    o.positive = NULL;
    bad(nis_data_load_csv, P("does-not-exist.csv"), &o, NIS_EIO, "");

    /* hostile bytes: a CR inside a line (only the one before '\n' ends it), ESC, 0xff, bad UTF-8 */
    bad(nis_data_load_csv, W("esc.csv", "a,b,y\n1,\x1b[31m\r\xff,0\n"), &o, NIS_EFORMAT, "2:3:");
    says("not a number in column 'b': '\\x1b[31m\\x0d\\xff'");
    bad(nis_data_load_csv, W("escname.csv", "a\x1b]0;pwn\x07\xc0,b,y\n?,1,0\n"), &o, NIS_EFORMAT, "2:1:");
    says("missing value in column 'a\\x1b]0;pwn\\x07\\xc0'");
    bad(nis_data_load_csv, W("esclabel.csv", "a,y\n1,\x1b\r\xfe\r\n"), &o, NIS_EFORMAT, "2:3:");
    says("label '\\x1b\\x0d\\xfe' is not 0 or 1");
}

static const char *ARFF_GOOD =
    "% a comment\n"
    "@RELATION test\n"
    "\n"
    "@attribute x1 numeric\n"
    "@attribute 'colour name' {red, 'dark green', blue}\n"
    "@attribute x2 REAL\n"
    "@attribute class {b,g}\n"
    "@data\n"
    "1.5, red, 2, g\n"
    "% comment in data\n"
    "-1,'dark green',0,b\n"
    "0, blue, 3e2, g\n";

static void test_arff(void) {
    nis_data_opts o = {.positive = "g"};
    nis_dataset ds;
    char err[256] = "";
    const char *good = W("good.arff", ARFF_GOOD);
    CHECK(nis_data_load_arff(good, &o, &ds, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ds.n == 3 && ds.d == 5, "n %lld d %lld", (long long)ds.n, (long long)ds.d);
    if (ds.n == 3 && ds.d == 5) {
        const char *names[5] = {"x1", "colour name=red", "colour name=dark green", "colour name=blue", "x2"};
        for (int j = 0; j < 5; j++) CHECK(!strcmp(ds.names[j], names[j]), "name %d '%s'", j, ds.names[j]);
        const float X[15] = {1.5f, 1, 0, 0, 2, -1, 0, 1, 0, 0, 0, 0, 0, 1, 300}, y[3] = {1, 0, 1};
        CHECK(!memcmp(ds.X, X, sizeof X), "one-hot layout");
        CHECK(!memcmp(ds.y, y, sizeof y), "class mapping");
    }
    nis_dataset_free(&ds);
    o.positive = "b";
    CHECK(nis_data_load_arff(good, &o, &ds, err, sizeof err) == NIS_OK && ds.y[0] == 0 && ds.y[1] == 1,
          "positive b");
    nis_dataset_free(&ds);
    /* the class attribute chosen by name: "class" becomes a one-hot feature */
    o = (nis_data_opts){.label = "colour name", .positive = "blue"};
    CHECK(nis_data_load_arff(good, &o, &ds, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ds.d == 4 && ds.y[2] == 1 && ds.y[0] == 0 && !strcmp(ds.names[3], "class=g") && ds.X[3] == 1,
          "class by name");
    nis_dataset_free(&ds);
    oom_sweep(nis_data_load_arff, good, &(nis_data_opts){.positive = "g"});

    o = (nis_data_opts){.positive = "g"};
    const char *hdr = "@relation r\n@attribute a numeric\n@attribute c {x, y}\n@attribute class {b,g}\n@data\n";
    char text[512];
#define ARFF(name, rows) (snprintf(text, sizeof text, "%s%s", hdr, rows), W(name, text))
    bad(nis_data_load_arff, ARFF("unknown.arff", "1,x,g\n2,z,b\n"), &o, NIS_EFORMAT, "7:3:");
    bad(nis_data_load_arff, ARFF("miss.arff", "1,x,g\n?,y,b\n"), &o, NIS_EFORMAT, "7:1:");
    bad(nis_data_load_arff, ARFF("missclass.arff", "1,x, ?\n"), &o, NIS_EFORMAT, "6:6:");
    bad(nis_data_load_arff, ARFF("ragged.arff", "1,x\n"), &o, NIS_EFORMAT, "6:4:");
    bad(nis_data_load_arff, ARFF("ragged2.arff", "1,x,g,3\n"), &o, NIS_EFORMAT, "6:7:");
    bad(nis_data_load_arff, ARFF("nan.arff", "1,x,g\n1..2,y,b\n"), &o, NIS_EFORMAT, "7:1:");
    bad(nis_data_load_arff, ARFF("nodata.arff", ""), &o, NIS_EFORMAT, "6:1:");
    bad(nis_data_load_arff, ARFF("sparse.arff", "{0 1, 2 g}\n"), &o, NIS_EFORMAT, "6:1:");
    bad(nis_data_load_arff, W("empty.arff", "% only a comment\n\n"), &o, NIS_EFORMAT, "3:1:");
    bad(nis_data_load_arff, W("type.arff", "@attribute a string\n@attribute c {b,g}\n@data\n"), &o, NIS_EFORMAT,
        "1:14:");
    bad(nis_data_load_arff, W("kw.arff", "@attribute a real\n  @atribute c {b,g}\n"), &o, NIS_EFORMAT, "2:3:");
    bad(nis_data_load_arff, ARFF("nopos.arff", "1,x,b\n"), &o, NIS_EINVAL, "4:1:");
    bad(nis_data_load_arff, W("brace.arff", "@attribute a real\n@attribute c {b,g} x\n@data\n1,g\n"), &o,
        NIS_EFORMAT, "2:20:");
    CHECK(nis_data_load_arff(W("brace2.arff", "@attribute a real\n@attribute c {b,'g}'} % note\n@data\n1,'g}'\n"),
                             &(nis_data_opts){.positive = "g}"}, &ds, err, sizeof err) == NIS_OK && ds.y[0] == 1,
          "quoted brace, trailing comment: %s", err);
    nis_dataset_free(&ds);
    o.positive = "maybe";
    bad(nis_data_load_arff, ARFF("pos.arff", "1,x,g\n"), &o, NIS_EINVAL, "4:1:");
    o.positive = NULL;
    bad(nis_data_load_arff, ARFF("pos2.arff", "1,x,g\n"), &o, NIS_EINVAL, "4:1:");

    /* hostile bytes in an attribute's type, its name, a nominal value, a number, the class values */
    o.positive = "g";
    bad(nis_data_load_arff, W("esctype.arff", "@attribute a \x1b[2J\r\xff\n@attribute c {b,g}\n@data\n"), &o,
        NIS_EFORMAT, "1:14:");
    says("unsupported type '\\x1b[2J\\x0d\\xff' of attribute 'a'");
    bad(nis_data_load_arff, W("escname.arff", "@attribute '\x1b[31m\xe2\x82' real\n@attribute c {b,g}\n@data\n"
                                              "\x7f\x9b,g\n"), &o, NIS_EFORMAT, "4:1:");
    says("not a number for attribute '\\x1b[31m\\xe2\\x82': '\\x7f\\x9b'");
    bad(nis_data_load_arff, ARFF("escvalue.arff", "1,\x1b\r\xc0\xaf,g\n"), &o, NIS_EFORMAT, "6:3:");
    says("unknown value '\\x1b\\x0d\\xc0\\xaf' of nominal attribute 'c'");
    bad(nis_data_load_arff, W("escclass.arff", "@attribute a real\n@attribute c {'\x1b[0m', \xcf\x83, '\xff'}\n"
                                               "@data\n1,'\xff'\n"), &o, NIS_EINVAL, "2:1:");
    says("unknown positive class of 'c': one of {\\x1b[0m, \xcf\x83, \\xff}");   /* σ, valid UTF-8, kept */
#undef ARFF
}

/* A huge CSV (4 GiB, sparse: a header line, then NUL bytes) is refused at its first NUL after reading its head,
 * allocating no more than that (issue 19); allocations above 1 MiB fail here. */
static void test_huge_binary(void) {
    const char *path = W("huge.csv", "a,b\n1,");
    if (truncate(path, (off_t)4 << 30) != 0) {
        fprintf(stderr, "test_huge_binary: cannot make a sparse 4 GiB file here; skipped\n");
        return;
    }
    nis_dataset ds;
    char err[512];
    check_alloc_cap((size_t)1 << 20);
    nis_status st = nis_data_load_csv(path, NULL, &ds, err, sizeof err);
    check_alloc_cap(0);
    CHECK(st == NIS_EFORMAT && strstr(err, ":2:3: a NUL byte: not a text file"), "huge csv: %s: %s",
          nis_status_name(st), err);
    unlink(path);
}

static void test_libsvm(void) {
    nis_dataset ds;
    char err[256] = "";
    const char *good = W("good.svm", "+1 1:0.5 3:2\n-1 2:1   # a comment\n\n# only a comment\n1 qid:3 3:-1\n");
    CHECK(nis_data_load_libsvm(good, NULL, &ds, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(ds.n == 3 && ds.d == 3, "n %lld d %lld", (long long)ds.n, (long long)ds.d);
    if (ds.n == 3 && ds.d == 3) {
        const float X[9] = {0.5f, 0, 2, 0, 1, 0, 0, 0, -1}, y[3] = {1, 0, 1};
        CHECK(!memcmp(ds.X, X, sizeof X) && !memcmp(ds.y, y, sizeof y), "libsvm values");
        CHECK(!strcmp(ds.names[0], "x1") && !strcmp(ds.names[2], "x3"), "libsvm names");
    }
    nis_dataset_free(&ds);
    /* covtype.binary style labels 1/2 with positive "2", and a fixed feature count */
    nis_data_opts o = {.positive = "2", .n_features = 5};
    const char *cov = W("cov.svm", "1 1:1\n2 5:3\n");
    CHECK(nis_data_load_libsvm(cov, &o, &ds, err, sizeof err) == NIS_OK && ds.d == 5 && ds.y[0] == 0 &&
          ds.y[1] == 1 && ds.X[9] == 3, "%s", err);
    nis_dataset_free(&ds);
    oom_sweep(nis_data_load_libsvm, good, NULL);

    bad(nis_data_load_libsvm, cov, NULL, NIS_EFORMAT, "2:1:");    /* label 2 without a positive class */
    o.positive = NULL;
    bad(nis_data_load_libsvm, W("big.svm", "1 6:1\n"), &o, NIS_EFORMAT, "1:3:");
    bad(nis_data_load_libsvm, W("nan.svm", "1 1:2\n0 1:x\n"), NULL, NIS_EFORMAT, "2:5:");
    bad(nis_data_load_libsvm, W("miss.svm", "1 1:?\n"), NULL, NIS_EFORMAT, "1:5:");
    bad(nis_data_load_libsvm, W("missl.svm", "1 1:1\n? 1:2\n"), NULL, NIS_EFORMAT, "2:1:");
    bad(nis_data_load_libsvm, W("order.svm", "1 2:1 1:2\n"), NULL, NIS_EFORMAT, "1:7:");
    bad(nis_data_load_libsvm, W("token.svm", "1 2:1 7\n"), NULL, NIS_EFORMAT, "1:7:");
    bad(nis_data_load_libsvm, W("index.svm", "1 0:1\n"), NULL, NIS_EFORMAT, "1:3:");
    /* a 20-byte file naming 3e8 features once took 5.7 GB and 13 s (issue 19); 2e19 overflowed int64 (UB) */
    bad(nis_data_load_libsvm, W("wide.svm", "1 300000000:1\n0 1:1\n"), NULL, NIS_EFORMAT, "1:3: feature index");
    bad(nis_data_load_libsvm, W("huge.svm", "1 20000000000000000000:1\n"), NULL, NIS_EFORMAT, "1:3:");
    bad(nis_data_load_libsvm, W("frac.svm", "1 2.5:1\n"), NULL, NIS_EFORMAT, "1:3:");
    CHECK(nis_data_load_libsvm(W("max.svm", "1 1000000:1\n"), NULL, &ds, err, sizeof err) == NIS_OK &&
              ds.d == NIS_DATA_MAX_FEATURES, "the largest allowed index: %s", err);
    nis_dataset_free(&ds);
    {   /* 1100 rows at the largest index: 1.1e9 cells, above NIS_DATA_MAX_CELLS, refused before allocating */
        char *text = malloc(1100 * 12 + 1);
        for (int i = 0; i < 1100; i++) memcpy(text + 12 * i, "1 1000000:1\n", 12);
        text[1100 * 12] = '\0';
        bad(nis_data_load_libsvm, W("cells.svm", text), NULL, NIS_EFORMAT, "1100:1: 1100 rows x 1000000 features is a dense matrix of 4.1 GiB");
        free(text);
    }
    nis_data_opts wide = {.n_features = NIS_DATA_MAX_FEATURES + 1};
    bad(nis_data_load_libsvm, W("ok.svm", "1 1:1\n"), &wide, NIS_EINVAL, " 1000001 features asked for");
    bad(nis_data_load_libsvm, W("empty.svm", "# nothing\n"), NULL, NIS_EFORMAT, "2:1:");
    o.positive = "3";
    bad(nis_data_load_libsvm, W("cov.svm", "1 1:1\n2 5:3\n"), &o, NIS_EINVAL, "1:1:");
    bad(nis_data_load_libsvm, P("missing.svm"), NULL, NIS_EIO, "");

    /* hostile bytes in a label, a token, a feature index, a value */
    bad(nis_data_load_libsvm, W("esclabel.svm", "\x1b[31m\r 1:1\n"), NULL, NIS_EFORMAT, "1:1:");
    says("label '\\x1b[31m\\x0d' is not 0/1");
    bad(nis_data_load_libsvm, W("esctoken.svm", "1 \x1b]2;x\x07\r\xff\n"), NULL, NIS_EFORMAT, "1:3:");
    says("expected IDX:VALUE, found '\\x1b]2;x\\x07\\x0d\\xff'");
    bad(nis_data_load_libsvm, W("escindex.svm", "1 \xff\x1b\r:1\n"), NULL, NIS_EFORMAT, "1:3:");
    says("feature index '\\xff\\x1b\\x0d' is not an integer");
    bad(nis_data_load_libsvm, W("escvalue.svm", "1 1:\r\x1b\xff\n"), NULL, NIS_EFORMAT, "1:5:");
    says("not a number: '\\x0d\\x1b\\xff'");
    /* a NUL byte: a binary file, refused where the NUL is before any parsing */
    static const unsigned char nul[] = "1 1:\r\x1b\0\xff\n";     /* written with WB */
    bad(nis_data_load_libsvm, WB("nul.svm", nul, sizeof nul - 1, 0), NULL, NIS_EFORMAT, "1:7: a NUL byte");
}

/* A synthetic dataset: column 0 = row index, column 1 = 3 + 2 * normal, column 2 constant 7. */
static void make_synthetic(nis_dataset *ds, int64_t n) {
    CHECK(nis_dataset_alloc(ds, n, 3) == NIS_OK, "alloc");
    test_seed(5);
    for (int64_t i = 0; i < n; i++) {
        ds->X[i * 3] = (float)i;
        ds->X[i * 3 + 1] = (float)(3 + 2 * test_normal());
        ds->X[i * 3 + 2] = 7;
        ds->y[i] = (float)(i % 2);
    }
    const char *nm[3] = {"idx", "z", "const"};
    for (int j = 0; j < 3; j++) {
        ds->names[j] = nis_malloc(8);
        strcpy(ds->names[j], nm[j]);
    }
}

static void test_split_standardize(void) {
    nis_dataset all, tr, te, tr2, te2;
    char err[256] = "";
    make_synthetic(&all, 50);
    /* split: 10 test rows, 40 train, a permutation, reproducible, seed-dependent */
    CHECK(nis_dataset_split(&all, 0.2, 42, &tr, &te, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(tr.n == 40 && te.n == 10 && tr.d == 3 && te.d == 3, "split sizes %lld %lld", (long long)tr.n,
          (long long)te.n);
    int seen[50] = {0}, ok = 1;
    for (int64_t i = 0; i < tr.n; i++) seen[(int)tr.X[i * 3]]++, ok &= tr.y[i] == (float)((int)tr.X[i * 3] % 2);
    for (int64_t i = 0; i < te.n; i++) seen[(int)te.X[i * 3]]++, ok &= te.y[i] == (float)((int)te.X[i * 3] % 2);
    for (int i = 0; i < 50; i++) ok &= seen[i] == 1;
    CHECK(ok, "split is a permutation of the rows, labels kept with their rows");
    CHECK(nis_dataset_split(&all, 0.2, 42, &tr2, &te2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(!memcmp(tr.X, tr2.X, 120 * sizeof(float)) && !memcmp(te.X, te2.X, 30 * sizeof(float)), "same seed");
    nis_dataset_free(&tr2), nis_dataset_free(&te2);
    CHECK(nis_dataset_split(&all, 0.2, 43, &tr2, &te2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(memcmp(te.X, te2.X, 30 * sizeof(float)) != 0, "another seed, another split");
    nis_dataset_free(&tr2), nis_dataset_free(&te2);
    CHECK(nis_dataset_split(&all, 0.001, 1, &tr2, &te2, err, sizeof err) == NIS_EINVAL && !tr2.X && !te2.X,
          "test part without rows");
    CHECK(nis_dataset_split(&all, 1.0, 1, &tr2, &te2, err, sizeof err) == NIS_EINVAL, "bad fraction");

    /* standardise with train statistics; test uses them too */
    nis_dataset te_raw;
    CHECK(nis_dataset_alloc(&te_raw, te.n, 3) == NIS_OK, "alloc");
    memcpy(te_raw.X, te.X, 30 * sizeof(float));
    double mean[4], sd[4];
    double m1 = 0, s1 = 0;
    for (int64_t i = 0; i < tr.n; i++) m1 += tr.X[i * 3 + 1];
    m1 /= 40;
    for (int64_t i = 0; i < tr.n; i++) s1 += (tr.X[i * 3 + 1] - m1) * (tr.X[i * 3 + 1] - m1);
    s1 = sqrt(s1 / 40);
    CHECK(nis_dataset_standardize(&tr, &te, mean, sd) == NIS_OK, "standardize");
    CHECK_CLOSE(mean[1], m1, 1e-9, 1e-9);
    CHECK_CLOSE(sd[1], s1, 1e-9, 1e-9);
    CHECK(mean[2] == 7 && sd[2] == 1, "constant column: centred only (%g, %g)", mean[2], sd[2]);
    for (int j = 0; j < 3; j++) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < tr.n; i++) m += tr.X[i * 3 + j];
        m /= 40;
        for (int64_t i = 0; i < tr.n; i++) v += (tr.X[i * 3 + j] - m) * (tr.X[i * 3 + j] - m);
        CHECK_CLOSE(m, 0, 1e-5, 0);
        CHECK_CLOSE(sqrt(v / 40), j == 2 ? 0 : 1, 1e-5, 0);
    }
    double maxerr = 0;
    for (int64_t i = 0; i < te.n; i++)
        for (int j = 0; j < 3; j++)
            maxerr = fmax(maxerr, fabs(te.X[i * 3 + j] - (te_raw.X[i * 3 + j] - mean[j]) / sd[j]));
    CHECK(maxerr < 1e-5, "test rows use the train statistics (max err %g)", maxerr);
    nis_dataset_free(&te_raw);

    /* intercept: a column of ones, named, skipped by a later standardisation */
    CHECK(nis_dataset_add_intercept(&tr) == NIS_OK && tr.d == 4 && tr.intercept, "intercept");
    ok = 1;
    for (int64_t i = 0; i < tr.n; i++) ok &= tr.X[i * 4 + 3] == 1.0f;
    CHECK(ok && !strcmp(tr.names[3], "(intercept)") && !strcmp(tr.names[1], "z"), "intercept column");
    CHECK(nis_dataset_add_intercept(&tr) == NIS_ESTATE && tr.d == 4, "second intercept refused");
    CHECK(nis_dataset_standardize(&tr, NULL, mean, NULL) == NIS_OK && mean[3] == 0, "restandardize");
    ok = 1;
    for (int64_t i = 0; i < tr.n; i++) ok &= tr.X[i * 4 + 3] == 1.0f;
    CHECK(ok, "intercept untouched by standardisation");
    nis_dataset_free(&tr), nis_dataset_free(&te);

    /* prepare = split + standardise + intercept, reproducible */
    CHECK(nis_data_prepare(&all, 0.2, 7, &tr, &te, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_data_prepare(&all, 0.2, 7, &tr2, &te2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(tr.d == 4 && te.d == 4 && tr.intercept && te.intercept && te.X[3] == 1.0f && tr.n == 40, "prepare");
    CHECK(!memcmp(tr.X, tr2.X, 160 * sizeof(float)) && !memcmp(te.X, te2.X, 40 * sizeof(float)),
          "prepare reproducible");
    nis_dataset_free(&tr), nis_dataset_free(&te), nis_dataset_free(&tr2), nis_dataset_free(&te2);
    nis_dataset_free(&all);

    /* unnamed columns (nis_dataset_alloc's NULL names, as the Python binding leaves them) split and prepare */
    nis_dataset un;
    CHECK(nis_dataset_alloc(&un, 10, 2) == NIS_OK, "alloc");
    for (int i = 0; i < 20; i++) un.X[i] = (float)(i % 7);
    for (int i = 0; i < 10; i++) un.y[i] = (float)(i % 2);
    CHECK(nis_data_prepare(&un, 0.2, 1, &tr, &te, err, sizeof err) == NIS_OK && tr.n == 8 && tr.d == 3 &&
              tr.names[0] == NULL && !strcmp(tr.names[2], "(intercept)"), "unnamed columns: %s", err);
    nis_dataset_free(&tr), nis_dataset_free(&te), nis_dataset_free(&un);
    CHECK(nis_data_format_parse("arff") == NIS_DATA_ARFF && nis_data_format_parse("svmlight") == NIS_DATA_LIBSVM
          && nis_data_format_parse("xls") == 0, "format names");
}

int main(void) {
    tmpdir_make("test_data");
    nis_allocator a = {t_malloc, t_realloc, t_free, NULL};
    nis_set_allocator(&a);
    test_csv();
    test_arff();
    test_libsvm();
    test_huge_binary();
    test_split_standardize();
    CHECK(g_live == 0, "%ld blocks leaked in total", g_live);
    nis_set_allocator(NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return check_done("test_data");
}
