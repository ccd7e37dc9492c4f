/* bench/ebm_energy_probe.c — what a noise-conditional energy says about images that are not digits.
 *
 * For each of 10 levels t log-spaced over the energy's [noise, noise_max] and each set of 256 images x (test digits,
 * blank images, constant images at the preconditioning's mean pixel, U[0, 1) noise, and the first 256 rows of any
 * .npy files given), the images are noised once, y = x + t ε (the same ε for every set), and the program reports
 * - dE: the mean energy E_t(y) minus the test digits' at the same level (negative: the energy prefers the set's
 *   noised images to noised digits; under the true q_t of MNIST a noised blank is thousands of nats less likely);
 * - back: the RMS per pixel of the Tweedie denoiser's output D(y) = y + t² ∇log q_t(y) minus x.  Small means the
 *   energy maps the noised image back to where it came from, i.e. treats x as data at level t;
 * - to-mean: the RMS per pixel of D(y) minus the mean test digit, against the same for D of the set (a denoiser
 *   that pulls toward digits moves toward the data mean at high t);
 * and the test digits' mean energy by class (does the energy favour a class?).
 *
 * usage: ebm_energy_probe ENERGY [name=FILE.npy ...]   (run from the repository root: digits from data/mnist) */
#include "nis/nis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 256, MAXSETS = 12, LEVELS = 10 };

static int fail(const char *what, const char *err) {
    fprintf(stderr, "ebm_energy_probe: %s: %s\n", what, err);
    return 2;
}

/* Mean energy, each image's (per_image, N) and the two denoiser distances of x (N, d) at level t; noise is
 * eps (N, d). */
