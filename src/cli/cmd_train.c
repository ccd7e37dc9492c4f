/* src/cli/cmd_train.c — `nis train`: train a sampler for a target, then write
 *   DIR/sampler.safetensors  the generator (+ what is needed to use it), saved every few percent too
 *   DIR/config.json          the full configuration (for blr also the data options, under "data")
 *   DIR/metrics.json         evaluation of fresh samples against the target, and the cost (for blr: test
 *                            accuracy and log-likelihood of the posterior predictive, posterior mean and sd)
 *   DIR/samples.png          the samples over the target's density (2-D targets only; not written for blr) */
#include "args.h"
#include "commands.h"
#include "target_open.h"
#include "util.h"
#include "nis/metrics.h"
#include "nis/plot.h"
#include "nis/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void progress(const char *tag, const nis_train_stats *s, int64_t iters, double t0, bool final) {
    double el = nis_now() - t0, rate = s->iter / (el > 0 ? el : 1e-9);
    double eta = (iters - s->iter) / (rate > 0 ? rate : 1e-9);
    fprintf(stderr, "\r%s update %lld/%lld  loss %-10.4g score-loss %-10.4g sigma %.3g  %.0f it/s  %s %.0fs   %s",
            tag, (long long)s->iter, (long long)iters, s->sampler_loss, s->score_loss, s->sigma, rate,
            final ? "took" : "eta", final ? el : eta, final ? "\n" : "");
    fflush(stderr);
}

static cJSON *config_json(const nis_train_config *c, const char *target, int64_t threads, const nis_blr_flags *bf) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "target", target);
    cJSON_AddStringToObject(j, "method", nis_method_name(c->method));
    cJSON_AddNumberToObject(j, "iters", (double)c->iters);
    cJSON_AddNumberToObject(j, "batch", (double)c->batch);
    cJSON_AddNumberToObject(j, "latent", c->latent);
    cJSON_AddNumberToObject(j, "width", c->sampler_width);
    cJSON_AddNumberToObject(j, "depth", c->sampler_depth);
    cJSON_AddNumberToObject(j, "score_width", c->score_width);
    cJSON_AddNumberToObject(j, "score_depth", c->score_depth);
    cJSON_AddStringToObject(j, "act", nis_act_name(c->act));
    cJSON_AddNumberToObject(j, "lr", c->lr_sampler);
    cJSON_AddNumberToObject(j, "lr_score", c->lr_score);
    cJSON_AddNumberToObject(j, "score_steps", c->score_steps);
    cJSON_AddNumberToObject(j, "sigma", c->sigma);
    cJSON_AddNumberToObject(j, "sigma_start", c->sigma_start);
    cJSON_AddNumberToObject(j, "anneal_iters", (double)c->anneal_iters);
    cJSON_AddBoolToObject(j, "antithetic", c->antithetic);
    cJSON_AddBoolToObject(j, "noisy_output", c->noisy_output);
    cJSON_AddNumberToObject(j, "grad_clip", c->grad_clip);
    cJSON_AddBoolToObject(j, "score_eps", c->score_eps);
    cJSON_AddNumberToObject(j, "kl_warmup", (double)c->kl_warmup);
    cJSON_AddNumberToObject(j, "kl_weight", c->kl_weight);
    cJSON_AddNumberToObject(j, "init_scale", c->init_scale);
    cJSON_AddNumberToObject(j, "init_steps", (double)c->init_steps);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    cJSON_AddNumberToObject(j, "score_kde", (double)c->score_kde);
    cJSON_AddBoolToObject(j, "stein_target", c->stein_target);
    cJSON_AddBoolToObject(j, "stein_score", c->stein_score);
    cJSON_AddNumberToObject(j, "target_smooth", c->target_smooth);
    cJSON_AddBoolToObject(j, "smooth_laplace", c->smooth_laplace);
    cJSON_AddBoolToObject(j, "init_at_mode", c->init_mean != NULL);
    cJSON_AddNumberToObject(j, "lr_final", c->lr_final);
    cJSON_AddBoolToObject(j, "score_energy", c->score_energy);
    cJSON_AddBoolToObject(j, "score_residual", c->score_residual);
    cJSON_AddNumberToObject(j, "levels", c->levels);
    cJSON_AddNumberToObject(j, "sigma_max", c->sigma_max);
    cJSON_AddNumberToObject(j, "ema_decay", c->ema_decay);
    cJSON_AddNumberToObject(j, "temper_iters", (double)c->temper_iters);
    cJSON_AddNumberToObject(j, "temper_start", c->temper_start);
    cJSON_AddBoolToObject(j, "whiten", c->precond_mean != NULL);
    cJSON_AddNumberToObject(j, "score_warmup", (double)c->score_warmup);
    cJSON_AddNumberToObject(j, "threads", (double)threads);
    if (bf) cJSON_AddItemToObject(j, "data", nis_blr_flags_json(bf));
    return j;
}

