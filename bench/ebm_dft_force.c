/* bench/ebm_dft_force.c — what DFT's and KL's gradients ask of a sampler's images, and at which spatial
 * frequencies (issue 18: why DFT draws stripes where KL draws digits).
 *
 * A sampler's update moves its parameters along J_gᵀ F, where F (B, d) is the gradient of the sampler's loss with
 * respect to its images x0 = g(z) (the "force" on each image).  This program resumes an `nis ebm sampler` checkpoint,
 * takes one batch of its images x0 (its own draw: levels, antithetic pairs), and for R independent noise draws ε
 * computes the force of DFT's loss and of KL's at the same x0, ε and score network:
 *   KL:  F = w (s_φ(x̃) − s_q(x̃))                                          (x̃ = x0 + σ_b ε, w = (σ_b/σ)² / B)
 *   DFT: F = 2 w (H_q(x̃) (s_q(x̃) + ε/σ_b) − J_φ(x̃)ᵀ (s_φ(x̃) + ε/σ_b))
 * and DFT's two terms apart (the target's, by its own gradient; the score network's, the difference).
 * It prints, for each:
 *   - signal and noise per image: S_b = mean over the R draws of F, N_b² = their variance; the ratio
 *     Σ_b ||S_b||² / Σ_b N_b² (the signal's power less the N²/R the mean of R draws keeps of the noise, here and
 *     per band) says whether one draw's gradient points where the mean does;
 *   - the share of the signal's and of the noise's power in four bands of spatial frequency (radius |k| in cycles
 *     per image: 0, the brightness; low 1..3, the shape of a digit; mid 4..8, strokes; high > 8, the pixel grid and
 *     stripes), beside the same shares for the images x0 themselves and for test digits;
 *   - the cosine between DFT's and KL's signals, and between DFT's two terms';
 * and, to say why the bands differ, the energy's curvature along band-limited random directions v at x̃:
 * −vᵀ ∇²log q v / vᵀv (the Rayleigh quotient of H_q = −∇²log q at the lowest level), low and high band.
 *
 * usage: ebm_dft_force ENERGY.safetensors SAMPLER_CHECKPOINT.safetensors [R=16] [OUT.png]
 *        ebm_dft_force ENERGY.safetensors test [R=16]   (no sampler: 64 test digits, DFT's target term and the
 *        curvature there, from data/mnist)
 *   (R ≥ 2; OUT.png: a grid of 8 images x0, then their DFT signal S_b and KL signal, each scaled to [0, 1])
 * The checkpoint's score network takes its usual score_steps updates first (the objective plug-in is called from
 * a training step, which this program then discards); nothing is written but OUT.png. */
#include "nis/nis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 28
#define PI 3.14159265358979323846
#define NPIX (SIDE * SIDE)
#define NBANDS 4

static const char *band_name[NBANDS] = {"constant (k = 0)", "low (1 <= |k| <= 3)", "mid (4..8)", "high (> 8)"};

static int band_of(int ky, int kx) {
    int y = ky <= SIDE / 2 ? ky : ky - SIDE, x = kx <= SIDE / 2 ? kx : kx - SIDE;
    double r = sqrt((double)(x * x + y * y));
    return r == 0 ? 0 : r <= 3.5 ? 1 : r <= 8.5 ? 2 : 3;
}

/* 2-D DFT of a real 28x28 image (separable, O(n³)): re, im (NPIX) */
static void dft2(const double *img, double *re, double *im) {
    static double c[SIDE][SIDE], s[SIDE][SIDE];
    static int ready = 0;
    if (!ready) {
        for (int a = 0; a < SIDE; a++)
            for (int b = 0; b < SIDE; b++) c[a][b] = cos(2 * PI * a * b / SIDE), s[a][b] = -sin(2 * PI * a * b / SIDE);
        ready = 1;
    }
    double tr[NPIX], ti[NPIX];
    for (int y = 0; y < SIDE; y++)   /* rows */
        for (int k = 0; k < SIDE; k++) {
            double ar = 0, ai = 0;
            for (int x = 0; x < SIDE; x++) ar += img[y * SIDE + x] * c[k][x], ai += img[y * SIDE + x] * s[k][x];
            tr[y * SIDE + k] = ar, ti[y * SIDE + k] = ai;
        }
    for (int kx = 0; kx < SIDE; kx++)   /* columns */
        for (int ky = 0; ky < SIDE; ky++) {
            double ar = 0, ai = 0;
            for (int y = 0; y < SIDE; y++) {
                double r = tr[y * SIDE + kx], i = ti[y * SIDE + kx];
                ar += r * c[ky][y] - i * s[ky][y];
                ai += r * s[ky][y] + i * c[ky][y];
            }
            re[ky * SIDE + kx] = ar, im[ky * SIDE + kx] = ai;
        }
}

