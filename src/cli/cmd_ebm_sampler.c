/* src/cli/cmd_ebm_sampler.c — one-step image samplers against an image energy (nis/imgsampler.h):
 *   `nis ebm sampler`  train a conv generator by DFT or KL against --energy E.safetensors (or the test
 *                      target --target gauss784) and write DIR/sampler.safetensors (the whole training state,
 *                      saved every few percent; --resume continues it bit-identically), DIR/config.json,
 *                      DIR/metrics.json and DIR/samples.png (a grid of 64 samples);
 *   `nis ebm sample`   (nis_cmd_ebm_sample) N images from a trained sampler into a float32 .npy (N, C, H, W). */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/ebm.h"
#include "nis/imgsampler.h"
#include "nis/io.h"
#include "nis/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "ebm sampler"

/* log q_β = β log q (tempering; score and HVP by autodiff through it). */
typedef struct {
    nis_target t;
    const nis_target *base;
    double beta;
} tempered;

static nis_tensor *tempered_log_prob(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    const tempered *w = t->data;
    return nis_mul_scalar(ctx, w->base->log_prob(ctx, w->base, x), w->beta);
}

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

typedef struct {
    bool tty;
    double t0, last;
    int64_t iters, every;
    const char *path;
    const nis_imgsampler *s;
    int n_meta;
    const char *const *meta;
    char tag[48];
    char err[512];
    bool save_failed;
    int64_t last_saved, start;
} run_state;

static bool on_update(void *ud, const nis_train_stats *st) {
    run_state *r = ud;
    if (st->iter % r->every == 0 || st->iter == r->iters) {
        if (nis_imgsampler_save(r->s, r->path, r->n_meta, r->meta, r->err, sizeof r->err) != NIS_OK) {
            r->save_failed = true;
            return false;
        }
        r->last_saved = st->iter;
    }
    double now = nis_now();
    if (r->tty && (now - r->last > 0.5 || st->iter == r->iters)) {
        double el = now - r->t0, rate = (double)(st->iter - r->start) / (el > 0 ? el : 1e-9);
        bool fin = st->iter == r->iters;
        fprintf(stderr, "\r%s update %lld/%lld  loss %-10.4g score-loss %-10.4g sigma %.3g  %.2f it/s  %.0fs%s", r->tag,
                (long long)st->iter, (long long)r->iters, st->sampler_loss, st->score_loss, st->sigma, rate, el,
                fin ? "\n" : "   ");
        fflush(stderr);
        r->last = now;
    }
    return true;
}

static cJSON *config_json(const nis_imgsampler_config *c, const char *target, double beta, int64_t iters,
                          int64_t threads) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "target", target);
    cJSON_AddStringToObject(j, "method", nis_method_name(c->method));
    cJSON_AddNumberToObject(j, "beta", beta);
    cJSON_AddNumberToObject(j, "iters", (double)iters);
    cJSON_AddNumberToObject(j, "batch", (double)c->batch);
    cJSON_AddNumberToObject(j, "latent", c->latent);
    cJSON_AddNumberToObject(j, "gen_channels", c->gen_channels);
    cJSON_AddNumberToObject(j, "score_channels", c->score_channels);
    cJSON_AddStringToObject(j, "act", nis_act_name(c->act));
    cJSON_AddNumberToObject(j, "lr", c->lr_gen);
    cJSON_AddNumberToObject(j, "lr_score", c->lr_score);
    cJSON_AddNumberToObject(j, "score_steps", c->score_steps);
    cJSON_AddNumberToObject(j, "sigma", c->sigma);
    cJSON_AddNumberToObject(j, "sigma_start", c->sigma_start);
    cJSON_AddNumberToObject(j, "anneal_iters", (double)c->anneal_iters);
    cJSON_AddBoolToObject(j, "antithetic", c->antithetic);
    cJSON_AddBoolToObject(j, "noisy_output", c->noisy_output);
    cJSON_AddBoolToObject(j, "sigmoid_output", c->sigmoid_output);
    cJSON_AddNumberToObject(j, "grad_clip", c->grad_clip);
    cJSON_AddNumberToObject(j, "ema_decay", c->ema_decay);
    cJSON_AddBoolToObject(j, "score_eps", c->score_eps);
    cJSON_AddBoolToObject(j, "score_residual", c->score_residual);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    cJSON_AddNumberToObject(j, "threads", (double)threads);
    return j;
}

