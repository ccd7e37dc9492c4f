/* src/cli/cmd_train.c — `nis train`: train a sampler for a target (nis/train.h), then write
 *   DIR/sampler.safetensors     the sampler (saved every few percent too)
 *   DIR/checkpoint.safetensors  the whole training state (--resume continues it bit-identically)
 *   DIR/config.json             the configuration (for blr also the data options, under "data")
 *   DIR/metrics.json            evaluation of fresh samples against the target, and the cost (for blr: test
 *                               accuracy and log-likelihood of the posterior predictive, posterior mean and sd)
 *   DIR/samples.png             the samples over the target's density (2-D targets only)
 * The flags of the configuration come from its schema (src/train/config.c). */
#include "args.h"
#include "commands.h"
#include "target_open.h"
#include "util.h"
#include "dist/mpi.h"
#include "nis/mcmc.h"
#include "nis/metrics.h"
#include "nis/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "train"

/* Posterior summaries of a blr run into m: test accuracy and log-likelihood of the posterior predictive, and the
 * mean and sd of every coordinate of the n samples x (n, D). */
static bool blr_metrics(cJSON *m, const cli_target *ct, const nis_real *x, int64_t n, char *err, size_t errlen) {
    int D = ct->t->dim;
    double acc, ll;
    nis_status st = nis_blr_predict(&ct->test, x, n, D, &acc, &ll);
    if (st != NIS_OK) {
        snprintf(err, errlen, "posterior predictive: %s (are the samples finite?)", nis_status_name(st));
        return false;
    }
    cJSON_AddNumberToObject(m, "n", (double)n);
    cJSON_AddNumberToObject(m, "dim", D);
    cJSON_AddNumberToObject(m, "n_train", (double)ct->train.n);
    cJSON_AddNumberToObject(m, "n_test", (double)ct->test.n);
    cli_json_number(m, "test_accuracy", acc);
    cli_json_number(m, "test_loglik", ll);
    cJSON *mean = cJSON_AddArrayToObject(m, "posterior_mean"), *sd = cJSON_AddArrayToObject(m, "posterior_sd");
    for (int j = 0; j < D && mean && sd; j++) {
        double s1 = 0, s2 = 0;
        for (int64_t i = 0; i < n; i++) s1 += x[i * D + j];
        s1 /= (double)n;
        for (int64_t i = 0; i < n; i++) s2 += (x[i * D + j] - s1) * (x[i * D + j] - s1);
        cJSON_AddItemToArray(mean, cJSON_CreateNumber(s1));
        cJSON_AddItemToArray(sd, cJSON_CreateNumber(sqrt(s2 / (double)(n > 1 ? n - 1 : 1))));
    }
    return true;
}

/* A known failure of a posterior sampler, in one line (warn "" when none): its samples x (n, t->dim, t's coordinates)
 * against a Gaussian fit of the posterior's bulk (short HMC chains: nis_whiten_hmc; the Laplace approximation's
 * mode can lie far from the bulk of a hierarchical posterior) by nis_gaussian_check, with the remedy.  Nothing when
 * the fit itself fails. */
static void posterior_warning(const nis_target *t, uint64_t seed, const nis_real *x, int64_t n, char *warn,
                              size_t len) {
    const int64_t d = t->dim;
    nis_real *mL = t->stochastic ? NULL : nis_malloc((size_t)(d + d * d) * sizeof *mL);
    char e[300], msg[300];
    if (mL && nis_whiten_hmc(t, seed, mL, mL + d, e, sizeof e) == NIS_OK &&
        nis_gaussian_check(x, n, (int)d, mL, mL + d, msg, sizeof msg))
        snprintf(warn, len, "%s (a known failure; the defaults of --target blr train non-centred and whitened)", msg);
    nis_free(mL);
}

