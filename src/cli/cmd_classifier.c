/* src/cli/cmd_classifier.c — `nis classifier train`: train the FID classifier on MNIST or Fashion-MNIST;
 * `nis fid`: the Fréchet distance between two image sets under its features (one JSON object on stdout). */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/classifier_train.h"
#include "nis/io.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Load the named dataset from dir into train/test; false (message in err) on failure. */
static bool load_dataset(const char *dataset, const char *dir, nis_images *train, nis_images *test, char *err,
                         size_t errlen) {
    char path[4096];
    if (!strcmp(dataset, "mnist")) {
        cli_path(path, sizeof path, dir, "mnist");
        return nis_mnist_load(path, train, test, err, errlen) == NIS_OK;
    }
    cli_path(path, sizeof path, dir, "fashion-mnist");
    return nis_fashion_load(path, train, test, err, errlen) == NIS_OK;
}

static int classifier_train(int argc, char **argv) {
    const char *data = "data", *dataset = "mnist", *out = NULL;
    int64_t epochs = 15, batch = 64, seed = 0, threads = 1, features = 128;
    double lr = 2e-3, shift = 2, rotate = 10, scale = 0.1;
    const cli_opt opts[] = {
        {"data", OPT_STRING, &data, "data directory (with mnist/ or fashion-mnist/, see nis data fetch)", 0, 0, false},
        {"dataset", OPT_STRING, &dataset, "mnist or fashion", 0, 0, false},
        {"out", OPT_STRING, &out, "output classifier (.safetensors; its directory is created)", 0, 0, true},
        {"epochs", OPT_INT, &epochs, "passes over the training set", 1, 1000, false},
        {"batch", OPT_INT, &batch, "images per Adam step", 1, 65536, false},
        {"lr", OPT_DOUBLE, &lr, "Adam learning rate (cosine-decayed to lr/20)", 1e-7, 1, false},
        {"shift", OPT_DOUBLE, &shift, "augmentation: random shifts of up to this many pixels", 0, 8, false},
        {"rotate", OPT_DOUBLE, &rotate, "augmentation: random rotations of up to this many degrees", 0, 180, false},
        {"scale", OPT_DOUBLE, &scale, "augmentation: random scaling by a factor in [1 - s, 1 + s]", 0, 0.5, false},
        {"features", OPT_INT, &features, "width of the feature (penultimate) layer", 1, 4096, false},
        {"seed", OPT_INT, &seed, "random seed (initial weights, data order, augmentation)", 0, 9e18, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("classifier train", "Train the FID classifier; prints its test accuracy as JSON.", argc,
                            argv, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(dataset, "mnist") && strcmp(dataset, "fashion"))
        return cli_error("classifier train", "--dataset: '%s' is not mnist or fashion", dataset);
    char err[512], dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    const char *parent = dirname(dir);
    if (!cli_ensure_dir(parent, err, sizeof err)) return cli_error("classifier train", "--out: %s", err);
    nis_set_threads((int)threads);
    nis_images train, test;
    if (!load_dataset(dataset, data, &train, &test, err, sizeof err))
        return cli_error("classifier train", "--data: %s", err);
    nis_classifier_config cfg = nis_classifier_default();
    cfg.features = (int)features;
    nis_rng init = nis_rng_init((uint64_t)seed, NIS_STREAM_INIT);
    nis_classifier C;
    int status = 0;
    double t0 = nis_seconds(), acc = NAN;
    if (nis_classifier_new(&C, &cfg, &init, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis classifier train: %s\n", err);
        status = 1;
    } else {
        nis_classifier_train_opts o = nis_classifier_train_defaults();
        o.epochs = (int)epochs, o.batch = (int)batch, o.lr = lr, o.max_shift = shift, o.seed = (uint64_t)seed;
        o.max_rotate = rotate, o.max_scale = scale, o.log = stderr;
        fprintf(stderr, "nis classifier train: %s, %lld train / %lld test images, %lld parameters\n", dataset,
                (long long)train.n, (long long)test.n, (long long)nis_params_numel(C.P));
        char acc_s[32], seed_s[32], ep_s[32], recipe[256];
        if (nis_classifier_train(&C, &train, &test, &o, &acc, err, sizeof err) == NIS_OK) {
            snprintf(acc_s, sizeof acc_s, "%.6f", acc);
            snprintf(seed_s, sizeof seed_s, "%lld", (long long)seed);
            snprintf(ep_s, sizeof ep_s, "%lld", (long long)epochs);
            snprintf(recipe, sizeof recipe,
                     "nis classifier train --dataset %s --epochs %lld --batch %lld --lr %g --shift %g --rotate %g "
                     "--scale %g --features %lld --seed %lld --threads %lld",
                     dataset, (long long)epochs, (long long)batch, lr, shift, rotate, scale, (long long)features,
                     (long long)seed, (long long)threads);
            const char *meta[] = {"classifier.dataset", dataset, "classifier.test_accuracy", acc_s,
                                  "classifier.seed", seed_s, "classifier.epochs", ep_s, "classifier.command", recipe};
            if (nis_classifier_save(out, &C, 5, meta, err, sizeof err) != NIS_OK) status = 1;
        } else {
            status = 1;
        }
        if (status) fprintf(stderr, "nis classifier train: %s\n", err);
    }
    if (status == 0) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "dataset", dataset);
        cli_json_number(j, "test_accuracy", acc);
        cJSON_AddNumberToObject(j, "test_images", (double)test.n);
        cJSON_AddNumberToObject(j, "epochs", (double)epochs);
        cJSON_AddNumberToObject(j, "seed", (double)seed);
        cJSON_AddNumberToObject(j, "seconds", nis_seconds() - t0);
        cJSON_AddStringToObject(j, "out", out);
        if (!cli_print_json(j)) status = 1;
    }
    nis_classifier_free(&C);
    nis_images_free(&train);
    nis_images_free(&test);
    return status;
}

int cmd_classifier(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "train")) return classifier_train(argc - 1, argv + 1);
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: nis classifier train [options]   (nis classifier train --help)\n");
        return 0;
    }
    return cli_error("classifier", "expected the subcommand 'train' (got '%s')", argc ? argv[0] : "");
}

