/* src/cli/args.h — a small table-driven option parser for the nis subcommands.
 *
 * Each command declares its options as an array of nis_opt; nis_args_parse fills the pointed-to variables
 * and on any problem prints one line "nis CMD: ..." to stderr and returns 2 (the CLI's exit status for bad
 * input).  --help prints the generated help and returns 1 (the caller exits 0). */
#ifndef NIS_CLI_ARGS_H
#define NIS_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { OPT_INT, OPT_DOUBLE, OPT_STRING, OPT_FLAG } nis_opt_type;

typedef struct {
    const char *name;    /* without the leading "--" */
    nis_opt_type type;
    void *var;           /* int64_t*, double*, const char**, bool* */
    const char *help;    /* one line; the default is printed from *var */
    double min, max;     /* allowed range for numbers (min == max == 0: any) */
    bool required;
} nis_opt;

/* Parse argv[0..argc) (argv[0] is the first option, not the command name).  Returns 0 on success,
 * 1 if --help was printed, 2 after printing an error. */
int nis_args_parse(const char *cmd, const char *summary, int argc, char **argv, const nis_opt *opts, int nopts);
/* Print a one-line error "nis CMD: ..." to stderr and return 2. */
int nis_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
