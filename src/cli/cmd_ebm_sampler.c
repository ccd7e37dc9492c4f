/* src/cli/cmd_ebm_sampler.c — one-step image samplers against an image energy (the trainer of nis/train.h with
 * its conv networks):
 *   `nis ebm sampler`  train a conv generator by DFT or KL against --energy E.safetensors (or the test target
 *                      --target gauss784) and write DIR/sampler.safetensors (the generator), DIR/checkpoint.safetensors
 *                      (the whole training state, saved every few percent; --resume continues it bit-identically),
 *                      DIR/config.json, DIR/metrics.json and DIR/samples.png (a grid of 64 samples).
 * `nis ebm sample` is `nis sample` (src/cli/cmd_sample.c). */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/ebm.h"
#include "nis/images.h"
#include "nis/io.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "ebm sampler"

/* Mean of -log q over n images (for an EBM: the mean energy), in batches of 256. */
static double mean_neg_log_q(const nis_target *t, const nis_real *x, int64_t n) {
    nis_ctx *ctx = nis_ctx_new(0);
    double sum = 0;
    for (int64_t i0 = 0; ctx && i0 < n; i0 += 256) {
        int64_t b = n - i0 < 256 ? n - i0 : 256;
        nis_ctx_reset(ctx);
        nis_ctx_set_grad(ctx, false);
        nis_tensor *lq = t->log_prob(ctx, t, nis_tensor_from(ctx, 2, (int64_t[]){b, t->dim}, x + i0 * t->dim));
        if (!lq) {
            sum = NAN;
            break;
        }
        for (int64_t i = 0; i < b; i++) sum -= lq->data[i];
    }
    nis_ctx_free(ctx);
    return ctx ? sum / (double)n : NAN;
}

/* Metadata `key` of the checkpoint at path into buf; false with a message. */
static bool file_meta(const char *path, const char *key, char *buf, size_t size, char *err, size_t errlen) {
    nis_st_file *f;
    if (nis_st_read(path, &f, err, errlen) != NIS_OK) return false;
    const char *v = nis_st_meta(f, key);
    if (v) snprintf(buf, size, "%s", v);
    else snprintf(err, errlen, "%s: no metadata '%s'", path, key);
    nis_st_close(f);
    return v != NULL;
}

/* n_eval samples of the EMA generator: their mean energy into metrics.json (and stdout), a grid into samples.png. */
static int evaluate(nis_trainer *tr, const nis_target *t, const char *name, const char *out, int64_t n_eval,
                    double train_seconds) {
    const nis_train_config *c = nis_trainer_config(tr);
    char err[512], path[4096];
    nis_real *x = nis_malloc((size_t)n_eval * (size_t)t->dim * sizeof *x);
    if (!x) return cli_error(CMD, "out of memory for %lld samples", (long long)n_eval);
    nis_rng g = nis_rng_init((uint64_t)c->seed, NIS_STREAM_SAMPLE);
    double ts = nis_seconds();
    if (nis_trainer_sample(tr, &g, n_eval, c->noisy_output, x) != NIS_OK) {
        fprintf(stderr, "nis " CMD ": %s\n", nis_trainer_message(tr));
        nis_free(x);
        return 1;
    }
    double sample_time = nis_seconds() - ts;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "target", name);
    cJSON_AddStringToObject(m, "method", nis_method_name(c->method));
    cJSON_AddNumberToObject(m, "updates", (double)nis_trainer_iter(tr));
    cJSON_AddNumberToObject(m, "samples", (double)n_eval);
    cli_json_number(m, "mean_energy", mean_neg_log_q(t, x, n_eval));   /* -log q (up to its constant); an EBM's E */
    cJSON_AddNumberToObject(m, "train_seconds_this_run", train_seconds);
    cJSON_AddNumberToObject(m, "seconds_per_1000_samples", sample_time / (double)n_eval * 1000);
    cJSON_AddNumberToObject(m, "target_grad_evals_training", (double)nis_trainer_target_evals(tr));
    cJSON_AddNumberToObject(m, "target_grad_evals_per_1000_samples", 0);
    bool ok = cli_write_json(cli_path(path, sizeof path, out, "metrics.json"), m, err, sizeof err);
    char *line = cJSON_PrintUnformatted(m);
    if (ok && line) printf("%s\n", line);
    cJSON_free(line);
    cJSON_Delete(m);
    if (ok)
        ok = nis_images_write_grid(cli_path(path, sizeof path, out, "samples.png"), x, n_eval < 64 ? n_eval : 64,
                                   (int)c->img_c, (int)c->img_h, (int)c->img_w, 8, 3, err, sizeof err) == NIS_OK;
    if (!ok) fprintf(stderr, "nis " CMD ": %s\n", err);
    nis_free(x);
    return ok ? 0 : 1;
}

