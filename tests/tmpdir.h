/* tests/tmpdir.h — a mkdtemp directory for tests that write files: tmpdir_make creates it, P names a file in
 * it, W writes a text file and WB bytes (plain or gzip) there.  Each test removes its directory itself. */
#ifndef NIS_TESTS_TMPDIR_H
#define NIS_TESTS_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

static char g_dir[64];

/* Create /tmp/nis_TAG_XXXXXX into g_dir; exits the test on failure. */
static inline void tmpdir_make(const char *tag) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nis_%s_XXXXXX", tag);
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

/* g_dir/name in one of 8 rotating buffers. */
static inline const char *P(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* Write text to g_dir/name; its path (a P buffer).  Exits the test if the file cannot be written. */
static inline const char *W(const char *name, const char *text) {
    const char *path = P(name);
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

/* Write n bytes to g_dir/name, gzip-compressed if gz; its path (a P buffer).  Exits the test on failure. */
static inline const char *WB(const char *name, const unsigned char *b, size_t n, int gz) {
    const char *path = P(name);
    int ok;
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ok = f && gzwrite(f, b, (unsigned)n) == (int)n;
        ok = f && gzclose(f) == Z_OK && ok;
    } else {
        FILE *f = fopen(path, "wb");
        ok = f && fwrite(b, 1, n, f) == n;
        ok = f && fclose(f) == 0 && ok;
    }
    if (!ok) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return path;
}

#endif
