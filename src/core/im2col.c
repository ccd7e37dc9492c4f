/* src/core/im2col.c — im2col, col2im and the leading-axes swap used by the convolutions.
 *
 * Every parallel loop writes disjoint outputs (a column-matrix row segment, an image plane, a block), and
 * col2im adds into a plane in an order fixed by the geometry, so results do not depend on the thread count.
 */
#include "im2col.h"

#include "op.h"

/* Output positions o in [0, n_out) whose input index o * stride + off lies in [0, n_in): [*lo, *hi). */
static void valid_range(int64_t off, int64_t stride, int64_t n_in, int64_t n_out, int64_t *lo, int64_t *hi) {
    int64_t a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t b = off >= n_in ? 0 : (n_in - 1 - off) / stride + 1;
    if (b > n_out) b = n_out;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* x: (nb, C, H, W) -> col: (C kh kw, nb Ho Wo), row stride ld.  One task per (image, row). */
void nis__im2col(const nis__conv_geom *g, const nis_real *x, int64_t nb, nis_real *col, int64_t ld) {
    const int64_t C = g->C, H = g->H, W = g->W, kh = g->kh, kw = g->kw, s = g->stride, pad = g->pad;
    const int64_t Ho = g->Ho, Wo = g->Wo, K = C * kh * kw, P = Ho * Wo, tasks = nb * K;
    NIS_PAR_FOR(tasks * P > NIS_PAR_MIN, t, tasks, {
        int64_t n = t / K, r = t % K, c = r / (kh * kw), i = (r / kw) % kh, j = r % kw;
        const nis_real *restrict xp = x + (n * C + c) * H * W;
        nis_real *restrict dst = col + r * ld + n * P;
        int64_t lo, hi;
        valid_range(j - pad, s, W, Wo, &lo, &hi);
        for (int64_t oy = 0; oy < Ho; oy++) {
            nis_real *restrict d = dst + oy * Wo;
            int64_t iy = oy * s - pad + i;
            if (iy < 0 || iy >= H) {
                for (int64_t ox = 0; ox < Wo; ox++) d[ox] = 0;
                continue;
            }
            const int64_t base = iy * W + j - pad;   /* input index of ox = 0 (may be outside the row) */
            for (int64_t ox = 0; ox < lo; ox++) d[ox] = 0;
            if (s == 1)
                for (int64_t ox = lo; ox < hi; ox++) d[ox] = xp[base + ox];
            else
                for (int64_t ox = lo; ox < hi; ox++) d[ox] = xp[base + ox * s];
            for (int64_t ox = hi; ox < Wo; ox++) d[ox] = 0;
        }
    });
}

/* col: (C kh kw, nb Ho Wo), row stride ld -> x: (nb, C, H, W).  One task per image plane (n, c), which
 * adds its kh kw rows in (i, j, oy, ox) order. */
void nis__col2im(const nis__conv_geom *g, const nis_real *col, int64_t nb, int64_t ld, const nis_real *bias,
                 nis_real *x) {
    const int64_t C = g->C, H = g->H, W = g->W, kh = g->kh, kw = g->kw, s = g->stride, pad = g->pad;
    const int64_t Ho = g->Ho, Wo = g->Wo, P = Ho * Wo, tasks = nb * C;
    NIS_PAR_FOR(tasks * kh * kw * P > NIS_PAR_MIN, t, tasks, {
        int64_t n = t / C, c = t % C;
        nis_real *restrict xp = x + t * H * W;
        nis_real b0 = bias ? bias[c] : 0;
        for (int64_t k = 0; k < H * W; k++) xp[k] = b0;
        for (int64_t i = 0; i < kh; i++)
            for (int64_t j = 0; j < kw; j++) {
                const nis_real *restrict src = col + ((c * kh + i) * kw + j) * ld + n * P;
                int64_t lo, hi;
                valid_range(j - pad, s, W, Wo, &lo, &hi);
                for (int64_t oy = 0; oy < Ho; oy++) {
                    int64_t iy = oy * s - pad + i;
                    if (iy < 0 || iy >= H) continue;
                    const int64_t base = iy * W + j - pad;
                    const nis_real *restrict sp = src + oy * Wo;
                    for (int64_t ox = lo; ox < hi; ox++) xp[base + ox * s] += sp[ox];
                }
            }
    });
}

/* src (A, B, P) -> dst (B, A, P) (+ bias[a]).  One task per (b, a) block of P values. */
void nis__swap01(const nis_real *src, int64_t A, int64_t B, int64_t P, const nis_real *bias, nis_real *dst) {
    const int64_t tasks = A * B;
    NIS_PAR_FOR(tasks * P > NIS_PAR_MIN, t, tasks, {
        int64_t b = t / A, a = t % A;
        const nis_real *restrict sp = src + (a * B + b) * P;
        nis_real *restrict dp = dst + t * P;
        nis_real b0 = bias ? bias[a] : 0;
        if (bias)
            for (int64_t p = 0; p < P; p++) dp[p] = sp[p] + b0;
        else
            for (int64_t p = 0; p < P; p++) dp[p] = sp[p];
    });
}
