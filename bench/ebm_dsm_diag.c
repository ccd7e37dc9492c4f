/* bench/ebm_dsm_diag.c — where DFT's first term points: the target's denoising loss at a set of images.
 *
 * DFT's sampler loss is E ||s_q(x̃) + ε/σ||² − E ||s_φ(x̃) + ε/σ||² at x̃ = x + σε (nis/train.h).  Its first term,
 * times σ², is the energy's own denoising-score-matching loss at the sampler's images: ||σ s_q(x + σε) + ε||².  A
 * sampler that lowers it moves to images the energy denoises well; the second term (the score network's loss at
 * the same images) is what stops it there, and only as far as the score network is the exact score of the
 * sampler.  This prints, for each .npy of images and each level s, the mean over images (and `reps` noise draws)
 * of ||s s_q,s(x + sε) + ε||² / d, for a noise-conditional energy (s_q,s = −∇f / s).
 *
 * usage: ebm_dsm_diag ENERGY.safetensors "0.1 0.2 0.5 1" A.npy [B.npy ...]   (first 256 images of each file;
 *        "test": 256 MNIST test digits, every (n/256)-th, from data/mnist) */
#include "nis/nis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ebm_dsm_diag ENERGY LEVELS FILE.npy...\n");
        return 2;
    }
    char err[512];
    nis_ebm E;
    if (nis_ebm_load(argv[1], &E, err, sizeof err) != NIS_OK || !nis_ebm_is_conditional(&E)) {
        fprintf(stderr, "ebm_dsm_diag: %s\n", nis_ebm_is_conditional(&E) ? err : "a noise-conditional energy is needed");
        return 2;
    }
    double lv[16];
    int nl = 0;
    for (char *p = argv[2], *q; nl < 16 && (lv[nl] = strtod(p, &q), q != p); p = q) nl++;
    const int64_t d = E.target.dim, nmax = 256, reps = 4;
    nis_ctx *ctx = nis_ctx_new(0);
    nis_params_set_requires_grad(E.P, false);
    printf("%-40s", "images \\ level");
    for (int l = 0; l < nl; l++) printf(" %8.3g", lv[l]);
    printf("   (||s s_q(x + s e) + e||^2 / d)\n");
    for (int a = 3; a < argc; a++) {
        nis_npy_array x = {0};
        if (!strcmp(argv[a], "test")) {   /* the test split is ordered by class: take every k-th digit */
            nis_images tr, te;
            if (nis_mnist_load("data/mnist", &tr, &te, err, sizeof err) != NIS_OK) {
                fprintf(stderr, "ebm_dsm_diag: %s\n", err);
                return 2;
            }
            int64_t k = te.n / nmax;
            x.n = nmax * d, x.data = nis_malloc((size_t)x.n * sizeof(float));
            for (int64_t i = 0; i < nmax; i++) memcpy((float *)x.data + i * d, te.x + i * k * d, (size_t)d * sizeof(float));
            nis_free(tr.x), nis_free(tr.label), nis_free(te.x), nis_free(te.label);
        } else if (nis_npy_read_as(argv[a], NIS_DT_F32, &x, err, sizeof err) != NIS_OK || x.n % d) {
            fprintf(stderr, "ebm_dsm_diag: %s: %s\n", argv[a], x.n % d ? "not images of the energy's size" : err);
            return 2;
        }
        int64_t n = x.n / d < nmax ? x.n / d : nmax;
        printf("%-40s", argv[a]);
        for (int l = 0; l < nl; l++) {
            nis_ebm V;
            nis_ebm_at_level(&E, lv[l], &V, err, sizeof err);
            nis_rng rng = nis_rng_init(7, (uint64_t)l);
            double sum = 0;
            for (int r = 0; r < reps; r++) {
                nis_ctx_reset(ctx);
                nis_tensor *xt = nis_new2(ctx, n, d), *eps = nis_new2(ctx, n, d);
                nis_rng_fill_normal(&rng, eps->data, n * d, 0, 1);
                for (int64_t i = 0; i < n * d; i++) xt->data[i] = ((float *)x.data)[i] + (nis_real)(lv[l] * eps->data[i]);
                nis_tensor *s = nis_target_score(ctx, &V.target, xt, false);
                if (!s) {
                    fprintf(stderr, "ebm_dsm_diag: %s\n", nis_ctx_message(ctx));
                    return 1;
                }
                for (int64_t i = 0; i < n * d; i++) {
                    double v = lv[l] * s->data[i] + eps->data[i];
                    sum += v * v;
                }
            }
            printf(" %8.4f", sum / (double)(reps * n * d));
        }
        printf("\n");
        nis_npy_free(&x);
    }
    nis_ctx_free(ctx);
    nis_ebm_free(&E);
    return 0;
}
