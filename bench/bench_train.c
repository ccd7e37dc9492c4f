/* bench/bench_train.c — times one training step (forward + backward + Adam) of three networks, 1 and 2
 * threads, and the machine's sgemm peak in the same run.
 *
 *   mlp_large  MLP 2 -> 256 -> 256 -> 256 -> 2 (SiLU), batch 1024
 *   mlp_small  MLP 2 -> 64 -> 64 -> 2 (SiLU), batch 256
 *   conv       1x28x28 -> conv 32 3x3 s1 p1 -> SiLU -> conv 64 3x3 s2 p1 -> SiLU -> conv 64 3x3 s2 p1 -> SiLU
 *              -> flatten -> linear 3136 -> 1, batch 64
 * and three uses of the MNIST DSM energy (models/ebm-mnist-dsm: 1x28x28 -> conv 64 s1, 128 s2, 128 s1, 256 s2,
 * 256 s2, 3x3 p1, SiLU -> flatten -> linear 4096 -> 1; 1.1M parameters), batch 128:
 *   energy_grad  f(y) and its input gradient ∇_y f (one Langevin step's work)
 *   energy_hvp   the Hessian-vector product ∇_y (∇_y f · v) (double backward; what DFT asks of a target)
 *   dsm_step     one DSM training step: loss = mean ||noise ∇_y f(y) - ε||², its parameter gradient (double
 *                backward), Adam
 *
 * A training step (mlp_*, conv) is: nis_ctx_reset; y = forward(x); loss = mean(y^2); zero_grad; backward;
 * Adam (lr 1e-3), the same work as bench/torch_ref.py.  Each case: warm-up steps, then `blocks` timed blocks
 * of `steps` steps each; the reported time is the median block's ms per step.
 *
 * FLOPs: every Linear / Conv2d is a GEMM of M N K multiply-adds (Linear: batch x in x out; Conv2d: Cout x
 * Cin kh kw x batch Ho Wo); a training step counts 2 M N K for the forward and twice that for the backward
 * (input and weight gradients), i.e. 6 M N K per layer, summed.  The energy cases count GEMMs the same way:
 * energy_grad 4 M N K (forward, input gradient), energy_hvp 8 (that, and its own forward and input gradient),
 * dsm_step 12 (energy_hvp's, and the weight gradients of the forward and of the backward).  Element-wise ops
 * and Adam are not counted.
 * The sgemm peak is cblas_sgemm on 1024 x 1024 x 1024 floats (2 * 1024^3 FLOP), best of several calls.
 *
 * Output: one JSON object per line on stdout (one per case and thread count, one per sgemm measurement);
 * a human-readable table on stderr.
 *
 * Usage: bench_train [--threads N] [--case NAME] [--blocks B] [--no-sgemm]
 *   (default: threads 1 then 2, every case, 5 blocks)
 *        bench_train --kernels   prints the OpenBLAS core type `nis` runs when OPENBLAS_CORETYPE is unset (the
 *                                CLI restarts itself with nis_blas_better_core's choice) and exits
 */
#include "nis/core.h"
#include "nis/ebm.h"
#include "nis/ebm_train.h"
#include "nis/nn.h"
#include "nis/ops.h"
#include "nis/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 64

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const char *msg) {
    fprintf(stderr, "bench_train: %s: %s\n", what, msg);
    exit(1);
}

/* ---- the networks ------------------------------------------------------------------------------------ */

typedef enum { NET_MLP, NET_CONV, NET_ENERGY_GRAD, NET_ENERGY_HVP, NET_DSM } net_kind;

typedef struct {
    const char *name;
    net_kind kind;
    int steps, warmup; /* steps per timed block (as in torch_ref.py), warm-up steps */
    /* built by case_build */
    nis_params *P;
    nis_mlp mlp;
    nis_convnet conv;
    nis_ebm ebm;  /* the energy cases (their parameters: ebm.P, not P) */
    nis_real *v;  /* energy_hvp: the direction; dsm_step: ε (owned) */
    nis_ctx *ctx;
    nis_adam opt;
    nis_real *x; /* the input batch (owned, nis_malloc) */
    int ndim;
    int64_t shape[4];
    double gemm_mnk; /* sum over layers of M N K */
} bench_case;

static bench_case g_cases[] = {
    {.name = "mlp_large", .kind = NET_MLP, .steps = 20, .warmup = 5},
    {.name = "mlp_small", .kind = NET_MLP, .steps = 200, .warmup = 5},
    {.name = "conv", .kind = NET_CONV, .steps = 5, .warmup = 5},
    {.name = "energy_grad", .kind = NET_ENERGY_GRAD, .steps = 2, .warmup = 2},
    {.name = "energy_hvp", .kind = NET_ENERGY_HVP, .steps = 1, .warmup = 2},
    {.name = "dsm_step", .kind = NET_DSM, .steps = 1, .warmup = 2},
};
#define N_CASES ((int)(sizeof g_cases / sizeof g_cases[0]))

