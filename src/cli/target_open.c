/* src/cli/target_open.c — `--target NAME` and the blr data flags shared by train, eval and mcmc. */
#include "target_open.h"
#include "args.h"
#include "util.h"
#include "nis/io.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char cli_target_help[] = "gauss|mog2|rosenbrock|donut|funnel|squiggle|blr (blr needs --data)";

void cli_blr_flags_default(cli_blr_flags *f) {
    memset(f, 0, sizeof *f);
    f->prior = "hier";
    f->test_frac = 0.2;
}

int cli_blr_flags_opts(cli_blr_flags *f, cli_opt *o) {
    const cli_opt opts[CLI_BLR_NOPTS] = {
        {"data", OPT_STRING, &f->data, "blr: data file (CSV with a header row, ARFF, LIBSVM)", 0, 0, false},
        {"format", OPT_STRING, &f->format, "blr: csv|arff|libsvm (default: from the file's extension)", 0, 0, false},
        {"label", OPT_STRING, &f->label, "blr: label column / class attribute, by name or 0-based index (default: last)", 0, 0, false},
        {"positive", OPT_STRING, &f->positive, "blr: the label value of class 1 (required for ARFF)", 0, 0, false},
        {"prior", OPT_STRING, &f->prior, "blr: hier (w ~ N(0, 1/alpha), alpha ~ Gamma(1, 0.01)) | hier-nc (the same, sampled as v = w sqrt(alpha); outputs are w) | normal (w ~ N(0, I)); nis train's default: hier, trained as hier-nc", 0, 0, false},
        {"minibatch", OPT_INT, &f->minibatch, "blr: likelihood minibatch rows (0: full batch)", 0, 1e12, false},
        {"test-frac", OPT_DOUBLE, &f->test_frac, "blr: fraction of rows held out for testing", 1e-9, 0.999999, false},
        {"split-seed", OPT_INT, &f->split_seed, "blr: seed of the train/test split (< 2^53: config.json keeps it exactly)", 0, 9007199254740991.0, false},
        {"skip-lines", OPT_INT, &f->skip_lines, "blr: CSV lines to skip before the header", 0, 1e6, false},
        {"no-header", OPT_FLAG, &f->no_header, "blr: the CSV file has no header row", 0, 0, false},
    };
    memcpy(o, opts, sizeof opts);
    return CLI_BLR_NOPTS;
}

int cli_target_opts(cli_opt *opts, const cli_opt *base, int n_base, cli_blr_flags *f) {
    memcpy(opts, base, (size_t)n_base * sizeof *opts);
    return n_base + cli_blr_flags_opts(f, opts + n_base);
}

cJSON *cli_blr_flags_json(const cli_blr_flags *f) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "data", f->data ? f->data : "");
    if (f->format) cJSON_AddStringToObject(j, "format", f->format);
    else cJSON_AddNullToObject(j, "format");
    if (f->label) cJSON_AddStringToObject(j, "label", f->label);
    else cJSON_AddNullToObject(j, "label");
    if (f->positive) cJSON_AddStringToObject(j, "positive", f->positive);
    else cJSON_AddNullToObject(j, "positive");
    cJSON_AddStringToObject(j, "prior", f->prior);
    cJSON_AddNumberToObject(j, "minibatch", (double)f->minibatch);
    cJSON_AddNumberToObject(j, "test_frac", f->test_frac);
    cJSON_AddNumberToObject(j, "split_seed", (double)f->split_seed);
    cJSON_AddNumberToObject(j, "skip_lines", (double)f->skip_lines);
    cJSON_AddBoolToObject(j, "no_header", f->no_header);
    return j;
}

/* "--FLAG", or "DIR/config.json: data.FLAG" when f was read from a run's config.json. */
static void where(const cli_blr_flags *f, const char *flag, char *buf, size_t cap) {
    if (f->origin[0]) snprintf(buf, cap, "%s: data.%s", f->origin, flag);
    else snprintf(buf, cap, "--%s", flag);
}

