/* src/cli/util.c — clocks, directories, JSON output. */
#include "util.h"
#include "nis/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double nis_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool nis_ensure_dir(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return true;
        snprintf(err, errlen, "%s exists and is not a directory", path);
        return false;
    }
    /* like mkdir -p: the parents first */
    char parent[4096];
    size_t n = strlen(path);
    if (n >= sizeof parent) {
        snprintf(err, errlen, "cannot create directory %s: path too long", path);
        return false;
    }
    memcpy(parent, path, n + 1);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = 0;   /* trailing slashes */
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (!nis_ensure_dir(parent, err, errlen)) return false;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

const char *nis_path_join(char *buf, size_t size, const char *dir, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

bool nis_write_json(const char *path, const cJSON *json, char *err, size_t errlen) {
    char *s = cJSON_Print(json);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory printing JSON", path);
        return false;
    }
    size_t n = strlen(s);
    char *t = nis_malloc(n + 2);
    bool ok = false;
    if (t) {
        memcpy(t, s, n);
        t[n] = '\n';
        ok = nis_write_file_atomic(path, t, n + 1, err, errlen) == NIS_OK;
        nis_free(t);
    } else {
        snprintf(err, errlen, "%s: out of memory", path);
    }
    cJSON_free(s);
    return ok;
}

void nis_json_add_number(cJSON *obj, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(obj, key, v);
    else cJSON_AddNullToObject(obj, key);
}

void nis_json_add_eval(cJSON *obj, const nis_eval_result *r) {
    cJSON_AddNumberToObject(obj, "n", (double)r->n);
    cJSON_AddNumberToObject(obj, "nonfinite", (double)r->nonfinite);
    nis_json_add_number(obj, "ksd", r->ksd);
    nis_json_add_number(obj, "frac_x0_positive", r->frac_pos);
    if (!r->has_exact) return;
    nis_json_add_number(obj, "ksd_floor", r->ksd_floor);
    nis_json_add_number(obj, "energy_distance", r->ed);
    nis_json_add_number(obj, "energy_distance_floor", r->ed_floor);
    nis_json_add_number(obj, "mmd", r->mmd);
    nis_json_add_number(obj, "mmd_floor", r->mmd_floor);
    nis_json_add_number(obj, "mean_error", r->mean_err);
    nis_json_add_number(obj, "cov_error", r->cov_err);
    if (isfinite(r->ed_core)) nis_json_add_number(obj, "energy_distance_core", r->ed_core);
}

bool nis_json_print_line(cJSON *obj) {
    char *line = obj ? cJSON_PrintUnformatted(obj) : NULL;
    if (line) printf("%s\n", line);
    else fprintf(stderr, "nis: out of memory for the JSON output\n");
    cJSON_free(line);
    cJSON_Delete(obj);
    return line != NULL;
}

static void *json_malloc(size_t n) { return nis_malloc(n); }
static void json_free(void *p) { nis_free(p); }

void nis_cli_init_json(void) {
    cJSON_Hooks h = {json_malloc, json_free};
    cJSON_InitHooks(&h);
}
