/* tests/gradcheck.h — gradient checks against central differences (for the f64 build: nis_real = double).
 *
 * gc_check(name, f, ud, n_in, specs, order, tol):
 *   f maps inputs x[0..n_in) (made from specs, uniform in [lo, hi)) to an output y of any shape.
 *   order 1: the gradient of L = <w, y> (w fixed random) from nis_grad matches central differences of L.
 *   order 2: additionally, for each input i, the function x -> d L / d x_i built with create_graph is itself
 *            checked to first order, which exercises every op's backward-of-backward.
 *   The error of each entry is |analytic - numeric| / max(1, |numeric|); the check passes when the largest
 *   is below tol.  With double precision and step h = 1e-6 the central difference's truncation error is
 *   O(h^2 f''') ~ 1e-12 and its rounding error O(eps/h) ~ 1e-10, so tol = 1e-6 leaves three orders of margin
 *   while any wrong gradient formula gives errors of order 1.
 */
#ifndef NIS_TESTS_GRADCHECK_H
#define NIS_TESTS_GRADCHECK_H

#include "check.h"
#include "nis/core.h"
#include "nis/ops.h"

#include <string.h>

typedef nis_tensor *(*gc_fn)(nis_ctx *ctx, nis_tensor *const *x, void *ud);
typedef struct { int ndim; int64_t shape[4]; double lo, hi; } gc_spec;

#define GC_MAX_IN 4

/* L = <w, f(x)> evaluated in a fresh reset of ctx, with inputs holding vals. */
static inline double gc_eval(nis_ctx *ctx, gc_fn f, void *ud, int n_in, const gc_spec *sp, double **vals,
                      const double *w, int64_t *n_out) {
    nis_ctx_reset(ctx);
    nis_tensor *x[GC_MAX_IN];
    for (int i = 0; i < n_in; i++) x[i] = nis_tensor_from(ctx, sp[i].ndim, sp[i].shape, vals[i]);
    nis_tensor *y = f(ctx, x, ud);
    if (!y) return NAN;
    if (n_out) *n_out = y->n;
    double L = 0;
    for (int64_t j = 0; j < y->n; j++) L += (w ? w[j] : 1.0) * y->data[j];
    return L;
}

static inline int64_t gc_numel(const gc_spec *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->shape[i];
    return n;
}

/* First-order check of f at vals; returns the max normalized error (or INFINITY on an error status). */
static inline double gc_first(nis_ctx *ctx, const char *name, gc_fn f, void *ud, int n_in, const gc_spec *sp,
                       double **vals) {
    int64_t n_out = 0;
    double L0 = gc_eval(ctx, f, ud, n_in, sp, vals, NULL, &n_out);
    if (isnan(L0) && nis_ctx_status(ctx)) {
        fprintf(stderr, "%s: forward failed: %s\n", name, nis_ctx_message(ctx));
        return INFINITY;
    }
    double *w = malloc((size_t)(n_out ? n_out : 1) * sizeof *w);
    for (int64_t j = 0; j < n_out; j++) w[j] = test_uniform() * 2 - 1;

    /* analytic */
    nis_ctx_reset(ctx);
    nis_tensor *x[GC_MAX_IN], *gx[GC_MAX_IN];
    for (int i = 0; i < n_in; i++) x[i] = nis_requires_grad(nis_tensor_from(ctx, sp[i].ndim, sp[i].shape, vals[i]));
    nis_tensor *y = f(ctx, x, ud);
    nis_tensor *wt = y ? nis_tensor_from(ctx, y->ndim, y->shape, w) : NULL;
    double worst = 0;
    if (!y || nis_grad(ctx, 1, &y, &wt, n_in, x, false, gx) != NIS_OK) {
        fprintf(stderr, "%s: backward failed: %s\n", name, nis_ctx_message(ctx));
        free(w);
        return INFINITY;
    }
    double **ana = malloc((size_t)n_in * sizeof *ana);
    for (int i = 0; i < n_in; i++) {
        int64_t n = gc_numel(&sp[i]);
        ana[i] = malloc((size_t)n * sizeof(double));
        for (int64_t j = 0; j < n; j++) ana[i][j] = gx[i]->data[j];
    }
    /* numeric */
    const double h = 1e-6;
    for (int i = 0; i < n_in; i++) {
        int64_t n = gc_numel(&sp[i]);
        for (int64_t j = 0; j < n; j++) {
            double v = vals[i][j];
            vals[i][j] = v + h;
            double Lp = gc_eval(ctx, f, ud, n_in, sp, vals, w, NULL);
            vals[i][j] = v - h;
            double Lm = gc_eval(ctx, f, ud, n_in, sp, vals, w, NULL);
            vals[i][j] = v;
            double num = (Lp - Lm) / (2 * h);
            double err = fabs(ana[i][j] - num) / fmax(1.0, fabs(num));
            if (!(err <= worst)) {
                if (err > 1e-3 || isnan(err))
                    fprintf(stderr, "  %s: input %d [%lld]: analytic %.10g numeric %.10g\n", name, i,
                            (long long)j, ana[i][j], num);
                worst = isnan(err) ? INFINITY : err;
            }
        }
        free(ana[i]);
    }
    free(ana);
    free(w);
    return worst;
}