/* The format from the path's extension, 0 if it cannot be told. */
static nis_data_format from_extension(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return 0;
    dot++;
    if (!strcasecmp(dot, "csv")) return NIS_DATA_CSV;
    if (!strcasecmp(dot, "arff")) return NIS_DATA_ARFF;
    if (!strcasecmp(dot, "libsvm") || !strcasecmp(dot, "svm") || !strcasecmp(dot, "svmlight")) return NIS_DATA_LIBSVM;
    return 0;
}

int cli_target_open(const char *cmd, const char *name, const cli_blr_flags *f, uint64_t mb_seed,
                        cli_target *out) {
    memset(out, 0, sizeof *out);
    char q[68];   /* names from flags or a run's config.json, quoted into messages */
    if (strcmp(name, "blr") != 0) {
        out->t = nis_target_2d(name);
        if (!out->t)
            return cli_error(cmd, "--target: unknown target '%s' (gauss, mog2, rosenbrock, donut, funnel, squiggle, blr)",
                             nis_quote(q, sizeof q, name));
        if (f->data) return cli_error(cmd, "--data is only for --target blr");
        return 0;
    }
    if (!f->data) return cli_error(cmd, "--target blr needs --data PATH");
    /* errors name where a value came from: the flag, or the run's config.json */
    char w_data[4300], w_prior[4300], w_format[4300];
    where(f, "data", w_data, sizeof w_data), where(f, "prior", w_prior, sizeof w_prior);
    where(f, "format", w_format, sizeof w_format);
    nis_blr_opts bo = nis_blr_defaults();
    bo.dist = f->dist;
    if (!nis_blr_prior_parse(f->prior, &bo.prior) || bo.prior == NIS_BLR_PRIOR_HIER_MARG)   /* marg: not in the CLI */
        return cli_error(cmd, "%s: unknown prior '%s' (hier, hier-nc, normal)", w_prior, nis_quote(q, sizeof q, f->prior));
    /* synthetic:N:D[:SEED]: N rows of D features from nis_dataset_synthetic_logistic (Covertype's shape is
     * synthetic:581012:54), for the scale tests of a data set that cannot be fetched here */
    long long sn = 0, sd = 0, ss = 0;
    int used = 0;
    bool synth = !strncmp(f->data, "synthetic:", 10);
    if (synth && !((sscanf(f->data + 10, "%lld:%lld:%lld%n", &sn, &sd, &ss, &used) == 3 ||
                    sscanf(f->data + 10, "%lld:%lld%n", &sn, &sd, &used) == 2) &&
                   !f->data[10 + used] && sn >= 2 && sn <= 100000000 && sd >= 1 && sd <= 100000 && ss >= 0))
        return cli_error(cmd, "%s: '%s' is not synthetic:ROWS:FEATURES[:SEED] (rows 2..1e8, features 1..1e5)", w_data,
                         nis_quote(q, sizeof q, f->data));
    nis_data_format fmt = synth ? NIS_DATA_CSV : f->format ? nis_data_format_parse(f->format) : from_extension(f->data);
    if (!fmt && f->format)
        return cli_error(cmd, "%s: unknown format '%s' (csv, arff, libsvm)", w_format, nis_quote(q, sizeof q, f->format));
    if (!fmt)
        return cli_error(cmd, "%s: %s: cannot tell the format from the extension; give --format csv|arff|libsvm",
                         w_data, f->data);
    nis_data_opts lo = {.label = f->label, .positive = f->positive, .skip_lines = (int)f->skip_lines,
                        .no_header = f->no_header};
    nis_dataset all;
    char err[512];
    if (synth && nis_dataset_synthetic_logistic(sn, sd, 2.0, (uint64_t)ss, &all, NULL) != NIS_OK)
        return cli_error(cmd, "%s: out of memory for %lld x %lld", w_data, sn, sd);   /* (the sizes are checked) */
    if (!synth && nis_data_load(f->data, fmt, &lo, &all, err, sizeof err) != NIS_OK)
        return cli_error(cmd, "%s: %s", w_data, err);
    nis_status st = nis_data_prepare(&all, f->test_frac, (uint64_t)f->split_seed, &out->train, &out->test, err, sizeof err);
    nis_dataset_free(&all);
    if (st != NIS_OK) return cli_error(cmd, "%s: %s: %s", w_data, f->data, err);
    bo.minibatch = f->minibatch;
    bo.seed = mb_seed;
    out->blr = nis_blr_target_new(&out->train, &bo, err, sizeof err);
    if (!out->blr) {
        cli_target_close(out);
        return cli_error(cmd, "%s: %s: %s", w_data, f->data, err);
    }
    out->t = out->blr;
    out->format = fmt;
    return 0;
}

