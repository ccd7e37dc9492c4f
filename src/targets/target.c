/* src/targets/target.c — score, HVP and Laplacian of any target, by autodiff unless hand-written. */
#include "nis/ops.h"
#include "nis/target.h"

/* x itself if it requires grad, else a requires-grad view of its values. */
static nis_tensor *differentiable(nis_ctx *ctx, nis_tensor *x) {
    if (!x || x->requires_grad) return x;
    return nis_requires_grad(nis_detach(ctx, x));
}

nis_tensor *nis_target_score(nis_ctx *ctx, const nis_target *t, nis_tensor *x, bool create_graph) {
    if (!x || nis_ctx_status(ctx) != NIS_OK) return NULL;
    if (x->ndim != 2 || x->shape[1] != t->dim) {
        char s[80];
        nis_ctx_fail(ctx, NIS_ESHAPE, "target %s: x must be (B, %d), got %s", t->name, t->dim,
                     nis_shape_str(x, s, sizeof s));
        return NULL;
    }
    if (t->score) {
        bool saved = nis_ctx_set_grad(ctx, create_graph && nis_ctx_grad_enabled(ctx));
        nis_tensor *s = t->score(ctx, t, x);
        nis_ctx_set_grad(ctx, saved);
        return s;
    }
    bool saved = nis_ctx_set_grad(ctx, true);
    nis_tensor *xd = differentiable(ctx, x);
    nis_tensor *lp = t->log_prob(ctx, t, xd), *g = NULL;
    if (lp) nis_grad(ctx, 1, &lp, NULL, 1, &xd, create_graph, &g);
    nis_ctx_set_grad(ctx, saved);
    return nis_ctx_status(ctx) == NIS_OK ? g : NULL;
}

nis_tensor *nis_target_score_at(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *s, bool create_graph) {
    if (!s) return nis_target_score(ctx, t, x, create_graph);
    if (!x || nis_ctx_status(ctx) != NIS_OK) return NULL;
    if (!t->log_prob_at) {
        nis_ctx_fail(ctx, NIS_EINVAL, "target %s has no noise levels", t->name);
        return NULL;
    }
    if (x->ndim != 2 || x->shape[1] != t->dim || s->ndim != 2 || s->shape[0] != x->shape[0] || s->shape[1] != 1) {
        char a[80], b[80];
        nis_ctx_fail(ctx, NIS_ESHAPE, "target %s: x must be (B, %d) and s (B, 1), got %s and %s", t->name, t->dim,
                     nis_shape_str(x, a, sizeof a), nis_shape_str(s, b, sizeof b));
        return NULL;
    }
    bool saved = nis_ctx_set_grad(ctx, true);
    nis_tensor *xd = differentiable(ctx, x);
    nis_tensor *lp = t->log_prob_at(ctx, t, xd, s), *g = NULL;
    if (lp) nis_grad(ctx, 1, &lp, NULL, 1, &xd, create_graph, &g);
    nis_ctx_set_grad(ctx, saved);
    return nis_ctx_status(ctx) == NIS_OK ? g : NULL;
}

nis_tensor *nis_target_hvp(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    if (!x || !v || nis_ctx_status(ctx) != NIS_OK) return NULL;
    if (t->hvp) {
        bool saved = nis_ctx_set_grad(ctx, false);
        nis_tensor *h = t->hvp(ctx, t, x, v);
        nis_ctx_set_grad(ctx, saved);
        return h;
    }
    bool saved = nis_ctx_set_grad(ctx, true);
    nis_tensor *xd = nis_requires_grad(nis_detach(ctx, x));
    nis_tensor *s = nis_target_score(ctx, t, xd, true), *h = NULL;
    if (s && s->requires_grad) nis_grad(ctx, 1, &s, &v, 1, &xd, false, &h);
    else if (s) h = nis_zeros(ctx, x->ndim, x->shape);   /* a linear score has a zero Hessian */
    nis_ctx_set_grad(ctx, saved);
    return nis_ctx_status(ctx) == NIS_OK ? h : NULL;
}

nis_tensor *nis_target_laplacian(nis_ctx *ctx, const nis_target *t, nis_tensor *x, bool create_graph) {
    if (!x || nis_ctx_status(ctx) != NIS_OK) return NULL;
    bool saved = nis_ctx_set_grad(ctx, true);
    nis_tensor *xd = differentiable(ctx, x);
    nis_tensor *s = nis_target_score(ctx, t, xd, true), *lap = NULL;
    int64_t B = x->shape[0];
    for (int i = 0; s && i < t->dim; i++) {
        /* d s_i / d x_i for every row: gradient of sum_b s[b, i] w.r.t. x, column i */
        nis_tensor *si = nis_slice(ctx, s, 1, i, 1), *gi = NULL;
        if (!si) break;
        if (!si->requires_grad) {
            gi = nis_zeros(ctx, 2, (int64_t[]){B, t->dim});
        } else if (nis_grad(ctx, 1, &si, NULL, 1, &xd, create_graph, &gi) != NIS_OK) {
            break;
        }
        nis_tensor *dii = nis_reshape(ctx, nis_slice(ctx, gi, 1, i, 1), 1, (int64_t[]){B});
        lap = lap ? nis_add(ctx, lap, dii) : dii;
    }
    nis_ctx_set_grad(ctx, saved);
    return nis_ctx_status(ctx) == NIS_OK ? lap : NULL;
}
