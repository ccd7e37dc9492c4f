/* src/cli/args.c — option parsing and error lines for the CLI. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_error(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "nis %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* Flag names and targets of schema options, and the last parse's options and their `given` flags: the CLI parses
 * one command line per process. */
static char flag_names[CLI_MAX_OPTS][64];
static cli_field fields[CLI_MAX_OPTS];
static int n_fields;
static const cli_opt *last_opts;
static int last_n;
static bool given[CLI_MAX_OPTS];

bool cli_given(const char *name) {
    for (int j = 0; j < last_n; j++)
        if (!strcmp(last_opts[j].name, name)) return given[j];
    return false;
}

const char *cli_peek(int argc, char **argv, const char *name) {
    const char *v = NULL;
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {   /* argv[0] is the first option, as in cli_parse */
        const char *a = argv[i];
        if (!strcmp(a, "--")) break;
        if (strncmp(a, "--", 2) || strncmp(a + 2, name, n)) continue;
        if (a[2 + n] == '=') v = a + 3 + n;
        else if (!a[2 + n] && i + 1 < argc) v = argv[++i];
    }
    return v;
}

int cli_opts_count(const cli_opt *opts) {
    int n = 0;
    while (n < CLI_MAX_OPTS && opts[n].name) n++;
    return n;
}

int cli_schema_opts(const nis_schema *s, unsigned scope, void *obj, cli_opt *opts, int n) {
    for (int i = 0; i < s->count && n < CLI_MAX_OPTS; i++) {
        const nis_field *f = &s->fields[i];
        if (!(f->scope & scope)) continue;
        if (n_fields >= CLI_MAX_OPTS) break;
        const char *name = f->flag;
        if (!name) {
            char *b = flag_names[n_fields];
            snprintf(b, sizeof flag_names[0], "%s", f->name);
            for (char *p = b; *p; p++)
                if (*p == '_') *p = '-';
            name = b;
        }
        fields[n_fields] = (cli_field){obj, f};
        opts[n++] = (cli_opt){.name = name, .type = OPT_FIELD, .var = &fields[n_fields++], .help = f->help};
    }
    return n;
}

/* The schema field of an OPT_FIELD option, else NULL. */
static const nis_field *field_of(const cli_opt *o) { return o->type == OPT_FIELD ? ((const cli_field *)o->var)->f : NULL; }
static bool is_switch(const cli_opt *o) { return o->type == OPT_FLAG || (field_of(o) && field_of(o)->type == NIS_FIELD_BOOL); }

static void print_help(const char *cmd, const char *summary, const cli_opt *opts, int nopts) {
    printf("usage: nis %s [options]\n%s\n\noptions:\n", cmd, summary);
    for (int i = 0; i < nopts; i++) {
        const cli_opt *o = &opts[i];
        char def[96] = "", val[64];
        switch (o->type) {
        case OPT_INT: snprintf(def, sizeof def, " (default %lld)", (long long)*(int64_t *)o->var); break;
        case OPT_DOUBLE: snprintf(def, sizeof def, " (default %g)", *(double *)o->var); break;
        case OPT_STRING:
        case OPT_OUTFILE:
            if (*(const char **)o->var) snprintf(def, sizeof def, " (default %s)", *(const char **)o->var);
            break;
        case OPT_FLAG: break;
        case OPT_FIELD: {
            const cli_field *cf = o->var;
            if (cf->f->type == NIS_FIELD_BOOL) break;
            if (cf->f->type == NIS_FIELD_REAL) snprintf(val, sizeof val, "%g", *(double *)((char *)cf->obj + cf->f->offset));
            else nis_field_format(cf->f, cf->obj, val, sizeof val);
            snprintf(def, sizeof def, " (default %s)", val);
            break;
        }
        }
        const nis_field *f = field_of(o);
        const char *arg = is_switch(o)                                                       ? ""
                          : o->type == OPT_INT || (f && f->type == NIS_FIELD_INT)             ? " N"
                          : o->type == OPT_DOUBLE || (f && f->type == NIS_FIELD_REAL)         ? " X"
                                                                                              : " S";
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s", o->name, arg);
        printf("  %-22s %s%s%s\n", lhs, o->help, o->required ? " (required)" : "", def);
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

/* Whether path can be written as a file: not an existing directory, and its directory exists (else one line). */
static bool out_file_ok(const char *cmd, const char *flag, const char *path) {
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return cli_error(cmd, "--%s: '%s' is a directory", flag, path), false;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) return true;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof dir) return cli_error(cmd, "--%s: path too long", flag), false;
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (stat(dir, &sb) != 0) return cli_error(cmd, "--%s: directory '%s' does not exist", flag, dir), false;
    if (!S_ISDIR(sb.st_mode)) return cli_error(cmd, "--%s: '%s' is not a directory", flag, dir), false;
    return true;
}

