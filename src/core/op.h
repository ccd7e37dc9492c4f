/* src/core/op.h — what an op implementation needs (private to the library).
 *
 * An op is one public constructor function plus one `nis_op_info` with its name and backward.  The
 * constructor checks shapes (failing through nis_ctx_fail with the op name and the shapes), makes its result
 * with nis__result (which records the node when gradients are on and an input requires them), and computes
 * the values at once.  The backward turns the upstream gradient `g` (shaped like the node) into gradients
 * for the inputs, using only public differentiable ops, so that with create_graph the engine records them.
 */
#ifndef NIS_SRC_CORE_OP_H
#define NIS_SRC_CORE_OP_H

#include "nis/core.h"
#include "nis/ops.h"
#include <tgmath.h>

/* Vector maths: glibc's libmvec has SIMD versions of these (4, 8 or 16 floats per call, <= 4 ulp, same
 * NaN/Inf behaviour).  Declaring them `omp declare simd` lets loops marked `omp simd` call them; the
 * library links -lmvec.  Results are deterministic for a given thread count (loop tails use the scalar
 * functions, and where a tail falls depends on how the loop is split among threads). */
#if !defined(NIS_REAL_DOUBLE) && defined(__x86_64__) && defined(_OPENMP)
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
float sinf(float);
#pragma omp declare simd notinbranch
float cosf(float);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
float log1pf(float);
#pragma omp declare simd notinbranch
float expm1f(float);
#endif

/* The logistic family's e^-v, with its argument held to [-87, 87].  libmvec's vector expf leaves its fast path
 * for any lane whose argument exceeds 87.3 in size (the result over- or underflows) and calls the scalar expf for
 * that lane: one such lane in 16 makes the loop 4-5x slower, and networks in training meet such pre-activations
 * (0.25% of the SiLU inputs of a 2-D DFT run, which spent 7% of its time in that slow path).  For v > 87,
 * 1 + e^-87 rounds to 1 as 1 + e^-v does, so σ(v) is unchanged; for v < -87, σ(v) becomes e^-87 = 1.6e-38
 * instead of e^v (smaller still, at the edge of float's normal range).  Float builds only.  The clamp runs in a
 * loop of its own: written exp(t > 87 ? 87 : t) in one loop, gcc rewrites it as t > 87 ? exp(87) : exp(t), and
 * the vector call sees t. */
#define NIS_HELD_BLOCK 256
#ifdef NIS_REAL_DOUBLE
#define NIS_EXP_HELD 0 /* the double build (gradient checks) calls the scalar exp: nothing to hold */
#else
#define NIS_EXP_HELD 1
#endif

/* out[i] = expr for i in [0, n), with `v` bound to x[i] and `e` to e^-v held to [-87, 87] (above): blocks of
 * NIS_HELD_BLOCK, threads over blocks for large n, SIMD within.  A block's tail (n % 16 elements of the last
 * block) is where libmvec is not used, wherever the threads split the blocks, so results do not depend on the
 * thread count.  x and out are nis_real pointers; out may not alias x. */
#define NIS_MAP_EXPNEG(n, x, out, expr)                                                                     \
    do {                                                                                                    \
        const nis_real *restrict xh_ = (x);                                                                 \
        nis_real *restrict oh_ = (out);                                                                     \
        const int64_t nh_ = (n);                                                                            \
        NIS_PAR_FOR(nh_ > NIS_PAR_MIN, b_, (nh_ + NIS_HELD_BLOCK - 1) / NIS_HELD_BLOCK, {                    \
            nis_real e_[NIS_HELD_BLOCK];                                                                    \
            const int64_t i0_ = b_ * NIS_HELD_BLOCK;                                                        \
            const int64_t m_ = nh_ - i0_ < NIS_HELD_BLOCK ? nh_ - i0_ : NIS_HELD_BLOCK;                     \
            _Pragma("omp simd")                                                                             \
            for (int64_t j_ = 0; j_ < m_; j_++) {                                                           \
                nis_real t_ = -xh_[i0_ + j_];                                                               \
                t_ = NIS_EXP_HELD && t_ > 87 ? 87 : t_;                                                     \
                e_[j_] = NIS_EXP_HELD && t_ < -87 ? -87 : t_;                                               \
            }                                                                                               \
            _Pragma("omp simd")                                                                             \
            for (int64_t j_ = 0; j_ < m_; j_++) e_[j_] = exp(e_[j_]);                                       \
            _Pragma("omp simd")                                                                             \
            for (int64_t j_ = 0; j_ < m_; j_++) {                                                           \
                const int64_t i = i0_ + j_;                                                                 \
                const nis_real v = xh_[i], e = e_[j_];                                                      \
                (void)i, (void)v;                                                                           \
                oh_[i] = (expr);                                                                            \
            }                                                                                               \
        });                                                                                                 \
    } while (0)

