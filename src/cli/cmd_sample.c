/* src/cli/cmd_sample.c — `nis sample`: draw N samples from a trained sampler into a .npy file (N, d). */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/io.h"
#include "nis/train.h"

#include <stdio.h>

int cmd_sample(int argc, char **argv) {
    const char *model = NULL, *out = NULL;
    int64_t n = 1000, seed = 0, threads = 1;
    bool clean = false, noisy = false;
    const cli_opt opts[] = {
        {"model", OPT_STRING, &model, "a training output directory, or a sampler .safetensors file", 0, 0, true},
        {"n", OPT_INT, &n, "number of samples", 1, 1e9, false},
        {"seed", OPT_INT, &seed, "random seed", 0, 9e18, false},
        {"out", OPT_STRING, &out, "output .npy file (float32, shape (n, d))", 0, 0, true},
        {"clean-output", OPT_FLAG, &clean, "g(z) without the sigma noise", 0, 0, false},
        {"noisy-output", OPT_FLAG, &noisy, "g(z) + sigma eps (the default for DFT/KL samplers)", 0, 0, false},
        {"threads", OPT_INT, &threads, "threads", 1, 256, false},
    };
    int rc = cli_parse("sample", "Draw samples from a trained sampler.", argc, argv, opts,
                            sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (clean && noisy) return cli_error("sample", "--clean-output and --noisy-output exclude each other");
    nis_set_threads((int)threads);
    char path[4096], err[512];
    nis_sampler *s = nis_sampler_load(cli_model_path(path, sizeof path, model, "sampler.safetensors"), err, sizeof err);
    if (!s) return cli_error("sample", "--model: %s", err);
    int d = nis_sampler_dim(s);
    nis_real *x = nis_malloc((size_t)n * (size_t)d * sizeof *x);
    if (!x) {
        nis_sampler_free(s);
        return cli_error("sample", "out of memory for %lld samples", (long long)n);
    }
    nis_rng g = nis_rng_init((uint64_t)seed, NIS_STREAM_SAMPLE);
    int status = 0;
    double t0 = nis_seconds();
    nis_status gs = nis_sampler_generate(s, &g, n, clean ? 0 : noisy ? 1 : -1, x, err, sizeof err);
    double secs = nis_seconds() - t0;
    if (gs == NIS_OK) nis_sampler_report(s, x, n);   /* e.g. a non-centred BLR sampler's [v, log α] -> θ */
    if (gs != NIS_OK || nis_npy_write(out, NIS_DT_REAL, 2, (int64_t[]){n, d}, x, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis sample: %s\n", err);
        status = 1;
    } else {
        fprintf(stderr, "nis sample: %lld samples (d = %d) in %.4f s (%.5f s per 1000, %lld thread%s) -> %s\n",
                (long long)n, d, secs, 1000 * secs / (double)n, (long long)threads, threads > 1 ? "s" : "", out);
    }
    nis_free(x);
    nis_sampler_free(s);
    return status;
}
