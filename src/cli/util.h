/* src/cli/util.h — small helpers shared by the subcommands. */
#ifndef NIS_CLI_UTIL_H
#define NIS_CLI_UTIL_H

#include "args.h"
#include "nis/metrics.h"
#include "nis/train.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Create directory `path` and its missing parents (mkdir -p).  false with a message in err otherwise. */
bool cli_ensure_dir(const char *path, char *err, size_t errlen);
/* "dir/name" into buf. */
const char *cli_path(char *buf, size_t size, const char *dir, const char *name);
/* Write a JSON value to path atomically (pretty-printed, trailing newline).  false + message on error. */
bool cli_write_json(const char *path, const cJSON *json, char *err, size_t errlen);
/* Add the fields of an evaluation to obj (NaN/absent values become null). */
void cli_json_eval(cJSON *obj, const nis_eval_result *r);
/* Add a number, or null if it is not finite. */
void cli_json_number(cJSON *obj, const char *key, double v);
/* Print obj as one line of JSON on stdout and delete it; false (after a message on stderr) if it cannot be
 * printed (out of memory). */
bool cli_print_json(cJSON *obj);
/* Route cJSON's allocations through the library's allocator (call once at start-up). */
void cli_init_json(void);
/* The fields of obj (a struct of schema s) in `scope` (and those of no front end), by name: numbers, booleans,
 * choices as strings.  NULL if out of memory. */
cJSON *cli_config_json(const nis_schema *s, unsigned scope, const void *obj);
/* --model as a path: DIR/file when model is a directory, else model itself, into buf. */
const char *cli_model_path(char *buf, size_t size, const char *model, const char *file);

/* The progress line of a training run on a terminal (nis_train_progress_fn; ud: a cli_progress). */
typedef struct {
    const char *tag;          /* "[dft donut]" */
    bool tty;                 /* stderr is a terminal (and not --quiet): one line, redrawn */
    bool log;                 /* stderr is a file or pipe (and not --quiet): a line per 2% of the updates */
    int64_t iters, start;     /* the run's target update count and where it started */
    double t0, last;          /* clock at the start, at the last line */
    double drift;             /* the convergence monitor's last drift (NaN: none yet) */
} cli_progress;
void cli_progress_init(cli_progress *p, const char *tag, bool quiet, int64_t iters, int64_t start);
bool cli_progress_fn(void *ud, nis_trainer *tr, const nis_train_stats *s);
/* A training run of a command: nis_trainer_run up to iters with its files in dir (every `every` updates, with the
 * n_meta checkpoint pairs meta), a progress line "[method name]" unless quiet; on failure one line "nis CMD: ..."
 * on stderr and 1 (the library's status in *why, when not NULL), else 0 with the run's result in *res. */
int cli_train_run(const char *cmd, nis_trainer *tr, int64_t iters, const char *dir, int64_t every, bool quiet,
                  const char *name, int n_meta, const char *const *meta, nis_train_run_result *res, nis_status *why);
/* With --resume: every option of opts given on the command line that the checkpoint holds (the schema's fields
 * but `iters`) is refused: 2 after a one-line error, else 0. */
int cli_resume_refuse(const char *cmd, const cli_opt *opts, int nopts);

#endif
