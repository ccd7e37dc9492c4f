/* src/cli/args.h — a small table-driven option parser for the nis subcommands.
 *
 * Each command declares its options as an array of cli_opt (some generated from a configuration's schema,
 * nis/schema.h); cli_parse fills the pointed-to variables and on any problem prints one line "nis CMD: ..." to
 * stderr and returns 2 (the CLI's exit status for bad input).  --help prints the generated help and returns 1
 * (the caller exits 0). */
#ifndef NIS_CLI_ARGS_H
#define NIS_CLI_ARGS_H

#include "nis/schema.h"

#include <stdbool.h>
#include <stdint.h>

/* OPT_OUTFILE: a string naming a file to write, checked when parsed (its directory exists, it is not a directory),
 * so that a bad path is refused with status 2 before any work. */
typedef enum { OPT_INT, OPT_DOUBLE, OPT_STRING, OPT_FLAG, OPT_FIELD, OPT_OUTFILE } cli_opt_type;

typedef struct {
    const char *name;    /* without the leading "--" */
    cli_opt_type type;
    void *var;           /* int64_t*, double*, const char**, bool*; OPT_FIELD: a cli_field */
    const char *help;    /* one line; the default is printed from *var */
    double min, max;     /* allowed range for numbers (min == max == 0: any) */
    bool required;
} cli_opt;

/* What an OPT_FIELD option sets: field f of the configuration struct obj. */
typedef struct {
    void *obj;
    const nis_field *f;
} cli_field;

#define CLI_MAX_OPTS 128

/* The options most commands share, spelled once: --seed and --threads (int64_t *), --quiet (bool *). */
#define CLI_SEED(var) {"seed", OPT_INT, var, "random seed", 0, 9e18, false}
#define CLI_THREADS(var) {"threads", OPT_INT, var, "threads for OpenMP and OpenBLAS", 1, 256, false}
#define CLI_QUIET(var) {"quiet", OPT_FLAG, var, "no progress output", 0, 0, false}
/* The run directory of a training command: --out DIR (const char **), --resume (bool *), --checkpoint-every N. */
#define CLI_OUT_DIR(var) {"out", OPT_STRING, var, "output directory (created if missing)", 0, 0, true}
#define CLI_RESUME(var) \
    {"resume", OPT_FLAG, var, "continue OUT/checkpoint.safetensors up to --iters, with the settings it holds", 0, 0, false}
#define CLI_EVERY(var) \
    {"checkpoint-every", OPT_INT, var, "save the sampler and the training state every N updates (0: every 10%)", 0, 1e9, false}

/* Parse argv[0..argc) (argv[0] is the first option, not the command name) into opts.  Returns 0 on success, 1 if
 * --help was printed, 2 after printing an error.  A schema field that requires a BOOL field (nis_field.requires)
 * must not be given unless that field ends up true. */
int cli_parse(const char *cmd, const char *summary, int argc, char **argv, const cli_opt *opts, int nopts);
/* Whether option `name` was on the command line of the last cli_parse. */
bool cli_given(const char *name);
/* The value of --name in argv (as cli_parse gets it) before parsing (--name V or --name=V; the last wins), or NULL: for a command
 * whose defaults depend on one flag (nis train's --target). */
const char *cli_peek(int argc, char **argv, const char *name);
/* Append to opts[n..] an OPT_FIELD option for every field of s whose scope has a bit of `scope`, writing into
 * obj; returns the new count (at most CLI_MAX_OPTS).  Flags are the field names with '-' for '_' (or their
 * nis_field.flag). */
int cli_schema_opts(const nis_schema *s, unsigned scope, void *obj, cli_opt *opts, int n);
/* The options written so far in a zero-initialised opts[CLI_MAX_OPTS]: the count before the first unnamed one. */
int cli_opts_count(const cli_opt *opts);
/* Set the OPT_INT or OPT_DOUBLE option o from a number read elsewhere (a JSON file), checked as the flag would be:
 * finite, an integer for OPT_INT, inside [min, max].  Returns 0, or 2 after printing "nis CMD: WHERE: why". */
int cli_opt_set_number(const char *cmd, const char *where, const cli_opt *o, double v);
/* Print a one-line error "nis CMD: ..." to stderr and return 2. */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
