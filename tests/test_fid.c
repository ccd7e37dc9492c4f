/* FID: matrix square roots against analytic 2x2 / 3x3 cases, the Fréchet distance against closed forms,
 * mean/covariance against a direct sum, and with a tiny classifier on a few dozen synthetic images:
 * FID(A, A) ~ 0, FID grows with added noise, a few epochs of training learn the classes, deterministic
 * training, save/load round trip. */
#include "check.h"
#include "nis/classifier_train.h"
#include "nis/io.h"

#include <string.h>
#include <unistd.h>

static double max_abs_diff(const double *a, const double *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static void test_sqrtm(void) {
    char err[256] = "";
    /* [[5,4],[4,5]] has eigenvalues 9, 1 on (1,1), (1,-1): its root is [[2,1],[1,2]] */
    double a2[4] = {5, 4, 4, 5}, r2[4], want2[4] = {2, 1, 1, 2};
    CHECK(nis_sqrtm_psd(a2, 2, r2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(max_abs_diff(r2, want2, 4) < 1e-12, "2x2 root off by %g", max_abs_diff(r2, want2, 4));
    /* B B for a symmetric positive definite B has root B */
    double b3[9] = {2, 1, 0, 1, 3, 1, 0, 1, 4}, a3[9] = {0}, r3[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++) a3[i * 3 + j] += b3[i * 3 + k] * b3[k * 3 + j];
    CHECK(nis_sqrtm_psd(a3, 3, r3, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(max_abs_diff(r3, b3, 9) < 1e-12, "3x3 root off by %g", max_abs_diff(r3, b3, 9));
    /* rank one v v^T (|v| = 3): root v v^T / 3; rounding may give tiny negative eigenvalues, taken as 0 */
    double v[3] = {1, 2, 2}, a1[9], want1[9], r1[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) a1[i * 3 + j] = v[i] * v[j], want1[i * 3 + j] = v[i] * v[j] / 3;
    CHECK(nis_sqrtm_psd(a1, 3, r1, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(max_abs_diff(r1, want1, 9) < 1e-7, "rank-one root off by %g", max_abs_diff(r1, want1, 9));
    double bad[4] = {1, NAN, NAN, 1};
    CHECK(nis_sqrtm_psd(bad, 2, r2, err, sizeof err) == NIS_ENUMERIC && strstr(err, "non-finite"), "NaN: %s", err);
}

static void test_frechet(void) {
    char err[256] = "";
    double fd = 0;
    /* diagonal covariances: |dmu|^2 + sum (sqrt a - sqrt b)^2 */
    double mu1[3] = {0, 1, 2}, mu2[3] = {1, 1, 0};
    double c1[9] = {4, 0, 0, 0, 1, 0, 0, 0, 9}, c2[9] = {1, 0, 0, 0, 1, 0, 0, 0, 0.25};
    double want = 1 + 0 + 4 + (2 - 1) * (2 - 1) + 0 + (3 - 0.5) * (3 - 0.5);
    CHECK(nis_frechet_distance(mu1, c1, mu2, c2, 3, &fd, err, sizeof err) == NIS_OK, "%s", err);
    CHECK_CLOSE(fd, want, 1e-12, 1e-12);
    /* non-commuting 2x2: tr sqrt(C1^1/2 C2 C1^1/2) = sqrt(tr(C1 C2) + 2 sqrt(det C1 det C2)) */
    double p1[4] = {2, 0.5, 0.5, 1}, p2[4] = {1, -0.3, -0.3, 3}, m1[2] = {0.5, -1}, m2[2] = {0, 0};
    double tr12 = p1[0] * p2[0] + p1[1] * p2[2] + p1[2] * p2[1] + p1[3] * p2[3];
    double det1 = p1[0] * p1[3] - p1[1] * p1[2], det2 = p2[0] * p2[3] - p2[1] * p2[2];
    want = 0.25 + 1 + (p1[0] + p1[3]) + (p2[0] + p2[3]) - 2 * sqrt(tr12 + 2 * sqrt(det1 * det2));
    CHECK(nis_frechet_distance(m1, p1, m2, p2, 2, &fd, err, sizeof err) == NIS_OK, "%s", err);
    CHECK_CLOSE(fd, want, 1e-12, 1e-12);
    double back = 0;
    CHECK(nis_frechet_distance(m2, p2, m1, p1, 2, &back, err, sizeof err) == NIS_OK, "%s", err);
    CHECK_CLOSE(back, fd, 1e-12, 1e-12);
    CHECK(nis_frechet_distance(m1, p1, m1, p1, 2, &fd, err, sizeof err) == NIS_OK && fabs(fd) < 1e-12,
          "FD(P, P) = %g", fd);
}

static void test_mean_cov(void) {
    char err[256] = "";
    enum { N = 7, D = 3 };
    double x[N * D], mu[D], cov[D * D];
    test_seed(11);
    for (int i = 0; i < N * D; i++) x[i] = test_normal();
    CHECK(nis_mean_cov(x, N, D, mu, cov, err, sizeof err) == NIS_OK, "%s", err);
    for (int j = 0; j < D; j++) {
        double m = 0;
        for (int i = 0; i < N; i++) m += x[i * D + j] / N;
        CHECK_CLOSE(mu[j], m, 1e-14, 1e-12);
        for (int k = 0; k < D; k++) {
            double mk = 0, c = 0;
            for (int i = 0; i < N; i++) mk += x[i * D + k] / N;
            for (int i = 0; i < N; i++) c += (x[i * D + j] - m) * (x[i * D + k] - mk) / (N - 1);
            CHECK_CLOSE(cov[j * D + k], c, 1e-14, 1e-12);
        }
    }
    CHECK(nis_mean_cov(x, 1, D, mu, cov, err, sizeof err) == NIS_EINVAL, "one row");
}

enum { S = 12, NIMG = 48 };

/* Synthetic 1x12x12 images of 3 classes: a horizontal bar, a vertical bar, a centred square, at random
 * positions, plus a little noise, clipped to [0, 1]. */
static void make_images(nis_images *im, int n, uint64_t seed) {
    im->n = n, im->c = 1, im->h = S, im->w = S;
    im->x = nis_malloc((size_t)n * S * S * sizeof *im->x);
    im->label = nis_malloc((size_t)n);
    test_seed(seed);
    for (int k = 0; k < n; k++) {
        int cls = k % 3, p = 2 + (int)(test_uniform() * 8), q = 3 + (int)(test_uniform() * 5);
        im->label[k] = (uint8_t)cls;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                bool on = cls == 0 ? (y == p || y == p + 1) && x >= 2 && x < 10
                          : cls == 1 ? (x == p || x == p + 1) && y >= 2 && y < 10
                                     : abs(y - q - 2) <= 2 && abs(x - q - 2) <= 2;
                double v = (on ? 0.9 : 0.05) + 0.05 * test_normal();
                im->x[(k * S + y) * S + x] = (float)fmin(1, fmax(0, v));
            }
    }
}

static nis_classifier_config tiny_config(void) {
    return (nis_classifier_config){.in_c = 1, .in_h = S, .in_w = S, .n_conv = 2, .channels = {4, 8},
                                   .stride = {2, 2}, .features = 16, .classes = 3};
}

static void test_fid_images(void) {
    char err[256] = "";
    nis_images a;
    make_images(&a, NIMG, 5);
    nis_classifier_config cfg = tiny_config();
    nis_rng rng = nis_rng_init(3, 0);
    nis_classifier C;
    CHECK(nis_classifier_new(&C, &cfg, &rng, err, sizeof err) == NIS_OK, "%s", err);
    double fid = 1;
    CHECK(nis_fid(&C, a.x, a.n, a.x, a.n, &fid, err, sizeof err) == NIS_OK, "%s", err);
    /* features: trace of their covariance, for scale */
    double *feat = malloc(sizeof(double) * NIMG * 16), mu[16], cov[256], tr = 0;
    CHECK(nis_classifier_features(&C, a.x, a.n, 5, feat, err, sizeof err) == NIS_OK, "%s", err);
    nis_mean_cov(feat, NIMG, 16, mu, cov, err, sizeof err);
    for (int i = 0; i < 16; i++) tr += cov[i * 16 + i];
    CHECK(tr > 1e-6, "features vary (trace %g)", tr);
    printf("FID(A, A) = %.3g, trace of the feature covariance %.3g\n", fid, tr);
    CHECK(fabs(fid) < 1e-6 * tr, "FID(A, A) = %g (trace of cov %g)", fid, tr);
    /* batch size does not change the features */
    double *feat2 = malloc(sizeof(double) * NIMG * 16);
    CHECK(nis_classifier_features(&C, a.x, a.n, 0, feat2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(max_abs_diff(feat, feat2, NIMG * 16) < 1e-5, "batching changes features by %g",
          max_abs_diff(feat, feat2, NIMG * 16));
    /* FID(A, A + sigma eps) grows with sigma (the same eps for every sigma) */
    float *noisy = malloc(sizeof(float) * NIMG * S * S), *eps = malloc(sizeof(float) * NIMG * S * S);
    test_seed(99);
    for (int i = 0; i < NIMG * S * S; i++) eps[i] = (float)test_normal();
    const double sig[] = {0.05, 0.1, 0.2, 0.4};
    double prev = fid;
    for (int s = 0; s < 4; s++) {
        for (int i = 0; i < NIMG * S * S; i++) noisy[i] = a.x[i] + (float)sig[s] * eps[i];
        double f = 0;
        CHECK(nis_fid(&C, a.x, a.n, noisy, a.n, &f, err, sizeof err) == NIS_OK, "%s", err);
        printf("FID(A, A + %.2f eps) = %.6g\n", sig[s], f);
        CHECK(f > prev && f > 1e-4 * tr, "FID at sigma %g = %g, not above %g", sig[s], f, prev);
        prev = f;
    }
    CHECK(nis_fid(&C, a.x, 1, a.x, a.n, &fid, err, sizeof err) == NIS_EINVAL, "one image");
    free(feat);
    free(feat2);
    free(noisy);
    free(eps);
    nis_classifier_free(&C);
    nis_images_free(&a);
}

static void test_train_save_load(void) {
    char err[256] = "";
    nis_images tr, te;
    make_images(&tr, 60, 1);
    make_images(&te, 30, 2);
    nis_classifier_config cfg = tiny_config();
    nis_rng rng = nis_rng_init(4, 0);
    nis_classifier C, D;
    CHECK(nis_classifier_new(&C, &cfg, &rng, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_classifier_new(&D, &cfg, &rng, err, sizeof err) == NIS_OK, "%s", err);
    double acc0 = 0, acc = 0, accd = 0;
    CHECK(nis_classifier_accuracy(&C, &te, &acc0, err, sizeof err) == NIS_OK, "%s", err);
    nis_classifier_train_opts o = nis_classifier_train_defaults();
    o.epochs = 25, o.batch = 10, o.lr = 1e-2, o.max_shift = 1, o.seed = 7;
    CHECK(nis_classifier_train(&C, &tr, &te, &o, &acc, err, sizeof err) == NIS_OK, "%s", err);
    printf("tiny classifier: test accuracy %.3f before, %.3f after training\n", acc0, acc);
    CHECK(acc >= 0.9 && acc > acc0, "test accuracy %g after training (%g before)", acc, acc0);
    /* same seed, same initial weights: bit-identical result */
    CHECK(nis_classifier_train(&D, &tr, &te, &o, &accd, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(memcmp(C.P->data, D.P->data, (size_t)C.P->n * sizeof(nis_real)) == 0 && acc == accd, "deterministic");
    nis_classifier_free(&D);
    /* bad inputs */
    nis_images wrong = te;
    wrong.h = 28;
    CHECK(nis_classifier_train(&C, &wrong, NULL, &o, NULL, err, sizeof err) == NIS_ESHAPE, "shape: %s", err);
    nis_classifier_config badcfg = cfg;
    badcfg.stride[0] = 3;
    CHECK(nis_classifier_new(&D, &badcfg, &rng, err, sizeof err) == NIS_EINVAL && D.P == NULL, "bad config");

    /* save / load round trip: same features */
    char dir[] = "/tmp/nis-fid-XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    const char *meta[] = {"classifier.note", "test"};
    CHECK(nis_classifier_save(path, &C, 1, meta, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_classifier_load(path, &D, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(D.cfg.features == 16 && D.cfg.n_conv == 2 && D.cfg.channels[1] == 8 && D.cfg.stride[1] == 2 &&
              D.cfg.in_h == S && D.cfg.classes == 3,
          "config round trip");
    double f1 = 0;
    CHECK(nis_fid(&C, tr.x, tr.n, te.x, te.n, &f1, err, sizeof err) == NIS_OK, "%s", err);
    double f2 = -1;
    CHECK(nis_fid(&D, tr.x, tr.n, te.x, te.n, &f2, err, sizeof err) == NIS_OK && f1 == f2, "FID after load %g %g", f1,
          f2);
    nis_classifier_free(&D);
    /* a safetensors file that is not a classifier */
    float z = 0;
    nis_st_entry e = {.name = "w", .dtype = NIS_DT_F32, .ndim = 1, .shape = {1}, .data = &z};
    CHECK(nis_st_write(path, 1, &e, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_classifier_load(path, &D, err, sizeof err) == NIS_EFORMAT && D.P == NULL &&
              strstr(err, "not a classifier"),
          "not a classifier: %s", err);
    unlink(path);
    rmdir(dir);
    nis_classifier_free(&C);
    nis_images_free(&tr);
    nis_images_free(&te);
}

int main(void) {
    nis_set_threads(1);
    test_sqrtm();
    test_frechet();
    test_mean_cov();
    test_fid_images();
    test_train_save_load();
    return check_done("test_fid");
}
