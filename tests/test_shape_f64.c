/* Shape ops (double precision): reshape, transpose, slice, pad_axis, concat.  Values against plain index
 * loops; gradient checks of first and second order (the linear ops squared, so second derivatives are not
 * zero) for slices at the start, middle and end of every axis, concat of 2 and 4 (and 5) tensors along every
 * axis, transpose of non-square shapes; errors name the op and the shapes. */
#include "gradcheck.h"

static nis_tensor *sq(nis_ctx *c, nis_tensor *y) { return nis_mul(c, y, y); }

/* ---- transpose ---- */
static nis_tensor *f_transpose(nis_ctx *c, nis_tensor *const *x, void *u) {
    (void)u;
    return sq(c, nis_transpose(c, x[0]));
}

static void check_transpose_values(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    static const int64_t shapes[][2] = {{3, 5}, {70, 45}, {1, 9}, {300, 257}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int64_t R = shapes[k][0], C = shapes[k][1];
        nis_tensor *x = nis_new2(ctx, R, C);
        for (int64_t i = 0; i < x->n; i++) x->data[i] = (double)i;
        nis_tensor *y = nis_transpose(ctx, x);
        CHECK(y && y->ndim == 2 && y->shape[0] == C && y->shape[1] == R, "transpose shape");
        int bad = 0;
        for (int64_t i = 0; i < R; i++)
            for (int64_t j = 0; j < C; j++) bad += y->data[j * R + i] != x->data[i * C + j];
        CHECK(bad == 0, "transpose (%lld, %lld): %d wrong values", (long long)R, (long long)C, bad);
    }
    nis_ctx_free(ctx);
}

/* ---- slice / pad_axis ---- */
typedef struct { int axis; int64_t start, len; } slice_ud;

static nis_tensor *f_slice(nis_ctx *c, nis_tensor *const *x, void *u) {
    const slice_ud *s = u;
    return sq(c, nis_slice(c, x[0], s->axis, s->start, s->len));
}
static nis_tensor *f_pad(nis_ctx *c, nis_tensor *const *x, void *u) {
    const slice_ud *s = u;   /* len is the total here */
    return sq(c, nis_pad_axis(c, x[0], s->axis, s->start, s->len));
}

/* Element index of (i0, i1, i2) in a 3-D shape. */
static int64_t at3(const int64_t *s, int64_t i0, int64_t i1, int64_t i2) { return (i0 * s[1] + i1) * s[2] + i2; }

static void check_slice(void) {
    const int64_t shape[3] = {4, 5, 6};
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_tensor_new(ctx, 3, shape);
    for (int64_t i = 0; i < x->n; i++) x->data[i] = (double)i;
    for (int axis = 0; axis < 3; axis++) {
        int64_t L = shape[axis];
        const int64_t starts[3] = {0, 1, L - 2};   /* start, middle, end */
        for (int k = 0; k < 3; k++) {
            slice_ud u = {axis - (k == 1 ? 3 : 0), starts[k], k == 1 ? L - 3 : 2};   /* middle: negative axis */
            nis_tensor *y = nis_slice(ctx, x, u.axis, u.start, u.len);
            CHECK(y && y->shape[axis] == u.len, "slice shape");
            int bad = 0;
            for (int64_t i0 = 0; i0 < y->shape[0]; i0++)
                for (int64_t i1 = 0; i1 < y->shape[1]; i1++)
                    for (int64_t i2 = 0; i2 < y->shape[2]; i2++) {
                        int64_t j[3] = {i0, i1, i2};
                        j[axis] += u.start;
                        bad += y->data[at3(y->shape, i0, i1, i2)] != x->data[at3(shape, j[0], j[1], j[2])];
                    }
            CHECK(bad == 0, "slice axis %d start %lld: %d wrong values", axis, (long long)u.start, bad);
            /* pad_axis puts it back in place: zeros outside the band */
            nis_tensor *p = nis_pad_axis(ctx, y, u.axis, u.start, L);
            bad = 0;
            for (int64_t i = 0; i < x->n; i++) {
                int64_t c[3] = {i / (shape[1] * shape[2]), i / shape[2] % shape[1], i % shape[2]};
                bool in = c[axis] >= u.start && c[axis] < u.start + u.len;
                bad += p->data[i] != (in ? x->data[i] : 0);
            }
            CHECK(bad == 0, "pad_axis axis %d start %lld: %d wrong values", axis, (long long)u.start, bad);

            char name[80];
            snprintf(name, sizeof name, "slice axis %d start %lld len %lld", u.axis, (long long)u.start,
                     (long long)u.len);
            gc_spec sp = {3, {4, 5, 6}, -1, 1};
            gc_check(name, f_slice, &u, 1, &sp, 2, 1e-6);
            slice_ud pu = {u.axis, u.start, L};
            gc_spec psp = {3, {4, 5, 6}, -1, 1};
            psp.shape[axis] = u.len;
            snprintf(name, sizeof name, "pad_axis axis %d start %lld", u.axis, (long long)u.start);
            gc_check(name, f_pad, &pu, 1, &psp, 2, 1e-6);
        }
    }
    /* an empty slice is allowed */
    nis_tensor *e = nis_slice(ctx, x, 1, 5, 0);
    CHECK(e && e->n == 0 && e->shape[1] == 0, "empty slice");
    CHECK(nis_ctx_status(ctx) == NIS_OK, "%s", nis_ctx_message(ctx));
    nis_ctx_free(ctx);
}

