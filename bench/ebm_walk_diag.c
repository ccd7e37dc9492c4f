/* bench/ebm_walk_diag.c — at which noise level a noise-conditional energy's annealed walk loses a digit.
 *
 * For each start level t0, 256 test digits x (every k-th of the class-ordered test split) are noised to
 * y = x + t0 ε, walked by annealed Langevin from t0 down to the energy's lowest level (levels log-spaced, `per`
 * steps each, step h (t / noise)² as `nis ebm langevin` does), then jumped to the clean image.  The committed
 * classifier then says how many of them are confident (p >= 0.9) and how many keep their label.  A level at which
 * the walk turns digits into fragments is where the energy is weakest; t0 = noise with no steps measures the jump.
 * "noise" as a start level is the usual walk from U[0, 1) at the energy's top level (labels: not applicable).
 *
 * usage: ebm_walk_diag ENERGY CLASSIFIER "0.1 0.2 0.5 1 noise" [per=20] [h=0.0015] [out-prefix]
 *        (run from the repository root: the test digits come from data/mnist) */
#include "nis/nis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *err) {
    fprintf(stderr, "ebm_walk_diag: %s: %s\n", what, err);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ebm_walk_diag ENERGY CLASSIFIER LEVELS [per] [h] [out-prefix]\n");
        return 2;
    }
    char err[512];
    nis_ebm E;
    nis_classifier C;
    if (nis_ebm_load(argv[1], &E, err, sizeof err) != NIS_OK) return fail(argv[1], err);
    if (!nis_ebm_is_conditional(&E)) return fail(argv[1], "a noise-conditional energy is needed");
    if (nis_classifier_load(argv[2], &C, err, sizeof err) != NIS_OK) return fail(argv[2], err);
    const int per = argc > 4 ? atoi(argv[4]) : 20;
    const double h = argc > 5 ? atof(argv[5]) : 0.0015, lo = E.cfg.noise;
    const char *prefix = argc > 6 ? argv[6] : NULL;
    nis_images tr, te;
    if (nis_mnist_load("data/mnist", &tr, &te, err, sizeof err) != NIS_OK) return fail("data/mnist", err);
    const int64_t d = E.target.dim, n = 256, k = te.n / n;
    float *x0 = nis_malloc((size_t)(n * d) * sizeof(float)), *x = nis_malloc((size_t)(n * d) * sizeof(float));
    uint8_t *lab = nis_malloc((size_t)n);
    double *p = nis_malloc((size_t)(n * C.cfg.classes) * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        memcpy(x0 + i * d, te.x + i * k * d, (size_t)d * sizeof(float));
        lab[i] = te.label[i * k];
    }
    printf("%-8s %6s %6s %10s %10s\n", "start", "steps", "levels", "confident", "same label");
    int row = 0;
    for (char *s = argv[3], *q; *s; s = q, row++) {
        while (*s == ' ') s++;
        if (!*s) break;
        bool from_noise = !strncmp(s, "noise", 5);
        double t0 = from_noise ? E.cfg.noise_max : strtod(s, &q);
        if (from_noise) q = s + 5;
        else if (q == s) return fail("levels", s);
        nis_rng rng = nis_rng_init(11, (uint64_t)row);
        if (from_noise) nis_rng_fill_uniform(&rng, x, n * d, 0, 1);
        else {
            nis_rng_fill_normal(&rng, x, n * d, 0, 1);
            for (int64_t i = 0; i < n * d; i++) x[i] = x0[i] + (float)t0 * x[i];
        }
        /* levels log-spaced from t0 to lo, about one per factor 1.29 (10 over [0.1, 1], as the CLI's walk) */
        int L = t0 > lo ? 1 + (int)lround(9 * log(t0 / lo) / log(E.cfg.noise_max / lo)) : 0;
        nis_params_set_requires_grad(E.P, false);
        for (int l = 0; l < L; l++) {
            double t = L > 1 ? t0 * pow(lo / t0, (double)l / (L - 1)) : lo;
            nis_ebm V;
            if (nis_ebm_at_level(&E, t, &V, err, sizeof err) != NIS_OK) return fail("level", err);
            nis_ula_config u = {.steps = per, .step_size = h * (t / lo) * (t / lo)};
            if (nis_ula_run(nis_ebm_target(&V), &u, &rng, x, n, NULL, err, sizeof err) != NIS_OK)
                return fail("walk", err);
        }
        if (nis_ebm_denoise(&E, x, n, err, sizeof err) != NIS_OK) return fail("jump", err);
        if (nis_classifier_probs(&C, x, n, 256, p, err, sizeof err) != NIS_OK) return fail("classify", err);
        int64_t conf = 0, same = 0;
        for (int64_t i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < C.cfg.classes; c++)
                if (p[i * C.cfg.classes + c] > p[i * C.cfg.classes + best]) best = c;
            conf += p[i * C.cfg.classes + best] >= 0.9;
            same += best == lab[i];
        }
        printf("%-8.3g %6d %6d %9.1f%% %9.1f%%\n", from_noise ? (double)NAN : t0, L * per, L, 100.0 * conf / n,
               from_noise ? NAN : 100.0 * same / n);
        if (prefix) {
            char path[512];
            snprintf(path, sizeof path, "%s-%d.png", prefix, row);
            nis_images_write_grid(path, x, 64, 1, 28, 28, 8, 2, err, sizeof err);
        }
        fflush(stdout);
    }
    nis_free(x0), nis_free(x), nis_free(lab), nis_free(p);
    nis_images_free(&tr), nis_images_free(&te);
    nis_classifier_free(&C);
    nis_ebm_free(&E);
    return 0;
}
