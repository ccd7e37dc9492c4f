/* src/cli/cmd_ebm.c — `nis ebm train | langevin | energy | sampler`: the image energy-based model.
 *   train     maximum-likelihood training with persistent Langevin chains; writes DIR/checkpoint.safetensors
 *             (parameters, Adam state, replay buffer: --resume continues bit-identically),
 *             DIR/energy.safetensors (parameters only), DIR/buffer.png and DIR/shortrun.png; with --sampler
 *             the negatives come from a one-step DFT/KL sampler trained alongside (DIR/sampler.safetensors,
 *             DIR/samples.png)
 *   langevin  K Langevin steps from uniform noise on a trained energy -> float32 (N, c, h, w) .npy
 *   energy    mean energy of a data split or of a .npy sample file (JSON on stdout)
 *   sampler   one-step samplers against the energy (src/cli/cmd_ebm_sampler.c); sample: draw from one (= nis sample) */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "dist/mpi.h"
#include "nis/ebm.h"
#include "nis/images.h"
#include "nis/ebm_train.h"
#include "nis/mcmc.h"
#include "nis/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Load the train or test split of --dataset from the data directory. */
static int load_split(const char *cmd, const char *data, const char *dataset, bool test, nis_images *out) {
    char dir[4096], err[512];
    nis_images tr = {0}, te = {0};
    nis_status s;
    if (!strcmp(dataset, "mnist"))
        s = nis_mnist_load(cli_path(dir, sizeof dir, data, "mnist"), &tr, &te, err, sizeof err);
    else if (!strcmp(dataset, "fashion"))
        s = nis_fashion_load(cli_path(dir, sizeof dir, data, "fashion-mnist"), &tr, &te, err, sizeof err);
    else
        return cli_error(cmd, "--dataset: unknown data set '%s' (mnist, fashion)", dataset);
    if (s != NIS_OK) return cli_error(cmd, "--data: %s", err);
    *out = test ? te : tr;
    nis_images_free(test ? &tr : &te);
    return 0;
}

/* A grid of the first min(n, 64) images of x (n, c*h*w) (channel 0) into path. */
static bool write_grid(const char *path, const nis_ebm *E, const nis_real *x, int64_t n, char *err, size_t errlen) {
    const nis_ebm_config *c = &E->cfg;
    if (c->c != 1) {
        snprintf(err, errlen, "%s: grids are written for one-channel images only", path);
        return false;
    }
    return nis_images_write_grid_png(path, x, n < 64 ? n : 64, c->h, c->w, 8, 2, err, errlen) == NIS_OK;
}

static void progress(const nis_ebm_step_stats *s, int64_t iters, int64_t start, double t0, bool tty, bool final) {
    double el = nis_seconds() - t0, rate = (double)(s->iter - start) / (el > 0 ? el : 1e-9);
    double eta = (double)(iters - s->iter) / (rate > 0 ? rate : 1e-9);
    char joint[64] = "";
    if (!isnan(s->sampler_loss)) snprintf(joint, sizeof joint, " sampler %-9.4g", s->sampler_loss);
    fprintf(stderr, "%s[ebm] iter %lld/%lld  loss %-9.4g f+ %-9.4g f- %-9.4g |g| %-8.3g%s %.2f it/s  %s %.0fs%s",
            tty ? "\r" : "", (long long)s->iter, (long long)iters, s->loss, s->f_pos, s->f_neg, s->grad_norm, joint,
            rate, final ? "took" : "eta", final ? el : eta, (final || !tty) ? "\n" : "  ");
    fflush(stderr);
}

/* The sampler of a joint run (first, so that a crash between the files leaves a checkpoint that is older, which
 * --resume detects): its training state, the generator, a grid of its EMA samples; then checkpoint, energy and a
 * grid of the latest negatives. */
/* The DSM energy's denoising at a glance: the first 32 images of data (n >= 32) with noise, then the same after the
 * jump, as one grid (4 rows of noisy images, 4 of denoised ones) into path. */
static bool denoised_grid(const char *path, const nis_ebm *E, const nis_real *data, char *err, size_t errlen) {
    const int64_t d = E->target.dim, n = 32;
    nis_real *x = nis_malloc((size_t)(2 * n * d) * sizeof *x);
    if (!x) return snprintf(err, errlen, "out of memory"), false;
    nis_rng g = nis_rng_init(0, NIS_STREAM_SAMPLE);
    for (int64_t i = 0; i < n * d; i++) x[i] = data[i] + (nis_real)(E->cfg.noise * nis_rng_normal(&g));
    memcpy(x + n * d, x, (size_t)(n * d) * sizeof *x);
    bool ok = nis_ebm_denoise(E, x + n * d, n, err, errlen) == NIS_OK && write_grid(path, E, x, 2 * n, err, errlen);
    nis_free(x);
    return ok;
}