/* What the run needs besides the training configuration. */
typedef struct {
    const char *out;
    int64_t threads, every, n_eval;
    bool quiet;
    const nis_blr_flags *bf;   /* blr: the data options (for config.json), else NULL */
    double pilot_seconds;      /* --whiten: the pilot run's training time (else 0) */
    double pilot_lr, pilot_lr_final;   /* --whiten: the pilot run's sampler lr and its cosine end, */
    double pilot_init_scale;           /* its broad start */
    int64_t pilot_score_warmup;        /* and its score warm-up */
} run_opts;

/* Posterior summaries of a blr run into m: test accuracy and log-likelihood of the posterior predictive, and the
 * mean and sd of every coordinate of the n samples x (n, D). */
static bool blr_metrics(cJSON *m, const nis_cli_target *ct, const nis_real *x, int64_t n, char *err, size_t errlen) {
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
    nis_json_add_number(m, "test_accuracy", acc);
    nis_json_add_number(m, "test_loglik", ll);
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

/* Run `iters` updates of tr, with a progress line on a terminal; s receives the last update's stats.  With `save`
 * (a path) the sampler is saved every `every` updates and after the last, and a failed update says which saved
 * sampler is kept; without it the failure names `what`.  NIS_FAULT_NAN_AT=N (tests, saving runs only) makes update N
 * fail as non-finite.  0, or the CLI's exit status (the message printed). */
static int train_updates(nis_trainer *tr, int64_t iters, const char *tag, bool quiet, const char *what,
                         const char *save, int64_t every, nis_train_stats *s) {
    bool tty = !quiet && isatty(STDERR_FILENO);
    const char *fault = save ? getenv("NIS_FAULT_NAN_AT") : NULL;
    int64_t fault_at = fault ? strtoll(fault, NULL, 10) : -1, last_saved = -1;
    double t0 = nis_now(), last_print = 0;
    char err[512];
    for (int64_t i = 0; i < iters; i++) {
        nis_status st = i + 1 == fault_at ? NIS_ENUMERIC : nis_trainer_step(tr, s);
        if (st != NIS_OK) {
            const char *why = i + 1 == fault_at ? "injected fault: sampler loss is not finite" : nis_trainer_message(tr);
            if (tty) fputc('\n', stderr);
            if (!save)
                fprintf(stderr, "nis train: %s, update %lld: %s\n", what, (long long)i + 1, why);
            else if (last_saved >= 0)
                fprintf(stderr, "nis train: update %lld: %s; kept the last good sampler %s (update %lld)\n",
                        (long long)i + 1, why, save, (long long)last_saved);
            else
                fprintf(stderr, "nis train: update %lld: %s; no sampler was saved\n", (long long)i + 1, why);
            return 1;
        }
        if (save && (s->iter % every == 0 || s->iter == iters)) {
            if (nis_trainer_save(tr, save, err, sizeof err) != NIS_OK) {
                fprintf(stderr, "nis train: %s\n", err);
                return 1;
            }
            last_saved = s->iter;
        }
        double now = nis_now();
        if (tty && (now - last_print > 0.25 || s->iter == iters)) {
            progress(tag, s, iters, t0, s->iter == iters);
            last_print = now;
        }
    }
    return 0;
}

/* --whiten: a pilot run with configuration c (nothing written), then m (dim) and L (dim, dim), caller-owned, from
 * 4000 of its samples (nis_affine_fit), and its training time in *seconds.  0, or the CLI's exit status. */
static int whiten_pilot(const nis_train_config *c, const nis_target *t, bool quiet, nis_real *m, nis_real *L,
                        double *seconds) {
    char err[512], tag[80];
    nis_trainer *tr = nis_trainer_new(t, c, err, sizeof err);
    if (!tr) return nis_cli_error("train", "%s", err);
    snprintf(tag, sizeof tag, "[%s %s, pilot]", nis_method_name(c->method), t->name);
    nis_train_stats s = {0};
    double t0 = nis_now();
    if (train_updates(tr, c->iters, tag, quiet, "pilot run (--whiten)", NULL, 0, &s)) {
        nis_trainer_free(tr);
        return 1;
    }
    *seconds = nis_now() - t0;
    const int64_t n = 4000;
    nis_real *x = nis_malloc((size_t)n * t->dim * sizeof *x);
    nis_rng g = nis_rng_init(c->seed, 11);
    nis_status st = x ? nis_trainer_sample(tr, &g, n, c->noisy_output, x) : NIS_ENOMEM;
    if (st == NIS_OK) st = nis_affine_fit(x, n, t->dim, m, L, err, sizeof err);
    else snprintf(err, sizeof err, "%s", x ? nis_trainer_message(tr) : "out of memory");
    nis_free(x);
    nis_trainer_free(tr);
    if (st != NIS_OK) {
        fprintf(stderr, "nis train: pilot run (--whiten): %s\n", err);
        return 1;
    }
    return 0;
}

static int run(const nis_train_config *cp, const nis_cli_target *ct, const run_opts *ro) {
    nis_train_config c = *cp;
    const nis_target *t = ct->t;
    bool is_blr = ct->blr != NULL;
    const char *out = ro->out;
    int64_t iters = c.iters, every = ro->every, n_eval = ro->n_eval, threads = ro->threads;
    uint64_t seed = c.seed;
    bool quiet = ro->quiet;
    char err[512], path[4096];
    nis_trainer *tr = nis_trainer_new(t, &c, err, sizeof err);   /* a bad configuration leaves no --out behind */
    if (!tr) return nis_cli_error("train", "%s", err);
    if (!nis_ensure_dir(out, err, sizeof err)) {
        nis_trainer_free(tr);
        return nis_cli_error("train", "--out: %s", err);
    }
    cJSON *cfg = config_json(&c, is_blr ? "blr" : t->name, threads, ro->bf);   /* blr-nc: "blr" + its prior */
    if (c.precond_mean) {   /* --whiten: "lr" and "lr_final" are the main run's */
        cJSON_AddNumberToObject(cfg, "pilot_lr", ro->pilot_lr);
        cJSON_AddNumberToObject(cfg, "pilot_lr_final", ro->pilot_lr_final);
        cJSON_AddNumberToObject(cfg, "pilot_init_scale", ro->pilot_init_scale);
        cJSON_AddNumberToObject(cfg, "pilot_score_warmup", (double)ro->pilot_score_warmup);
    }
    bool ok = nis_write_json(nis_path_join(path, sizeof path, out, "config.json"), cfg, err, sizeof err);
    cJSON_Delete(cfg);
    if (!ok) {
        nis_trainer_free(tr);
        return nis_cli_error("train", "%s", err);
    }

    char tag[64];
    snprintf(tag, sizeof tag, "[%s %s]", nis_method_name(c.method), t->name);
    if (every <= 0) every = iters / 10 > 0 ? iters / 10 : 1;
    nis_path_join(path, sizeof path, out, "sampler.safetensors");
    nis_train_stats s = {0};
    double t0 = nis_now();
    if (train_updates(tr, iters, tag, quiet, "", path, every, &s)) {
        nis_trainer_free(tr);
        return 1;
    }
    double train_time = nis_now() - t0;
    int status = 0;
    if (iters == 0 && nis_trainer_save(tr, path, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis train: %s\n", err);
        nis_trainer_free(tr);
        return 1;
    }

    /* evaluation */
    nis_real *x = nis_malloc((size_t)n_eval * t->dim * sizeof *x);
    if (!x) {
        nis_trainer_free(tr);
        return nis_cli_error("train", "out of memory for %lld samples", (long long)n_eval);
    }
    nis_rng g = nis_rng_init((uint64_t)seed, 7);
    double ts = nis_now();
    nis_status st = nis_trainer_sample(tr, &g, n_eval, c.noisy_output, x);
    double sample_time = nis_now() - ts;
    if (st == NIS_OK && !strcmp(t->name, "blr-nc")) nis_blr_nc_to_theta(x, n_eval, t->dim);   /* report w, not v */
    nis_eval_result r;
    cJSON *m = NULL;
    if (st == NIS_OK && !is_blr) st = nis_evaluate(t, x, n_eval, (uint64_t)seed, &r, err, sizeof err);
    else if (st != NIS_OK) snprintf(err, sizeof err, "%s", nis_trainer_message(tr));
    if (st == NIS_OK) {
        m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "target", t->name);
        cJSON_AddStringToObject(m, "method", nis_method_name(c.method));
        cJSON_AddNumberToObject(m, "seed", (double)seed);
        if (!is_blr) nis_json_add_eval(m, &r);
        else if (!blr_metrics(m, ct, x, n_eval, err, sizeof err)) st = NIS_ENUMERIC;
    }
    if (st == NIS_OK) {
        cJSON_AddNumberToObject(m, "train_seconds", train_time);
        if (c.precond_mean) cJSON_AddNumberToObject(m, "pilot_train_seconds", ro->pilot_seconds);
        cJSON_AddNumberToObject(m, "seconds_per_1000_samples", sample_time / n_eval * 1000);
        cJSON_AddNumberToObject(m, "target_grad_evals_training", (double)s.target_grad_evals);
        cJSON_AddNumberToObject(m, "target_grad_evals_per_1000_samples", 0);
        nis_json_add_number(m, "final_sampler_loss", s.sampler_loss);
        ok = nis_write_json(nis_path_join(path, sizeof path, out, "metrics.json"), m, err, sizeof err);
        char *line = cJSON_PrintUnformatted(m);
        if (ok && line) printf("%s\n", line);
        cJSON_free(line);
        nis_ctx *pc = nis_ctx_new(0);
        if (ok && pc && !is_blr)   /* a picture of the density: 2-D targets only */
            ok = nis_plot_samples_2d(nis_path_join(path, sizeof path, out, "samples.png"), pc, t, x,
                                     n_eval < 5000 ? n_eval : 5000, 512, err, sizeof err) == NIS_OK;
        nis_ctx_free(pc);
        if (!ok) status = 1, fprintf(stderr, "nis train: %s\n", err);
    } else {
        fprintf(stderr, "nis train: evaluation: %s\n", err);
        status = 1;
    }
    cJSON_Delete(m);
    nis_free(x);
    nis_trainer_free(tr);
    return status;
}

int nis_cmd_train(int argc, char **argv) {
    nis_train_config c = nis_train_config_default(NIS_METHOD_DFT);
    const char *target = NULL, *method = "dft", *out = NULL, *act = nis_act_name(c.act);
    int64_t iters = c.iters, batch = c.batch, seed = 0, threads = 1, latent = c.latent, width = c.sampler_width,
            depth = c.sampler_depth, swidth = c.score_width, sdepth = c.score_depth, ssteps = c.score_steps,
            anneal = c.anneal_iters, warm = c.kl_warmup, n_eval = 5000, every = 0;
    double sigma = c.sigma, sigma0 = c.sigma_start, lr = c.lr_sampler, lr_s = c.lr_score, lr_fin = c.lr_final, clip = c.grad_clip;
    double init_scale = c.init_scale, white_lr = 1e-3, white_lr_fin = 3e-5;
    int64_t init_steps = c.init_steps, score_kde = c.score_kde, tsmooth = c.target_smooth, levels = c.levels;
    double sigma_max = c.sigma_max, ema = c.ema_decay, temper0 = c.temper_start, kl_weight = c.kl_weight;
    int64_t temper = c.temper_iters, swarm = -1;
    bool no_anti = false, clean = false, quiet = false, score_eps = false, stein_t = false, stein_s = false, senergy = false, sresid = false, no_sresid = false, slaplace = false, whiten = false,
         no_mode = false;
    nis_blr_flags bf;
    nis_blr_flags_default(&bf);
    latent = 0;   /* 0: the target's dimension */
    const nis_opt base[] = {
        {"target", OPT_STRING, &target, nis_cli_target_help, 0, 0, true},
        {"method", OPT_STRING, &method, "dft|kl|fisher", 0, 0, false},
        {"out", OPT_STRING, &out, "output directory (created if missing)", 0, 0, true},
        {"iters", OPT_INT, &iters, "sampler updates", 0, 1e9, false},
        {"batch", OPT_INT, &batch, "samples per update (even)", 2, 1e7, false},
        {"seed", OPT_INT, &seed, "random seed", 0, 9e18, false},
        {"sigma", OPT_DOUBLE, &sigma, "noise level sigma (DFT, KL)", 1e-6, 100, false},
        {"sigma-start", OPT_DOUBLE, &sigma0, "anneal sigma geometrically from this value (0: off)", 0, 100, false},
        {"anneal-iters", OPT_INT, &anneal, "updates over which sigma is annealed", 0, 1e9, false},
        {"score-steps", OPT_INT, &ssteps, "score-network updates per sampler update", 1, 1000, false},
        {"lr", OPT_DOUBLE, &lr, "sampler learning rate (Adam)", 1e-12, 1, false},
        {"lr-final", OPT_DOUBLE, &lr_fin, "sampler lr at the end of a cosine decay (0: constant lr)", 0, 1, false},
        {"lr-score", OPT_DOUBLE, &lr_s, "score-network learning rate (Adam)", 1e-12, 1, false},
        {"latent", OPT_INT, &latent, "latent dimension (0: the target's dimension)", 0, 65536, false},
        {"width", OPT_INT, &width, "sampler hidden width", 1, 65536, false},
        {"depth", OPT_INT, &depth, "sampler hidden layers", 0, 15, false},
        {"score-width", OPT_INT, &swidth, "score-network hidden width", 1, 65536, false},
        {"score-depth", OPT_INT, &sdepth, "score-network hidden layers", 0, 15, false},
        {"act", OPT_STRING, &act, "activation: silu|relu|tanh|softplus|elu|leaky_relu", 0, 0, false},
        {"kl-warmup", OPT_INT, &warm, "DFT: KL updates before DFT", 0, 1e9, false},
        {"kl-weight", OPT_DOUBLE, &kl_weight, "DFT: add this times the KL training loss to the sampler loss (a hybrid, not DFT; 0: off; see docs/dft.md)", 0, 1e9, false},
        {"score-warmup", OPT_INT, &swarm, "score-network updates on the initial sampler before its first update (-1: 1000 for the main run of --whiten, else 0)", -1, 1e9, false},
        {"init-scale", OPT_DOUBLE, &init_scale, "start from g(z) = s z fitted first (0: random init)", 0, 1e6, false},
        {"init-steps", OPT_INT, &init_steps, "steps of that initial fit", 0, 1e9, false},
        {"grad-clip", OPT_DOUBLE, &clip, "max gradient norm per network (0: off)", 0, 1e9, false},
        {"score-eps", OPT_FLAG, &score_eps, "score network predicts -eps: s(x) = net(x) / sigma", 0, 0, false},
        {"no-antithetic", OPT_FLAG, &no_anti, "independent noise instead of (eps, -eps) pairs", 0, 0, false},
        {"clean-output", OPT_FLAG, &clean, "sample g(z) instead of g(z) + sigma eps", 0, 0, false},
        {"eval-n", OPT_INT, &n_eval, "samples drawn for metrics.json and samples.png", 2, 1e6, false},
        {"checkpoint-every", OPT_INT, &every, "save the sampler every N updates (0: every 10%)", 0, 1e9, false},
        {"score-kde", OPT_INT, &score_kde, "diagnostic: exact score of a KDE of N fresh samples instead of a score net", 0, 1e7, false},
        {"stein-target", OPT_FLAG, &stein_t, "DFT: target term as |s_q|^2 + 2 lap log q (same expected gradient)", 0, 0, false},
        {"stein-score", OPT_FLAG, &stein_s, "DFT: score term as |s|^2 + 2 div s (same expected gradient)", 0, 0, false},
        {"target-smooth", OPT_INT, &tsmooth, "DFT against q*N(0,sigma^2), N importance samples per point (use --clean-output)", 0, 4096, false},
        {"smooth-laplace", OPT_FLAG, &slaplace, "with --target-smooth: Laplace-mixture importance proposal", 0, 0, false},
        {"levels", OPT_INT, &levels, "DFT: multi-level DFT over this many sigmas, sigma..sigma-max (see nis/train.h)", 0, NIS_TRAIN_MAX_LEVELS, false},
        {"sigma-max", OPT_DOUBLE, &sigma_max, "with --levels: the coarsest level's sigma", 0, 100, false},
        {"temper-iters", OPT_INT, &temper, "train against q^b N(0,I)^(1-b), b linear to 1 over N updates (0: off)", 0, 1e9, false},
        {"temper-start", OPT_DOUBLE, &temper0, "with --temper-iters: b at update 0", 0, 0.999999, false},
        {"whiten", OPT_FLAG, &whiten, "first a pilot run with these settings; the main run trains on the target whitened by the pilot's sample mean and covariance, x = m + L u, starting at u ~ N(0, I), with the sampler lr of --white-lr (two runs' cost; see docs/dft.md)", 0, 0, false},
        {"white-lr", OPT_DOUBLE, &white_lr, "with --whiten: the main run's sampler lr (--lr is the pilot's)", 1e-12, 1, false},
        {"white-lr-final", OPT_DOUBLE, &white_lr_fin, "with --whiten: the main run's lr at the end of its cosine decay (0: constant)", 0, 1, false},
        {"ema", OPT_DOUBLE, &ema, "decay of an EMA of the sampler's weights, used for samples and checkpoints (0: off: the last iterate)", 0, 0.999999, false},
        {"score-energy", OPT_FLAG, &senergy, "conservative score network s = -grad E, E an MLP to a scalar", 0, 0, false},
        {"score-residual", OPT_FLAG, &sresid, "residual score model s = s_q + r, the MLP learns r (zero at the target; DFT's default on the 2-D targets)", 0, 0, false},
        {"no-score-residual", OPT_FLAG, &no_sresid, "plain score model s = MLP(x) (the default for KL, Fisher and blr)", 0, 0, false},
        {"no-init-mode", OPT_FLAG, &no_mode, "blr: start around 0 instead of the posterior mode", 0, 0, false},
        {"threads", OPT_INT, &threads, "threads for OpenMP and OpenBLAS", 1, 256, false},
        {"quiet", OPT_FLAG, &quiet, "no progress line", 0, 0, false},
    };
    nis_opt opts[sizeof base / sizeof base[0] + NIS_BLR_NOPTS];
    memcpy(opts, base, sizeof base);
    int nopts = (int)(sizeof base / sizeof base[0]) + nis_blr_flags_opts(&bf, opts + sizeof base / sizeof base[0]);
    int rc = nis_args_parse("train", "Train a one-step sampler for a target: a 2-D density, or the Bayesian logistic "
                            "regression posterior of a data set (--target blr --data PATH; DFT, KL or Fisher training).",
                            argc, argv, opts, nopts);
    if (rc) return rc == 1 ? 0 : rc;
    if (!nis_method_parse(method, &c.method))
        return nis_cli_error("train", "--method: unknown method '%s' (dft, kl, fisher)", method);
    if (!nis_act_parse(act, &c.act)) return nis_cli_error("train", "--act: unknown activation '%s'", act);
    c.iters = iters, c.batch = batch, c.seed = (uint64_t)seed, c.sigma = sigma, c.sigma_start = sigma0;
    c.anneal_iters = anneal, c.score_steps = (int)ssteps, c.lr_sampler = lr, c.lr_score = lr_s, c.lr_final = lr_fin;
    c.sampler_width = (int)width, c.sampler_depth = (int)depth;
    c.score_width = (int)swidth, c.score_depth = (int)sdepth, c.kl_warmup = warm, c.grad_clip = clip;
    c.kl_weight = kl_weight;
    c.init_scale = init_scale, c.init_steps = init_steps;
    c.antithetic = !no_anti;
    c.score_eps = score_eps;
    c.score_kde = score_kde;
    c.stein_target = stein_t, c.stein_score = stein_s, c.target_smooth = (int)tsmooth;
    if (sresid && no_sresid) return nis_cli_error("train", "--score-residual and --no-score-residual exclude each other");
    if (!whiten && (white_lr != 1e-3 || white_lr_fin != 3e-5))
        return nis_cli_error("train", "--white-lr and --white-lr-final need --whiten");
    c.score_energy = senergy, c.smooth_laplace = slaplace;
    c.levels = (int)levels, c.sigma_max = sigma_max, c.ema_decay = ema;
    c.temper_iters = temper, c.temper_start = temper0, c.score_warmup = swarm < 0 ? 0 : swarm;
    c.noisy_output = !clean && c.method != NIS_METHOD_FISHER;
    if (c.antithetic && c.batch % 2) return nis_cli_error("train", "--batch must be even with antithetic noise");
    nis_cli_target ct;
    rc = nis_cli_target_open("train", target, &bf, (uint64_t)seed, &ct);
    if (rc) return rc;
    c.latent = (int)(latent > 0 ? latent : ct.t->dim);
    /* DFT on the 2-D targets: the residual score model, which the 2-D sweeps found better there (docs/dft.md); not
     * on blr (measured worse, minibatch or not) nor with a smoothed target or a KDE score (which it cannot be
     * combined with).  Elsewhere the library's default, the plain model. */
    c.score_residual = (sresid || (c.method == NIS_METHOD_DFT && !ct.blr && c.target_smooth == 0 &&
                                   c.score_kde == 0)) && !no_sresid;
    nis_set_threads((int)threads);
    nis_real *mode = NULL;   /* blr: start the sampler around the posterior's bulk (see nis_blr_mode) */
    if (ct.blr && !no_mode) {
        char err[256];
        mode = malloc(sizeof(nis_real) * (size_t)ct.t->dim);
        if (!mode) {
            nis_cli_target_close(&ct);
            return nis_cli_error("train", "out of memory");
        }
        if (nis_blr_mode(ct.t, mode, err, sizeof err) != NIS_OK) {
            free(mode);
            nis_cli_target_close(&ct);
            return nis_cli_error("train", "%s", err);
        }
        c.init_mean = mode;
    }
    nis_cli_init_json();
    run_opts ro = {.out = out, .threads = threads, .every = every, .n_eval = n_eval, .quiet = quiet,
                   .bf = ct.blr ? &bf : NULL};
    nis_real *pre = NULL;   /* --whiten: m (dim) then L (dim, dim) */
    int status = 0;
    if (whiten) {
        size_t d = (size_t)ct.t->dim;
        pre = malloc((d + d * d) * sizeof *pre);
        if (!pre) {
            status = nis_cli_error("train", "out of memory");
        } else {
            status = whiten_pilot(&c, ct.t, quiet, pre, pre + d, &ro.pilot_seconds);
            c.precond_mean = pre, c.precond_L = pre + d;
            ro.pilot_lr = c.lr_sampler, ro.pilot_lr_final = c.lr_final;
            ro.pilot_init_scale = c.init_scale, ro.pilot_score_warmup = c.score_warmup;
            c.lr_sampler = white_lr, c.lr_final = white_lr_fin;   /* the whitened target is well conditioned */
            c.init_scale = 1;                                      /* start at u ~ N(0, I): the pilot's Gaussian fit */
            if (swarm < 0) c.score_warmup = 1000;                  /* no sampler step on an untrained score net */
            c.init_mean = NULL;   /* the main run starts at the pilot's mean */
        }
    }
    if (status == 0) status = run(&c, &ct, &ro);
    free(pre);
    free(mode);
    nis_cli_target_close(&ct);
    return status;
}
