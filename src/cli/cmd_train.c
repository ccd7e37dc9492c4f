/* src/cli/cmd_train.c — `nis train`: train a sampler for a target, then write
 *   DIR/sampler.safetensors  the generator (+ what is needed to use it), saved every few percent too
 *   DIR/config.json          the full configuration
 *   DIR/metrics.json         evaluation of fresh samples against the target, and the cost
 *   DIR/samples.png          the samples over the target's density */
#include "args.h"
#include "commands.h"
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

static cJSON *config_json(const nis_train_config *c, const char *target, int64_t threads) {
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
    cJSON_AddNumberToObject(j, "init_scale", c->init_scale);
    cJSON_AddNumberToObject(j, "init_steps", (double)c->init_steps);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    cJSON_AddNumberToObject(j, "score_kde", (double)c->score_kde);
    cJSON_AddBoolToObject(j, "stein_target", c->stein_target);
    cJSON_AddBoolToObject(j, "stein_score", c->stein_score);
    cJSON_AddNumberToObject(j, "target_smooth", c->target_smooth);
    cJSON_AddBoolToObject(j, "score_energy", c->score_energy);
    cJSON_AddNumberToObject(j, "threads", (double)threads);
    return j;
}

int nis_cmd_train(int argc, char **argv) {
    nis_train_config c = nis_train_config_default(NIS_METHOD_DFT);
    const char *target = NULL, *method = "dft", *out = NULL, *act = nis_act_name(c.act);
    int64_t iters = c.iters, batch = c.batch, seed = 0, threads = 1, latent = c.latent, width = c.sampler_width,
            depth = c.sampler_depth, swidth = c.score_width, sdepth = c.score_depth, ssteps = c.score_steps,
            anneal = c.anneal_iters, warm = c.kl_warmup, n_eval = 5000, every = 0;
    double sigma = c.sigma, sigma0 = c.sigma_start, lr = c.lr_sampler, lr_s = c.lr_score, clip = c.grad_clip;
    double init_scale = c.init_scale;
    int64_t init_steps = c.init_steps, score_kde = c.score_kde, tsmooth = c.target_smooth;
    bool no_anti = false, clean = false, quiet = false, score_eps = false, stein_t = false, stein_s = false, senergy = false;
    const nis_opt opts[] = {
        {"target", OPT_STRING, &target, "gauss|mog2|rosenbrock|donut|funnel|squiggle", 0, 0, true},
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
        {"lr-score", OPT_DOUBLE, &lr_s, "score-network learning rate (Adam)", 1e-12, 1, false},
        {"latent", OPT_INT, &latent, "latent dimension", 1, 4096, false},
        {"width", OPT_INT, &width, "sampler hidden width", 1, 65536, false},
        {"depth", OPT_INT, &depth, "sampler hidden layers", 0, 15, false},
        {"score-width", OPT_INT, &swidth, "score-network hidden width", 1, 65536, false},
        {"score-depth", OPT_INT, &sdepth, "score-network hidden layers", 0, 15, false},
        {"act", OPT_STRING, &act, "activation: silu|relu|tanh|softplus|elu|leaky_relu", 0, 0, false},
        {"kl-warmup", OPT_INT, &warm, "DFT: KL updates before DFT", 0, 1e9, false},
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
        {"score-energy", OPT_FLAG, &senergy, "conservative score network s = -grad E, E an MLP to a scalar", 0, 0, false},
        {"threads", OPT_INT, &threads, "threads for OpenMP and OpenBLAS", 1, 256, false},
        {"quiet", OPT_FLAG, &quiet, "no progress line", 0, 0, false},
    };
    int rc = nis_args_parse("train", "Train a one-step sampler for a 2-D target (DFT, KL or Fisher training).",
                            argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    const nis_target *t = nis_target_2d(target);
    if (!t) return nis_cli_error("train", "--target: unknown target '%s' (gauss, mog2, rosenbrock, donut, funnel, squiggle)", target);
    if (!nis_method_parse(method, &c.method))
        return nis_cli_error("train", "--method: unknown method '%s' (dft, kl, fisher)", method);
    if (!nis_act_parse(act, &c.act)) return nis_cli_error("train", "--act: unknown activation '%s'", act);
    c.iters = iters, c.batch = batch, c.seed = (uint64_t)seed, c.sigma = sigma, c.sigma_start = sigma0;
    c.anneal_iters = anneal, c.score_steps = (int)ssteps, c.lr_sampler = lr, c.lr_score = lr_s;
    c.latent = (int)latent, c.sampler_width = (int)width, c.sampler_depth = (int)depth;
    c.score_width = (int)swidth, c.score_depth = (int)sdepth, c.kl_warmup = warm, c.grad_clip = clip;
    c.init_scale = init_scale, c.init_steps = init_steps;
    c.antithetic = !no_anti;
    c.score_eps = score_eps;
    c.score_kde = score_kde;
    c.stein_target = stein_t, c.stein_score = stein_s, c.target_smooth = (int)tsmooth;
    c.score_energy = senergy;
    c.noisy_output = !clean && c.method != NIS_METHOD_FISHER;
    if (c.antithetic && c.batch % 2) return nis_cli_error("train", "--batch must be even with antithetic noise");
    nis_set_threads((int)threads);
    nis_cli_init_json();

    char err[512], path[4096];
    if (!nis_ensure_dir(out, err, sizeof err)) return nis_cli_error("train", "--out: %s", err);
    nis_trainer *tr = nis_trainer_new(t, &c, err, sizeof err);
    if (!tr) return nis_cli_error("train", "%s", err);
    cJSON *cfg = config_json(&c, t->name, threads);
    bool ok = nis_write_json(nis_path_join(path, sizeof path, out, "config.json"), cfg, err, sizeof err);
    cJSON_Delete(cfg);
    if (!ok) {
        nis_trainer_free(tr);
        return nis_cli_error("train", "%s", err);
    }

    char tag[64];
    snprintf(tag, sizeof tag, "[%s %s]", nis_method_name(c.method), t->name);
    bool tty = !quiet && isatty(STDERR_FILENO);
    if (every <= 0) every = iters / 10 > 0 ? iters / 10 : 1;
    nis_path_join(path, sizeof path, out, "sampler.safetensors");
    nis_train_stats s = {0};
    int64_t last_saved = -1;
    /* fault injection for the tests: pretend update N produced a non-finite loss */
    const char *fault = getenv("NIS_FAULT_NAN_AT");
    int64_t fault_at = fault ? strtoll(fault, NULL, 10) : -1;
    double t0 = nis_now(), last_print = 0;
    int status = 0;
    for (int64_t i = 0; i < iters; i++) {
        nis_status st = i + 1 == fault_at ? NIS_ENUMERIC : nis_trainer_step(tr, &s);
        if (st != NIS_OK) {
            const char *why = i + 1 == fault_at ? "injected fault: sampler loss is not finite" : nis_trainer_message(tr);
            if (tty) fputc('\n', stderr);
            if (last_saved >= 0)
                fprintf(stderr, "nis train: update %lld: %s; kept the last good sampler %s (update %lld)\n",
                        (long long)i + 1, why, path, (long long)last_saved);
            else
                fprintf(stderr, "nis train: update %lld: %s; no sampler was saved\n", (long long)i + 1, why);
            nis_trainer_free(tr);
            return 1;
        }
        if (s.iter % every == 0 || s.iter == iters) {
            if (nis_trainer_save(tr, path, err, sizeof err) != NIS_OK) {
                fprintf(stderr, "nis train: %s\n", err);
                nis_trainer_free(tr);
                return 1;
            }
            last_saved = s.iter;
        }
        double now = nis_now();
        if (tty && (now - last_print > 0.25 || s.iter == iters)) {
            progress(tag, &s, iters, t0, s.iter == iters);
            last_print = now;
        }
    }
    double train_time = nis_now() - t0;
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
    nis_eval_result r;
    if (st == NIS_OK) st = nis_evaluate(t, x, n_eval, (uint64_t)seed, &r, err, sizeof err);
    else snprintf(err, sizeof err, "%s", nis_trainer_message(tr));
    if (st == NIS_OK) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "target", t->name);
        cJSON_AddStringToObject(m, "method", nis_method_name(c.method));
        cJSON_AddNumberToObject(m, "seed", (double)seed);
        nis_json_add_eval(m, &r);
        cJSON_AddNumberToObject(m, "train_seconds", train_time);
        cJSON_AddNumberToObject(m, "seconds_per_1000_samples", sample_time / n_eval * 1000);
        cJSON_AddNumberToObject(m, "target_grad_evals_training", (double)s.target_grad_evals);
        cJSON_AddNumberToObject(m, "target_grad_evals_per_1000_samples", 0);
        nis_json_add_number(m, "final_sampler_loss", s.sampler_loss);
        ok = nis_write_json(nis_path_join(path, sizeof path, out, "metrics.json"), m, err, sizeof err);
        char *line = cJSON_PrintUnformatted(m);
        if (ok && line) printf("%s\n", line);
        cJSON_free(line);
        cJSON_Delete(m);
        nis_ctx *pc = nis_ctx_new(0);
        if (ok && pc)
            ok = nis_plot_samples_2d(nis_path_join(path, sizeof path, out, "samples.png"), pc, t, x,
                                     n_eval < 5000 ? n_eval : 5000, 512, err, sizeof err) == NIS_OK;
        nis_ctx_free(pc);
        if (!ok) status = 1, fprintf(stderr, "nis train: %s\n", err);
    } else {
        fprintf(stderr, "nis train: evaluation: %s\n", err);
        status = 1;
    }
    nis_free(x);
    nis_trainer_free(tr);
    return status;
}
