/* tests/fuzz/replay.c — a main() for the fuzz targets without libFuzzer: `fuzz_replay_NAME PATH...` runs the target
 * once on every file given and every file of every directory given (in name order), so that any C compiler can
 * replay the committed corpora and crash inputs (the plain build's tests do).  Exit status 0 when every input passed
 * (a broken contract aborts). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the target on the file path; false if it cannot be read. */
static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 0;
    }
    size_t cap = 4096, n = 0, got;
    uint8_t *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n < cap) continue;
        uint8_t *nb = realloc(b, cap * 2);
        if (!nb) free(b);
        b = nb, cap *= 2;
    }
    fclose(f);
    if (!b) return 0;
    LLVMFuzzerTestOneInput(b, n);
    free(b);
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Run the target on every regular file of dir, in name order; the count, or -1 on an error. */
static int run_dir(const char *dir) {
    struct dirent **list;
    int n = scandir(dir, &list, NULL, NULL), done = 0;
    if (n < 0) {
        perror(dir);
        return -1;
    }
    char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    for (int i = 0; i < n; i++) names[i] = strdup(list[i]->d_name), free(list[i]);
    free(list);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) done += run_file(path) ? 1 : 0;
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv) {
    LLVMFuzzerInitialize(&argc, &argv);
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        int n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
        if (n < 0) return 1;
        total += n;
    }
    printf("%s: %d inputs passed\n", argv[0], total);
    return total > 0 ? 0 : 1;
}