/* The element-wise kernels that call those functions are compiled three times and picked when the library
 * loads (gcc's target_clones, glibc's ifunc): with AVX-512 the loops call libmvec's 16-wide variants, with AVX2
 * its 8-wide ones, else the 4-wide SSE ones (x86-64's baseline), so a portable build runs the vector width of
 * the CPU it lands on: SiLU 3.6x faster on an AVX-512 CPU (a 16k-element loop, 1.55 -> 0.43 ns per element).
 * Results are bit-identical for a given CPU (and thread count); another CPU may round the last bit
 * differently, as OpenBLAS's kernels already do. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(NIS_REAL_DOUBLE)
#define NIS_VECTOR_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define NIS_VECTOR_CLONES
#endif

struct nis_op_info {
    const char *name;
    /* gsrc[i] := gradient for node->src[i], only where nis__needs(node, i); leave the others NULL. */
    void (*backward)(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gsrc);
};

/* Element counts above which element-wise kernels use OpenMP threads (below, thread start-up costs more). */
#define NIS_PAR_MIN 32768

/* for (int64_t i = 0; i < n; i++) { body }: on the OpenMP threads (static schedule) when `cond` says the work can
 * feed them, else serially without entering a parallel region.  (`omp parallel for if (cond)` enters one even
 * when cond is false, and libgomp ends every region with a futex syscall: 3-6 us, about 18 times per 2-D DFT
 * update.)  Each iteration must write its own outputs, so the result does not depend on the thread count. */
