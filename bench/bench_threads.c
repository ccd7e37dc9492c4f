/* bench/bench_threads.c — where a second thread starts to pay: the measurements behind the thread policy
 * (NIS_GEMM_PAR_MIN in src/core/blas.c, NIS_PAR_MIN in src/core/op.h; docs/architecture.md, docs/benchmarks.md).
 *
 * For each case, the time of one call on 1 thread and on T threads (T = 2 unless given), best of `rounds` blocks
 * of calls that each last about 20 ms, and their ratio T-threads / 1-thread (below 1: the threads pay):
 *   gemm M N K   cblas_sgemm, C (M, N) = A (M, K) B (K, N), OpenBLAS told 1 or T threads directly (not the
 *                policy: this measures what the policy chooses between); work = M N K multiply-adds
 *   silu n       the SiLU op on n floats through nis_silu (its loop runs on the threads when n > NIS_PAR_MIN)
 *   add n        a broadcasting-free nis_add on n floats
 * Shapes: the products of the 2-D samplers' MLPs (batch 256, width 64), of a wide MLP (batch 1024, width 256),
 * and of the MNIST energies' convolutions (im2col GEMMs), plus square sizes in between.
 *
 * usage: bench_threads [threads] [rounds]     (a quiet machine: the ratio of a noisy one says little) */
#include "nis/nis.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

static double best_per_call(void (*fn)(void *), void *ud, int rounds) {
    fn(ud);   /* warm-up; then calls per block so that a block lasts ~20 ms */
    double t0 = nis_seconds();
    int reps = 0;
    while (nis_seconds() - t0 < 0.02) fn(ud), reps++;
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        t0 = nis_seconds();
        for (int i = 0; i < reps; i++) fn(ud);
        double t = (nis_seconds() - t0) / reps;
        if (t < best) best = t;
    }
    return best;
}

typedef struct {
    int M, N, K;
    float *A, *B, *C;
} gemm_case;

static void run_gemm(void *ud) {
    gemm_case *g = ud;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->M, g->N, g->K, 1, g->A, g->K, g->B, g->N, 0, g->C, g->N);
}

typedef struct {
    nis_ctx *ctx;
    nis_tensor *x, *y;
    int kind;
} ew_case;

static void run_ew(void *ud) {
    ew_case *e = ud;
    nis_ctx_reset(e->ctx);
    nis_tensor *r = e->kind ? nis_add(e->ctx, e->x, e->y) : nis_silu(e->ctx, e->x);
    if (!r) abort();
}

int main(int argc, char **argv) {
    const int T = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 5;
    static const int shapes[][3] = {
        {256, 64, 2},    {256, 2, 64},    {64, 64, 256},   {256, 64, 64},    {256, 128, 128}, {512, 128, 128},
        {256, 256, 256}, {1024, 256, 2},  {256, 256, 1024}, {1024, 256, 256}, {512, 512, 512}, {32, 25088, 9},
        {64, 6272, 288}, {128, 1568, 576}, {1024, 1024, 1024}};
    printf("%-26s %12s %10s %10s %8s\n", "case", "work", "1 thr us", "T thr us", "T / 1");
    float *A = malloc(sizeof(float) << 22), *B = malloc(sizeof(float) << 22), *C = malloc(sizeof(float) << 22);
    nis_rng rng = nis_rng_init(1, 1);
    nis_rng_fill_uniform(&rng, A, 1 << 22, -1, 1);
    nis_rng_fill_uniform(&rng, B, 1 << 22, -1, 1);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        gemm_case g = {shapes[s][0], shapes[s][1], shapes[s][2], A, B, C};
        nis_set_threads(1);
        double t1 = best_per_call(run_gemm, &g, rounds);
        nis_set_threads(T);
        double tT = best_per_call(run_gemm, &g, rounds);
        char name[64];
        snprintf(name, sizeof name, "gemm %d x %d x %d", g.M, g.N, g.K);
        printf("%-26s %12lld %10.2f %10.2f %8.2f\n", name, (long long)g.M * g.N * g.K, t1 * 1e6, tT * 1e6, tT / t1);
        fflush(stdout);
    }
    for (int kind = 0; kind < 2; kind++)
        for (int64_t n = 8192; n <= (1 << 20); n *= 2) {
            ew_case e = {nis_ctx_new(0), NULL, NULL, kind};
            e.x = nis_new1(e.ctx, n), e.y = nis_new1(e.ctx, n);
            nis_rng_fill_normal(&rng, e.x->data, n, 0, 2);
            nis_rng_fill_normal(&rng, e.y->data, n, 0, 2);
            nis_ctx *keep = e.ctx;
            e.ctx = nis_ctx_new(0);   /* results in a context of their own, reset per call */
            nis_set_threads(1);
            double t1 = best_per_call(run_ew, &e, rounds);
            nis_set_threads(T);
            double tT = best_per_call(run_ew, &e, rounds);
            char name[64];
            snprintf(name, sizeof name, "%s %lld", kind ? "add" : "silu", (long long)n);
            printf("%-26s %12lld %10.2f %10.2f %8.2f\n", name, (long long)n, t1 * 1e6, tT * 1e6, tT / t1);
            fflush(stdout);
            nis_ctx_free(e.ctx);
            nis_ctx_free(keep);
        }
    free(A), free(B), free(C);
    return 0;
}
