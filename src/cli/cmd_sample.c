/* src/cli/cmd_sample.c — `nis sample` and `nis ebm sample`: draw N samples from a trained sampler into a float32
 * .npy file: (N, d), or (N, c, h, w) for an image sampler (with --png, a grid of the first 64 too). */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/images.h"
#include "nis/io.h"
#include "nis/train.h"

#include <stdio.h>

/* The command, named cmd in its messages. */
static int sample(const char *cmd, int argc, char **argv) {
    const char *model = NULL, *out = NULL, *png = NULL;
    int64_t n = 1000, seed = 0, threads = 1;
    bool clean = false, noisy = false;
    const cli_opt opts[] = {
        {"model", OPT_STRING, &model, "a training output directory, or its sampler.safetensors", 0, 0, true},
        {"n", OPT_INT, &n, "number of samples", 1, 1e9, false},
        CLI_SEED(&seed),
        {"out", OPT_OUTFILE, &out, "output .npy file (float32, shape (n, d); image samplers (n, c, h, w))", 0, 0, true},
        {"png", OPT_OUTFILE, &png, "image samplers: also a grid of the first 64 images as PNG", 0, 0, false},
        {"clean-output", OPT_FLAG, &clean, "g(z) without the sigma noise", 0, 0, false},
        {"noisy-output", OPT_FLAG, &noisy, "g(z) + sigma eps (the default for DFT/KL samplers)", 0, 0, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse(cmd, "Draw samples from a trained sampler.", argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (clean && noisy) return cli_error(cmd, "--clean-output and --noisy-output exclude each other");
    nis_set_threads((int)threads);
    char path[4096], err[512];
    nis_sampler *s = nis_sampler_load(cli_model_path(path, sizeof path, model, "sampler.safetensors"), err, sizeof err);
    if (!s) return cli_error(cmd, "--model: %s", err);
    int d = nis_sampler_dim(s), c = 0, h = 0, w = 0;
    bool image = nis_sampler_image_shape(s, &c, &h, &w);
    if (png && !image) {
        nis_sampler_free(s);
        return cli_error(cmd, "--png: %s is not an image sampler", path);
    }
    nis_real *x = nis_malloc((size_t)n * (size_t)d * sizeof *x);
    if (!x) {
        nis_sampler_free(s);
        return cli_error(cmd, "out of memory for %lld samples", (long long)n);
    }
    nis_rng g = nis_rng_init((uint64_t)seed, NIS_STREAM_SAMPLE);
    int status = 0;
    double t0 = nis_seconds();
    nis_status gs = nis_sampler_generate(s, &g, n, clean ? 0 : noisy ? 1 : -1, x, err, sizeof err);
    double secs = nis_seconds() - t0;
    if (gs == NIS_OK) nis_sampler_report(s, x, n);   /* e.g. a non-centred BLR sampler's [v, log α] -> θ */
    const int64_t shape[4] = {n, image ? c : d, h, w};
    if (gs != NIS_OK || nis_npy_write(out, NIS_DT_REAL, image ? 4 : 2, shape, x, err, sizeof err) != NIS_OK ||
        (png && nis_images_write_grid(png, x, n < 64 ? n : 64, c, h, w, 8, 3, err, sizeof err) != NIS_OK)) {
        fprintf(stderr, "nis %s: %s\n", cmd, err);
        status = 1;
    } else {
        fprintf(stderr, "nis %s: %lld samples (d = %d) in %.4f s (%.5f s per 1000, %lld thread%s) -> %s\n", cmd,
                (long long)n, d, secs, 1000 * secs / (double)n, (long long)threads, threads > 1 ? "s" : "", out);
    }
    nis_free(x);
    nis_sampler_free(s);
    return status;
}

int cmd_sample(int argc, char **argv) { return sample("sample", argc, argv); }
int cmd_ebm_sample(int argc, char **argv) { return sample("ebm sample", argc, argv); }
