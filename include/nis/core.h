/* nis/core.h — status codes, allocator hook, contexts (arenas), tensors, autodiff.
 *
 * The engine is eager: every op computes its result at once and, when gradients are enabled and an input
 * requires them, records a node (op, inputs, parameters) in its context.  Backward passes are built from the
 * same differentiable ops, so with create_graph the gradient is itself a graph and can be differentiated
 * again (Hessian-vector products, DFT's J^T u terms).
 *
 * Memory: every tensor made by an op lives in the arena of its nis_ctx and dies at nis_ctx_reset().  The
 * arena keeps its chunks across resets, so a loop that builds the same graph each step allocates from the
 * heap only in its first step.  Parameters live outside any context (see nis/nn.h).
 *
 * Errors are sticky (as in SQLite's or cairo's error state): an op that fails sets the context's status and
 * message and returns NULL; every op called on a context in error, or given a NULL input, returns NULL at
 * once (a NULL input on a context without error sets EINVAL).  So a caller checks once, at the end of a
 * block: `if (!loss) return nis_ctx_status(ctx);`.
 *
 * The scalar type is nis_real: float (32-bit) in the library; a test-only build (NIS_REAL_DOUBLE) makes it
 * double so gradient checks run in double precision.
 */
#ifndef NIS_CORE_H
#define NIS_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef NIS_REAL_DOUBLE
typedef double nis_real;
#else
typedef float nis_real;
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Status codes.  0 is success; every failure has a code and a one-line message.
 */
typedef enum {
    NIS_OK = 0,
    NIS_ENOMEM,     /* an allocation failed */
    NIS_ESHAPE,     /* shapes do not fit the op */
    NIS_EINVAL,     /* a bad argument (axis out of range, bad flag value, ...) */
    NIS_EIO,        /* a file could not be opened, read or written */
    NIS_EFORMAT,    /* a file's content is damaged or not what it claims */
    NIS_ENUMERIC,   /* NaN or Inf where a finite number was required */
    NIS_ESTATE,     /* an API call in the wrong state (e.g. backward with nothing that requires grad) */
} nis_status;

/* Short constant name of a status code ("ENOMEM", ...). */
const char *nis_status_name(nis_status s);
/* The NUL-terminated string s (read from a file, or typed by a user) as one printable line for a message: valid
 * UTF-8 kept, a backslash doubled, control characters and invalid bytes as "\xNN", cut with "..." when it does
 * not fit.  buf: cap bytes, caller-owned (4 strlen(s) + 1 never cuts); returns buf ("" if s is NULL). */
const char *nis_quote(char *buf, size_t cap, const char *s);

/* ---------------------------------------------------------------------------------------------------------
 * Allocator hook.  Every heap allocation of the library goes through these three functions, which count
 * calls; a test can install its own functions (e.g. to fail the k-th allocation, fault injection).
 */
typedef struct {
    void *(*malloc_fn)(size_t size, void *ud);
    void *(*realloc_fn)(void *p, size_t size, void *ud);
    void (*free_fn)(void *p, void *ud);
    void *ud;
} nis_allocator;

/* Install `a` (NULL restores the C library's malloc/realloc/free).  Not thread-safe: call at start-up. */
void nis_set_allocator(const nis_allocator *a);
/* Allocate / grow / free through the hook.  nis_malloc(0) returns a unique non-NULL pointer or NULL. */
void *nis_malloc(size_t size);
void *nis_calloc(size_t n, size_t size);   /* overflow-checked n*size, zeroed */
void *nis_realloc(void *p, size_t size);
void nis_free(void *p);
/* Number of successful nis_malloc/nis_calloc/nis_realloc calls since start-up (a monotone counter). */
uint64_t nis_alloc_count(void);

/* Threads for OpenMP kernels and for OpenBLAS: one setting for both.  Until it is called, the OpenMP and
 * OpenBLAS defaults apply (OMP_NUM_THREADS, else all cores).  Same seed and same thread count give
 * bit-identical results.  nis_threads() is the OpenMP thread count in force. */