/* ---- concat ---- */
typedef struct { int axis, n; } concat_ud;

static nis_tensor *f_concat(nis_ctx *c, nis_tensor *const *x, void *u) {
    const concat_ud *s = u;
    return sq(c, nis_concat(c, s->n, x, s->axis));
}

/* Concat of n tensors (n <= 4 here for gradcheck, 5 and 7 for values), lengths 1, 2, 3, ... along axis. */
static void check_concat(void) {
    const int64_t base[3] = {2, 3, 2};
    nis_ctx *ctx = nis_ctx_new(0);
    for (int axis = 0; axis < 3; axis++) {
        const int ns[] = {2, 4, 5, 7};
        for (int t = 0; t < 4; t++) {
            int n = ns[t];
            nis_tensor *xs[7];
            gc_spec sp[4];
            int64_t total = 0;
            for (int k = 0; k < n; k++) {
                int64_t s[3] = {base[0], base[1], base[2]};
                s[axis] = k + 1;
                total += s[axis];
                xs[k] = nis_tensor_new(ctx, 3, s);
                for (int64_t i = 0; i < xs[k]->n; i++) xs[k]->data[i] = 100 * k + (double)i;
                if (k < 4) sp[k] = (gc_spec){3, {s[0], s[1], s[2]}, -1, 1};
            }
            nis_tensor *y = nis_concat(ctx, n, xs, axis - 3 * (t % 2));   /* negative axis every other time */
            CHECK(y && y->ndim == 3 && y->shape[axis] == total, "concat shape");
            if (!y) continue;
            /* walk y: along the axis, find which input and which position */
            int bad = 0;
            for (int64_t i = 0; i < y->n; i++) {
                int64_t c[3] = {i / (y->shape[1] * y->shape[2]), i / y->shape[2] % y->shape[1], i % y->shape[2]};
                int k = 0;
                while (c[axis] >= xs[k]->shape[axis]) c[axis] -= xs[k++]->shape[axis];
                bad += y->data[i] != xs[k]->data[at3(xs[k]->shape, c[0], c[1], c[2])];
            }
            CHECK(bad == 0, "concat of %d along axis %d: %d wrong values", n, axis, bad);
            if (n <= 4) {
                concat_ud u = {axis - 3 * (t % 2), n};
                char name[64];
                snprintf(name, sizeof name, "concat of %d axis %d", n, u.axis);
                gc_check(name, f_concat, &u, n, sp, 2, 1e-6);
            }
        }
    }
    /* the same tensor twice: both gradients add up */
    nis_tensor *a = nis_requires_grad(nis_tensor_from(ctx, 1, (int64_t[]){2}, (nis_real[]){1, 2}));
    nis_tensor *aa[2] = {a, a}, *g;
    nis_tensor *y = nis_sum(ctx, nis_concat(ctx, 2, aa, 0));
    CHECK(nis_grad(ctx, 1, &y, NULL, 1, &a, false, &g) == NIS_OK, "%s", nis_ctx_message(ctx));
    CHECK(g->data[0] == 2 && g->data[1] == 2, "grad of concat(a, a): %g %g", g->data[0], g->data[1]);
    nis_ctx_free(ctx);
}