static nis_status probe(const nis_ebm *E, double t, const float *x, const float *eps, const float *mean_digit,
                        int64_t d, double *dE, double *back, double *to_mean, double *per_image, char *err,
                        size_t errlen) {
    nis_ebm V;
    nis_status st = nis_ebm_at_level(E, t, &V, err, errlen);
    if (st != NIS_OK) return st;
    float *y = nis_malloc((size_t)(N * d) * sizeof(float));
    for (int64_t i = 0; i < N * d; i++) y[i] = x[i] + (float)t * eps[i];
    nis_ctx *ctx = nis_ctx_new(0);
    nis_params_set_requires_grad(E->P, false);
    nis_ctx_set_grad(ctx, false);
    nis_tensor *e = nis_ebm_energy(ctx, &V, nis_tensor_wrap(ctx, 2, (int64_t[]){N, d}, y));
    if (!e) {
        st = nis_ctx_status(ctx);
        snprintf(err, errlen, "%s", nis_ctx_message(ctx));
    }
    *dE = 0;
    for (int64_t i = 0; e && i < N; i++) *dE += e->data[i] / N, per_image[i] = e->data[i];
    nis_ctx_reset(ctx);
    nis_ctx_set_grad(ctx, true);
    nis_tensor *g = st == NIS_OK ? nis_target_score(ctx, &V.target, nis_tensor_wrap(ctx, 2, (int64_t[]){N, d}, y),
                                                    false)
                                 : NULL;
    if (st == NIS_OK && !g) {
        st = nis_ctx_status(ctx);
        snprintf(err, errlen, "%s", nis_ctx_message(ctx));
    }
    if (st == NIS_OK) {
        double sb = 0, sm = 0;
        for (int64_t i = 0; i < N * d; i++) {
            double D = y[i] + t * t * g->data[i];
            sb += (D - x[i]) * (D - x[i]);
            sm += (D - mean_digit[i % d]) * (D - mean_digit[i % d]);
        }
        *back = sqrt(sb / (double)(N * d));
        *to_mean = sqrt(sm / (double)(N * d));
    }
    nis_params_set_requires_grad(E->P, true);
    nis_ctx_free(ctx);
    free(y);
    return st;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc - 2 > MAXSETS - 4) {
        fprintf(stderr, "usage: ebm_energy_probe ENERGY [name=FILE.npy ...] (at most %d files)\n", MAXSETS - 4);
        return 2;
    }
    char err[512];
    nis_ebm E;
    if (nis_ebm_load(argv[1], &E, err, sizeof err) != NIS_OK) return fail(argv[1], err);
    if (!nis_ebm_is_conditional(&E)) return fail(argv[1], "a noise-conditional energy is needed");
    nis_images tr, te;
    if (nis_mnist_load("data/mnist", &tr, &te, err, sizeof err) != NIS_OK) return fail("data/mnist", err);
    const int64_t d = E.target.dim;   /* 256 test digits spread over the class-ordered split: index i n / 256 */
    if (d != 784) return fail(argv[1], "an MNIST energy (784 pixels) is needed");
    const char *name[MAXSETS];
    float *x[MAXSETS];
    int ns = 0;
    for (; ns < 4; ns++) x[ns] = nis_malloc((size_t)(N * d) * sizeof(float));
    name[0] = "test", name[1] = "blank", name[2] = "mean-grey", name[3] = "uniform";
    nis_rng rng = nis_rng_init(7, 0);
    const double m = E.cfg.sigma_data > 0 ? E.cfg.data_mean : 0.1307;
    for (int64_t i = 0; i < N; i++) memcpy(x[0] + i * d, te.x + i * te.n / N * d, (size_t)d * sizeof(float));
    for (int64_t i = 0; i < N * d; i++) x[1][i] = 0, x[2][i] = (float)m;
    nis_rng_fill_uniform(&rng, x[3], N * d, 0, 1);
    for (int a = 2; a < argc; a++, ns++) {
        char *eq = strchr(argv[a], '=');
        if (!eq) return fail(argv[a], "expected name=FILE.npy");
        *eq = '\0';
        nis_npy_array A;
        if (nis_npy_read_as(eq + 1, NIS_DT_F32, &A, err, sizeof err) != NIS_OK) return fail(eq + 1, err);
        int64_t cnt = 1;
        for (int j = 0; j < A.ndim; j++) cnt *= A.shape[j];
        if (A.ndim < 2 || A.shape[0] < N || cnt / A.shape[0] != d) return fail(eq + 1, "need >= 256 rows of 784");
        name[ns] = argv[a];
        x[ns] = nis_malloc((size_t)(N * d) * sizeof(float));
        memcpy(x[ns], A.data, (size_t)(N * d) * sizeof(float));
        nis_npy_free(&A);
    }
    float *eps = nis_malloc((size_t)(N * d) * sizeof(float)), *mean_digit = calloc((size_t)d, sizeof(float));
    nis_rng_fill_normal(&rng, eps, N * d, 0, 1);
    for (int64_t i = 0; i < te.n * d; i++) mean_digit[i % d] += te.x[i] / (float)te.n;
    double dE[MAXSETS][LEVELS], back[MAXSETS][LEVELS], tm[MAXSETS][LEVELS], lv[LEVELS], own[LEVELS];
    double per[N], cls[10][LEVELS] = {{0}}, cnt[10] = {0};
    uint8_t lab[N];
    for (int64_t i = 0; i < N; i++) lab[i] = te.label[i * te.n / N], cnt[lab[i]]++;
    for (int l = 0; l < LEVELS; l++) {
        lv[l] = E.cfg.noise * pow(E.cfg.noise_max / E.cfg.noise, (double)l / (LEVELS - 1));
        for (int s = 0; s < ns; s++) {
            if (probe(&E, lv[l], x[s], eps, mean_digit, d, &dE[s][l], &back[s][l], &tm[s][l], per, err,
                      sizeof err) != NIS_OK)
                return fail(name[s], err);
            for (int64_t i = 0; s == 0 && i < N; i++) cls[lab[i]][l] += per[i] / cnt[lab[i]];
        }
        own[l] = dE[0][l];
        for (int c = 0; c < 10; c++) cls[c][l] -= own[l];
        for (int s = ns - 1; s >= 0; s--) dE[s][l] -= dE[0][l];
    }
    const char *title[3] = {"mean E_t(x + t eps) minus the test digits' (nats; test row: its own mean)",
                            "RMS per pixel of D(x + t eps) - x (the denoiser's way back)",
                            "RMS per pixel of D(x + t eps) - mean test digit"};
    for (int tab = 0; tab < 3; tab++) {
        printf("\n%s\n%-12s", title[tab], "set \\ t");
        for (int l = 0; l < LEVELS; l++) printf(" %8.3f", lv[l]);
        printf("\n");
        for (int s = 0; s < ns; s++) {
            printf("%-12s", name[s]);
            for (int l = 0; l < LEVELS; l++) {
                double v = tab == 0 ? dE[s][l] : tab == 1 ? back[s][l] : tm[s][l];
                if (tab == 0 && s == 0) v = own[l];   /* the reference row: its own mean energy */
                printf(tab == 0 ? " %8.1f" : " %8.3f", v);
            }
            printf("\n");
        }
    }
    printf("\nthe test digits by class: mean E_t minus all test digits' (about %d images a class)\n%-12s", N / 10,
           "class \\ t");
    for (int l = 0; l < LEVELS; l++) printf(" %8.3f", lv[l]);
    printf("\n");
    for (int c = 0; c < 10; c++) {
        printf("%-12d", c);
        for (int l = 0; l < LEVELS; l++) cnt[c] > 0 ? printf(" %8.1f", cls[c][l]) : printf(" %8s", "-");
        printf("\n");
    }
    for (int s = 0; s < ns; s++) free(x[s]);
    free(eps), free(mean_digit);
    nis_images_free(&tr), nis_images_free(&te);
    nis_ebm_free(&E);
    return 0;
}
