/* tests/fuzz/fuzz.h — what the libFuzzer targets of tests/fuzz share (docs/fuzzing.md).
 *
 * Each target's LLVMFuzzerTestOneInput writes the input to a file in its own mkdtemp directory (removed at exit;
 * nothing is written anywhere else), calls a public loader on it and checks the loader's contract: on failure a
 * status other than NIS_OK, outputs zeroed and a message that is one printable line; on success outputs that are
 * consistent.  A broken contract aborts (libFuzzer reports it as a crash).  Everything is freed, so the leak
 * checker sees every path.  Library allocations above FUZZ_ALLOC_CAP fail (the loader must answer NIS_ENOMEM), so a
 * small file that asks for gigabytes costs nothing and still exercises the out-of-memory paths. */
#ifndef NIS_TESTS_FUZZ_H
#define NIS_TESTS_FUZZ_H

#include "check.h"
#include "nis/core.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_ALLOC_CAP ((size_t)64 << 20)   /* bytes */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir_[64];
static char fuzz_names_[8][64];   /* file names written so far (removed at exit) */
static int fuzz_n_names_;

/* Abort with a message (to file descriptor 2: stderr may be captured): libFuzzer saves the input as a crash. */
#define FUZZ_ASSERT(cond, ...)                                                                               \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            dprintf(2, "fuzz contract broken at %s:%d: %s: ", __FILE__, __LINE__, #cond);                    \
            dprintf(2, __VA_ARGS__);                                                                         \
            dprintf(2, "\n");                                                                                \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

/* Remove the files and the directory (atexit). */
static void fuzz_cleanup_(void) {
    char p[320];
    for (int i = 0; i < fuzz_n_names_; i++) {
        if (snprintf(p, sizeof p, "%s/%s", fuzz_dir_, fuzz_names_[i]) < (int)sizeof p) unlink(p);
    }
    rmdir(fuzz_dir_);
}

/* Create the directory, cap the library's allocations, one thread.  Call from LLVMFuzzerInitialize. */
static inline void fuzz_init(const char *tag) {
    const char *t = getenv("TMPDIR");
    snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/nis_fuzz_%s_XXXXXX", t && *t && strlen(t) < 24 ? t : "/tmp", tag);
    if (!mkdtemp(fuzz_dir_)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(fuzz_cleanup_);
    check_alloc_cap(FUZZ_ALLOC_CAP);
    nis_set_threads(1);
}

/* The path of `name` in the directory, in a static buffer (one per name slot). */
static inline const char *fuzz_path(const char *name) {
    static char buf[8][320];
    int i = 0;
    while (i < fuzz_n_names_ && strcmp(fuzz_names_[i], name)) i++;
    if (i == fuzz_n_names_) {
        FUZZ_ASSERT(i < 8 && strlen(name) < sizeof fuzz_names_[0], "too many file names");
        snprintf(fuzz_names_[fuzz_n_names_++], sizeof fuzz_names_[0], "%s", name);
    }
    snprintf(buf[i], sizeof buf[i], "%s/%s", fuzz_dir_, name);
    return buf[i];
}

/* Write n bytes as the file `name` of the directory (unlinked first: rewriting a truncated file makes ext4
 * flush it); its path. */
static inline const char *fuzz_write(const char *name, const void *data, size_t n) {
    const char *path = fuzz_path(name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FUZZ_ASSERT(fd >= 0, "cannot create %s", path);
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        FUZZ_ASSERT(w > 0, "cannot write %s", path);
        p += w, n -= (size_t)w;
    }
    close(fd);
    return path;
}

/* The failure half of every loader's contract: not OK, a message of one printable line.  With NIS_FUZZ_VERBOSE set
 * in the environment the message is printed (to see why a seed or a crash input is refused). */
static inline void fuzz_check_failure(nis_status st, const char *err) {
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("NIS_FUZZ_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "refused (status %d): %s\n", (int)st, err);
    FUZZ_ASSERT(st != NIS_OK, "status");
    FUZZ_ASSERT(err[0] != 0, "empty message (status %d)", (int)st);
    FUZZ_ASSERT(check_clean_line(err), "message is not one printable line: %s", err);
}

/* True if all n bytes are zero (an output a failed loader must leave zeroed). */
static inline bool fuzz_zeroed(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

#endif