void cli_target_close(cli_target *ct) {
    nis_blr_target_free(ct->blr);
    nis_dataset_free(&ct->train);
    nis_dataset_free(&ct->test);
    memset(ct, 0, sizeof *ct);
}

/* Whether s is printable as it is: no control character, valid UTF-8 (nis_quote leaves it unchanged). */
static bool plain_path(const char *s) {
    char q[4200];
    size_t n = strlen(s), backslashes = 0;
    if (n >= 1000) return false;
    for (const char *p = s; *p; p++) backslashes += *p == '\\';
    return strlen(nis_quote(q, sizeof q, s)) == n + backslashes;   /* only its backslashes doubled: nothing escaped */
}

/* A string member of o, or NULL when absent or null; false if present with another type. */
static bool get_str(const cJSON *o, const char *key, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsString(v)) return false;
    *out = v->valuestring;
    return true;
}

/* The numeric options of f (minibatch, test-frac, ...) from the object data, checked as their flags are (the range
 * before any conversion); absent members keep their values.  f->origin names the file.  Returns 0 or 2 after one
 * line. */
static int get_numbers(const char *cmd, const cJSON *data, cli_blr_flags *f) {
    cli_opt o[CLI_BLR_NOPTS];
    int n = cli_blr_flags_opts(f, o);
    for (int i = 0; i < n; i++) {
        if (o[i].type != OPT_INT && o[i].type != OPT_DOUBLE) continue;
        char key[32], w[4300];
        snprintf(key, sizeof key, "%s", o[i].name);
        for (char *c = key; *c; c++) *c = *c == '-' ? '_' : *c;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
        if (!v) continue;
        where(f, key, w, sizeof w);
        if (!cJSON_IsNumber(v)) return cli_error(cmd, "%s: not a number", w);
        int rc = cli_opt_set_number(cmd, w, &o[i], v->valuedouble);
        if (rc) return rc;
    }
    return 0;
}

int cli_config_flags(const char *cmd, const char *dir, const char **target, cli_blr_flags *f, cJSON **keep) {
    char path[4096], err[512];
    void *buf;
    size_t n;
    *keep = NULL;
    cli_path(path, sizeof path, dir, "config.json");
    if (nis_read_file(path, &buf, &n, err, sizeof err) != NIS_OK) return cli_error(cmd, "--run: %s", err);
    cJSON *j = cJSON_ParseWithLength(buf, n);
    nis_free(buf);
    if (!j) return cli_error(cmd, "--run: %s: not valid JSON", path);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    bool ok = get_str(j, "target", target) && *target;
    if (ok && data) {
        const cJSON *nh = cJSON_GetObjectItemCaseSensitive(data, "no_header");
        ok = cJSON_IsObject(data) && get_str(data, "data", &f->data) && get_str(data, "format", &f->format) &&
             get_str(data, "label", &f->label) && get_str(data, "positive", &f->positive) &&
             get_str(data, "prior", &f->prior) && (!nh || cJSON_IsBool(nh));
        f->no_header = nh && cJSON_IsTrue(nh);
        snprintf(f->origin, sizeof f->origin, "%s", path);
        int rc = ok ? get_numbers(cmd, data, f) : 0;
        if (!rc && ok && f->data && !plain_path(f->data)) {   /* it would reach every later message as it is */
            char q[300];
            rc = cli_error(cmd, "%s: data.data: '%s' is not a plain path (control characters or invalid UTF-8)", path,
                           nis_quote(q, sizeof q, f->data));
        }
        if (rc) {
            cJSON_Delete(j);
            return rc;
        }
    }
    if (!ok) {
        cJSON_Delete(j);
        return cli_error(cmd, "--run: %s: no target or damaged data options", path);
    }
    *keep = j;
    return 0;
}