int cmd_ebm_sampler(int argc, char **argv) {
    nis_train_config c = nis_train_config_image(NIS_METHOD_DFT, 1, 28, 28);
    const char *energy = NULL, *target = NULL, *out = NULL;
    int64_t every = 0, threads = 1, n_eval = 1000;
    bool resume = false, quiet = false;
    cli_opt opts[CLI_MAX_OPTS] = {
        {"energy", OPT_STRING, &energy, "energy .safetensors (nis ebm train)", 0, 0, false},
        {"target", OPT_STRING, &target, "instead of --energy: gauss784 (N(blob, 0.2^2 I), for testing; mean energy at the optimum 392)", 0, 0, false},
        CLI_OUT_DIR(&out),
        CLI_RESUME(&resume),
        CLI_EVERY(&every),
        {"eval-n", OPT_INT, &n_eval, "samples for metrics.json (mean energy)", 1, 1e6, false},
        CLI_THREADS(&threads),
        CLI_QUIET(&quiet),
    };
    int nopts = cli_schema_opts(nis_train_schema(), NIS_SCOPE_CONV, &c, opts, cli_opts_count(opts));
    int rc = cli_parse(CMD, "Train a one-step conv image sampler (DFT or KL) against an energy.", argc, argv, opts, nopts);
    if (rc) return rc == 1 ? 0 : rc;
    if (!energy == !target) return cli_error(CMD, "give exactly one of --energy and --target");
    if (target && strcmp(target, "gauss784")) return cli_error(CMD, "--target: unknown target '%s' (gauss784)", target);
    if (resume && (rc = cli_resume_refuse(CMD, opts, nopts))) return rc;
    nis_set_threads((int)threads);
    cli_init_json();

    char err[512], path[4096], stored[4096];
    nis_ebm E;
    memset(&E, 0, sizeof E);
    nis_target *gauss = NULL;
    const nis_target *t;
    if (energy) {
        if (nis_ebm_load(energy, &E, err, sizeof err) != NIS_OK) return cli_error(CMD, "--energy: %s", err);
        t = nis_ebm_target(&E);
        c.img_c = E.cfg.c, c.img_h = E.cfg.h, c.img_w = E.cfg.w;
        /* the library's policy: sigma = the energy's noise, levels over its range (nis_train_config_for_energy) */
        nis_train_config_for_energy(&c, &E, cli_given("sigma"), cli_given("sigma-max") || cli_given("sigma-start"));
    } else {
        if (!(gauss = nis_gauss_image_target_new("gauss784", 1, 28, 28, NULL, 0.2))) return cli_error(CMD, "out of memory");
        t = gauss;
    }
    const char *name = energy ? "ebm" : target;
    const char *meta[] = {"energy", energy ? energy : "", "target_name", name};
    nis_trainer *tr = NULL;
    int status = 0;
    cli_path(path, sizeof path, out, "checkpoint.safetensors");
    if (resume) {
        if (!file_meta(path, "target_name", stored, sizeof stored, err, sizeof err))
            status = cli_error(CMD, "--resume: %s", err);
        else if (strcmp(stored, name))
            status = cli_error(CMD, "--resume: %s was trained against '%s', not '%s'", path, stored, name);
        else if (energy && file_meta(path, "energy", stored, sizeof stored, err, sizeof err) && strcmp(stored, energy))
            fprintf(stderr, "nis " CMD ": note: the run was started with --energy %s\n", stored);
        if (!status && !(tr = nis_trainer_resume(t, path, err, sizeof err))) status = cli_error(CMD, "--resume: %s", err);
        if (!status && !cli_given("iters")) c.iters = nis_trainer_config(tr)->iters;
    } else {
        if (!(tr = nis_trainer_new(t, &c, NULL, err, sizeof err))) status = cli_error(CMD, "%s", err);
        else if (!cli_ensure_dir(out, err, sizeof err)) status = cli_error(CMD, "--out: %s", err);
        cJSON *cj = status ? NULL : cli_config_json(nis_train_schema(), NIS_SCOPE_CONV, nis_trainer_config(tr));
        if (cj) {
            cJSON_AddStringToObject(cj, "target", energy ? energy : target);
            cJSON_AddNumberToObject(cj, "threads", (double)threads);
            if (!cli_write_json(cli_path(stored, sizeof stored, out, "config.json"), cj, err, sizeof err))
                status = cli_error(CMD, "%s", err);
        }
        cJSON_Delete(cj);
    }
    nis_train_run_result res;
    if (!status && !(status = cli_train_run(CMD, tr, c.iters, out, every, quiet, name, 2, meta, &res, NULL)))
        status = evaluate(tr, t, energy ? energy : target, out, n_eval, res.seconds);
    nis_trainer_free(tr);
    nis_gauss_image_target_free(gauss);
    nis_ebm_free(&E);
    return status;
}