/* add each band's power of a real image into pw[NBANDS] */
static void band_power(const double *img, double *pw) {
    double re[NPIX], im[NPIX];
    dft2(img, re, im);
    for (int ky = 0; ky < SIDE; ky++)
        for (int kx = 0; kx < SIDE; kx++) pw[band_of(ky, kx)] += re[ky * SIDE + kx] * re[ky * SIDE + kx] + im[ky * SIDE + kx] * im[ky * SIDE + kx];
}

/* a random image limited to one band (inverse DFT of band-masked white noise; real part) */
static void band_noise(nis_rng *rng, int band, double *out) {
    double w[NPIX], re[NPIX], im[NPIX];
    nis_real z[NPIX];
    nis_rng_fill_normal(rng, z, NPIX, 0, 1);
    for (int i = 0; i < NPIX; i++) w[i] = z[i];
    dft2(w, re, im);
    for (int ky = 0; ky < SIDE; ky++)
        for (int kx = 0; kx < SIDE; kx++)
            if (band_of(ky, kx) != band) re[ky * SIDE + kx] = im[ky * SIDE + kx] = 0;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double a = 0;
            for (int ky = 0; ky < SIDE; ky++)
                for (int kx = 0; kx < SIDE; kx++) {
                    double ph = 2 * PI * ((double)ky * y + (double)kx * x) / SIDE;
                    a += re[ky * SIDE + kx] * cos(ph) - im[ky * SIDE + kx] * sin(ph);
                }
            out[y * SIDE + x] = a;
        }
}

typedef struct {
    int reps, B, done;
    double *x0, *sig, *eps0;     /* the batch: images (B, d), levels (B) or NULL, its ε (B, d) */
    double *sum[2], *sumsq[2];   /* per method (0 DFT, 1 KL): Σ_r F (B, d), Σ_r ||F_b||² (B) */
    double *noise_pw[2];         /* per method: Σ_r band power of (F_r − mean): filled in a second pass */
    double **F[4];               /* every draw's force: F[m][r] (B, d); m: DFT, KL, DFT's target term, its score term */
    const char *err;
} diag;

static diag D;

static nis_tensor *from_doubles(nis_ctx *c, int64_t n0, int64_t n1, const double *v) {
    nis_tensor *t = nis_tensor_new(c, 2, (int64_t[]){n0, n1});
    for (int64_t i = 0; t && i < n0 * n1; i++) t->data[i] = (nis_real)v[i];
    return t;
}

/* the force of one method at x0 (D.x0), ε (eps), levels (D.sig) into out (B, d); s: the training step's target,
 * score network and σ (for method 2, DFT's target term, only s->q and s->sigma are read) */
static int force(const nis_train_step *s, int method, const double *eps, double *out) {
    int64_t B = D.B, d = NPIX;
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_requires_grad(from_doubles(c, B, d, D.x0));
    nis_tensor *e = from_doubles(c, B, d, eps), *sg = D.sig ? from_doubles(c, B, 1, D.sig) : NULL;
    nis_tensor *loss;
    if (method == 0) {
        loss = nis_dft_objective(c, s->q, x, e, s->sigma, sg, s->score, (void *)s, NULL);
    } else if (method == 1) {
        loss = nis_kl_objective(c, s->q, x, e, s->sigma, sg, s->score, (void *)s, NULL);
    } else {   /* DFT's first term alone, mean_b w_b ||s_q(x̃) + ε/σ_b||² (objectives.c, a deterministic target) */
        nis_tensor *xt = nis_add(c, x, sg ? nis_mul(c, e, sg) : nis_mul_scalar(c, e, s->sigma));
        nis_tensor *en = sg ? nis_div(c, e, sg) : nis_mul_scalar(c, e, 1 / s->sigma);
        nis_tensor *r = nis_add(c, nis_target_score_at(c, s->q, xt, sg, true), en);
        nis_tensor *per = nis_sum_axis(c, nis_square(c, r), 1, false);
        if (sg) per = nis_mul(c, per, nis_square(c, nis_mul_scalar(c, nis_reshape(c, sg, 1, (int64_t[]){B}), 1 / s->sigma)));
        loss = nis_mean(c, per);
    }
    nis_tensor *g = NULL;
    int ok = loss && nis_grad(c, 1, &loss, NULL, 1, &x, false, &g) == NIS_OK && g;
    if (ok)
        for (int64_t i = 0; i < B * d; i++) out[i] = g->data[i] * B;   /* per image: the loss is a batch mean */
    else
        fprintf(stderr, "ebm_dft_force: %s\n", nis_ctx_message(c));
    nis_ctx_free(c);
    return ok;
}