/* Timing of an update's parts on a fresh sampler, as one JSON line. */
static int profile(const nis_target *t, const nis_imgsampler_config *c, int64_t reps) {
    char err[512];
    nis_imgsampler *s = nis_imgsampler_new(t, c, err, sizeof err);
    if (!s) return nis_cli_error(CMD, "%s", err);
    nis_imgsampler_timing tm;
    int status = 0;
    if (nis_imgsampler_profile(s, (int)reps, &tm) != NIS_OK) {
        fprintf(stderr, "nis " CMD ": %s\n", nis_imgsampler_message(s));
        status = 1;
    } else {
        cJSON *j = cJSON_CreateObject(), *sec = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "method", nis_method_name(c->method));
        cJSON_AddNumberToObject(j, "batch", (double)c->batch);
        cJSON_AddNumberToObject(j, "threads", nis_threads());
        cJSON_AddNumberToObject(j, "score_steps", c->score_steps);
        cJSON_AddNumberToObject(sec, "update", tm.update);
        cJSON_AddNumberToObject(sec, "score_step", tm.score_step);
        cJSON_AddNumberToObject(sec, "gen_fwd_bwd", tm.gen_fwd_bwd);
        cJSON_AddNumberToObject(sec, "target_score_hvp", tm.target_score_hvp);
        cJSON_AddNumberToObject(sec, "score_vjp", tm.score_vjp);
        cJSON_AddItemToObject(j, "seconds", sec);
        if (!nis_json_print_line(j)) status = 1;
    }
    nis_imgsampler_free(s);
    return status;
}

