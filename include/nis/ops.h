/* nis/ops.h — differentiable ops.
 *
 * Every op: takes its context first, returns a new tensor in the context's arena (or NULL with the sticky
 * error set: see nis/core.h), never modifies its inputs, and accepts NULL inputs (then returns NULL, with
 * EINVAL set if the context had no error yet).
 * Gradients of every op are built from ops of this header, so every op can be differentiated twice.
 *
 * Broadcasting (binary ops): numpy rules on shapes aligned at the right, e.g. (B, C) with (C,) or (1, C)
 * (row), (B, 1) (column), a scalar, or (B, C) with (B, C).  Each dimension must be equal or 1 in one of the
 * two.  The result has the broadcast shape; the gradient is summed back to each input's shape.
 */
#ifndef NIS_OPS_H
#define NIS_OPS_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- binary, broadcasting: out = a (op) b ---------------------------------------------------------------- */
nis_tensor *nis_add(nis_ctx *ctx, nis_tensor *a, nis_tensor *b);
nis_tensor *nis_sub(nis_ctx *ctx, nis_tensor *a, nis_tensor *b);
nis_tensor *nis_mul(nis_ctx *ctx, nis_tensor *a, nis_tensor *b);
nis_tensor *nis_div(nis_ctx *ctx, nis_tensor *a, nis_tensor *b);

/* ---- with a constant: out = x + c, x * c, c - x, x^p ----------------------------------------------------- */
nis_tensor *nis_add_scalar(nis_ctx *ctx, nis_tensor *x, double c);
nis_tensor *nis_mul_scalar(nis_ctx *ctx, nis_tensor *x, double c);
nis_tensor *nis_rsub_scalar(nis_ctx *ctx, nis_tensor *x, double c);   /* c - x */
nis_tensor *nis_pow_scalar(nis_ctx *ctx, nis_tensor *x, double p);    /* x^p (x > 0 unless p is an integer) */

