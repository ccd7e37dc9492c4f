/* Matrix products through nis (nis_matmul, nis_linear) give the same bits as one direct cblas_sgemm call: nis routes
 * some single-threaded products through OpenBLAS's small-matrix path, cut into row blocks and with B transposed
 * (src/core/blas.c, gemm_small), which must not change the rounding.  On a CPU with AVX-512 the test runs itself
 * again with OPENBLAS_CORETYPE=SkylakeX (a kernel set with that path), so the route is exercised wherever it can
 * be; it prints which kernels it ran. */
#include "check.h"
#include "nis/core.h"
#include "nis/ops.h"
#include "nis/rng.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the reference: C (M, N) = op(A) op(B) + beta C, row-major, one call */
static void ref(bool ta, bool tb, int M, int N, int K, const float *A, const float *B, float beta, float *C) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
                ta ? M : K, B, tb ? K : N, beta, C, N);
}

static void fill(nis_rng *g, nis_tensor *t) { nis_rng_fill_normal(g, t->data, t->n, 0, 1); }

int main(int argc, char **argv) {
    (void)argc;
    __builtin_cpu_init();
    if (!getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);   /* read only when OpenBLAS loads: start again */
        execv("/proc/self/exe", argv);
        fprintf(stderr, "test_gemm: could not restart with OPENBLAS_CORETYPE=SkylakeX; testing %s\n", nis_blas_core());
    }
    printf("OpenBLAS kernels: %s\n", nis_blas_core());
    nis_set_threads(1);
    nis_ctx *ctx = nis_ctx_new(0);
    nis_rng g = nis_rng_init(7, 0);
    /* the 2-D MLPs' products (batch 256, width 64: forward, input and weight gradients), just over and under
     * OpenBLAS's small-path limit, odd sizes (N % 16 in 1-8 is where the two paths would round differently), K at
     * the edge of NIS_SMALL_KMAX and beyond, and larger ones that stay packed */
    static const int shapes[][3] = {{256, 64, 64}, {256, 64, 2},  {256, 2, 64},  {64, 64, 256}, {64, 2, 256},
                                    {128, 64, 64}, {512, 64, 64}, {300, 70, 50}, {97, 33, 129}, {256, 128, 128},
                                    {33, 250, 256}, {1, 64, 64},  {256, 1, 64},  {70, 70, 257}, {1024, 64, 64},
                                    {300, 80, 50},  {97, 48, 129}, {999, 16, 255}, {37, 256, 211}, {64, 64, 512}};
    int checked = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        for (int form = 0; form < 3; form++) {   /* NN, NT, TN (row-major) */
            const bool ta = form == 2, tb = form == 1;
            nis_tensor *a = ta ? nis_new2(ctx, K, M) : nis_new2(ctx, M, K);
            nis_tensor *b = tb ? nis_new2(ctx, N, K) : nis_new2(ctx, K, N);
            nis_tensor *bias = nis_new1(ctx, N);
            float *c = malloc((size_t)M * N * sizeof *c);
            CHECK(a && b && bias && c, "out of memory");
            if (!a || !b || !bias || !c) return check_done("test_gemm");
            fill(&g, a), fill(&g, b), fill(&g, bias);
            nis_tensor *y = nis_matmul(ctx, a, b, ta, tb);   /* beta 0 */
            ref(ta, tb, M, N, K, a->data, b->data, 0, c);
            CHECK(y && !memcmp(y->data, c, (size_t)M * N * sizeof *c), "matmul %s %dx%dx%d: bits differ",
                  form == 0 ? "NN" : form == 1 ? "NT" : "TN", M, N, K);
            if (form == 1) {   /* linear: y = x W^T + b, beta 1 on the bias rows */
                nis_tensor *l = nis_linear(ctx, a, b, bias);
                for (int i = 0; i < M; i++) memcpy(c + (size_t)i * N, bias->data, (size_t)N * sizeof *c);
                ref(false, true, M, N, K, a->data, b->data, 1, c);
                CHECK(l && !memcmp(l->data, c, (size_t)M * N * sizeof *c), "linear %dx%dx%d: bits differ", M, N, K);
            }
            free(c);
            checked++;
            nis_ctx_reset(ctx);
        }
    }
    CHECK(checked == 60, "%d products checked", checked);
    nis_ctx_free(ctx);
    return check_done("test_gemm");
}