int nis_cmd_ebm_sampler(int argc, char **argv) {
    nis_imgsampler_config c = nis_imgsampler_config_default(NIS_METHOD_DFT);
    const char *energy = NULL, *target = NULL, *method = "dft", *out = NULL;
    int64_t iters = 2000, seed = 0, batch = c.batch, latent = c.latent, gch = c.gen_channels, sch = c.score_channels;
    int64_t ssteps = c.score_steps, anneal = c.anneal_iters, every = 0, threads = 1, prof = 0, n_eval = 1000;
    double sigma = c.sigma, sigma0 = c.sigma_start, lr = c.lr_gen, lr_s = c.lr_score, clip = c.grad_clip;
    double ema = c.ema_decay, beta = 1;
    bool resume = false, no_anti = false, clean = false, quiet = false, raw_score = false, linear = false, resid = false;
    const nis_opt opts[] = {
        {"energy", OPT_STRING, &energy, "energy .safetensors (nis ebm train)", 0, 0, false},
        {"target", OPT_STRING, &target, "instead of --energy: gauss784 (N(blob, 0.2^2 I), for testing; mean energy at the optimum 392)", 0, 0, false},
        {"method", OPT_STRING, &method, "dft|kl", 0, 0, false},
        {"out", OPT_STRING, &out, "output directory (created if missing)", 0, 0, false},
        {"iters", OPT_INT, &iters, "generator updates in total (a resumed run continues up to this)", 0, 1e9, false},
        {"seed", OPT_INT, &seed, "random seed", 0, 9e18, false},
        {"resume", OPT_FLAG, &resume, "continue DIR/sampler.safetensors (its stored settings win)", 0, 0, false},
        {"batch", OPT_INT, &batch, "samples per update (even)", 2, 1e6, false},
        {"sigma", OPT_DOUBLE, &sigma, "noise level sigma", 1e-6, 100, false},
        {"sigma-start", OPT_DOUBLE, &sigma0, "anneal sigma geometrically from this value (0: off)", 0, 100, false},
        {"anneal-iters", OPT_INT, &anneal, "updates over which sigma is annealed", 0, 1e9, false},
        {"score-steps", OPT_INT, &ssteps, "score-network updates per generator update", 1, 1000, false},
        {"lr", OPT_DOUBLE, &lr, "generator learning rate (Adam)", 1e-12, 1, false},
        {"lr-score", OPT_DOUBLE, &lr_s, "score-network learning rate (Adam)", 1e-12, 1, false},
        {"latent", OPT_INT, &latent, "latent dimension", 1, 4096, false},
        {"gen-channels", OPT_INT, &gch, "generator stem channels", 2, 4096, false},
        {"score-channels", OPT_INT, &sch, "score network channels", 1, 4096, false},
        {"ema", OPT_DOUBLE, &ema, "EMA decay of the generator weights (0: off)", 0, 0.999999, false},
        {"grad-clip", OPT_DOUBLE, &clip, "max gradient norm per network (0: off)", 0, 1e9, false},
        {"beta", OPT_DOUBLE, &beta, "temper the target: log q_beta = beta log q", 1e-6, 1e6, false},
        {"raw-score", OPT_FLAG, &raw_score, "score net outputs the score itself (default: net / sigma)", 0, 0, false},
        {"score-residual", OPT_FLAG, &resid, "residual score model s = -grad E + net (the net learns the difference)", 0, 0, false},
        {"no-antithetic", OPT_FLAG, &no_anti, "independent noise instead of (eps, -eps) pairs", 0, 0, false},
        {"clean-output", OPT_FLAG, &clean, "samples are g(z) instead of g(z) + sigma eps", 0, 0, false},
        {"linear-output", OPT_FLAG, &linear, "no sigmoid on the generator's output (pixels unbounded)", 0, 0, false},
        {"checkpoint-every", OPT_INT, &every, "save every N updates (0: every 10%)", 0, 1e9, false},
        {"eval-n", OPT_INT, &n_eval, "samples for metrics.json (mean energy)", 1, 1e6, false},
        {"profile", OPT_INT, &prof, "only time N updates and their parts (JSON on stdout)", 0, 1000, false},
        {"threads", OPT_INT, &threads, "threads for OpenMP and OpenBLAS", 1, 256, false},
        {"quiet", OPT_FLAG, &quiet, "no progress line", 0, 0, false},
    };
    int rc = nis_args_parse(CMD, "Train a one-step conv image sampler (DFT or KL) against an energy.", argc, argv, opts,
                            sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (!energy == !target) return nis_cli_error(CMD, "give exactly one of --energy and --target");
    if (target && strcmp(target, "gauss784")) return nis_cli_error(CMD, "--target: unknown target '%s' (gauss784)", target);
    if (!nis_method_parse(method, &c.method) || c.method == NIS_METHOD_FISHER)
        return nis_cli_error(CMD, "--method: unknown method '%s' (dft, kl)", method);
    if (!out && !prof) return nis_cli_error(CMD, "--out is required");
    if (!no_anti && batch % 2) return nis_cli_error(CMD, "--batch must be even with antithetic noise");
    c.batch = batch, c.latent = (int)latent, c.gen_channels = (int)gch, c.score_channels = (int)sch;
    c.score_steps = (int)ssteps, c.sigma = sigma, c.sigma_start = sigma0, c.anneal_iters = anneal;
    c.lr_gen = lr, c.lr_score = lr_s, c.grad_clip = clip, c.ema_decay = ema, c.antithetic = !no_anti;
    c.noisy_output = !clean, c.sigmoid_output = !linear, c.score_eps = !raw_score, c.seed = (uint64_t)seed;
    c.score_residual = resid;
    nis_set_threads((int)threads);
    nis_cli_init_json();

    char err[512], path[4096];
    nis_ebm E;
    memset(&E, 0, sizeof E);
    nis_target *gauss = NULL;
    const nis_target *base;
    if (energy) {
        if (nis_ebm_load(energy, &E, err, sizeof err) != NIS_OK) return nis_cli_error(CMD, "--energy: %s", err);
        base = nis_ebm_target(&E);
        c.img_c = E.cfg.c, c.img_h = E.cfg.h, c.img_w = E.cfg.w;
    } else {
        gauss = nis_gauss_image_target_new("gauss784", 1, 28, 28, NULL, 0.2);
        if (!gauss) return nis_cli_error(CMD, "out of memory");
        base = gauss;
    }
    tempered tw = {.base = base, .beta = beta};
    tw.t = (nis_target){.name = base->name, .dim = base->dim, .log_prob = tempered_log_prob, .data = &tw};
    const nis_target *t = beta == 1 ? base : &tw.t;
    int status = 0;
    nis_imgsampler *s = NULL;
    nis_real *x = NULL;
    char beta_s[48];
    snprintf(beta_s, sizeof beta_s, "%.17g", beta);
    const char *meta[] = {"energy", energy ? energy : "", "target_name", target ? target : "ebm", "beta", beta_s};

    if (prof) {
        status = profile(t, &c, prof);
        goto done;
    }
    if (!resume && !nis_ensure_dir(out, err, sizeof err)) {
        status = nis_cli_error(CMD, "--out: %s", err);
        goto done;
    }
    nis_path_join(path, sizeof path, out, "sampler.safetensors");
    if (resume) {
        char stored[4096];
        if (!nis_imgsampler_file_meta(path, "target_name", stored, sizeof stored, err, sizeof err)) {
            status = nis_cli_error(CMD, "--resume: %s", err);
            goto done;
        }
        if (strcmp(stored, meta[3])) {
            status = nis_cli_error(CMD, "--resume: %s was trained against '%s', not '%s'", path, stored, meta[3]);
            goto done;
        }
        if (energy && nis_imgsampler_file_meta(path, "energy", stored, sizeof stored, err, sizeof err) &&
            strcmp(stored, energy))
            fprintf(stderr, "nis " CMD ": note: the run was started with --energy %s\n", stored);
        s = nis_imgsampler_resume(t, path, err, sizeof err);
        if (!s) {
            status = nis_cli_error(CMD, "--resume: %s", err);
            goto done;
        }
        if (nis_imgsampler_file_meta(path, "beta", stored, sizeof stored, err, sizeof err) && strtod(stored, NULL) != beta)
            fprintf(stderr, "nis " CMD ": note: the run was started with --beta %s, now %g\n", stored, beta);
        c = *nis_imgsampler_get_config(s);
    } else {
        s = nis_imgsampler_new(t, &c, err, sizeof err);
        if (!s) {
            status = nis_cli_error(CMD, "%s", err);
            goto done;
        }
    }
    cJSON *cj = config_json(&c, energy ? energy : target, beta, iters, threads);
    char cpath[4096];
    bool ok = nis_write_json(nis_path_join(cpath, sizeof cpath, out, "config.json"), cj, err, sizeof err);
    cJSON_Delete(cj);
    if (!ok) {
        status = nis_cli_error(CMD, "%s", err);
        goto done;
    }

    run_state r = {.tty = !quiet && isatty(STDERR_FILENO), .t0 = nis_now(), .iters = iters,
                   .every = every > 0 ? every : (iters / 10 > 0 ? iters / 10 : 1), .path = path, .s = s,
                   .n_meta = 3, .meta = meta, .last_saved = -1};
    snprintf(r.tag, sizeof r.tag, "[%s %s]", nis_method_name(c.method), energy ? "ebm" : target);
    int64_t start = r.start = nis_imgsampler_iter(s);
    nis_status st = nis_imgsampler_train(s, iters, on_update, &r);
    double train_time = nis_now() - r.t0;
    if (st != NIS_OK || r.save_failed) {
        if (r.tty) fputc('\n', stderr);
        fprintf(stderr, "nis " CMD ": %s; %s\n", r.save_failed ? r.err : nis_imgsampler_message(s),
                r.last_saved >= 0 ? "kept the last saved state" : "no new state was saved");
        status = 1;
        goto done;
    }
    if (nis_imgsampler_iter(s) == start && nis_imgsampler_save(s, path, 3, meta, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis " CMD ": %s\n", err);
        status = 1;
        goto done;
    }

    /* samples: grid and mean energy (of the untempered target) */
    int64_t d = t->dim;
    x = nis_malloc((size_t)n_eval * (size_t)d * sizeof *x);
    if (!x) {
        status = nis_cli_error(CMD, "out of memory for %lld samples", (long long)n_eval);
        goto done;
    }
    nis_rng g = nis_rng_init((uint64_t)seed, 7);
    double ts = nis_now();
    if (nis_imgsampler_sample(s, &g, n_eval, c.noisy_output, true, x) != NIS_OK) {
        fprintf(stderr, "nis " CMD ": %s\n", nis_imgsampler_message(s));
        status = 1;
        goto done;
    }
    double sample_time = nis_now() - ts;
    double mE = mean_neg_log_q(base, x, n_eval);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "target", energy ? energy : target);
    cJSON_AddStringToObject(m, "method", nis_method_name(c.method));
    cJSON_AddNumberToObject(m, "updates", (double)nis_imgsampler_iter(s));
    cJSON_AddNumberToObject(m, "samples", (double)n_eval);
    nis_json_add_number(m, "mean_energy", mE);   /* -log q (up to its constant); for an EBM exactly E */
    cJSON_AddNumberToObject(m, "train_seconds_this_run", train_time);
    cJSON_AddNumberToObject(m, "seconds_per_1000_samples", sample_time / (double)n_eval * 1000);
    cJSON_AddNumberToObject(m, "target_grad_evals_training", (double)nis_imgsampler_target_evals(s));
    cJSON_AddNumberToObject(m, "target_grad_evals_per_1000_samples", 0);
    ok = nis_write_json(nis_path_join(cpath, sizeof cpath, out, "metrics.json"), m, err, sizeof err);
    char *line = cJSON_PrintUnformatted(m);
    if (ok && line) printf("%s\n", line);
    cJSON_free(line);
    cJSON_Delete(m);
    if (ok)
        ok = nis_imgsampler_write_grid(nis_path_join(cpath, sizeof cpath, out, "samples.png"), x,
                                       n_eval < 64 ? n_eval : 64, c.img_c, c.img_h, c.img_w, 8, 3, err,
                                       sizeof err) == NIS_OK;
    if (!ok) {
        fprintf(stderr, "nis " CMD ": %s\n", err);
        status = 1;
    }
done:
    nis_free(x);
    nis_imgsampler_free(s);
    nis_gauss_image_target_free(gauss);
    nis_ebm_free(&E);
    return status;
}

/* `nis ebm sample --model DIR|FILE --n N --seed S --out X.npy`: float32 (N, C, H, W). */
int nis_cmd_ebm_sample(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *png = NULL;
    int64_t n = 1000, seed = 0, threads = 1;
    bool clean = false, noisy = false;
    const nis_opt opts[] = {
        {"model", OPT_STRING, &model, "a `nis ebm sampler` output directory or its sampler.safetensors", 0, 0, true},
        {"n", OPT_INT, &n, "number of images", 1, 1e8, false},
        {"seed", OPT_INT, &seed, "random seed", 0, 9e18, false},
        {"out", OPT_STRING, &out, "output .npy (float32, shape (n, c, h, w))", 0, 0, true},
        {"png", OPT_STRING, &png, "also write a grid of the first 64 images as PNG", 0, 0, false},
        {"clean-output", OPT_FLAG, &clean, "g(z) without the sigma noise", 0, 0, false},
        {"noisy-output", OPT_FLAG, &noisy, "g(z) + sigma eps (the default)", 0, 0, false},
        {"threads", OPT_INT, &threads, "threads", 1, 256, false},
    };
    int rc = nis_args_parse("ebm sample", "Draw images from a trained one-step image sampler.", argc, argv, opts,
                            sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (clean && noisy) return nis_cli_error("ebm sample", "--clean-output and --noisy-output exclude each other");
    nis_set_threads((int)threads);
    char path[4096], err[512];
    struct stat sb;
    if (stat(model, &sb) == 0 && S_ISDIR(sb.st_mode)) nis_path_join(path, sizeof path, model, "sampler.safetensors");
    else snprintf(path, sizeof path, "%s", model);
    nis_imggen *g = nis_imggen_load(path, err, sizeof err);
    if (!g) return nis_cli_error("ebm sample", "--model: %s", err);
    int c, h, w;
    nis_imggen_shape(g, &c, &h, &w);
    nis_real *x = nis_malloc((size_t)n * (size_t)c * h * w * sizeof *x);
    if (!x) {
        nis_imggen_free(g);
        return nis_cli_error("ebm sample", "out of memory for %lld images", (long long)n);
    }
    nis_rng r = nis_rng_init((uint64_t)seed, 7);
    int status = 0;
    double t0 = nis_now(), secs = NAN;
    nis_status gs = nis_imggen_generate(g, &r, n, clean ? 0 : noisy ? 1 : -1, x, err, sizeof err);
    if (gs == NIS_OK) secs = nis_now() - t0;
    if (gs != NIS_OK || nis_npy_write(out, NIS_DT_REAL, 4, (int64_t[]){n, c, h, w}, x, err, sizeof err) != NIS_OK ||
        (png && nis_imgsampler_write_grid(png, x, n < 64 ? n : 64, c, h, w, 8, 3, err, sizeof err) != NIS_OK)) {
        fprintf(stderr, "nis ebm sample: %s\n", err);
        status = 1;
    } else {
        fprintf(stderr, "nis ebm sample: %lld images in %.3f s (%.4f s per 1000, %lld thread%s) -> %s\n", (long long)n,
                secs, 1000 * secs / (double)n, (long long)threads, threads > 1 ? "s" : "", out);
    }
    nis_free(x);
    nis_imggen_free(g);
    return status;
}
