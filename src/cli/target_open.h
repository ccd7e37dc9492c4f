/* src/cli/target_open.h — `--target NAME` for the commands that need a target density: the 2-D targets by name,
 * and "blr" (Bayesian logistic regression, nis/blr.h) built from data flags shared by train, eval and mcmc:
 *   --data PATH --format csv|arff|libsvm --label NAME|INDEX --positive CLASS --prior hier|normal
 *   --minibatch M --test-frac F --split-seed S --skip-lines K --no-header
 * The data are loaded, split (seeded) and standardised with nis_data_prepare; the target is the posterior given
 * the training part, and the test part is kept for accuracy and log-likelihood. */
#ifndef NIS_CLI_TARGET_OPEN_H
#define NIS_CLI_TARGET_OPEN_H

#include "args.h"
#include "nis/blr.h"

#include <cjson/cJSON.h>

/* The data flags' values (set by cli_parse through the options of cli_blr_flags_opts). */
typedef struct {
    const char *data, *format, *label, *positive, *prior;
    int64_t minibatch, split_seed, skip_lines;
    double test_frac;
    bool no_header;
    char origin[4200];   /* "" when the values came from flags; else the config.json they were read from (errors name it) */
    const nis_dist *dist;   /* a group whose ranks split the data's rows (nis_blr_opts.dist), or NULL (not a flag) */
} cli_blr_flags;

#define CLI_BLR_NOPTS 10

/* Defaults (no data, format from the extension, hier prior, full batch, test fraction 0.2, split seed 0). */
void cli_blr_flags_default(cli_blr_flags *f);
/* Write the CLI_BLR_NOPTS option descriptions for f into opts; returns CLI_BLR_NOPTS. */
int cli_blr_flags_opts(cli_blr_flags *f, cli_opt *opts);
/* opts = base (n_base options, copied) followed by the data options of f; returns the count.  opts has room for
 * n_base + CLI_BLR_NOPTS. */
int cli_target_opts(cli_opt *opts, const cli_opt *base, int n_base, cli_blr_flags *f);
/* The flags as a JSON object (for config.json), NULL if out of memory. */
cJSON *cli_blr_flags_json(const cli_blr_flags *f);

/* An opened target: `t` is what to use; for blr also the owned target and the prepared split. */
typedef struct {
    const nis_target *t;
    nis_target *blr;                /* owned when the target is blr, else NULL */
    nis_dataset train, test;        /* blr only (zeroed otherwise) */
    nis_data_format format;
} cli_target;

/* Open --target `name` for command `cmd`: a 2-D target, or blr from the flags (minibatch draws seeded with
 * mb_seed).  Returns 0, or 2 after printing a one-line error naming the flag (unknown target, --data missing
 * or given for a 2-D target, unknown format, a loader error "FILE:LINE:COL: ...", bad label or split). */
int cli_target_open(const char *cmd, const char *name, const cli_blr_flags *f, uint64_t mb_seed,
                        cli_target *out);
/* Free what cli_target_open made.  A zeroed struct is ok. */
void cli_target_close(cli_target *ct);
/* Take --target and the data options from DIR/config.json (written by nis train) into *target and f.  The
 * strings point into *keep, the parsed file: cJSON_Delete(*keep) after the last use.  Returns 0, or 2 after a
 * one-line error (unreadable or damaged file, no "target"). */
int cli_config_flags(const char *cmd, const char *dir, const char **target, cli_blr_flags *f, cJSON **keep);
/* "gauss|...|squiggle|blr" for help lines. */
extern const char cli_target_help[];

#endif