static nis_tensor *force_loss(const nis_train_step *s, double *monitor) {
    if (!D.done) {
        D.done = 1;
        nis_tensor *eps, *sig, *x0 = nis_train_draw(s, false, &eps, &sig);
        if (!x0) return NULL;
        int64_t B = x0->shape[0], d = x0->shape[1];
        if (d != NPIX) {
            D.err = "the sampler's images are not 28x28";
            return NULL;
        }
        D.B = (int)B;
        D.x0 = malloc(sizeof(double) * B * d), D.eps0 = malloc(sizeof(double) * B * d);
        for (int64_t i = 0; i < B * d; i++) D.x0[i] = x0->data[i], D.eps0[i] = eps->data[i];
        if (sig) {
            D.sig = malloc(sizeof(double) * B);
            for (int64_t b = 0; b < B; b++) D.sig[b] = sig->data[b];
        }
        nis_rng rng = nis_rng_init(12345, 77);
        double *e = malloc(sizeof(double) * B * d);
        nis_real *z = malloc(sizeof(nis_real) * B * d);
        for (int m = 0; m < 4; m++) D.F[m] = calloc((size_t)D.reps, sizeof(double *));
        for (int r = 0; r < D.reps; r++) {
            if (r == 0) {
                memcpy(e, D.eps0, sizeof(double) * B * d);
            } else {   /* fresh ε, antithetic pairs as the draw had them (rows b and b + B/2 share z) */
                nis_rng_fill_normal(&rng, z, B * d, 0, 1);
                for (int64_t i = 0; i < B * d; i++) e[i] = z[i];
                if (s->cfg->antithetic)
                    for (int64_t i = 0; i < B / 2 * d; i++) e[B / 2 * d + i] = -e[i];
            }
            for (int m = 0; m < 3; m++) {
                D.F[m][r] = malloc(sizeof(double) * B * d);
                if (!force(s, m, e, D.F[m][r])) return NULL;
            }
            D.F[3][r] = malloc(sizeof(double) * B * d);   /* DFT = target term - score term */
            for (int64_t i = 0; i < B * d; i++) D.F[3][r][i] = D.F[2][r][i] - D.F[0][r][i];
        }
        free(e);
        free(z);
    }
    return nis_objective_builtin(NIS_METHOD_DFT)->sampler_loss(s, monitor);
}

/* "| p0% | p1% | ..." of the bands' shares */
static void print_shares(const double *pw) {
    double t = 0;
    for (int k = 0; k < NBANDS; k++) t += pw[k];
    for (int k = 0; k < NBANDS; k++) printf(" %.1f%% |", 100 * pw[k] / t);
}

static void force_table_header(void) {
    printf("| force | signal ||S||² per image | noise N² per draw | signal / noise | signal: k = 0 | low | mid | high | "
           "noise: k = 0 | low | mid | high |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

/* One force's row of the table from its R draws F[r] (B, d): the signal S = the mean over draws (returned, B * d,
 * the caller frees it), the noise N² = their variance per image and draw, ||S||² less the N²/R the mean of R draws
 * keeps of the noise, and the same per band. */
static double *force_row(const char *name, double *const *F, int R, int B) {
    const int d = NPIX;
    double *S = calloc((size_t)B * d, sizeof(double));
    for (int r = 0; r < R; r++)
        for (int i = 0; i < B * d; i++) S[i] += F[r][i] / R;
    double s2 = 0, n2 = 0, spw[NBANDS] = {0}, npw[NBANDS] = {0}, dev[NPIX];
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < d; i++) s2 += S[b * d + i] * S[b * d + i];
        band_power(S + b * d, spw);
        for (int r = 0; r < R; r++) {
            for (int i = 0; i < d; i++) {
                dev[i] = F[r][b * d + i] - S[b * d + i];
                n2 += dev[i] * dev[i];
            }
            band_power(dev, npw);
        }
    }
    n2 /= (double)B * (R - 1);            /* per image and draw, unbiased */
    s2 = s2 / B - n2 / R;                 /* E||S||² = ||mean||² + N²/R */
    for (int k = 0; k < NBANDS; k++) {    /* the same per band: the mean's own power, not the draws' noise */
        npw[k] /= (double)B * (R - 1);
        spw[k] = fmax(spw[k] / B - npw[k] / R, 0);
    }
    printf("| %s | %.4g | %.4g | %.3g |", name, s2, n2, s2 / n2);
    print_shares(spw);
    print_shares(npw);
    printf("\n");
    return S;
}