/* What HMC costs on the same posterior, for the break-even count: the bench's short HMC (10 chains from N(0, 0.1² I),
 * 300 warm-up iterations adapting the step, then 100 draws each of 10 leapfrog steps: 1000 draws, with mean errors
 * like the sampler's on the UCI sets; docs/results-blr-defaults.md), its seconds per 1000 draws at the run's
 * threads, warm-up included; NaN when it fails. */
static double hmc_seconds_per_1000(const nis_target *t, uint64_t seed) {
    enum { C = 10 };
    nis_real *x = nis_malloc((size_t)C * (size_t)t->dim * sizeof *x);
    if (!x || t->stochastic) return nis_free(x), NAN;
    nis_rng g = nis_rng_init(seed, NIS_STREAM_MCMC);
    nis_mcmc_init_normal(&g, x, C, (int)t->dim, 0, 0.1);
    nis_hmc_config h = nis_hmc_defaults();
    h.warmup = 300, h.steps = 100, h.n_leapfrog = 10, h.jitter = 0.2, h.step_size = 0.01, h.reject_nonfinite = true;
    char e[200];
    double t0 = nis_seconds();
    nis_status st = nis_hmc_run(t, &h, &g, x, C, NULL, NULL, e, sizeof e);
    double s = nis_seconds() - t0;
    nis_free(x);
    return st == NIS_OK ? s * 1000 / (double)(C * h.steps) : NAN;
}

/* In a group: the ranks, and what this rank summed with the others so far (the scaling model's traffic). */
static void group_metrics(cJSON *m, int ranks) {
    if (ranks <= 1) return;
    int64_t calls, values;
    nis_mpi_traffic(&calls, &values);
    cJSON_AddNumberToObject(m, "ranks", ranks);
    cJSON_AddNumberToObject(m, "group_sums", (double)calls);
    cJSON_AddNumberToObject(m, "group_values_summed", (double)values);
}

/* n_eval fresh samples of tr, reported in the target's parameters: metrics.json (and its line on stdout) and, for
 * the 2-D targets, samples.png, when `write` (the ranks of a row-split target all evaluate it: its checks call it,
 * a collective; rank 0 writes).  n_eval 0 (--eval-n 0): the training's numbers alone, no samples drawn, no checks.
 * 0, or 1 after a message. */