/* Build the model, optimiser, context and a N(0, 1) input batch of case c. */
/* The energy cases: the DSM energy, a batch y ~ U[0, 1) + N(0, 0.2²) and v (or ε) ~ N(0, 1). */
static void energy_build(bench_case *c) {
    nis_ebm_config cfg = nis_ebm_config_default();
    static const int ch[5] = {64, 128, 128, 256, 256}, st[5] = {1, 2, 1, 2, 2};
    cfg.n_conv = 5;
    for (int l = 0; l < 5; l++) cfg.channels[l] = ch[l], cfg.strides[l] = st[l];
    cfg.noise = 0.2;
    char err[256];
    if (nis_ebm_init(&c->ebm, &cfg, 1234, err, sizeof err) != NIS_OK) die(c->name, err);
    const int64_t batch = 128, d = 784;
    c->ndim = 2;
    c->shape[0] = batch;
    c->shape[1] = d;
    c->x = nis_malloc((size_t)(batch * d) * sizeof(nis_real));
    c->v = nis_malloc((size_t)(batch * d) * sizeof(nis_real));
    c->ctx = nis_ctx_new(0);
    if (!c->x || !c->v || !c->ctx) die(c->name, "out of memory");
    nis_rng r = nis_rng_init(1234, 1);
    nis_rng_fill_normal(&r, c->v, batch * d, 0, 1);
    for (int64_t i = 0; i < batch * d; i++) c->x[i] = (nis_real)(nis_rng_uniform(&r) + 0.2 * c->v[i]);
    nis_rng_fill_normal(&r, c->v, batch * d, 0, 1);
    double mnk = 0;
    int64_t cin = 1, h = 28;
    for (int l = 0; l < 5; l++) {
        int64_t ho = (h + 2 - 3) / st[l] + 1;
        mnk += (double)ch[l] * (double)(cin * 9) * (double)(batch * ho * ho);
        cin = ch[l], h = ho;
    }
    mnk += (double)batch * (double)(cin * h * h);
    /* per case: 4, 8 or 12 M N K (see the header); gflop_per_step multiplies gemm_mnk by 6 */
    c->gemm_mnk = mnk * (c->kind == NET_ENERGY_GRAD ? 4 : c->kind == NET_ENERGY_HVP ? 8 : 12) / 6.0;
    c->opt = nis_adam_default(1e-3);
}

static void case_build(bench_case *c) {
    if (c->kind != NET_MLP && c->kind != NET_CONV) {
        energy_build(c);
        return;
    }
    c->P = nis_params_new();
    if (!c->P) die(c->name, "out of memory");
    nis_status st;
    if (c->kind == NET_MLP) {
        bool large = strcmp(c->name, "mlp_large") == 0;
        static const int64_t w_large[] = {2, 256, 256, 256, 2}, w_small[] = {2, 64, 64, 2};
        const int64_t *w = large ? w_large : w_small;
        int nw = large ? 5 : 4;
        int64_t batch = large ? 1024 : 256;
        st = nis_mlp_add(&c->mlp, c->P, "mlp", nw, w, NIS_ACT_SILU);
        c->ndim = 2;
        c->shape[0] = batch;
        c->shape[1] = w[0];
        c->gemm_mnk = 0;
        for (int l = 0; l + 1 < nw; l++) c->gemm_mnk += (double)batch * (double)w[l] * (double)w[l + 1];
    } else {
        static const nis_conv_spec spec[3] = {{.channels = 32, .kernel = 3, .stride = 1, .pad = 1},
                                              {.channels = 64, .kernel = 3, .stride = 2, .pad = 1},
                                              {.channels = 64, .kernel = 3, .stride = 2, .pad = 1}};
        const int64_t batch = 64;
        st = nis_convnet_add(&c->conv, c->P, "net", 1, 28, 28, 3, spec, NIS_ACT_SILU, 0, 1);
        c->ndim = 4;
        c->shape[0] = batch;
        c->shape[1] = 1;
        c->shape[2] = 28;
        c->shape[3] = 28;
        int64_t ch = 1, h = 28, w = 28;
        c->gemm_mnk = 0;
        for (int l = 0; l < 3; l++) {
            int64_t ho = (h + 2 * spec[l].pad - spec[l].kernel) / spec[l].stride + 1;
            int64_t wo = (w + 2 * spec[l].pad - spec[l].kernel) / spec[l].stride + 1;
            c->gemm_mnk += (double)spec[l].channels * (double)(ch * spec[l].kernel * spec[l].kernel) *
                           (double)(batch * ho * wo);
            ch = spec[l].channels;
            h = ho;
            w = wo;
        }
        c->gemm_mnk += (double)batch * (double)(ch * h * w) * 1.0; /* the head */
    }
    if (st == NIS_OK) st = nis_params_finalize(c->P);
    nis_rng rng = nis_rng_init(1234, 0);
    if (st == NIS_OK) st = nis_params_init(c->P, &rng);
    if (st != NIS_OK) die(c->name, nis_params_message(c->P));
    int64_t n = 1;
    for (int i = 0; i < c->ndim; i++) n *= c->shape[i];
    c->x = nis_malloc((size_t)n * sizeof(nis_real));
    c->ctx = nis_ctx_new(0);
    if (!c->x || !c->ctx) die(c->name, "out of memory");
    nis_rng xr = nis_rng_init(1234, 1);
    nis_rng_fill_normal(&xr, c->x, n, 0, 1);
    c->opt = nis_adam_default(1e-3);
}

