/* src/core/blas.c — the one place that calls BLAS, and the thread-count setting. */
#include "op.h"
#include "linalg.h"

#include <cblas.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The thread policy for matrix products: one of fewer than NIS_GEMM_PAR_MIN multiply-adds, or with fewer than
 * NIS_GEMM_PAR_EDGE rows or columns, runs on one thread, larger ones on every thread of nis_set_threads.
 * Measured by bench/bench_threads (docs/benchmarks.md, "Second session").  OpenBLAS's OpenMP build takes the
 * thread count of each call from OpenMP's (omp_get_max_threads), so the count is set around the call and put back. */
#define NIS_GEMM_PAR_MIN ((int64_t)4 << 20)
#define NIS_GEMM_PAR_EDGE 16
static int g_threads = 0;

static int blas_threads_for(int64_t M, int64_t N, int64_t work) {
    if (g_threads < 2) return 0;   /* one thread (or never set: OpenBLAS's own default): nothing to change */
    if (work >= NIS_GEMM_PAR_MIN && M >= NIS_GEMM_PAR_EDGE && N >= NIS_GEMM_PAR_EDGE) return 0;
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    return 1;
}

static void blas_threads_restore(int changed) {
#ifdef _OPENMP
    if (changed) omp_set_num_threads(g_threads);
#else
    (void)changed;
#endif
}

/* OpenBLAS's AVX-512 kernel sets (the ones with its small-matrix path too). */
static bool avx512_core(const char *c) {
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof avx512 / sizeof avx512[0]; i++)
        if (!strcmp(c, avx512[i])) return true;
    return false;
}

#ifndef NIS_REAL_DOUBLE
/* OpenBLAS's small-matrix path (its SkylakeX-class kernel sets, OpenBLAS >= 0.3.16): products of at most 100^3
 * multiply-adds, in OpenBLAS's column-major terms NN, NT, and TN only with a small C, on unpacked operands: for a
 * 2-D MLP's 256 x 64 x 64 products 12-15 us where the packed path that takes everything else needs 16-17
 * (docs/benchmarks.md, "Fifth session").  Most of those products are just over the limit (1.05M multiply-adds) or in
 * the TN form (y = x W^T).  So a single-threaded float product (below NIS_GEMM_PAR_MIN) is cut into row blocks
 * under the limit, and y = x W^T becomes x (W^T) with a small W^T copied to the stack first.  Every element of C
 * is still one sum over k in order, rounded as the packed path rounds it (alpha 1, beta 0 or 1), as long as the
 * packed path does not block K (SkylakeX's blocks from K = 512) and C's rows are whole 16-float vectors (with N % 16
 * in 1-8 the two paths round the tail columns differently): the same bits, checked for all 16,980 shapes with N a
 * multiple of 16 up to 256, K up to 256, M up to 1100 in this size range, NN and TN (tests/test_gemm.c keeps some). */
#define NIS_SMALL_MNK ((int64_t)1000000)   /* OpenBLAS's limit: M N K <= 100^3 */
#define NIS_SMALL_KMAX 256                  /* K up to which every kernel set sums each element in one pass */
#define NIS_SMALL_BT 4096                   /* the most elements of B transposed on the stack (16 KB): beyond, the
                                             * copy costs more than the faster kernel saves (64 x 256: 1.14x slower) */

static int small_kernels(void) {
    static _Atomic int known = -1;   /* -1: not asked yet (the answer is the same for every thread) */
    int k = known;
    if (k < 0) known = k = avx512_core(nis_blas_core());
    return k;
}

/* The product through OpenBLAS's small-matrix path, if it qualifies (above); false: nothing done. */
static bool gemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, nis_real alpha, const nis_real *A,
                       int64_t lda, const nis_real *B, int64_t ldb, nis_real beta, nis_real *C, int64_t ldc) {
    const int64_t work = M * N * K;
    if (alpha != 1 || (beta != 0 && beta != 1) || (ta && tb) || N % 16 || K > NIS_SMALL_KMAX ||
        work >= NIS_GEMM_PAR_MIN || !small_kernels())
        return false;
    /* already on the small path: NN and TN (row-major) under the limit; NT when C is small and K not */
    if (!tb && work <= NIS_SMALL_MNK) return false;
    if (tb && (work <= NIS_SMALL_MNK && M * N <= 1200 && K >= 32)) return false;
    nis_real bt[NIS_SMALL_BT];
    if (tb) {   /* B (N, K) -> bt (K, N), by OpenBLAS's transposing copy (64 x 64: 0.5 us, a plain loop 3 us) */
        if (K * N > NIS_SMALL_BT) return false;
        cblas_somatcopy(CblasRowMajor, CblasTrans, (int)N, (int)K, 1.0f, B, (int)ldb, bt, (int)N);
        B = bt, ldb = N;
    }
    const int64_t parts = (work + NIS_SMALL_MNK - 1) / NIS_SMALL_MNK;
    for (int64_t r0 = 0, p = parts; r0 < M; p--) {   /* rows of C in near-equal blocks */
        const int64_t m = (M - r0 + p - 1) / p;
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)m, (int)N, (int)K, alpha,
                    ta ? A + r0 : A + r0 * lda, (int)lda, B, (int)ldb, beta, C + r0 * ldc, (int)ldc);
        r0 += m;
    }
    return true;
}
#endif

void nis__gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, nis_real alpha, const nis_real *A,
               int64_t lda, const nis_real *B, int64_t ldb, nis_real beta, nis_real *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
#ifndef NIS_REAL_DOUBLE
    if (gemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
#endif
    int one = blas_threads_for(M, N, M * N * K);
#ifdef NIS_REAL_DOUBLE
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
#else
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
#endif
    blas_threads_restore(one);
}

void nis__dsyrk_tn(int64_t n, int64_t k, double alpha, const double *a, double *c) {
    int one = blas_threads_for(n, n, n * n * k);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)k, alpha, a, (int)n, 0.0, c, (int)n);
    blas_threads_restore(one);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < i; j++) c[i * n + j] = c[j * n + i];
}

void nis__dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t lda,
                const double *B, int64_t ldb, double beta, double *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    int one = blas_threads_for(M, N, 2 * M * N * K);
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
    blas_threads_restore(one);
}

void nis_set_threads(int n) {
    if (n < 1) n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
    g_threads = n;
}

int nis_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

const char *nis_blas_core(void) {
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

/* OpenBLAS's kernel sets older than AVX2 + FMA (and "unknown"): generic for a CPU that has AVX2. */
static bool generic_core(const char *c) {
    static const char *const old[] = {"Prescott", "Core2", "Nehalem", "Sandybridge", "Penryn", "Dunnington", "Atom",
                                      "Barcelona", "Bulldozer", "Piledriver", "Steamroller", "Excavator", "Katmai",
                                      "unknown"};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
        if (!strcmp(c, old[i])) return true;
    return false;
}

static bool cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const char *nis_blas_better_core(void) {
    const char *c = nis_blas_core();
    if (avx512_core(c)) return NULL;   /* already AVX-512 kernels */
    __builtin_cpu_init();
    bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (has512) return "SkylakeX";
    return cpu_has_avx2() && generic_core(c) ? "Haswell" : NULL;
}

bool nis_blas_generic(void) { return cpu_has_avx2() && generic_core(nis_blas_core()); }