static int evaluate(nis_trainer *tr, const cli_target *ct, const char *out, int64_t n_eval, const nis_train_run_result *run,
                    double whiten_seconds, double target_evals, int ranks, bool write) {
    const double train_seconds = run->seconds, last_loss = run->stats.sampler_loss;
    const nis_target *t = ct->t;
    const nis_train_config *c = nis_trainer_config(tr);
    char err[512] = "", path[4096];
    nis_real *x = n_eval > 0 ? nis_malloc((size_t)n_eval * (size_t)t->dim * sizeof *x) : NULL;
    if (n_eval > 0 && !x) return cli_error(CMD, "out of memory for %lld samples", (long long)n_eval), 1;
    nis_rng g = nis_rng_init((uint64_t)c->seed, NIS_STREAM_SAMPLE);
    double ts = nis_seconds();
    nis_status st = n_eval > 0 ? nis_trainer_sample(tr, &g, n_eval, c->noisy_output, x) : NIS_OK;
    double sample_time = nis_seconds() - ts;
    char warn[400] = "";
    if (n_eval > 0 && st == NIS_OK && ct->blr)   /* in t's coordinates */
        posterior_warning(t, (uint64_t)c->seed, x, n_eval, warn, sizeof warn);
    if (n_eval > 0 && st == NIS_OK) nis_target_report(t, x, n_eval);   /* blr-nc: report w, not v */
    else if (st != NIS_OK) snprintf(err, sizeof err, "%s", nis_trainer_message(tr));
    nis_eval_result r;
    if (n_eval > 0 && st == NIS_OK && !ct->blr) st = nis_evaluate(t, x, n_eval, (uint64_t)c->seed, &r, err, sizeof err);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "target", t->name);
    cJSON_AddStringToObject(m, "method", nis_method_name(c->method));
    cJSON_AddNumberToObject(m, "seed", (double)c->seed);
    if (n_eval > 0 && st == NIS_OK && !ct->blr) cli_json_eval(m, &r);
    else if (n_eval > 0 && st == NIS_OK && !blr_metrics(m, ct, x, n_eval, err, sizeof err)) st = NIS_ENUMERIC;
    bool ok = st == NIS_OK;
    if (ok) {
        cJSON_AddNumberToObject(m, "train_seconds", train_seconds);
        cJSON_AddNumberToObject(m, "train_cpu_seconds", run->cpu_seconds);   /* all threads: the bench's robust clock */
        if (c->whiten) cJSON_AddNumberToObject(m, "whiten_seconds", whiten_seconds);   /* the fit: laplace or pilot */
        cJSON_AddNumberToObject(m, "total_train_seconds", train_seconds + whiten_seconds);
        if (nis_trainer_stopped(tr)) cJSON_AddNumberToObject(m, "stopped_at", (double)nis_trainer_stopped(tr));
        if (n_eval > 0) cJSON_AddNumberToObject(m, "seconds_per_1000_samples", sample_time / (double)n_eval * 1000);
        double hmc = n_eval > 0 && ct->blr ? hmc_seconds_per_1000(t, (uint64_t)c->seed) : NAN;
        if (isfinite(hmc)) {   /* from this many draws on, the sampler (training included) is cheaper than HMC */
            cJSON_AddNumberToObject(m, "hmc_seconds_per_1000_draws", hmc);
            double gain = (hmc - sample_time / (double)n_eval * 1000) / 1000;
            cli_json_number(m, "break_even_draws", gain > 0 ? ceil((train_seconds + whiten_seconds) / gain) : INFINITY);
        }
        cJSON_AddNumberToObject(m, "target_grad_evals_training", target_evals);
        group_metrics(m, ranks);
        cJSON_AddNumberToObject(m, "target_grad_evals_per_1000_samples", 0);
        cJSON_AddNumberToObject(m, "updates", (double)nis_trainer_iter(tr));
        cli_json_number(m, "final_sampler_loss", last_loss);
        if (warn[0]) cJSON_AddStringToObject(m, "warning", warn);
        ok = !write || cli_write_json(cli_path(path, sizeof path, out, "metrics.json"), m, err, sizeof err);
        char *line = cJSON_PrintUnformatted(m);
        if (ok && write && line) printf("%s\n", line);
        cJSON_free(line);
        nis_ctx *pc = n_eval > 0 && write && !ct->blr ? nis_ctx_new(0) : NULL;
        if (ok && pc)   /* a picture of the density: 2-D targets only */
            ok = nis_plot_samples_2d(cli_path(path, sizeof path, out, "samples.png"), pc, t, x,
                                     n_eval < 5000 ? n_eval : 5000, 512, err, sizeof err) == NIS_OK;
        nis_ctx_free(pc);
    }
    if (!ok) fprintf(stderr, "nis " CMD ": %s%s\n", st == NIS_OK ? "" : "evaluation: ", err);
    if (ok && warn[0]) fprintf(stderr, "nis " CMD ": warning: %s\n", warn);
    cJSON_Delete(m);
    nis_free(x);
    return ok ? 0 : 1;
}

/* config.json: the configuration given (automatic values resolved for t), the target, the threads, for blr the
 * data options, and with --whiten the main run's configuration. */
static bool write_config(const char *out, const nis_train_config *c, const cli_target *ct, const cli_blr_flags *bf,
                         int64_t threads, const nis_train_config *main_run, char *err, size_t errlen) {
    char path[4096];
    cJSON *j = cli_config_json(nis_train_schema(), NIS_SCOPE_MLP, c);
    cJSON_AddStringToObject(j, "target", ct->blr ? "blr" : ct->t->name);   /* blr-nc: "blr" + its prior */
    cJSON_AddNumberToObject(j, "threads", (double)threads);
    if (ct->blr) cJSON_AddItemToObject(j, "data", cli_blr_flags_json(bf));
    if (main_run) cJSON_AddItemToObject(j, "whitened_run", cli_config_json(nis_train_schema(), NIS_SCOPE_MLP, main_run));
    bool ok = cli_write_json(cli_path(path, sizeof path, out, "config.json"), j, err, errlen);
    cJSON_Delete(j);
    return ok;
}

