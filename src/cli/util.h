/* src/cli/util.h — small helpers shared by the subcommands. */
#ifndef NIS_CLI_UTIL_H
#define NIS_CLI_UTIL_H

#include "nis/metrics.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Seconds on a monotonic clock. */
double nis_now(void);
/* Create directory `path` and its missing parents (mkdir -p).  false with a message in err otherwise. */
bool nis_ensure_dir(const char *path, char *err, size_t errlen);
/* "dir/name" into buf. */
const char *nis_path_join(char *buf, size_t size, const char *dir, const char *name);
/* Write a JSON value to path atomically (pretty-printed, trailing newline).  false + message on error. */
bool nis_write_json(const char *path, const cJSON *json, char *err, size_t errlen);
/* Add the fields of an evaluation to obj (NaN/absent values become null). */
void nis_json_add_eval(cJSON *obj, const nis_eval_result *r);
/* Add a number, or null if it is not finite. */
void nis_json_add_number(cJSON *obj, const char *key, double v);
/* Print obj as one line of JSON on stdout and delete it; false (after a message on stderr) if it cannot be
 * printed (out of memory). */
bool nis_json_print_line(cJSON *obj);
/* Route cJSON's allocations through the library's allocator (call once at start-up). */
void nis_cli_init_json(void);

#endif