static bool save_all(nis_ebm_trainer *T, const nis_real *data, const char *out, char *err, size_t errlen) {
    char path[4096];
    if (T->sampler) {
        static const char *meta[] = {"energy", "(trained jointly)", "target_name", "ebm"};
        if (nis_trainer_checkpoint(T->sampler, cli_path(path, sizeof path, out, "sampler-checkpoint.safetensors"), 2,
                                   meta) ||
            nis_trainer_save(T->sampler, cli_path(path, sizeof path, out, "sampler.safetensors"))) {
            snprintf(err, errlen, "%s", nis_trainer_message(T->sampler));
            return false;
        }
        const nis_train_config *c = nis_trainer_config(T->sampler);
        nis_real *x = nis_malloc((size_t)(64 * T->E->target.dim) * sizeof *x);
        nis_rng g = nis_rng_init(0, NIS_STREAM_SAMPLE);
        bool ok = x && nis_trainer_sample(T->sampler, &g, 64, false, x) == NIS_OK;
        if (!ok) snprintf(err, errlen, "sampler: %s", x ? nis_trainer_message(T->sampler) : "out of memory");
        ok = ok && nis_images_write_grid(cli_path(path, sizeof path, out, "samples.png"), x, 64, (int)c->img_c,
                                         (int)c->img_h, (int)c->img_w, 8, 3, err, errlen) == NIS_OK;
        nis_free(x);
        if (!ok) return false;
    }
    if (nis_ebm_trainer_save(T, cli_path(path, sizeof path, out, "checkpoint.safetensors"), err, errlen))
        return false;
    char it[32];
    snprintf(it, sizeof it, "%lld", (long long)T->iter);
    const char *kv[] = {"train.iter", it};
    nis_ebm_trainer_swap_average(T);   /* the energy file (and its pictures) hold the averaged weights */
    bool ok = nis_ebm_save(cli_path(path, sizeof path, out, "energy.safetensors"), T->E, 1, kv, err, errlen) == NIS_OK;
    if (ok && T->E->cfg.noise > 0)
        ok = denoised_grid(cli_path(path, sizeof path, out, "denoised.png"), T->E, data, err, errlen);
    nis_ebm_trainer_swap_average(T);
    if (!ok || T->E->cfg.noise > 0) return ok;
    /* the buffer entries updated last (the latest negatives): the first slots may not have been visited yet */
    return write_grid(cli_path(path, sizeof path, out, "buffer.png"), T->E, T->neg, T->cfg.batch, err, errlen);
}

/* Comma-separated integers in [1, 4096] into v (at most NIS_CONVNET_MAX_LAYERS); their count, or -1. */
static int parse_list(const char *s, int *v) {
    int n = 0;
    while (*s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s || x < 1 || x > 4096 || n == NIS_CONVNET_MAX_LAYERS || (*end && *end != ',')) return -1;
        v[n++] = (int)x;
        s = *end ? end + 1 : end;
    }
    return n;
}

/* The first of the n options `names` (without "--") given on the command line, or NULL. */
static const char *first_given(const char *const *names, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (cli_given(names[k])) return names[k];
    return NULL;
}

/* Joint training's sampler: on --resume the one saved next to the checkpoint (if there is one; NULL
 * otherwise), else with --sampler a new one from sc for E's images.  *s becomes an error status on failure. */
static nis_trainer *joint_sampler(bool resume, const char *out, const nis_ebm *E, const nis_ebm_trainer *T,
                                  nis_train_config *sc, bool joint, nis_status *s, char *err, size_t errlen) {
    char spath[4096], e2[400];
    struct stat sb;
    cli_path(spath, sizeof spath, out, "sampler-checkpoint.safetensors");
    nis_trainer *smp = NULL;
    if (resume && stat(spath, &sb) == 0) {
        smp = nis_trainer_resume(nis_ebm_target(E), spath, e2, sizeof e2);
        if (!smp) snprintf(err, errlen, "--resume: %s", e2);
        else if (nis_trainer_iter(smp) != T->iter)
            snprintf(err, errlen, "--resume: %.300s/sampler-checkpoint.safetensors is at update %lld but the checkpoint "
                     "at iteration %lld (an interrupted save?)", out, (long long)nis_trainer_iter(smp), (long long)T->iter);
        if (smp && nis_trainer_iter(smp) != T->iter) {
            nis_trainer_free(smp);
            smp = NULL;
        }
        if (!smp) *s = NIS_EFORMAT;
    } else if (!resume && joint) {
        sc->img_c = E->cfg.c, sc->img_h = E->cfg.h, sc->img_w = E->cfg.w;
        smp = nis_trainer_new(nis_ebm_target(E), sc, NULL, err, errlen);
        if (!smp) *s = NIS_EINVAL;
    }
    return smp;
}

