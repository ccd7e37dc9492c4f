/* src/cli/args.c — option parsing and error lines for the CLI. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nis_cli_error(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "nis %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static void print_help(const char *cmd, const char *summary, const nis_opt *opts, int nopts) {
    printf("usage: nis %s [options]\n%s\n\noptions:\n", cmd, summary);
    for (int i = 0; i < nopts; i++) {
        const nis_opt *o = &opts[i];
        char def[96] = "";
        switch (o->type) {
        case OPT_INT: snprintf(def, sizeof def, " (default %lld)", (long long)*(int64_t *)o->var); break;
        case OPT_DOUBLE: snprintf(def, sizeof def, " (default %g)", *(double *)o->var); break;
        case OPT_STRING:
            if (*(const char **)o->var) snprintf(def, sizeof def, " (default %s)", *(const char **)o->var);
            break;
        case OPT_FLAG: break;
        }
        const char *arg = o->type == OPT_INT ? " N" : o->type == OPT_DOUBLE ? " X" : o->type == OPT_STRING ? " S" : "";
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s", o->name, arg);
        printf("  %-22s %s%s%s\n", lhs, o->help, o->required ? " (required)" : "", def);
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

static int set_value(const char *cmd, const nis_opt *o, const char *val) {
    char *end;
    errno = 0;
    switch (o->type) {
    case OPT_INT: {
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end)
            return nis_cli_error(cmd, "--%s: expected an integer, got '%s'", o->name, val);
        if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max))
            return nis_cli_error(cmd, "--%s: %lld is out of range [%g, %g]", o->name, v, o->min, o->max);
        *(int64_t *)o->var = v;
        return 0;
    }
    case OPT_DOUBLE: {
        double v = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(v))
            return nis_cli_error(cmd, "--%s: expected a finite number, got '%s'", o->name, val);
        if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max))
            return nis_cli_error(cmd, "--%s: %g is out of range [%g, %g]", o->name, v, o->min, o->max);
        *(double *)o->var = v;
        return 0;
    }
    case OPT_STRING:
        if (!*val) return nis_cli_error(cmd, "--%s: empty value", o->name);
        *(const char **)o->var = val;
        return 0;
    case OPT_FLAG: *(bool *)o->var = true; return 0;
    }
    return 2;
}

int nis_args_parse(const char *cmd, const char *summary, int argc, char **argv, const nis_opt *opts, int nopts) {
    bool seen[64] = {false};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help(cmd, summary, opts, nopts);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0)
            return nis_cli_error(cmd, "unexpected argument '%s' (see nis %s --help)", a, cmd);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = -1;
        for (int j = 0; j < nopts; j++)
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, name, len)) k = j;
        if (k < 0) return nis_cli_error(cmd, "unknown option '%.*s' (see nis %s --help)", (int)len + 2, a, cmd);
        const char *val;
        if (opts[k].type == OPT_FLAG) {
            if (eq) return nis_cli_error(cmd, "--%s takes no value", opts[k].name);
            val = "";
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return nis_cli_error(cmd, "--%s needs a value", opts[k].name);
        }
        int rc = set_value(cmd, &opts[k], val);
        if (rc) return rc;
        if (k < 64) seen[k] = true;
    }
    for (int j = 0; j < nopts && j < 64; j++)
        if (opts[j].required && !seen[j]) return nis_cli_error(cmd, "--%s is required", opts[j].name);
    return 0;
}