/* ---- reshape (linear; squared) ---- */
static nis_tensor *f_reshape(nis_ctx *c, nis_tensor *const *x, void *u) {
    (void)u;
    return sq(c, nis_reshape(c, x[0], 2, (int64_t[]){-1, 4}));
}

/* ---- errors: status and a message naming the op (and the shapes) ---- */
static void check_msg(nis_ctx *ctx, nis_tensor *r, nis_status want, const char *w1, const char *w2) {
    const char *m = nis_ctx_message(ctx);
    CHECK(r == NULL, "expected failure (%s)", w1);
    CHECK(nis_ctx_status(ctx) == want, "%s: status %s, want %s", w1, nis_status_name(nis_ctx_status(ctx)),
          nis_status_name(want));
    CHECK(strstr(m, w1) && (!w2 || strstr(m, w2)), "message: %s", m);
    nis_ctx_clear_error(ctx);
}

static void check_errors(void) {
    nis_ctx *ctx = nis_ctx_new(0);
    nis_tensor *x = nis_zeros(ctx, 2, (int64_t[]){2, 3}), *z = nis_zeros(ctx, 2, (int64_t[]){4, 5});
    nis_tensor *x3 = nis_zeros(ctx, 3, (int64_t[]){2, 3, 4});
    check_msg(ctx, nis_transpose(ctx, x3), NIS_ESHAPE, "transpose", "(2, 3, 4)");
    check_msg(ctx, nis_slice(ctx, x, 1, 2, 2), NIS_EINVAL, "slice", "(2, 3)");
    check_msg(ctx, nis_slice(ctx, x, 1, -1, 1), NIS_EINVAL, "slice", "(2, 3)");
    check_msg(ctx, nis_slice(ctx, x, 2, 0, 1), NIS_EINVAL, "slice", "axis 2");
    check_msg(ctx, nis_pad_axis(ctx, x, 0, 2, 3), NIS_EINVAL, "pad_axis", "(2, 3)");
    check_msg(ctx, nis_pad_axis(ctx, x, -3, 0, 3), NIS_EINVAL, "pad_axis", "axis -3");
    check_msg(ctx, nis_concat(ctx, 2, (nis_tensor *[]){x, z}, 0), NIS_ESHAPE, "concat", "(4, 5)");
    check_msg(ctx, nis_concat(ctx, 3, (nis_tensor *[]){x, x, x3}, 1), NIS_ESHAPE, "concat", "(2, 3, 4)");
    check_msg(ctx, nis_concat(ctx, 2, (nis_tensor *[]){x, x}, 2), NIS_EINVAL, "concat", "axis 2");
    check_msg(ctx, nis_concat(ctx, 0, (nis_tensor *[]){x}, 0), NIS_EINVAL, "concat", NULL);
    check_msg(ctx, nis_reshape(ctx, x, 2, (int64_t[]){4, 2}), NIS_ESHAPE, "reshape", "(2, 3)");
    /* a NULL input gives NULL without a new error */
    CHECK(nis_concat(ctx, 2, (nis_tensor *[]){x, NULL}, 0) == NULL && nis_ctx_status(ctx) == NIS_OK, "NULL");
    nis_ctx_free(ctx);
}

int main(void) {
    test_seed(11);
    gc_check("transpose (3, 5)", f_transpose, NULL, 1, (gc_spec[]){{2, {3, 5}, -1, 1}}, 2, 1e-6);
    gc_check("transpose (4, 1)", f_transpose, NULL, 1, (gc_spec[]){{2, {4, 1}, -1, 1}}, 2, 1e-6);
    gc_check("transpose (35, 2)", f_transpose, NULL, 1, (gc_spec[]){{2, {35, 2}, -1, 1}}, 2, 1e-6);
    gc_check("reshape", f_reshape, NULL, 1, (gc_spec[]){{3, {2, 2, 3}, -1, 1}}, 2, 1e-6);
    check_transpose_values();
    check_slice();
    check_concat();
    check_errors();
    return check_done("test_shape_f64");
}