/* n MNIST test digits, every (test.n / n)-th of the class-ordered split, into x (n, d) as doubles; false with a
 * message in err. */
static bool test_digits(double *x, int n, char *err, size_t errlen) {
    nis_images train = {0}, test = {0};
    if (nis_mnist_load("data/mnist", &train, &test, err, errlen) != NIS_OK) return false;
    for (int b = 0; b < n; b++)
        for (int i = 0; i < NPIX; i++) x[b * NPIX + i] = test.x[(int64_t)b * (test.n / n) * NPIX + i];
    nis_images_free(&train);
    nis_images_free(&test);
    return true;
}

/* the energy's curvature along band-limited random directions at x̃ = D.x0 + sigma D.eps0 (its lowest level);
 * false after a message */
static bool curvature_table(const nis_target *t, double sigma) {
    const int B = D.B, d = NPIX;
    nis_rng rng = nis_rng_init(777, 3);
    nis_ctx *c = nis_ctx_new(0);
    printf("\n| direction v | −vᵀ ∇²log q v / vᵀv at x̃ (mean over %d images) |\n|---|---:|\n", B);
    for (int band = 0; band < NBANDS; band++) {
        nis_ctx_reset(c);
        nis_tensor *x = nis_tensor_new(c, 2, (int64_t[]){B, d}), *v = nis_tensor_new(c, 2, (int64_t[]){B, d});
        double vb[NPIX];
        for (int b = 0; b < B; b++) {
            band_noise(&rng, band, vb);
            for (int i = 0; i < d; i++)
                v->data[b * d + i] = (nis_real)vb[i], x->data[b * d + i] = (nis_real)(D.x0[b * d + i] + sigma * D.eps0[b * d + i]);
        }
        nis_tensor *hv = nis_target_hvp(c, t, x, v);
        if (!hv) {
            fprintf(stderr, "ebm_dft_force: %s\n", nis_ctx_message(c));
            nis_ctx_free(c);
            return false;
        }
        double rq = 0;
        for (int b = 0; b < B; b++) {
            double num = 0, den = 0;
            for (int i = 0; i < d; i++) num += v->data[b * d + i] * hv->data[b * d + i], den += v->data[b * d + i] * v->data[b * d + i];
            rq += -num / den / B;
        }
        printf("| %s | %.4g |\n", band_name[band], rq);
    }
    nis_ctx_free(c);
    printf("\n(1/σ² = %g: the curvature of q_σ across directions the data do not vary in)\n", 1 / (sigma * sigma));
    return true;
}

/* "test" instead of a checkpoint: no sampler, the images are 64 test digits (every k-th) at the energy's lowest
 * level σ: DFT's target term there (what the score-network term must cancel when the sampler is exact) and the
 * energy's curvature by band at x + σε. */