static void case_free(bench_case *c) {
    nis_ebm_free(&c->ebm);
    nis_free(c->v);
    c->v = NULL;
    nis_ctx_free(c->ctx);
    nis_params_free(c->P);
    nis_free(c->x);
    c->ctx = NULL;
    c->P = NULL;
    c->x = NULL;
}

/* One energy case's step; returns a finite summary of its result (exits on error). */
static double energy_step(bench_case *c) {
    nis_ctx *ctx = c->ctx;
    nis_ctx_reset(ctx);
    nis_tensor *y = nis_requires_grad(nis_tensor_wrap(ctx, c->ndim, c->shape, c->x)), *g = NULL, *hv = NULL;
    if (c->kind == NET_DSM) {
        nis_tensor *eps = nis_tensor_wrap(ctx, c->ndim, c->shape, c->v);
        nis_tensor *loss = nis_ebm_dsm_objective(ctx, &c->ebm, y, NULL, eps, NULL);
        if (!loss) die(c->name, nis_ctx_message(ctx));
        nis_params_zero_grad(c->ebm.P);
        if (nis_backward(ctx, loss, NULL) != NIS_OK) die(c->name, nis_ctx_message(ctx));
        if (nis_adam_step(&c->opt, c->ebm.P) != NIS_OK) die(c->name, nis_params_message(c->ebm.P));
        return loss->data[0];
    }
    nis_tensor *f = nis_ebm_f(ctx, &c->ebm, y);
    bool hvp = c->kind == NET_ENERGY_HVP;
    if (!f || nis_grad(ctx, 1, &f, NULL, 1, &y, hvp, &g) != NIS_OK) die(c->name, nis_ctx_message(ctx));
    if (hvp) {
        nis_tensor *v = nis_tensor_wrap(ctx, c->ndim, c->shape, c->v);
        nis_tensor *gv = nis_sum(ctx, nis_mul(ctx, g, v));
        if (!gv || nis_grad(ctx, 1, &gv, NULL, 1, &y, false, &hv) != NIS_OK) die(c->name, nis_ctx_message(ctx));
        g = hv;
    }
    double s = 0;
    for (int64_t i = 0; i < g->n; i++) s += (double)g->data[i] * g->data[i];
    return s / (double)g->n;
}

/* One training step; returns the loss (exits on error). */
static double train_step(bench_case *c) {
    if (c->kind != NET_MLP && c->kind != NET_CONV) return energy_step(c);
    nis_ctx *ctx = c->ctx;
    nis_ctx_reset(ctx);
    nis_tensor *x = nis_tensor_wrap(ctx, c->ndim, c->shape, c->x);
    nis_tensor *y = c->kind == NET_MLP ? nis_mlp_forward(ctx, &c->mlp, x) : nis_convnet_forward(ctx, &c->conv, x);
    nis_tensor *loss = nis_mean(ctx, nis_square(ctx, y));
    if (!loss) die(c->name, nis_ctx_message(ctx));
    nis_params_zero_grad(c->P);
    if (nis_backward(ctx, loss, NULL) != NIS_OK) die(c->name, nis_ctx_message(ctx));
    if (nis_adam_step(&c->opt, c->P) != NIS_OK) die(c->name, nis_params_message(c->P));
    return loss->data[0];
}

typedef struct {
    double ms;                 /* median ms per step */
    double block_ms[MAX_BLOCKS];
    double loss0, loss1;       /* loss of the first and last step */
    uint64_t allocs;           /* heap allocations during the timed blocks */
} case_result;

static case_result run_case(bench_case *c, int blocks) {
    case_result r = {0};
    r.loss0 = train_step(c);
    for (int i = 1; i < c->warmup; i++) train_step(c);
    uint64_t a0 = nis_alloc_count();
    double t[MAX_BLOCKS];
    for (int b = 0; b < blocks; b++) {
        double t0 = nis_seconds();
        for (int s = 0; s < c->steps; s++) r.loss1 = train_step(c);
        t[b] = r.block_ms[b] = (nis_seconds() - t0) * 1e3 / c->steps;
    }
    r.allocs = nis_alloc_count() - a0;
    r.ms = median(t, blocks);
    return r;
}