/* Under mpirun the ranks agree, before training, that every one is ready (nis_mpi_agree; an earlier return is
 * agreed on in nis_mpi_leave). */
static int ebm_train(int argc, char **argv) {
    const char *data = NULL, *dataset = "mnist", *out = NULL;
    nis_ebm_train_config tc = nis_ebm_train_defaults();
    int64_t iters = 2000, seed = 0, threads = 1, every = 100, limit = 0, width = 16, hidden = 0;
    const nis_ebm_config ec0 = nis_ebm_config_default();
    double lambda = ec0.lambda, sigma = ec0.sigma;
    bool resume = false, quiet = false, level_input = false, precond = false;
    const char *smethod = NULL, *init = NULL, *channels = NULL, *strides = NULL, *arch_name = "conv";
    double noise = 0, noise_max = 0;
    nis_train_config sc = nis_train_config_image(NIS_METHOD_DFT, 1, 28, 28);
    double ssigma = 0, slr = sc.lr;
    cli_opt opts[CLI_MAX_OPTS] = {
        {"data", OPT_STRING, &data, "data directory (holds mnist/ or fashion-mnist/)", 0, 0, true},
        {"dataset", OPT_STRING, &dataset, "mnist|fashion", 0, 0, false},
        {"out", OPT_STRING, &out, "output directory", 0, 0, true},
        {"iters", OPT_INT, &iters, "total training iterations (a resumed run continues up to this)", 0, 1e9, false},
        CLI_SEED(&seed),
        {"resume", OPT_FLAG, &resume, "continue from OUT/checkpoint.safetensors with its settings", 0, 0, false},
        {"lambda", OPT_DOUBLE, &lambda, "Langevin gradient step on f", 1e-12, 1e6, false},
        {"sigma", OPT_DOUBLE, &sigma, "Langevin noise scale", 1e-12, 1e3, false},
        {"arch", OPT_STRING, &arch_name, "conv|unet: the network f (unet: f = ½ ||x - U(x)||², U a U-Net of --width channels)", 0, 0, false},
        {"width", OPT_INT, &width, "channels of the first conv (then 2x, 4x; all of stride 2); unet: its width", 1, 1024, false},
        {"channels", OPT_STRING, &channels, "instead of --width: the convs' channels, e.g. 64,128,128,256,256", 0, 0, false},
        {"strides", OPT_STRING, &strides, "with --channels: their strides, e.g. 1,2,1,2,2 (default all 2)", 0, 0, false},
        {"noise", OPT_DOUBLE, &noise, "> 0: a denoising-score-matching energy of the data smoothed by N(0, noise^2 I) (no negatives)", 0, 10, false},
        {"noise-max", OPT_DOUBLE, &noise_max, "with --noise: a noise-conditional energy E(x, s) = f(x) / s for every level s in [noise, noise-max], sampled by annealed Langevin", 0, 100, false},
        {"level-input", OPT_FLAG, &level_input, "with --noise-max, conv nets: f also sees the level, f(x, s) (each conv shifted by a Linear of cosine features of log s)", 0, 0, false},
        {"precondition", OPT_FLAG, &precond, "with --level-input: EDM's preconditioning (a Gaussian energy of the data's mean and spread that f corrects, f's input at unit scale, EDM's loss weight per level)", 0, 0, false},
        {"hidden", OPT_INT, &hidden, "conv nets: a hidden layer of N units between the last conv and the scalar head (0: a linear head)", 0, 65536, false},
        {"init-energy", OPT_STRING, &init, "start from this energy's weights and architecture (fine-tuning)", 0, 0, false},
        {"sampler", OPT_STRING, &smethod, "dft|kl: joint training, negatives from a one-step sampler (same batch) trained alongside", 0, 0, false},
        {"sampler-sigma", OPT_DOUBLE, &ssigma, "the joint sampler's noise level (0: --sigma, the Langevin noise)", 0, 100, false},
        {"sampler-lr", OPT_DOUBLE, &slr, "the joint sampler's generator learning rate", 1e-12, 1, false},
        {"limit", OPT_INT, &limit, "use only the first N training images (0: all)", 0, 1e9, false},
        {"checkpoint-every", OPT_INT, &every, "iterations between checkpoints", 1, 1e9, false},
        CLI_THREADS(&threads),
        CLI_QUIET(&quiet),
    };
    int nopts = cli_schema_opts(nis_ebm_train_schema(), 1, &tc, opts, cli_opts_count(opts));
    int rc = cli_parse("ebm train", "Train an image energy E(x) by maximum likelihood (Langevin negatives).", argc,
                       argv, opts, nopts);
    if (rc) return rc == 1 ? 0 : rc;
    if (smethod && (!nis_method_parse(smethod, &sc.method) || sc.method == NIS_METHOD_FISHER))
        return cli_error("ebm train", "--sampler: unknown method '%s' (dft, kl)", smethod);
    static const char *sampler_flags[] = {"sampler-sigma", "sampler-lr"},
                      *arch[] = {"arch", "width", "lambda", "sigma", "channels", "strides", "noise", "noise-max", "level-input", "hidden", "precondition"};
    const char *f;
    if (!smethod && (f = first_given(sampler_flags, sizeof sampler_flags / sizeof sampler_flags[0]))) return cli_error("ebm train", "--%s needs --sampler", f);
    if (init && (f = first_given(arch, sizeof arch / sizeof arch[0])))
        return cli_error("ebm train", "--%s cannot be given with --init-energy (the file holds it)", f);
    if (smethod && tc.batch % 2)
        return cli_error("ebm train", "--batch must be even with --sampler (antithetic noise)");
    if (smethod && noise > 0) return cli_error("ebm train", "--sampler needs a maximum-likelihood energy (no --noise)");
    if (strides && !channels) return cli_error("ebm train", "--strides needs --channels");
    bool unet = !strcmp(arch_name, "unet");
    if (!unet && strcmp(arch_name, "conv")) return cli_error("ebm train", "--arch: unknown network '%s' (conv, unet)", arch_name);
    if (unet && channels) return cli_error("ebm train", "--arch unet takes --width, not --channels");
    if (unet && hidden) return cli_error("ebm train", "--hidden needs the conv net (--arch conv)");
    if (!resume && cli_given("noise-max") && !(noise > 0 && noise_max > noise))
        return cli_error("ebm train", "--noise-max (%g) needs --noise and must exceed it (%g)", noise_max, noise);
    if (channels && cli_given("width")) return cli_error("ebm train", "--channels replaces --width: give one");
    if (level_input && !resume && (unet || !(noise_max > 0)))
        return cli_error("ebm train", "--level-input needs --noise-max and the conv net");
    if (precond && !resume && !level_input) return cli_error("ebm train", "--precondition needs --level-input");
    nis_ebm_config ec = nis_ebm_config_default();
    if (channels && (ec.n_conv = parse_list(channels, ec.channels)) < 1)
        return cli_error("ebm train", "--channels: '%s' is not 1 to 8 comma-separated counts in [1, 4096]", channels);
    if (strides && parse_list(strides, ec.strides) != ec.n_conv)
        return cli_error("ebm train", "--strides: '%s' is not %d comma-separated strides, one per conv", strides,
                         ec.n_conv);
    for (int l = 0; strides && l < ec.n_conv; l++)
        if (ec.strides[l] > 8) return cli_error("ebm train", "--strides: %d is not in [1, 8]", ec.strides[l]);
    nis_ebm E = {0};   /* a fine-tuned energy is loaded here, once: the defaults below follow its kind */
    if (init && !resume) {
        char e2[400];
        if (nis_ebm_load(init, &E, e2, sizeof e2) != NIS_OK) return cli_error("ebm train", "--init-energy: %s", e2);
    }
    const double kind = init && !resume ? E.cfg.noise : noise;
    if (kind > 0 && !cli_given("buffer")) tc.buffer_size = tc.batch;   /* DSM: no replay buffer, */
    if (kind > 0 && !cli_given("steps")) tc.langevin_steps = 0;         /* no Langevin chains, */
    if (kind > 0 && !cli_given("beta1")) tc.beta1 = 0.9;               /* Adam's usual momentum (ML: 0) */
    if (kind > 0 && !cli_given("ema")) tc.ema = 0.999;                 /* an average of the weights (Song & Ermon 2020) */
    if (smethod && !cli_given("buffer")) tc.buffer_size = tc.batch;       /* joint training: no replay buffer */
    if (smethod && !cli_given("steps")) tc.langevin_steps = 0;            /* and the sampler's outputs as they are */
    if (tc.buffer_size < tc.batch) {
        nis_ebm_free(&E);
        return cli_error("ebm train", "--buffer (%lld) must be at least --batch (%lld)", (long long)tc.buffer_size,
                         (long long)tc.batch);
    }
    char err[512], path[4096];
    cli_path(path, sizeof path, out, "checkpoint.safetensors");
    struct stat sb;
    if (resume) {
        /* the checkpoint holds the configuration: changing it would silently make a different run */
        static const char *fixed[] = {"seed", "arch", "lambda", "sigma", "width", "channels", "strides", "noise", "noise-max", "level-input", "hidden", "precondition", "sampler",
                                      "sampler-sigma", "sampler-lr", "init-energy"};
        if ((rc = cli_resume_refuse("ebm train", opts, nopts))) return rc;
        if ((f = first_given(fixed, sizeof fixed / sizeof fixed[0])))
            return cli_error("ebm train", "--%s cannot be given with --resume (the checkpoint holds it)", f);
        if (stat(path, &sb) != 0) return cli_error("ebm train", "--resume: %s does not exist", path);
        uint64_t seed0 = 0;
        if (nis_ebm_checkpoint_config(path, &tc, &seed0, err, sizeof err) != NIS_OK)
            return cli_error("ebm train", "--resume: %s", err);
        seed = (int64_t)seed0;
    }
    nis_images im = {0};
    if ((rc = load_split("ebm train", data, dataset, false, &im))) return nis_ebm_free(&E), rc;
    int64_t n_data = limit > 0 && limit < im.n ? limit : im.n;
    nis_set_threads((int)threads);
    const nis_dist *grp = nis_mpi_group();
    const bool root = nis_mpi_root();   /* under mpirun, rank 0 alone writes files and prints */
    ec.c = im.c, ec.h = im.h, ec.w = im.w;
    ec.lambda = lambda, ec.sigma = sigma, ec.noise = noise, ec.noise_max = noise_max;
    for (int l = 0; !channels && l < ec.n_conv; l++) ec.channels[l] = (int)(width << l);
    if (unet) ec.arch = NIS_EBM_UNET, ec.n_conv = 1, ec.channels[0] = (int)width;
    if (level_input) ec.level_features = NIS_EBM_LEVEL_FEATURES;
    ec.hidden = (int)hidden;
    char perr[160];
    if (precond && nis_ebm_config_precondition(&ec, im.x, n_data * ec.c * ec.h * ec.w, perr, sizeof perr) != NIS_OK) {
        nis_images_free(&im);
        nis_ebm_free(&E);
        return cli_error("ebm train", "--precondition: %s", perr);
    }

    nis_ebm_trainer T = {0};
    nis_status s = NIS_OK;
    if (resume) {
        s = nis_ebm_load(path, &E, err, sizeof err);
    } else if (init) {   /* loaded above */
        if (E.cfg.c != im.c || E.cfg.h != im.h || E.cfg.w != im.w) {
            snprintf(err, sizeof err, "--init-energy: its images are not %dx%dx%d", im.c, im.h, im.w);
            s = NIS_EFORMAT;
        }
        ec = E.cfg, sigma = E.cfg.sigma;
    } else {
        s = nis_ebm_init(&E, &ec, (uint64_t)seed, err, sizeof err);
    }
    if (s == NIS_OK) s = nis_ebm_trainer_init(&T, &E, &tc, (uint64_t)seed, err, sizeof err);
    if (s == NIS_OK && resume) s = nis_ebm_trainer_resume(&T, path, err, sizeof err);
    sc.sigma = ssigma > 0 ? ssigma : sigma, sc.lr = slr, sc.seed = seed, sc.batch = tc.batch;
    nis_trainer *smp = s == NIS_OK ? joint_sampler(resume, out, &E, &T, &sc, smethod != NULL, &s, err, sizeof err)
                                   : NULL;
    if (s == NIS_OK && smp) s = nis_ebm_trainer_use_sampler(&T, smp, err, sizeof err);
    if (s == NIS_OK && grp) s = nis_ebm_trainer_set_dist(&T, grp, err, sizeof err);
    if (s != NIS_OK) {
        nis_trainer_free(smp);
        nis_ebm_trainer_free(&T);
        nis_ebm_free(&E);
        nis_images_free(&im);
        return cli_error("ebm train", "%s", err);
    }
    int status = nis_mpi_agree(0);   /* every rank is ready, or all stop (another rank has said why) */
    if (!status) {   /* then rank 0 makes the run's directory, and the ranks agree again */
        if (root && !cli_ensure_dir(out, err, sizeof err)) status = cli_error("ebm train", "--out: %s", err);
        if (grp) status = nis_mpi_agree(status);
    }
    quiet = quiet || !root;
    bool tty = !quiet && isatty(STDERR_FILENO);
    int64_t start = T.iter;
    double t0 = nis_seconds(), last = 0;
    nis_ebm_step_stats st = {.iter = T.iter};
    while (status == 0 && T.iter < iters) {
        s = nis_ebm_train_step(&T, im.x, n_data, &st, err, sizeof err);
        if (s != NIS_OK) {
            if (tty) fputc('\n', stderr);
            fprintf(stderr, "nis ebm train: %s; the last checkpoint in %s is kept\n", err, out);
            status = 1;
            if (grp && s == NIS_ENUMERIC) nis_mpi_failed_together();   /* the group's loss: all stop here */
            break;
        }
        bool save = root && (T.iter % every == 0 || T.iter == iters);
        if (save && !save_all(&T, im.x, out, err, sizeof err)) {
            fprintf(stderr, "%snis ebm train: %s\n", tty ? "\n" : "", err);
            status = 1;
            break;
        }
        double now = nis_seconds();
        if ((tty && (now - last > 0.5 || T.iter == iters)) || (!quiet && !tty && save)) {
            progress(&st, iters, start, t0, tty, tty && T.iter == iters);
            last = now;
        }
    }
    if (status == 0 && root && T.iter == start && !save_all(&T, im.x, out, err, sizeof err)) {
        fprintf(stderr, "nis ebm train: %s\n", err);
        status = 1;
    }
    if (status == 0 && root && tc.langevin_steps > 0) {
        /* fresh short-run chains from noise: what K training steps make of noise now */
        const int64_t n = 64;
        nis_real *x = nis_malloc((size_t)(n * E.target.dim) * sizeof *x);
        nis_rng g = nis_rng_init((uint64_t)seed, NIS_STREAM_PILOT);
        if (!x) {
            fprintf(stderr, "nis ebm train: out of memory\n");
            status = 1;
        } else if (nis_ebm_langevin(&E, tc.langevin_steps, 0, 1, 1, &g, x, n, NULL, err, sizeof err) != NIS_OK ||
                   !write_grid(cli_path(path, sizeof path, out, "shortrun.png"), &E, x, n, err, sizeof err)) {
            fprintf(stderr, "nis ebm train: %s\n", err);
            status = 1;
        }
        nis_free(x);
    }
    nis_ebm_trainer_free(&T);
    nis_trainer_free(smp);
    nis_ebm_free(&E);
    nis_images_free(&im);
    return status;
}