#define NIS_PAR_FOR(cond, i, n, ...)                                                                          \
    do {                                                                                                    \
        const int64_t i##_n_ = (n);                                                                         \
        if (cond) {                                                                                         \
            _Pragma("omp parallel for schedule(static)")                                                    \
            for (int64_t i = 0; i < i##_n_; i++) __VA_ARGS__                                                \
        } else {                                                                                            \
            for (int64_t i = 0; i < i##_n_; i++) __VA_ARGS__                                                \
        }                                                                                                   \
    } while (0)

/* out[i] = expr for every element, with `v` bound to x[i]; out and x have the same number of elements.
 * The loop every element-wise op shares: threads for large n, SIMD always.  (The two branches are written
 * out because gcc does not vectorise the serial path of `parallel for simd if(...)`: 10x slower.) */
#define NIS_MAP_KERNEL(out, x, expr)                                                                       \
    do {                                                                                                    \
        const nis_real *restrict xs_ = (x)->data;                                                           \
        nis_real *restrict ys_ = (out)->data;                                                               \
        const int64_t n_ = (x)->n;                                                                          \
        if (n_ > NIS_PAR_MIN) {                                                                             \
            _Pragma("omp parallel for simd schedule(static)")                                               \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                           \
                const nis_real v = xs_[i_];                                                                 \
                ys_[i_] = (expr);                                                                           \
            }                                                                                               \
        } else {                                                                                            \
            _Pragma("omp simd")                                                                             \
            for (int64_t i_ = 0; i_ < n_; i_++) {                                                           \
                const nis_real v = xs_[i_];                                                                 \
                ys_[i_] = (expr);                                                                           \
            }                                                                                               \
        }                                                                                                   \
    } while (0)

/* A result tensor for `op` with the given shape and inputs (a, b, c may be NULL).  Records the node when
 * gradient recording is on and an input requires grad; returns NULL (ENOMEM set) on failure. */
nis_tensor *nis__result(nis_ctx *ctx, const nis_op_info *op, int ndim, const int64_t *shape, nis_tensor *a,
                        nis_tensor *b, nis_tensor *c);
/* Like nis__result with the shape of x. */
nis_tensor *nis__result_like(nis_ctx *ctx, const nis_op_info *op, const nis_tensor *x, nis_tensor *a,
                             nis_tensor *b, nis_tensor *c);
/* True if the gradient of input i of node is wanted in the current backward pass (the engine sets bit i of
 * node->flags just before calling the op's backward). */
static inline bool nis__needs(const nis_tensor *node, int i) {
    return (node->flags >> i) & 1u;
}
/* True if the op should do nothing and return NULL: the context is in error, or a required input is NULL
 * (which, on a context without error, sets EINVAL: a NULL input is then the caller's mistake). */
bool nis__bail(nis_ctx *ctx, const nis_tensor *a);
bool nis__bail2(nis_ctx *ctx, const nis_tensor *a, const nis_tensor *b);
/* Normalise an axis for x (negative from the end); on error sets EINVAL naming op and returns -1. */
int nis__axis(nis_ctx *ctx, const char *op, const nis_tensor *x, int axis);
/* Fail with ESHAPE: "<op>: <why>: shapes (..) and (..)" (b may be NULL).  Returns NULL for convenience. */
nis_tensor *nis__shape_error(nis_ctx *ctx, const char *op, const char *why, const nis_tensor *a,
                             const nis_tensor *b);
/* Broadcast shape of a and b into out (ndim into *ndim); false if they do not broadcast. */
bool nis__broadcast_shape(const nis_tensor *a, const nis_tensor *b, int *ndim, int64_t *out);
/* Strides (in elements) of x seen with `ndim` dims right-aligned, 0 where x's size is 1 (broadcast). */
void nis__bcast_strides(const nis_tensor *x, int ndim, const int64_t *shape, int64_t *strides);

/* Fused activation gradient g * f'(a) (src/core/ops_actgrad.c), differentiable again.  a is the input x
 * (kinds *_X) or the output y (kinds *_Y) of the activation; alpha is elu's alpha or leaky relu's slope. */
enum { NIS_ACTG_TANH_Y, NIS_ACTG_SIGMOID_Y, NIS_ACTG_SOFTPLUS_X, NIS_ACTG_SILU_X, NIS_ACTG_ELU_X,
       NIS_ACTG_RELU_X, NIS_ACTG_LEAKY_X };
nis_tensor *nis__act_grad(nis_ctx *ctx, int kind, nis_tensor *a, nis_tensor *g, double alpha);
/* SiLU's forward keeps 1/(1 + e^-x) beside 1 + e^-x for its backward only up to this many elements: it saves the
 * backward a division, and costs one more array written and read, which is the larger cost once the arrays leave
 * the caches (per element of forward + backward, AVX-512, 1 thread: 16k elements 1.88 -> 1.74 ns, 64k 1.99 -> 1.85,
 * 256k 2.23 -> 2.46, 3.2M 2.96 -> 3.57; docs/benchmarks.md, "Fifth session").  The bits are the same either way. */
#define NIS_SILU_KEEP_R 65536
/* As nis__act_grad for NIS_ACTG_SILU_X, given k = [d | 1/d] (a.n <= NIS_SILU_KEEP_R) or k = d, d = 1 + e^-a held (the
 * reals the SiLU forward kept in the arena; NULL: computed here): no exp, and the same bits as without k. */
nis_tensor *nis__act_grad_silu(nis_ctx *ctx, nis_tensor *a, nis_tensor *g, const nis_real *k);

/* BLAS: C = alpha op(A) op(B) + beta C, row-major, in nis_real (sgemm or dgemm). */
void nis__gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, nis_real alpha, const nis_real *A,
               int64_t lda, const nis_real *B, int64_t ldb, nis_real beta, nis_real *C, int64_t ldc);

#endif