/* ---- sgemm peak -------------------------------------------------------------------------------------- */

/* GFLOP/s of cblas_sgemm on 1024^3 floats: one warm-up call, then the best of `reps`. */
static double sgemm_peak(int reps) {
    const int n = 1024;
    float *A = nis_malloc((size_t)n * n * sizeof(float)), *B = nis_malloc((size_t)n * n * sizeof(float)),
          *C = nis_malloc((size_t)n * n * sizeof(float));
    if (!A || !B || !C) die("sgemm", "out of memory");
    for (int64_t i = 0; i < (int64_t)n * n; i++) {
        A[i] = (float)((i * 7 % 13) - 6) / 8;
        B[i] = (float)((i * 5 % 11) - 5) / 8;
    }
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = nis_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        double dt = nis_seconds() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    nis_free(A);
    nis_free(B);
    nis_free(C);
    return 2.0 * n * (double)n * n / best * 1e-9;
}

/* ---- main -------------------------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: bench_train [--threads N] [--case mlp_large|mlp_small|conv|energy_grad|energy_hvp|"
                    "dsm_step] [--blocks B] [--no-sgemm] | --kernels\n");
    exit(2);
}

int main(int argc, char **argv) {
    int threads[2] = {1, 2}, n_threads = 2, blocks = 5;
    const char *only = NULL;
    bool do_sgemm = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads[0] = atoi(argv[++i]);
            n_threads = 1;
            if (threads[0] < 1) usage();
        } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc) {
            blocks = atoi(argv[++i]);
            if (blocks < 1 || blocks > MAX_BLOCKS) usage();
        } else if (strcmp(argv[i], "--no-sgemm") == 0) {
            do_sgemm = false;
        } else if (strcmp(argv[i], "--kernels") == 0) {   /* the OpenBLAS core type nis would run */
            const char *better = nis_blas_better_core();
            printf("%s\n", better ? better : nis_blas_core());
            return 0;
        } else {
            usage();
        }
    }
    bool any = false;
    for (int k = 0; k < N_CASES; k++) any = any || !only || strcmp(only, g_cases[k].name) == 0;
    if (!any) usage();

    fprintf(stderr, "%-10s %7s %10s %9s %10s %9s %8s  %s\n", "case", "threads", "ms/step", "GFLOP/s",
            "sgemm GF/s", "of peak", "allocs", "blocks (ms/step)");
    for (int ti = 0; ti < n_threads; ti++) {
        int nt = threads[ti];
        nis_set_threads(nt);
        double peak = do_sgemm ? sgemm_peak(5) : 0;
        if (do_sgemm) {
            printf("{\"case\": \"sgemm1024\", \"threads\": %d, \"gflops\": %.3f, \"openblas\": \"%s\"}\n",
                   nt, peak, openblas_get_config());
            fflush(stdout);
        }
        for (int k = 0; k < N_CASES; k++) {
            bench_case *c = &g_cases[k];
            if (only && strcmp(only, c->name) != 0) continue;
            case_build(c);
            case_result r = run_case(c, blocks);
            double gflop = 6.0 * c->gemm_mnk * 1e-9, gflops = gflop / (r.ms * 1e-3);
            double frac = peak > 0 ? gflops / peak : 0;
            printf("{\"case\": \"%s\", \"threads\": %d, \"ms\": %.4f, \"gflop_per_step\": %.6f, "
                   "\"gflops\": %.3f, \"sgemm_gflops\": %.3f, \"peak_frac\": %.4f, \"steps_per_block\": %d, "
                   "\"blocks_ms\": [",
                   c->name, nt, r.ms, gflop, gflops, peak, frac, c->steps);
            for (int b = 0; b < blocks; b++) printf("%s%.4f", b ? ", " : "", r.block_ms[b]);
            printf("], \"loss_first\": %.6g, \"loss_last\": %.6g, \"allocs\": %llu}\n", r.loss0, r.loss1,
                   (unsigned long long)r.allocs);
            fflush(stdout);
            fprintf(stderr, "%-10s %7d %10.3f %9.2f %10.2f %8.1f%% %8llu  ", c->name, nt, r.ms, gflops, peak,
                    100 * frac, (unsigned long long)r.allocs);
            for (int b = 0; b < blocks; b++) fprintf(stderr, "%s%.3f", b ? " " : "", r.block_ms[b]);
            fprintf(stderr, "\n");
            if (!isfinite(r.loss1)) die(c->name, "loss is not finite");
            case_free(c);
        }
    }
    return 0;
}