static int ebm_langevin(int argc, char **argv) {
    const char *energy = NULL, *out = NULL, *png = NULL;
    int64_t steps = 200, n = 1000, seed = 0, threads = 1, chunk = 500, levels = 0;
    double h = 0, temperature = 1;
    bool jump = false, reverse = false;
    const cli_opt opts[] = {
        {"energy", OPT_STRING, &energy, "energy file (DIR/energy.safetensors)", 0, 0, true},
        {"steps", OPT_INT, &steps, "Langevin steps K from uniform noise", 0, 1e7, false},
        {"reverse", OPT_FLAG, &reverse, "noise-conditional energies: reverse diffusion instead of Langevin, one step per level over --steps levels (no --levels, --step-size)", 0, 0, false},
        {"n", OPT_INT, &n, "number of chains (samples)", 1, 1e8, false},
        CLI_SEED(&seed),
        {"out", OPT_OUTFILE, &out, "output .npy, float32 (n, c, h, w)", 0, 0, true},
        {"png", OPT_OUTFILE, &png, "also write a grid of the first 64 samples as PNG", 0, 0, false},
        {"step-size", OPT_DOUBLE, &h, "ULA step h (0: the energy's default: sigma^2 / 2, the training chains' step; DSM energies 0.3 noise^2)", 0, 1e6, false},
        {"levels", OPT_INT, &levels, "noise-conditional energies: anneal over this many levels from noise-max to noise (0: 10, or --steps if fewer; others 1)", 0, 1000, false},
        {"temperature", OPT_DOUBLE, &temperature, "Langevin at temperature T: noise sqrt(2 h T) per step, samples q^(1/T) (T < 1: sharper, less diverse)", 1e-6, 1e6, false},
        {"jump", OPT_FLAG, &jump, "DSM energies: end with the jump x - noise^2 grad E(x) to the clean image", 0, 0, false},
        {"chunk", OPT_INT, &chunk, "chains run together (memory)", 1, 1e6, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("ebm langevin", "Langevin dynamics from noise on a trained energy.", argc, argv, opts,
                            sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    char err[512];
    nis_ebm E;
    if (nis_ebm_load(energy, &E, err, sizeof err) != NIS_OK) return cli_error("ebm langevin", "--energy: %s", err);
    if (reverse && (cli_given("levels") || cli_given("step-size") || cli_given("temperature") || !nis_ebm_is_conditional(&E) || steps < 1)) {
        const char *why = !nis_ebm_is_conditional(&E) ? "needs a noise-conditional energy"
                          : steps < 1 ? "needs --steps >= 1" : "takes one step per level: no --levels, --step-size or --temperature";
        nis_ebm_free(&E);
        return cli_error("ebm langevin", "--reverse %s", why);
    }
    if (levels == 0) levels = !nis_ebm_is_conditional(&E) || steps < 1 ? 1 : steps < 10 ? steps : 10;
    if (levels > 1 && !nis_ebm_is_conditional(&E)) {
        nis_ebm_free(&E);
        return cli_error("ebm langevin", "--levels %lld needs a noise-conditional energy (%s has one level)",
                         (long long)levels, energy);
    }
    if (levels > 1 && levels > steps) {
        nis_ebm_free(&E);
        return cli_error("ebm langevin", "--steps (%lld) must be at least --levels (%lld)", (long long)steps,
                         (long long)levels);
    }
    nis_set_threads((int)threads);
    cli_init_json();
    const int64_t d = E.target.dim;
    nis_real *x = nis_malloc((size_t)(n * d) * sizeof *x);
    if (!x) {
        nis_ebm_free(&E);
        return cli_error("ebm langevin", "out of memory for %lld samples", (long long)n);
    }
    nis_rng rng = nis_rng_init((uint64_t)seed, NIS_STREAM_LANGEVIN);
    int64_t ge = 0;
    double t0 = nis_seconds();
    nis_status s = NIS_OK;
    for (int64_t i = 0; i < n && s == NIS_OK; i += chunk)
        s = reverse ? nis_ebm_reverse_diffusion(&E, steps, &rng, x + i * d, n - i < chunk ? n - i : chunk, &ge, err, sizeof err)
                    : nis_ebm_langevin(&E, steps, h, (int)levels, temperature, &rng, x + i * d, n - i < chunk ? n - i : chunk, &ge, err,
                                       sizeof err);
    if (s == NIS_OK && jump) s = nis_ebm_denoise(&E, x, n, err, sizeof err), ge += jump;
    double secs = nis_seconds() - t0, mE = NAN, mf = NAN;
    if (s == NIS_OK) s = nis_ebm_mean_energy(&E, x, n, &mE, &mf, err, sizeof err);
    if (s == NIS_OK)
        s = nis_npy_write(out, NIS_DT_REAL, 4, (int64_t[]){n, E.cfg.c, E.cfg.h, E.cfg.w}, x, err, sizeof err);
    if (s == NIS_OK && png && !write_grid(png, &E, x, n, err, sizeof err)) s = NIS_EIO;
    int status = 0;
    if (s != NIS_OK) {
        fprintf(stderr, "nis ebm langevin: %s\n", err);
        status = 1;
    } else {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "samples", (double)n);
        cJSON_AddNumberToObject(j, "steps", (double)steps);
        cJSON_AddStringToObject(j, "method", reverse ? "reverse diffusion" : "langevin");
        cJSON_AddNumberToObject(j, "step_size", h > 0 ? h : nis_ebm_ula_step(&E));
        cJSON_AddNumberToObject(j, "levels", (double)levels);
        if (!reverse) cJSON_AddNumberToObject(j, "temperature", temperature);
        cJSON_AddNumberToObject(j, "energy_grad_evals_per_sample", (double)ge);
        cJSON_AddNumberToObject(j, "energy_grad_evals_per_1000_samples", (double)ge * 1000.0);
        cJSON_AddNumberToObject(j, "seconds", secs);
        cJSON_AddNumberToObject(j, "seconds_per_1000_samples", secs / (double)n * 1000);
        cli_json_number(j, "mean_energy", mE);
        cli_json_number(j, "mean_f", mf);
        if (!cli_print_json(j)) status = 1;
    }
    nis_free(x);
    nis_ebm_free(&E);
    return status;
}

/* A .npy of images for E ((n, c, h, w) or (n, c*h*w), n >= 1) into *a as nis_real; 2 after a one-line error. */
static int read_images(const char *cmd, const char *path, const nis_ebm *E, nis_npy_array *a) {
    char err[512];
    if (nis_npy_read_as(path, NIS_DT_REAL, a, err, sizeof err) != NIS_OK) return cli_error(cmd, "--samples: %s", err);
    if (a->ndim < 2 || a->shape[0] < 1 || a->n != a->shape[0] * E->target.dim) {
        nis_npy_free(a);
        return cli_error(cmd, "--samples: %s does not hold images of %d values", path, E->target.dim);
    }
    return 0;
}

static int ebm_energy(int argc, char **argv) {
    const char *energy = NULL, *samples = NULL, *data = NULL, *dataset = "mnist", *split = "test";
    int64_t threads = 1;
    const cli_opt opts[] = {
        {"energy", OPT_STRING, &energy, "energy file", 0, 0, true},
        {"samples", OPT_STRING, &samples, "a .npy of images (n, c, h, w) or (n, c*h*w)", 0, 0, false},
        {"data", OPT_STRING, &data, "data directory (instead of --samples)", 0, 0, false},
        {"dataset", OPT_STRING, &dataset, "mnist|fashion", 0, 0, false},
        {"split", OPT_STRING, &split, "train|test", 0, 0, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("ebm energy", "Mean energy of a .npy sample file or of a data split (JSON).", argc, argv,
                            opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (!samples == !data) return cli_error("ebm energy", "give exactly one of --samples and --data");
    if (strcmp(split, "train") && strcmp(split, "test"))
        return cli_error("ebm energy", "--split: expected train or test, got '%s'", split);
    char err[512];
    nis_ebm E;
    if (nis_ebm_load(energy, &E, err, sizeof err) != NIS_OK) return cli_error("ebm energy", "--energy: %s", err);
    nis_set_threads((int)threads);
    cli_init_json();
    nis_npy_array a = {0};
    nis_images im = {0};
    const nis_real *x = NULL;
    int64_t n = 0;
    if (samples) {
        if ((rc = read_images("ebm energy", samples, &E, &a))) {
            nis_ebm_free(&E);
            return rc;
        }
        x = a.data, n = a.shape[0];
    } else {
        if ((rc = load_split("ebm energy", data, dataset, !strcmp(split, "test"), &im))) {
            nis_ebm_free(&E);
            return rc;
        }
        if ((int64_t)im.c * im.h * im.w != E.target.dim) {
            nis_images_free(&im);
            nis_ebm_free(&E);
            return cli_error("ebm energy", "--data: images of %dx%dx%d do not fit the energy", im.c, im.h, im.w);
        }
        x = im.x, n = im.n;
    }
    double mE, mf;
    int status = 0;
    if (nis_ebm_mean_energy(&E, x, n, &mE, &mf, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis ebm energy: %s\n", err);
        status = 1;
    } else {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "n", (double)n);
        cli_json_number(j, "mean_energy", mE);
        cli_json_number(j, "mean_f", mf);
        cJSON_AddNumberToObject(j, "temperature", E.temperature);
        if (!cli_print_json(j)) status = 1;
    }
    nis_npy_free(&a);
    nis_images_free(&im);
    nis_ebm_free(&E);
    return status;
}

/* `nis ebm denoise`: the jump of a DSM energy applied to a .npy of images (any method's samples alike). */
static int ebm_denoise(int argc, char **argv) {
    const char *energy = NULL, *samples = NULL, *out = NULL, *png = NULL;
    int64_t threads = 1;
    const cli_opt opts[] = {
        {"energy", OPT_STRING, &energy, "a DSM energy (nis ebm train --noise)", 0, 0, true},
        {"samples", OPT_STRING, &samples, "a .npy of images (n, c, h, w) or (n, c*h*w)", 0, 0, true},
        {"out", OPT_OUTFILE, &out, "output .npy, float32 (n, c, h, w)", 0, 0, true},
        {"png", OPT_OUTFILE, &png, "also write a grid of the first 64 as PNG", 0, 0, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("ebm denoise", "The jump x - noise^2 grad E(x) of a DSM energy on images.", argc, argv, opts,
                       sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    char err[512];
    nis_ebm E;
    if (nis_ebm_load(energy, &E, err, sizeof err) != NIS_OK) return cli_error("ebm denoise", "--energy: %s", err);
    if (!(E.cfg.noise > 0)) {
        nis_ebm_free(&E);
        return cli_error("ebm denoise", "--energy: %s is not a DSM energy (no ebm.noise)", energy);
    }
    nis_set_threads((int)threads);
    nis_npy_array a;
    if ((rc = read_images("ebm denoise", samples, &E, &a))) {
        nis_ebm_free(&E);
        return rc;
    }
    int64_t n = a.shape[0];
    nis_real *x = a.data;
    int status = 0;
    if (nis_ebm_denoise(&E, x, n, err, sizeof err) != NIS_OK ||
        nis_npy_write(out, NIS_DT_REAL, 4, (int64_t[]){n, E.cfg.c, E.cfg.h, E.cfg.w}, x, err, sizeof err) != NIS_OK ||
        (png && !write_grid(png, &E, x, n, err, sizeof err))) {
        fprintf(stderr, "nis ebm denoise: %s\n", err);
        status = 1;
    }
    nis_npy_free(&a);
    nis_ebm_free(&E);
    return status;
}

int cmd_ebm(int argc, char **argv) {
    static const char *usage =
        "usage: nis ebm train|langevin|denoise|energy|sampler|sample [options]   (--help for each)\n";
    if (argc < 1) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[0], "train")) return ebm_train(argc - 1, argv + 1);
    if (!strcmp(argv[0], "langevin")) return ebm_langevin(argc - 1, argv + 1);
    if (!strcmp(argv[0], "energy")) return ebm_energy(argc - 1, argv + 1);
    if (!strcmp(argv[0], "denoise")) return ebm_denoise(argc - 1, argv + 1);
    if (!strcmp(argv[0], "sampler")) return cmd_ebm_sampler(argc - 1, argv + 1);
    if (!strcmp(argv[0], "sample")) return cmd_ebm_sample(argc - 1, argv + 1);
    return cli_error("ebm", "expected train, langevin, denoise, energy, sampler or sample, got '%s'", argv[0]);
}