void nis_set_threads(int n);
int nis_threads(void);
/* The BLAS's kernels against the CPU.  OpenBLAS picks its kernels by CPU model when it loads; a model it does not
 * know (0.3.21 on AMD Zen 4 and 5, say) gets older kernels: Haswell's AVX2 ones where SkylakeX's AVX-512 ones
 * would run about 1.8x faster (docs/benchmarks.md), or generic ones.  nis_blas_core is the kernel set in use
 * ("Haswell", "SkylakeX", ...); nis_blas_better_core returns the OpenBLAS core type to ask for instead
 * (OPENBLAS_CORETYPE, read only when OpenBLAS loads), or NULL when the kernels fit the CPU; nis_blas_generic is
 * true when the kernels in use are older than AVX2 (Prescott, ...) on a CPU that has AVX2 and FMA (2-5x slower). */
const char *nis_blas_core(void);
const char *nis_blas_better_core(void);
bool nis_blas_generic(void);

/* Seconds on a monotonic clock (CLOCK_MONOTONIC; an arbitrary origin): differences time things. */
double nis_seconds(void);
/* CPU seconds used by this process, all its threads (CLOCK_PROCESS_CPUTIME_ID; an arbitrary origin): differences time
 * things on a shared machine, where a neighbour's load stretches wall time but much less CPU time. */
double nis_cpu_seconds(void);

/* ---------------------------------------------------------------------------------------------------------
 * Tensors.  Contiguous, row-major, up to NIS_MAX_DIMS dimensions; a 0-d tensor is a scalar (n == 1).
 */
#define NIS_MAX_DIMS 4
#define NIS_MAX_SRC 3

typedef struct nis_ctx nis_ctx;
typedef struct nis_tensor nis_tensor;
typedef struct nis_op_info nis_op_info;

struct nis_tensor {
    /* public, read-only for users (write `data` of leaves you made yourself) */
    nis_real *data;                 /* n values, row-major; owned by the arena (or by the nis_params) */
    int ndim;                       /* 0..NIS_MAX_DIMS */
    int64_t shape[NIS_MAX_DIMS];    /* shape[i] for i < ndim; unused entries are 1 */
    int64_t n;                      /* number of elements: product of shape (1 for a scalar) */
    bool requires_grad;             /* gradients flow to or through this tensor */
    const char *name;               /* optional label (parameters carry their names); may be NULL */

    /* autodiff record (private to the engine and ops) */
    const nis_op_info *op;          /* NULL for a leaf */
    nis_tensor *src[NIS_MAX_SRC];   /* inputs of the op, NULL-padded */
    union { double f[4]; int64_t i[8]; } p;   /* op parameters (axis, stride, constants, ...) */
    void *aux;                      /* op-owned arena data (e.g. int labels); NULL if unused */
    nis_real *grad;                 /* parameters only: nis_backward() accumulates (+=) into this buffer */
    nis_tensor *prev;               /* previous node in the context's creation order */
    nis_tensor *g;                  /* gradient under construction during one backward pass */
    uint32_t mark;                  /* pass stamp used by the backward traversal */
    uint32_t flags;
};

/* ---------------------------------------------------------------------------------------------------------
 * Contexts: an arena for tensors plus the graph recorded in it.
 */

/* Create a context whose arena starts with `initial_bytes` (0 picks 1 MiB; it grows by chunks as needed).
 * Returns NULL if out of memory.  Free with nis_ctx_free. */
nis_ctx *nis_ctx_new(size_t initial_bytes);
/* Free the context and everything in its arena.  NULL is a no-op. */
void nis_ctx_free(nis_ctx *ctx);
/* Forget every tensor of the context and clear its error; chunks are kept, so rebuilding the same graph
 * makes no heap allocation.  Tensors made by the context before the reset are invalid after it. */
void nis_ctx_reset(nis_ctx *ctx);
/* Current status (NIS_OK unless an op failed since the last reset) and its message ("" if none). */
nis_status nis_ctx_status(const nis_ctx *ctx);
const char *nis_ctx_message(const nis_ctx *ctx);
/* Set the sticky error (printf-style message, truncated to 255 chars); keeps the first error if one is
 * already set.  Returns `s`.  For ops and library code that find a problem. */
