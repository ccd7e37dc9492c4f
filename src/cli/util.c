/* src/cli/util.c — clocks, directories, JSON output. */
#include "util.h"
#include "nis/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool cli_ensure_dir(const char *path, char *err, size_t errlen) {
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
        if (!cli_ensure_dir(parent, err, errlen)) return false;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

const char *cli_path(char *buf, size_t size, const char *dir, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

bool cli_write_json(const char *path, const cJSON *json, char *err, size_t errlen) {
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

void cli_json_number(cJSON *obj, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(obj, key, v);
    else cJSON_AddNullToObject(obj, key);
}

void cli_json_eval(cJSON *obj, const nis_eval_result *r) {
    cJSON_AddNumberToObject(obj, "n", (double)r->n);
    cJSON_AddNumberToObject(obj, "nonfinite", (double)r->nonfinite);
    cli_json_number(obj, "ksd", r->ksd);
    cli_json_number(obj, "frac_x0_positive", r->frac_pos);
    if (!r->has_exact) return;
    cli_json_number(obj, "ksd_floor", r->ksd_floor);
    cli_json_number(obj, "energy_distance", r->ed);
    cli_json_number(obj, "energy_distance_floor", r->ed_floor);
    cli_json_number(obj, "mmd", r->mmd);
    cli_json_number(obj, "mmd_floor", r->mmd_floor);
    cli_json_number(obj, "mean_error", r->mean_err);
    cli_json_number(obj, "cov_error", r->cov_err);
    if (isfinite(r->ed_core)) cli_json_number(obj, "energy_distance_core", r->ed_core);
}

bool cli_print_json(cJSON *obj) {
    char *line = obj ? cJSON_PrintUnformatted(obj) : NULL;
    if (line) printf("%s\n", line);
    else fprintf(stderr, "nis: out of memory for the JSON output\n");
    cJSON_free(line);
    cJSON_Delete(obj);
    return line != NULL;
}

static void *json_malloc(size_t n) { return nis_malloc(n); }
static void json_free(void *p) { nis_free(p); }

void cli_init_json(void) {
    cJSON_Hooks h = {json_malloc, json_free};
    cJSON_InitHooks(&h);
}

cJSON *cli_config_json(const nis_schema *s, unsigned scope, const void *obj) {
    cJSON *j = cJSON_CreateObject();
    char v[64];
    for (int i = 0; j && i < s->count; i++) {
        const nis_field *f = &s->fields[i];
        const void *p = (const char *)obj + f->offset;
        if (f->scope && !(f->scope & scope)) continue;
        switch (f->type) {
        case NIS_FIELD_INT: cJSON_AddNumberToObject(j, f->name, (double)*(const int64_t *)p); break;
        case NIS_FIELD_REAL: cJSON_AddNumberToObject(j, f->name, *(const double *)p); break;
        case NIS_FIELD_BOOL: cJSON_AddBoolToObject(j, f->name, *(const bool *)p); break;
        case NIS_FIELD_ENUM:
            nis_field_format(f, obj, v, sizeof v);
            cJSON_AddStringToObject(j, f->name, v);
            break;
        }
    }
    return j;
}

const char *cli_model_path(char *buf, size_t size, const char *model, const char *file) {
    struct stat st;
    if (stat(model, &st) == 0 && S_ISDIR(st.st_mode)) return cli_path(buf, size, model, file);
    snprintf(buf, size, "%s", model);
    return buf;
}

void cli_progress_init(cli_progress *p, const char *tag, bool quiet, int64_t iters, int64_t start) {
    *p = (cli_progress){.tag = tag, .tty = !quiet && isatty(STDERR_FILENO), .log = !quiet && !isatty(STDERR_FILENO),
                        .iters = iters, .start = start, .t0 = nis_seconds(), .drift = NAN};
}

bool cli_progress_fn(void *ud, nis_trainer *tr, const nis_train_stats *s) {
    cli_progress *p = ud;
    double now = nis_seconds();
    if (!isnan(s->drift)) p->drift = s->drift;
    bool stop = nis_trainer_stopped(tr) == s->iter;   /* the stopping rule ended the run at this update */
    /* a terminal: one line redrawn at most 4 times a second; a log file (not a terminal): one line per 2% */
    int64_t step = (p->iters - p->start) / 50 > 0 ? (p->iters - p->start) / 50 : 1;
    bool final = s->iter == p->iters || stop;
    if (p->log ? (s->iter - p->start) % step && !final : !p->tty || (now - p->last < 0.25 && !final)) return true;
    double el = now - p->t0, rate = (double)(s->iter - p->start) / (el > 0 ? el : 1e-9);
    double eta = (double)(p->iters - s->iter) / (rate > 0 ? rate : 1e-9);
    fprintf(stderr, "%s%s update %lld/%lld  loss %-10.4g score-loss %-10.4g sigma %.3g  drift %-8.3g %.1f it/s  %s %.0fs%s",
            p->log ? "" : "\r", p->tag, (long long)s->iter, (long long)p->iters, s->sampler_loss, s->score_loss,
            s->sigma, p->drift, rate, final ? "took" : "eta", final ? el : eta,
            stop ? "  (stopped: the drift stayed below --stop-drift)\n" : final || p->log ? "   \n" : "   ");
    fflush(stderr);
    p->last = now;
    return true;
}

int cli_train_run(const char *cmd, nis_trainer *tr, int64_t iters, const char *dir, int64_t every, bool quiet,
                  const char *name, int n_meta, const char *const *meta, nis_train_run_result *res, nis_status *why) {
    char tag[96];
    cli_progress p;
    snprintf(tag, sizeof tag, "[%s %s]", nis_method_name(nis_trainer_config(tr)->method), name);
    cli_progress_init(&p, tag, quiet, iters, nis_trainer_iter(tr));
    nis_train_run_opts ro = {.dir = dir, .every = every, .n_meta = n_meta, .meta = meta, .progress = cli_progress_fn,
                             .ud = &p};
    nis_status st = nis_trainer_run(tr, iters, &ro, res);
    if (why) *why = st;
    if (st == NIS_OK) return 0;
    if (p.tty) fputc('\n', stderr);
    fprintf(stderr, "nis %s: %s\n", cmd, nis_trainer_message(tr));
    return 1;
}

int cli_resume_refuse(const char *cmd, const cli_opt *opts, int nopts) {
    for (int i = 0; i < nopts; i++)
        if (opts[i].type == OPT_FIELD && cli_given(opts[i].name) &&
            strcmp(((const cli_field *)opts[i].var)->f->name, "iters"))
            return cli_error(cmd, "--%s cannot be given with --resume (the checkpoint holds it)", opts[i].name);
    return 0;
}