/* One image set for nis fid: a .npy file of shape (N, c, h, w), (N, h, w) when c is 1, or (N, c*h*w), float32 or
 * float64; or the word "test" / "train" for the held-out / training split of --dataset in --data, optionally
 * with ":even" / ":odd" for the images at even / odd positions of the split.  Fills *x (owned, nis_free) and
 * *n; returns 0 or the exit status after printing the error. */
static int load_set(const char *cmd, const char *which, const char *spec, const nis_classifier *C, const char *data,
                    const char *dataset, float **x, int64_t *n) {
    const nis_classifier_config *c = &C->cfg;
    int64_t D = (int64_t)c->in_c * c->in_h * c->in_w;
    char err[512];
    *x = NULL;
    const char *split = !strncmp(spec, "test", 4) ? "test" : !strncmp(spec, "train", 5) ? "train" : NULL;
    const char *rest = split ? spec + strlen(split) : NULL;
    if (split && (!*rest || !strcmp(rest, ":even") || !strcmp(rest, ":odd"))) {
        nis_images train, test;
        if (!load_dataset(dataset, data, &train, &test, err, sizeof err))
            return cli_error(cmd, "--%s %s: %s", which, spec, err);
        nis_images *keep = !strcmp(split, "test") ? &test : &train, *drop = keep == &test ? &train : &test;
        nis_images_free(drop);
        if (keep->c != c->in_c || keep->h != c->in_h || keep->w != c->in_w) {
            nis_images_free(keep);
            return cli_error(cmd, "--%s %s: the %s images do not fit the classifier's input", which, spec,
                                 dataset);
        }
        int64_t m = keep->n;
        if (*rest) {   /* keep positions 0, 2, 4, ... (even) or 1, 3, 5, ... (odd), in place */
            int64_t at = 0;
            for (int64_t i = !strcmp(rest, ":odd"); i < keep->n; i += 2, at++)
                memmove(keep->x + at * D, keep->x + i * D, (size_t)D * sizeof *keep->x);
            m = at;
        }
        if (m < 2) {
            nis_images_free(keep);
            return cli_error(cmd, "--%s %s: needs at least 2 images (has %lld)", which, spec, (long long)m);
        }
        *x = keep->x;
        *n = m;
        keep->x = NULL;
        nis_images_free(keep);
        return 0;
    }
    nis_npy_array a;
    if (nis_npy_read_as(spec, NIS_DT_F32, &a, err, sizeof err) != NIS_OK)
        return cli_error(cmd, "--%s: %s", which, err);
    bool ok = a.ndim >= 2 && a.shape[0] >= 1;
    if (ok && a.ndim == 2) ok = a.shape[1] == D;
    else if (ok && a.ndim == 3) ok = c->in_c == 1 && a.shape[1] == c->in_h && a.shape[2] == c->in_w;
    else if (ok) ok = a.shape[1] == c->in_c && a.shape[2] == c->in_h && a.shape[3] == c->in_w;
    if (!ok) {
        nis_npy_free(&a);
        return cli_error(cmd, "--%s: %s: shape must be (N, %d, %d, %d) or (N, %lld)", which, spec, c->in_c,
                             c->in_h, c->in_w, (long long)D);
    }
    if (a.shape[0] < 2) {
        nis_npy_free(&a);
        return cli_error(cmd, "--%s: %s: needs at least 2 images", which, spec);
    }
    const float *v = a.data;
    for (int64_t i = 0; i < a.n; i++)
        if (!isfinite(v[i])) {
            nis_npy_free(&a);
            return cli_error(cmd, "--%s: %s: element %lld is not finite", which, spec, (long long)i);
        }
    *x = a.data;
    *n = a.shape[0];
    return 0;
}