/* The first-order gradient of <w2, f(x)> w.r.t. input `which`, as a function to check (order 2). */
typedef struct { gc_fn f; void *ud; int n_in, which; const double *w2; } gc_grad_ud;

static inline nis_tensor *gc_grad_fn(nis_ctx *ctx, nis_tensor *const *x, void *vud) {
    gc_grad_ud *u = vud;
    nis_tensor *xs[GC_MAX_IN];
    for (int i = 0; i < u->n_in; i++) xs[i] = nis_requires_grad(x[i]);
    nis_tensor *y = u->f(ctx, xs, u->ud);
    if (!y) return NULL;
    nis_tensor *wt = nis_tensor_new(ctx, y->ndim, y->shape);
    if (!wt) return NULL;
    for (int64_t j = 0; j < y->n; j++) wt->data[j] = u->w2[j % 97];
    nis_tensor *g[GC_MAX_IN];
    if (nis_grad(ctx, 1, &y, &wt, u->n_in, xs, true, g) != NIS_OK) return NULL;
    return g[u->which];
}

static inline int gc_check(const char *name, gc_fn f, void *ud, int n_in, const gc_spec *sp, int order, double tol) {
    nis_ctx *ctx = nis_ctx_new(0);
    double *vals[GC_MAX_IN];
    for (int i = 0; i < n_in; i++) {
        int64_t n = gc_numel(&sp[i]);
        vals[i] = malloc((size_t)(n ? n : 1) * sizeof(double));
        for (int64_t j = 0; j < n; j++) vals[i][j] = sp[i].lo + (sp[i].hi - sp[i].lo) * test_uniform();
    }
    double err = gc_first(ctx, name, f, ud, n_in, sp, vals);
    CHECK(err < tol, "%s: first-order gradient error %.3g (tol %.1g)", name, err, tol);
    int ok = err < tol;
    if (order >= 2) {
        double w2[97];
        for (int j = 0; j < 97; j++) w2[j] = test_uniform() * 2 - 1;
        for (int i = 0; i < n_in; i++) {
            gc_grad_ud u = {f, ud, n_in, i, w2};
            double e2 = gc_first(ctx, name, gc_grad_fn, &u, n_in, sp, vals);
            CHECK(e2 < tol, "%s: second-order (input %d) gradient error %.3g (tol %.1g)", name, i, e2, tol);
            ok = ok && e2 < tol;
        }
    }
    for (int i = 0; i < n_in; i++) free(vals[i]);
    nis_ctx_free(ctx);
    return ok;
}

#endif
