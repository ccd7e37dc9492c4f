/* src/targets/foreign.c — a target computed outside the library by callbacks on arrays (nis_foreign_target_new).
 *
 * Three ops, each a node whose backward is the next one: logp (x) -> (B,), backward g -> g[:, None] score(x);
 * score (x) -> (B, d), backward g -> hvp(x, g) (the Hessian is symmetric); hvp (x, v) -> (B, d), backward in v
 * -> hvp(x, G) (linear in v), in x a third derivative: refused.  The node's aux points at the target. */
#include "core/op.h"
#include "nis/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    nis_target t;
    char name[64];
    nis_array_fn score, log_prob;
    nis_array_hvp_fn hvp;
    void *ud;
} foreign;

static nis_tensor *f_score(nis_ctx *ctx, const foreign *f, nis_tensor *x);
static nis_tensor *f_hvp(nis_ctx *ctx, const foreign *f, nis_tensor *x, nis_tensor *v);

static bool rows_ok(nis_ctx *ctx, const foreign *f, const nis_tensor *x, const char *what) {
    if (x->ndim == 2 && x->shape[1] == f->t.dim) return true;
    nis__shape_error(ctx, what, "need x (B, dim) of the foreign target", x, NULL);
    return false;
}

static nis_tensor *fail_cb(nis_ctx *ctx, const foreign *f, const char *what) {
    nis_ctx_fail(ctx, NIS_EINVAL, "%s: the %s callback failed", f->name, what);
    return NULL;
}

static void logp_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    nis_tensor *x = node->src[0];
    gs[0] = nis_mul(ctx, nis_reshape(ctx, g, 2, (int64_t[]){g->n, 1}), f_score(ctx, node->aux, x));
}
static const nis_op_info op_logp = {"foreign_log_prob", logp_backward};

static void score_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = f_hvp(ctx, node->aux, node->src[0], g);
}
static const nis_op_info op_score = {"foreign_score", score_backward};

static void hvp_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    const foreign *f = node->aux;
    if (nis__needs(node, 0)) {
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: a third derivative of a foreign target was asked for", f->name);
        return;
    }
    if (nis__needs(node, 1)) gs[1] = f_hvp(ctx, f, node->src[0], g);
}
static const nis_op_info op_hvp = {"foreign_hvp", hvp_backward};

static nis_tensor *f_score(nis_ctx *ctx, const foreign *f, nis_tensor *x) {
    if (nis__bail(ctx, x) || !rows_ok(ctx, f, x, "foreign score")) return NULL;
    nis_tensor *y = nis__result_like(ctx, &op_score, x, x, NULL, NULL);
    if (!y) return NULL;
    y->aux = (void *)f;
    return f->score(f->ud, x->data, x->shape[0], y->data) ? fail_cb(ctx, f, "score") : y;
}

static nis_tensor *f_hvp(nis_ctx *ctx, const foreign *f, nis_tensor *x, nis_tensor *v) {
    if (nis__bail2(ctx, x, v) || !rows_ok(ctx, f, x, "foreign hvp")) return NULL;
    if (!nis_same_shape(x, v)) return nis__shape_error(ctx, "foreign hvp", "x and v differ", x, v);
    if (!f->hvp) {
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: Hessian-vector products are needed (DFT, Fisher) but no hvp was given",
                     f->name);
        return NULL;
    }
    nis_tensor *y = nis__result_like(ctx, &op_hvp, x, x, v, NULL);
    if (!y) return NULL;
    y->aux = (void *)f;
    return f->hvp(f->ud, x->data, v->data, x->shape[0], y->data) ? fail_cb(ctx, f, "hvp") : y;
}

static nis_tensor *t_log_prob(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    const foreign *f = (const foreign *)t;
    if (nis__bail(ctx, x) || !rows_ok(ctx, f, x, "foreign log_prob")) return NULL;
    if (!f->log_prob) {
        nis_ctx_fail(ctx, NIS_EINVAL, "%s: log q is needed but no log_prob was given", f->name);
        return NULL;
    }
    nis_tensor *y = nis__result(ctx, &op_logp, 1, (int64_t[]){x->shape[0]}, x, NULL, NULL);
    if (!y) return NULL;
    y->aux = (void *)f;
    return f->log_prob(f->ud, x->data, x->shape[0], y->data) ? fail_cb(ctx, f, "log_prob") : y;
}

static nis_tensor *t_score(nis_ctx *ctx, const nis_target *t, nis_tensor *x) {
    return f_score(ctx, (const foreign *)t, x);
}

static nis_tensor *t_hvp(nis_ctx *ctx, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    return f_hvp(ctx, (const foreign *)t, x, v);
}

nis_target *nis_foreign_target_new(const char *name, int dim, nis_array_fn score, nis_array_hvp_fn hvp,
                                   nis_array_fn log_prob, void *ud) {
    if (dim < 1 || !score) return NULL;
    foreign *f = nis_calloc(1, sizeof *f);
    if (!f) return NULL;
    snprintf(f->name, sizeof f->name, "%s", name && *name ? name : "foreign");
    f->score = score, f->hvp = hvp, f->log_prob = log_prob, f->ud = ud;
    f->t = (nis_target){.name = f->name, .dim = dim, .log_prob = t_log_prob, .score = t_score, .hvp = t_hvp,
                        .data = f};
    return &f->t;
}

void nis_foreign_target_free(nis_target *t) { nis_free(t); }