int cmd_train(int argc, char **argv) {
    /* a posterior gets the library's preset for posteriors as its defaults (the flags then override them) */
    const char *peek = cli_peek(argc, argv, "target");
    bool blr = peek && !strcmp(peek, "blr");
    nis_train_config c = blr ? nis_train_config_posterior(NIS_METHOD_DFT) : nis_train_config_default(NIS_METHOD_DFT);
    const char *target = NULL, *out = NULL;
    int64_t threads = 1, n_eval = 5000, every = 0;
    bool quiet = false, resume = false;
    const char *split = "batch";
    cli_blr_flags bf;
    cli_blr_flags_default(&bf);
    cli_opt opts[CLI_MAX_OPTS] = {
        {"target", OPT_STRING, &target, cli_target_help, 0, 0, false},
        CLI_OUT_DIR(&out),
        CLI_RESUME(&resume),   /* (the target and data options too: from OUT/config.json) */
        CLI_EVERY(&every),
        {"eval-n", OPT_INT, &n_eval, "samples drawn for metrics.json and samples.png (0: no evaluation, metrics.json "
         "holds the training's numbers only: for data sets where the posterior checks cost more than training)", 0,
         1e6, false},
        CLI_THREADS(&threads),
        CLI_QUIET(&quiet),
        {"group-split", OPT_STRING, &split, "under mpirun: each rank takes a share of every batch (batch), or of the "
         "data's rows and the whole batch (rows: --target blr; docs/scaling.md)", 0, 0, false},
    };
    int nopts = cli_schema_opts(nis_train_schema(), NIS_SCOPE_MLP, &c, opts, cli_opts_count(opts));
    nopts += cli_blr_flags_opts(&bf, opts + nopts);
    int rc = cli_parse(CMD, "Train a one-step sampler for a target: a 2-D density, or the Bayesian logistic "
                       "regression posterior of a data set (--target blr --data PATH; DFT, KL or Fisher training).",
                       argc, argv, opts, nopts);
    if (rc) return rc == 1 ? 0 : rc;
    if (n_eval == 1) return cli_error(CMD, "--eval-n: 0 (no evaluation) or at least 2");
    nis_blr_prior pr;   /* the non-centred form of the hierarchical prior unless --prior says otherwise */
    if (blr && !resume && !cli_given("prior") && nis_blr_prior_parse(bf.prior, &pr))
        bf.prior = nis_blr_prior_name(nis_blr_prior_for_sampler(pr));
    cli_init_json();
    nis_set_threads((int)threads);
    cJSON *keep = NULL;
    if (resume) {
        if ((rc = cli_resume_refuse(CMD, opts, nopts))) return rc;
        if (target || bf.data) return cli_error(CMD, "--target and the data options come from OUT with --resume");
        if ((rc = cli_config_flags(CMD, out, &target, &bf, &keep))) return rc;
    }
    if (!target) return cli_error(CMD, "--target is required");
    bool rows = !strcmp(split, "rows");
    if (!rows && strcmp(split, "batch")) return cli_error(CMD, "--group-split: expected batch or rows, got '%s'", split);
    if (rows && strcmp(target, "blr")) return cli_error(CMD, "--group-split rows needs --target blr (a sum over rows)");
    const nis_dist *g = nis_mpi_group();
    bool root = nis_mpi_root();
    if (rows) bf.dist = g;   /* the likelihood's rows split over the ranks; the batch whole on each */
    cli_target ct;
    rc = cli_target_open(CMD, target, &bf, (uint64_t)c.seed, &ct);
    if (rc) {
        cJSON_Delete(keep);
        return rc;
    }
    if (blr && !resume) nis_train_config_for_posterior(&c, ct.t, cli_given("whiten"));   /* the preset's rule */
    char err[512], path[4096], tag[80];
    nis_trainer *tr = NULL;
    double whiten_seconds = 0;
    int status = 0;
    if (resume) {
        tr = nis_trainer_resume(ct.t, cli_path(path, sizeof path, out, "checkpoint.safetensors"), err, sizeof err);
        if (!tr) status = cli_error(CMD, "--resume: %s", err);
        else if (!cli_given("iters")) c.iters = nis_trainer_config(tr)->iters;
    } else if (nis_train_config_check(&c, ct.t, err, sizeof err) != NIS_OK ||   /* before --out is created */
               nis_train_config_check_dist(&c, rows ? NULL : g, err, sizeof err) != NIS_OK) {
        status = cli_error(CMD, "%s", err);
    } else {
        cli_progress p;
        snprintf(tag, sizeof tag, "[%s %s, pilot]", nis_method_name(c.method), ct.t->name);
        cli_progress_init(&p, tag, quiet, c.iters, 0);
        double t0 = nis_seconds();
        /* the policy (with --whiten the Gaussian fit first: Laplace, or a pilot run) is the library's */
        tr = nis_trainer_prepare(ct.t, &c, cli_progress_fn, &p, err, sizeof err);
        if (c.whiten) whiten_seconds = nis_seconds() - t0;
        if (!tr && c.whiten) status = 1, fprintf(stderr, "nis " CMD ": %s\n", err);   /* the fit failed: a run's failure */
        else if (!tr) status = cli_error(CMD, "%s", err);                          /* a configuration the trainer refused */
    }
    cJSON_Delete(keep);
    /* a group (mpirun): every rank trains its share of each batch (or, row-split, the whole batch against its rows:
     * the target's sums keep the ranks equal); rank 0 alone writes files and prints.  The ranks agree that each is
     * ready before anything is written, and again after rank 0 has made the run's directory. */
    if (!status && g && !rows && nis_trainer_set_dist(tr, g, err, sizeof err) != NIS_OK)
        status = cli_error(CMD, "%s", err);
    status = nis_mpi_agree(status);   /* (an earlier return is agreed on in nis_mpi_leave) */
    const bool ready = !status;   /* every rank is: the second agreement below is theirs too */
    if (!status && !resume && root) {
        nis_train_config given = c;   /* as given, with the automatic values the trainer resolved */
        given.latent = nis_trainer_config(tr)->latent, given.score_model = nis_trainer_config(tr)->score_model;
        if (!cli_ensure_dir(out, err, sizeof err)) status = cli_error(CMD, "--out: %s", err);
        else if (!write_config(out, &given, &ct, &bf, threads, c.whiten ? nis_trainer_config(tr) : NULL, err,
                               sizeof err))
            status = cli_error(CMD, "%s", err);
    }
    if (g && ready) status = nis_mpi_agree(status);
    nis_train_run_result res;
    nis_status why = NIS_OK;
    if (!status && (status = cli_train_run(CMD, tr, c.iters, root ? out : NULL, every, quiet || !root, ct.t->name, 0,
                                           NULL, &res, &why)) &&
        why == NIS_ENUMERIC)
        nis_mpi_failed_together();   /* the losses are the group's: every rank stops at the same update (a failure of
                                      * rank 0's writes is its own: leaving then aborts the group) */
    double evals = tr ? (double)nis_trainer_target_evals(tr) : 0;   /* the group's: every rank's share summed */
    if (!status && g && !rows && g->sum_double(g, &evals, 1, err, sizeof err) != NIS_OK)
        status = cli_error(CMD, "%s", err);
    if (!status && (root || (rows && n_eval > 0)))   /* a row-split target's checks are collectives */
        status = evaluate(tr, &ct, out, n_eval, &res, whiten_seconds, evals, g ? g->size : 1, root);
    nis_trainer_free(tr);
    cli_target_close(&ct);
    return status;
}
