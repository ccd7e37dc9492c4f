/* src/core/im2col.h — the data-movement kernels behind the convolutions (private to the library).
 *
 * A convolution's geometry: images of C planes of H x W, a kh x kw kernel moved with `stride` over the image
 * zero-padded by `pad` on every side, giving Ho x Wo outputs per plane.  The column matrix of nb images has
 * K = C kh kw rows, one per (c, i, j), and nb P columns (P = Ho Wo): column n P + oy Wo + ox of row (c, i, j)
 * holds x[n, c, oy stride - pad + i, ox stride - pad + j] (0 outside the image).  Rows are `ld` apart.
 */
#ifndef NIS_SRC_CORE_IM2COL_H
#define NIS_SRC_CORE_IM2COL_H

#include "nis/core.h"

typedef struct {
    int64_t C, H, W;     /* image planes and their size */
    int64_t kh, kw;      /* kernel */
    int64_t stride, pad;
    int64_t Ho, Wo;      /* output size: (H + 2 pad - kh) / stride + 1, and likewise */
} nis__conv_geom;

/* x: (nb, C, H, W) -> col: (C kh kw, nb Ho Wo) with row stride ld (every entry written). */
void nis__im2col(const nis__conv_geom *g, const nis_real *x, int64_t nb, nis_real *col, int64_t ld);

/* col2im, the adjoint of im2col: x (nb, C, H, W) := bias[c] (0 if bias is NULL) + the sum of every column
 * entry that im2col would have read from that pixel.  col: (C kh kw, nb Ho Wo), row stride ld. */
void nis__col2im(const nis__conv_geom *g, const nis_real *col, int64_t nb, int64_t ld, const nis_real *bias,
                 nis_real *x);

/* Swap the two leading axes: src (A, B, P) -> dst (B, A, P), plus bias[a] on dst[b, a, :] when bias is not
 * NULL. */
void nis__swap01(const nis_real *src, int64_t A, int64_t B, int64_t P, const nis_real *bias, nis_real *dst);

#endif