nis_status nis_ctx_fail(nis_ctx *ctx, nis_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clear the error without freeing tensors (e.g. after reporting a bad user input and moving on). */
void nis_ctx_clear_error(nis_ctx *ctx);
/* Arena bytes in use now / at the peak since creation / reserved in chunks. */
size_t nis_ctx_used(const nis_ctx *ctx);
size_t nis_ctx_peak(const nis_ctx *ctx);
size_t nis_ctx_reserved(const nis_ctx *ctx);
/* Bump-allocate `size` bytes, 64-byte aligned, from the arena (NULL + ENOMEM status on failure). */
void *nis_ctx_alloc(nis_ctx *ctx, size_t size);

/* Gradient recording on/off (default on); returns the previous setting.  With it off, ops compute values
 * only and their results do not require grad (torch.no_grad()). */
bool nis_ctx_set_grad(nis_ctx *ctx, bool enabled);
bool nis_ctx_grad_enabled(const nis_ctx *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Making tensors (leaves).  All return NULL on error (sticky; see above).
 */

/* New uninitialised tensor of the given shape in the arena.  shape has ndim entries (ndim 0 = scalar). */
nis_tensor *nis_tensor_new(nis_ctx *ctx, int ndim, const int64_t *shape);
/* Convenience shapes: 1-D (a), 2-D (a, b), 4-D (a, b, c, d). */
nis_tensor *nis_new1(nis_ctx *ctx, int64_t a);
nis_tensor *nis_new2(nis_ctx *ctx, int64_t a, int64_t b);
nis_tensor *nis_new4(nis_ctx *ctx, int64_t a, int64_t b, int64_t c, int64_t d);
/* Filled tensors. */
nis_tensor *nis_zeros(nis_ctx *ctx, int ndim, const int64_t *shape);
nis_tensor *nis_full(nis_ctx *ctx, int ndim, const int64_t *shape, nis_real value);
nis_tensor *nis_scalar(nis_ctx *ctx, nis_real value);
/* A tensor in the arena holding a copy of `n = prod(shape)` values from `data`. */
nis_tensor *nis_tensor_from(nis_ctx *ctx, int ndim, const int64_t *shape, const nis_real *data);
/* A tensor that views caller-owned memory (not copied; must outlive the context's use of it). */
nis_tensor *nis_tensor_wrap(nis_ctx *ctx, int ndim, const int64_t *shape, nis_real *data);
/* Mark a leaf as requiring grad (so nis_grad can differentiate with respect to it).  Returns t. */
nis_tensor *nis_requires_grad(nis_tensor *t);
/* Same values, cut from the graph (stop-gradient).  Shares data. */
nis_tensor *nis_detach(nis_ctx *ctx, nis_tensor *x);

/* Shape helpers. */
bool nis_same_shape(const nis_tensor *a, const nis_tensor *b);
/* Write "(2, 3)" into buf (at least 64 bytes); returns buf. */
char *nis_shape_str(const nis_tensor *t, char *buf, size_t size);

/* ---------------------------------------------------------------------------------------------------------
 * Autodiff.
 */

/* torch.autograd.grad(outputs, inputs, grad_outputs, create_graph):
 *   outputs[k] (any shape), grad_outputs[k] same shape as outputs[k] or NULL (ones; for scalars the usual
 *   choice); inputs[i] tensors that require grad (leaves or intermediates).  On return result[i] holds
 *   d(sum_k <grad_outputs[k], outputs[k]>)/d inputs[i], shaped like inputs[i] (zeros if unreachable).
 *   With create_graph the results are recorded in the graph and can be differentiated again; without it
 *   they do not require grad.  Parameters' .grad buffers are not touched.  Returns status. */
nis_status nis_grad(nis_ctx *ctx, int n_out, nis_tensor *const *outputs, nis_tensor *const *grad_outputs,
                    int n_in, nis_tensor *const *inputs, bool create_graph, nis_tensor **result);
/* loss.backward(): accumulate (+=) d(<grad_output, out>)/dp into p->grad for every parameter p reachable
 * from `out` (grad_output NULL = ones).  Does not zero grads first: see nis_params_zero_grad. */
nis_status nis_backward(nis_ctx *ctx, nis_tensor *out, nis_tensor *grad_output);

#ifdef __cplusplus
}
#endif
#endif