static int at_test_digits(const nis_ebm *E, const nis_target *t) {
    char err[512];
    const int B = 64, d = NPIX, R = D.reps;
    double sigma = E->cfg.noise > 0 ? E->cfg.noise : 0.1;
    D.B = B;
    D.x0 = malloc(sizeof(double) * B * d), D.eps0 = malloc(sizeof(double) * B * d);
    if (!test_digits(D.x0, B, err, sizeof err)) return fprintf(stderr, "ebm_dft_force: %s\n", err), 2;
    nis_train_step s = {.q = t, .sigma = sigma};
    nis_rng rng = nis_rng_init(12345, 77);
    nis_real *z = malloc(sizeof(nis_real) * B * d);
    double **F = calloc((size_t)R, sizeof(double *));
    for (int r = 0; r < R; r++) {
        nis_rng_fill_normal(&rng, z, B * d, 0, 1);
        for (int i = 0; i < B * d; i++) D.eps0[i] = z[i];
        F[r] = malloc(sizeof(double) * B * d);
        if (!force(&s, 2, D.eps0, F[r])) return 1;
    }
    printf("64 test digits at sigma %g, %d noise draws: DFT's target term 2 H_q (s_q + ε/σ)\n\n", sigma, R);
    force_table_header();
    free(force_row("target term", F, R, B));
    return curvature_table(t, sigma) ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: ebm_dft_force ENERGY SAMPLER_CHECKPOINT [R] [OUT.png]\n");
        return 2;
    }
    D.reps = argc > 3 ? atoi(argv[3]) : 16;
    if (D.reps < 2) return fprintf(stderr, "ebm_dft_force: R must be at least 2\n"), 2;
    char err[512];
    nis_ebm E;
    if (nis_ebm_load(argv[1], &E, err, sizeof err) != NIS_OK) return fprintf(stderr, "ebm_dft_force: %s\n", err), 2;
    const nis_target *t = nis_ebm_target(&E);
    if (!strcmp(argv[2], "test")) return at_test_digits(&E, t);
    nis_trainer *tr = nis_trainer_resume(t, argv[2], err, sizeof err);
    if (!tr) return fprintf(stderr, "ebm_dft_force: %s\n", err), 2;
    const nis_objective *dft = nis_objective_builtin(NIS_METHOD_DFT);
    nis_objective obj = {"force", dft->score_loss, force_loss};
    nis_trainer_set_objective(tr, &obj);
    if (nis_trainer_step(tr, NULL) != NIS_OK || !D.done || D.err) {
        fprintf(stderr, "ebm_dft_force: %s\n", D.err ? D.err : nis_trainer_message(tr));
        return 1;
    }
    const int B = D.B, R = D.reps, d = NPIX;
    const char *mname[4] = {"DFT", "KL", "DFT's target term 2 w H_q (s_q + ε/σ_b)", "DFT's score term 2 w J_φᵀ (s_φ + ε/σ_b)"};
    double *S[4];
    printf("sampler %s after %lld updates, energy %s; batch %d, %d noise draws, sigma %g%s\n\n", argv[2],
           (long long)nis_trainer_iter(tr) - 1, argv[1], B, R, nis_trainer_sigma(tr), D.sig ? " (levels per image)" : "");
    force_table_header();
    for (int m = 0; m < 4; m++) S[m] = force_row(mname[m], D.F[m], R, B);
    /* mean cosine per image between two methods' signals */
    double cs[2] = {0, 0};
    const int pairs[2][2] = {{0, 1}, {2, 3}};
    for (int p = 0; p < 2; p++)
        for (int b = 0; b < B; b++) {
            const double *u = S[pairs[p][0]] + b * d, *w = S[pairs[p][1]] + b * d;
            double ab = 0, aa = 0, bb = 0;
            for (int i = 0; i < d; i++) ab += u[i] * w[i], aa += u[i] * u[i], bb += w[i] * w[i];
            cs[p] += ab / sqrt(aa * bb + 1e-300) / B;
        }
    printf("\nmean cosine per image between the signals of DFT and KL: %.3f; of DFT's two terms: %.3f\n\n", cs[0], cs[1]);

    /* the images' own spectra, and test digits' */
    printf("| images | k = 0 | low | mid | high |\n|---|---:|---:|---:|---:|\n");
    double xpw[NBANDS] = {0};
    for (int b = 0; b < B; b++) band_power(D.x0 + b * d, xpw);
    printf("| the sampler's x0 |");
    print_shares(xpw);
    printf("\n");
    double *digits = malloc(sizeof(double) * 256 * d);
    if (test_digits(digits, 256, err, sizeof err)) {
        double tpw[NBANDS] = {0};
        for (int b = 0; b < 256; b++) band_power(digits + b * d, tpw);
        printf("| 256 test digits |");
        print_shares(tpw);
        printf("\n");
    } else {
        fprintf(stderr, "ebm_dft_force: no test digits (%s)\n", err);
        return 2;
    }
    free(digits);

    if (!curvature_table(t, nis_trainer_sigma(tr))) return 1;

    if (argc > 4) {   /* a picture: 8 images, their DFT signals, their KL signals (each image scaled to [0, 1]) */
        float *g = malloc(sizeof(float) * 24 * d);
        for (int row = 0; row < 3; row++)
            for (int b = 0; b < 8 && b < B; b++) {
                const double *src = row == 0 ? D.x0 + b * d : S[row - 1] + b * d;
                double lo = src[0], hi = src[0];
                for (int i = 0; i < d; i++) lo = fmin(lo, src[i]), hi = fmax(hi, src[i]);
                for (int i = 0; i < d; i++) g[(row * 8 + b) * d + i] = (float)((src[i] - lo) / (hi - lo + 1e-30));
            }
        if (nis_images_write_grid_png(argv[4], g, 24, SIDE, SIDE, 8, 2, err, sizeof err) != NIS_OK)
            return fprintf(stderr, "ebm_dft_force: %s\n", err), 1;
        free(g);
    }
    nis_trainer_free(tr);
    nis_ebm_free(&E);
    return 0;
}