/* ---- unary, element-wise, shape preserved ---------------------------------------------------------------- */
nis_tensor *nis_neg(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_square(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_sqrt(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_exp(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_log(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_log1p(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_tanh(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_sigmoid(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_softplus(nis_ctx *ctx, nis_tensor *x);                /* log(1 + e^x), stable */
nis_tensor *nis_silu(nis_ctx *ctx, nis_tensor *x);                    /* x * sigmoid(x) */
nis_tensor *nis_relu(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_leaky_relu(nis_ctx *ctx, nis_tensor *x, double slope); /* x if x > 0 else slope * x */
nis_tensor *nis_elu(nis_ctx *ctx, nis_tensor *x, double alpha);       /* x if x > 0 else alpha (e^x - 1) */
nis_tensor *nis_sin(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_cos(nis_ctx *ctx, nis_tensor *x);
nis_tensor *nis_abs(nis_ctx *ctx, nis_tensor *x);                     /* gradient sign(x), 0 at 0 */
/* step(x) = 1 if x > 0 else 0; a constant (its gradient is zero).  Used by relu/abs gradients. */
nis_tensor *nis_step(nis_ctx *ctx, nis_tensor *x);

/* ---- reductions ---------------------------------------------------------------------------------------- */
nis_tensor *nis_sum(nis_ctx *ctx, nis_tensor *x);                     /* scalar */
nis_tensor *nis_mean(nis_ctx *ctx, nis_tensor *x);                    /* scalar */
/* Over one axis (negative counts from the end); keepdim keeps it as size 1. */
nis_tensor *nis_sum_axis(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim);
nis_tensor *nis_mean_axis(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim);
nis_tensor *nis_logsumexp(nis_ctx *ctx, nis_tensor *x, int axis, bool keepdim);
/* Sum x down to `shape` (the inverse of broadcasting; x's shape must broadcast from `shape`). */
nis_tensor *nis_sum_to(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape);
/* Broadcast x up to `shape` (copying). */
nis_tensor *nis_broadcast_to(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape);

/* ---- shape ------------------------------------------------------------------------------------------- */
/* Same data, new shape with the same number of elements; one entry may be -1 (inferred). */
nis_tensor *nis_reshape(nis_ctx *ctx, nis_tensor *x, int ndim, const int64_t *shape);
/* (R, C) -> (C, R). */
nis_tensor *nis_transpose(nis_ctx *ctx, nis_tensor *x);
/* Elements [start, start + len) along `axis`. */
nis_tensor *nis_slice(nis_ctx *ctx, nis_tensor *x, int axis, int64_t start, int64_t len);
/* x placed at [start, start + x.shape[axis]) along `axis` in zeros of length `total` (slice's adjoint). */
nis_tensor *nis_pad_axis(nis_ctx *ctx, nis_tensor *x, int axis, int64_t start, int64_t total);
/* Concatenate n tensors along `axis`; all other dimensions equal. */
nis_tensor *nis_concat(nis_ctx *ctx, int n, nis_tensor *const *xs, int axis);

/* ---- linear algebra (cblas_sgemm) ------------------------------------------------------------------------ */
/* out = op(a) op(b), op = transpose if the flag is set.  a: (M, K) or (K, M); b: (K, N) or (N, K) -> (M, N). */
nis_tensor *nis_matmul(nis_ctx *ctx, nis_tensor *a, nis_tensor *b, bool trans_a, bool trans_b);
/* out = x W^T + b (PyTorch's Linear).  x: (B, in), W: (out, in), b: (out,) or NULL -> (B, out). */
nis_tensor *nis_linear(nis_ctx *ctx, nis_tensor *x, nis_tensor *W, nis_tensor *b);

/* ---- convolution (NCHW; im2col + sgemm) ------------------------------------------------------------------ */
/* x: (N, Cin, H, W), w: (Cout, Cin, kh, kw), b: (Cout,) or NULL -> (N, Cout, Ho, Wo),
 * Ho = (H + 2 pad - kh) / stride + 1. */
nis_tensor *nis_conv2d(nis_ctx *ctx, nis_tensor *x, nis_tensor *w, nis_tensor *b, int stride, int pad);
/* PyTorch's ConvTranspose2d (the adjoint of conv2d in x).  x: (N, Cin, H, W), w: (Cin, Cout, kh, kw),
 * b: (Cout,) or NULL -> (N, Cout, Ho, Wo), Ho = (H - 1) stride - 2 pad + kh + out_pad. */
nis_tensor *nis_conv_transpose2d(nis_ctx *ctx, nis_tensor *x, nis_tensor *w, nis_tensor *b, int stride,
                                 int pad, int out_pad);
/* The weight gradient of conv2d as an op: dW[co,ci,i,j] = sum_{n,y,x} g[n,co,y,x] x[n,ci,y s+i-p, x s+j-p].
 * x: (N, Cin, H, W), g: (N, Cout, Ho, Wo) -> (Cout, Cin, kh, kw).  Differentiable in x and g. */
nis_tensor *nis_conv2d_wgrad(nis_ctx *ctx, nis_tensor *x, nis_tensor *g, int kh, int kw, int stride, int pad);
/* k x k average pooling with stride k.  (N, C, H, W) -> (N, C, H/k, W/k); H, W divisible by k. */
nis_tensor *nis_avg_pool2d(nis_ctx *ctx, nis_tensor *x, int k);
/* Nearest-neighbour upsampling by k.  (N, C, H, W) -> (N, C, kH, kW). */
nis_tensor *nis_upsample_nearest2d(nis_ctx *ctx, nis_tensor *x, int k);
/* k x k sum pooling with stride k (avg_pool2d times k^2; upsample's adjoint). */
nis_tensor *nis_sum_pool2d(nis_ctx *ctx, nis_tensor *x, int k);

/* ---- losses ---------------------------------------------------------------------------------------------- */
/* Mean over the batch of -log softmax(logits)[label].  logits: (B, C); labels: B ints in [0, C) (copied).
 * -> scalar.  Differentiable in logits (twice). */
nis_tensor *nis_softmax_cross_entropy(nis_ctx *ctx, nis_tensor *logits, const int32_t *labels);
/* Row-wise softmax over the last axis of a 2-D tensor. */
nis_tensor *nis_softmax(nis_ctx *ctx, nis_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