static int set_value(const char *cmd, const cli_opt *o, const char *val) {
    char *end;
    errno = 0;
    switch (o->type) {
    case OPT_INT: {
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end)
            return cli_error(cmd, "--%s: expected an integer, got '%s'", o->name, val);
        if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max))
            return cli_error(cmd, "--%s: %lld is out of range [%g, %g]", o->name, v, o->min, o->max);
        *(int64_t *)o->var = v;
        return 0;
    }
    case OPT_DOUBLE: {
        double v = strtod(val, &end);
        if (end == val || *end || (!errno && !isfinite(v)))
            return cli_error(cmd, "--%s: expected a finite number, got '%s'", o->name, val);
        if (errno == ERANGE)   /* 1e-400 underflows, 1e400 overflows */
            return cli_error(cmd, "--%s: '%s' is outside a double's normal range (magnitudes 2.2e-308 to 1.8e308, or 0)",
                             o->name, val);
        if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max))
            return cli_error(cmd, "--%s: %g is out of range [%g, %g]", o->name, v, o->min, o->max);
        *(double *)o->var = v;
        return 0;
    }
    case OPT_OUTFILE:
        if (*val && !out_file_ok(cmd, o->name, val)) return 2;
        /* fall through */
    case OPT_STRING:
        if (!*val) return cli_error(cmd, "--%s: empty value", o->name);
        *(const char **)o->var = val;
        return 0;
    case OPT_FLAG: *(bool *)o->var = true; return 0;
    case OPT_FIELD: {
        const cli_field *cf = o->var;
        char err[256];
        if (cf->f->type == NIS_FIELD_BOOL && !*val) val = cf->f->def != 0 ? "false" : "true";   /* a switch */
        if (nis_field_parse(cf->f, cf->obj, val, err, sizeof err) != NIS_OK) {
            const char *colon = strchr(err, ':');   /* "name: why" -> "--flag: why" */
            return cli_error(cmd, "--%s%s", o->name, colon ? colon : err);
        }
        return 0;
    }
    }
    return 2;
}

int cli_opt_set_number(const char *cmd, const char *where, const cli_opt *o, double v) {
    bool is_int = o->type == OPT_INT;
    if (o->type != OPT_INT && o->type != OPT_DOUBLE) return cli_error(cmd, "%s: not a number option", where);
    if (!isfinite(v) || (is_int && v != floor(v)))
        return cli_error(cmd, "%s: expected %s, got %g", where, is_int ? "an integer" : "a finite number", v);
    /* the range before the conversion: a double outside int64's range does not convert */
    bool ranged = o->min != 0 || o->max != 0;
    if ((ranged && (v < o->min || v > o->max)) || (is_int && !ranged && fabs(v) > 9e18))
        return cli_error(cmd, "%s: %g is out of range [%g, %g]", where, v, ranged ? o->min : -9e18, ranged ? o->max : 9e18);
    if (is_int) *(int64_t *)o->var = (int64_t)v;
    else *(double *)o->var = v;
    return 0;
}

int cli_parse(const char *cmd, const char *summary, int argc, char **argv, const cli_opt *opts, int nopts) {
    last_opts = opts, last_n = nopts < CLI_MAX_OPTS ? nopts : CLI_MAX_OPTS;
    memset(given, 0, sizeof given);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help(cmd, summary, opts, nopts);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0)
            return cli_error(cmd, "unexpected argument '%s' (see nis %s --help)", a, cmd);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = -1;
        for (int j = 0; j < nopts; j++)
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, name, len)) k = j;
        if (k < 0) return cli_error(cmd, "unknown option '%.*s' (see nis %s --help)", (int)len + 2, a, cmd);
        const char *val;
        if (is_switch(&opts[k])) {   /* a field's own switch also takes =true|false (a preset may have turned it on) */
            const nis_field *sf = field_of(&opts[k]);
            if (eq && (!sf || sf->flag || !eq[1])) return cli_error(cmd, "--%s takes no value", opts[k].name);
            val = eq ? eq + 1 : "";
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return cli_error(cmd, "--%s needs a value", opts[k].name);
        }
        int rc = set_value(cmd, &opts[k], val);
        if (rc) return rc;
        if (k < CLI_MAX_OPTS) given[k] = true;
    }
    for (int j = 0; j < last_n; j++) {
        const cli_opt *o = &opts[j];
        const nis_field *f = field_of(o);
        if (o->required && !given[j]) return cli_error(cmd, "--%s is required", o->name);
        if (f && given[j] && f->requires) {
            const cli_opt *r = NULL;
            for (int k = 0; k < last_n && !r; k++)
                if (field_of(&opts[k]) && !strcmp(field_of(&opts[k])->name, f->requires)) r = &opts[k];
            const cli_field *rf = r ? r->var : NULL;
            if (rf && !*(const bool *)((const char *)rf->obj + rf->f->offset))
                return cli_error(cmd, "--%s needs --%s", o->name, r->name);
        }
    }
    return 0;
}