/* --dataset, defaulting to the classifier's own (its "classifier.dataset" metadata); 2 after an error. */
static int classifier_dataset(const char *cmd, const char *classifier, const char **dataset) {
    char err[512];
    if (!*dataset) {
        nis_st_file *f = NULL;
        const char *d = NULL;
        if (nis_st_read(classifier, &f, err, sizeof err) == NIS_OK) d = nis_st_meta(f, "classifier.dataset");
        *dataset = d && !strcmp(d, "fashion") ? "fashion" : "mnist";
        nis_st_close(f);
    }
    if (strcmp(*dataset, "mnist") && strcmp(*dataset, "fashion"))
        return cli_error(cmd, "--dataset: '%s' is not mnist or fashion", *dataset);
    return 0;
}

int cmd_fid(int argc, char **argv) {
    const char *classifier = NULL, *a_spec = NULL, *b_spec = NULL, *data = "data", *dataset = NULL;
    int64_t threads = 1, seed = 0;
    double b_noise = 0;
    const cli_opt opts[] = {
        {"classifier", OPT_STRING, &classifier, "classifier .safetensors (nis classifier train)", 0, 0, true},
        {"a", OPT_STRING, &a_spec, "first set: .npy (N,1,28,28) or (N,784), or test / train[:even|:odd]", 0, 0, true},
        {"b", OPT_STRING, &b_spec, "second set: .npy, or test / train (the data set's splits)[:even|:odd]", 0, 0,
         true},
        {"b-noise", OPT_DOUBLE, &b_noise, "add N(0, s^2) noise to every pixel of set b (sanity checks)", 0, 100, false},
        {"seed", OPT_INT, &seed, "random seed of --b-noise", 0, 9e18, false},
        {"data", OPT_STRING, &data, "data directory for test / train", 0, 0, false},
        {"dataset", OPT_STRING, &dataset, "mnist or fashion (default: the classifier's)", 0, 0, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("fid", "Frechet distance of two image sets under the classifier's features (JSON).", argc,
                            argv, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    cli_init_json();
    nis_set_threads((int)threads);
    char err[512];
    nis_classifier C;
    if (nis_classifier_load(classifier, &C, err, sizeof err) != NIS_OK)
        return cli_error("fid", "--classifier: %s", err);
    if ((rc = classifier_dataset("fid", classifier, &dataset))) {
        nis_classifier_free(&C);
        return rc;
    }
    float *a = NULL, *b = NULL;
    int64_t na = 0, nb = 0;
    rc = load_set("fid", "a", a_spec, &C, data, dataset, &a, &na);
    if (!rc) rc = load_set("fid", "b", b_spec, &C, data, dataset, &b, &nb);
    if (!rc && b_noise > 0) {
        nis_rng g = nis_rng_init((uint64_t)seed, NIS_STREAM_FID);
        for (int64_t i = 0; i < nb * C.cfg.in_c * C.cfg.in_h * C.cfg.in_w; i++)
            b[i] += (float)(b_noise * nis_rng_normal(&g));
    }
    double fid = NAN, t0 = nis_seconds();
    if (!rc && nis_fid(&C, a, na, b, nb, &fid, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis fid: %s\n", err);
        rc = 1;
    }
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        char *s = NULL;
        if (o) {
            cli_json_number(o, "fid", fid);
            cJSON_AddStringToObject(o, "a", a_spec);
            cJSON_AddNumberToObject(o, "n_a", (double)na);
            cJSON_AddStringToObject(o, "b", b_spec);
            cJSON_AddNumberToObject(o, "n_b", (double)nb);
            if (b_noise > 0) cJSON_AddNumberToObject(o, "b_noise", b_noise);
            cJSON_AddStringToObject(o, "classifier", classifier);
            cJSON_AddNumberToObject(o, "features", C.cfg.features);
            cli_json_number(o, "seconds", nis_seconds() - t0);
            s = cJSON_PrintUnformatted(o);
        }
        if (s) printf("%s\n", s);
        else {
            fprintf(stderr, "nis fid: out of memory\n");
            rc = 1;
        }
        cJSON_free(s);
        cJSON_Delete(o);
    }
    nis_free(a);
    nis_free(b);
    nis_classifier_free(&C);
    return rc;
}

/* `nis classify`: what the classifier says of a set of images: the fraction it labels with probability >= 0.9
 * ("confident"), each class's share of the arg-max labels, and for the first --nearest images the distance to the
 * nearest training image (a sampler that copies training digits is not a sampler), with a picture of the pairs. */
int cmd_classify(int argc, char **argv) {
    const char *classifier = NULL, *spec = NULL, *data = "data", *dataset = NULL, *png = NULL;
    int64_t threads = 1, nearest = 0;
    double level = 0.9;
    const cli_opt opts[] = {
        {"classifier", OPT_STRING, &classifier, "classifier .safetensors (nis classifier train)", 0, 0, true},
        {"samples", OPT_STRING, &spec, "images: .npy (N,1,28,28) or (N,784), or test / train[:even|:odd]", 0, 0, true},
        {"confidence", OPT_DOUBLE, &level, "a label is confident at this probability or above", 0.1, 1, false},
        {"nearest", OPT_INT, &nearest, "for the first N images, the L2 distance to the nearest training image", 0, 1e5, false},
        {"png", OPT_OUTFILE, &png, "with --nearest: the images (odd rows) over their nearest training images", 0, 0, false},
        {"data", OPT_STRING, &data, "data directory (test / train, --nearest)", 0, 0, false},
        {"dataset", OPT_STRING, &dataset, "mnist or fashion (default: the classifier's)", 0, 0, false},
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("classify", "Confident fraction and class shares of images under the classifier (JSON).", argc,
                       argv, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    if (png && !nearest) return cli_error("classify", "--png needs --nearest");
    cli_init_json();
    nis_set_threads((int)threads);
    char err[512];
    nis_classifier C;
    if (nis_classifier_load(classifier, &C, err, sizeof err) != NIS_OK)
        return cli_error("classify", "--classifier: %s", err);
    float *x = NULL;
    int64_t n = 0, D = (int64_t)C.cfg.in_c * C.cfg.in_h * C.cfg.in_w, K = C.cfg.classes;
    nis_images train = {0}, test = {0};
    if (!(rc = classifier_dataset("classify", classifier, &dataset))) rc = load_set("classify", "samples", spec, &C,
                                                                                      data, dataset, &x, &n);
    if (!rc && nearest && !load_dataset(dataset, data, &train, &test, err, sizeof err))
        rc = cli_error("classify", "--nearest: %s", err);
    double *p = rc ? NULL : nis_malloc((size_t)(n * K) * sizeof *p);
    if (!rc && !p) rc = cli_error("classify", "out of memory");
    if (!rc && nis_classifier_probs(&C, x, n, 0, p, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis classify: %s\n", err);
        rc = 1;
    }
    if (nearest > n) nearest = n;
    cJSON *o = rc ? NULL : cJSON_CreateObject();
    if (o) {
        int64_t confident = 0, *count = nis_calloc((size_t)K, sizeof *count);
        for (int64_t i = 0; count && i < n; i++) {
            int best = 0;
            for (int c = 1; c < K; c++) best = p[i * K + c] > p[i * K + best] ? c : best;
            count[best]++;
            confident += p[i * K + best] >= level;
        }
        cJSON_AddStringToObject(o, "samples", spec);
        cJSON_AddNumberToObject(o, "n", (double)n);
        cJSON_AddNumberToObject(o, "confidence", level);
        cJSON_AddNumberToObject(o, "confident_fraction", (double)confident / (double)n);
        cJSON *h = cJSON_AddArrayToObject(o, "class_fraction");
        double lo = 1, hi = 0;
        for (int c = 0; count && c < K; c++) {
            double f = (double)count[c] / (double)n;
            cJSON_AddItemToArray(h, cJSON_CreateNumber(f));
            lo = f < lo ? f : lo, hi = f > hi ? f : hi;
        }
        cJSON_AddNumberToObject(o, "min_class_fraction", lo);
        cJSON_AddNumberToObject(o, "max_class_fraction", hi);
        nis_free(count);
        if (nearest) {   /* brute force: nearest x nearest-train squared distances */
            cJSON *dist = cJSON_AddArrayToObject(o, "nearest_train_distance");
            int64_t rows = (nearest + 7) / 8;   /* grid: rows of 8 samples over rows of 8 neighbours */
            float *pair = png ? nis_calloc((size_t)(16 * rows * D), sizeof *pair) : NULL;
            double mean = 0;
            for (int64_t i = 0; i < nearest; i++) {
                double best = INFINITY;
                int64_t arg = 0;
                for (int64_t j = 0; j < train.n; j++) {
                    double s2 = 0;
                    for (int64_t k = 0; k < D && s2 < best; k++) {
                        double e = (double)x[i * D + k] - (double)train.x[j * D + k];
                        s2 += e * e;
                    }
                    if (s2 < best) best = s2, arg = j;
                }
                mean += sqrt(best) / (double)nearest;
                cJSON_AddItemToArray(dist, cJSON_CreateNumber(sqrt(best)));
                if (pair) {   /* rows of 8: samples, then their nearest training images */
                    int64_t row = i / 8, col = i % 8;
                    memcpy(pair + ((2 * row) * 8 + col) * D, x + i * D, (size_t)D * sizeof *pair);
                    memcpy(pair + ((2 * row + 1) * 8 + col) * D, train.x + arg * D, (size_t)D * sizeof *pair);
                }
            }
            cJSON_AddNumberToObject(o, "mean_nearest_train_distance", mean);
            if (png && (!pair || nis_images_write_grid(png, pair, 16 * rows, C.cfg.in_c, C.cfg.in_h, C.cfg.in_w, 8, 3,
                                                         err, sizeof err) != NIS_OK)) {
                fprintf(stderr, "nis classify: %s\n", pair ? err : "out of memory");
                rc = 1;
            }
            nis_free(pair);
        }
        if (!rc && !cli_print_json(o)) rc = 1;
        else if (rc) cJSON_Delete(o);
    }
    nis_free(p);
    nis_free(x);
    nis_images_free(&train);
    nis_images_free(&test);
    nis_classifier_free(&C);
    return rc;
}
