/* src/core/autodiff.c — reverse-mode traversal: nis_grad (torch.autograd.grad) and nis_backward.
 *
 * Nodes are recorded in creation order, which is a topological order, so one sweep from the newest node to
 * the oldest visits every node after all its consumers.  Each node's backward is built from public ops;
 * with create_graph the sweep runs with gradient recording on and the gradients become graph nodes too.
 */
#include "ctx.h"
#include "op.h"

#include <stdatomic.h>
#include <string.h>

static _Atomic uint32_t g_pass;   /* stamps are global: parameters are shared between contexts */

/* Add gradient `gi` into t->g, checking its shape. */
static bool accumulate(nis_ctx *ctx, const nis_tensor *node, nis_tensor *t, nis_tensor *gi) {
    if (!gi) return ctx->status == NIS_OK;  /* op chose not to produce one, or failed (status set) */
    if (gi->n != t->n) {
        char a[80], b[80];
        nis_ctx_fail(ctx, NIS_ESTATE, "backward of %s: gradient shape %s for an input of shape %s",
                     node->op->name, nis_shape_str(gi, a, sizeof a), nis_shape_str(t, b, sizeof b));
        return false;
    }
    if (!nis_same_shape(gi, t)) gi = nis_reshape(ctx, gi, t->ndim, t->shape);
    t->g = t->g ? nis_add(ctx, t->g, gi) : gi;
    return t->g != NULL;
}

/* Run the sweep.  all_params: follow every input that requires grad (nis_backward); otherwise only those
 * that lead to a tensor stamped with `pass` (nis_grad's inputs). */
static nis_status sweep(nis_ctx *ctx, int n_out, nis_tensor *const *outputs, nis_tensor *const *grad_outputs,
                        bool all, uint32_t pass, bool create_graph, nis_tensor ***nodes_out,
                        size_t *count_out) {
    size_t count = 0;
    for (nis_tensor *t = ctx->last; t; t = t->prev) count++;
    nis_tensor **nodes = nis_ctx_alloc(ctx, (count ? count : 1) * sizeof *nodes);
    if (!nodes) return ctx->status;
    size_t k = count;
    for (nis_tensor *t = ctx->last; t; t = t->prev) nodes[--k] = t;

    /* forward sweep: which nodes depend on an input; clear every gradient slot we may touch */
    for (size_t i = 0; i < count; i++) {
        nis_tensor *t = nodes[i];
        t->g = NULL;
        for (int s = 0; s < NIS_MAX_SRC; s++)
            if (t->src[s]) {
                if (!t->src[s]->op) t->src[s]->g = NULL;   /* leaves */
                if (!all && t->src[s]->mark == pass) t->mark = pass;
            }
    }
    for (int k2 = 0; k2 < n_out; k2++) outputs[k2]->g = NULL;

    bool saved = nis_ctx_set_grad(ctx, create_graph);
    for (int k2 = 0; k2 < n_out; k2++) {
        nis_tensor *o = outputs[k2], *go = grad_outputs ? grad_outputs[k2] : NULL;
        if (!go) go = nis_full(ctx, o->ndim, o->shape, 1);
        else if (go->n != o->n) {
            nis__shape_error(ctx, "grad", "grad_output does not match output", go, o);
            break;
        }
        if (!go || !accumulate(ctx, o, o, go)) break;
    }
    for (size_t i = count; i-- > 0 && ctx->status == NIS_OK;) {
        nis_tensor *t = nodes[i];
        if (!t->g || !t->op || (!all && t->mark != pass)) continue;
        nis_tensor *gsrc[NIS_MAX_SRC] = {0};
        uint32_t want = 0;
        for (int s = 0; s < NIS_MAX_SRC; s++)
            if (t->src[s] && t->src[s]->requires_grad && (all || t->src[s]->mark == pass)) want |= 1u << s;
        if (!want) continue;
        t->flags = want;
        t->op->backward(ctx, t, t->g, gsrc);
        t->flags = 0;
        for (int s = 0; s < NIS_MAX_SRC; s++)
            if (want >> s & 1u)
                if (!accumulate(ctx, t, t->src[s], gsrc[s])) break;
    }
    nis_ctx_set_grad(ctx, saved);
    *nodes_out = nodes;
    *count_out = count;
    return ctx->status;
}

nis_status nis_grad(nis_ctx *ctx, int n_out, nis_tensor *const *outputs, nis_tensor *const *grad_outputs,
                    int n_in, nis_tensor *const *inputs, bool create_graph, nis_tensor **result) {
    if (ctx->status != NIS_OK) return ctx->status;
    for (int i = 0; i < n_out; i++)
        if (!outputs[i]) return nis_ctx_fail(ctx, NIS_EINVAL, "grad: output %d is NULL", i);
    for (int i = 0; i < n_in; i++) {
        if (!inputs[i]) return nis_ctx_fail(ctx, NIS_EINVAL, "grad: input %d is NULL", i);
        if (!inputs[i]->requires_grad)
            return nis_ctx_fail(ctx, NIS_ESTATE, "grad: input %d does not require grad", i);
    }
    uint32_t pass = atomic_fetch_add(&g_pass, 1) + 1;
    for (int i = 0; i < n_in; i++) inputs[i]->mark = pass;
    nis_tensor **nodes;
    size_t count;
    /* an input that is an intermediate node must not pass its stamp on to nodes it does not feed:
     * the forward sweep only stamps consumers, so this holds */
    nis_status st = sweep(ctx, n_out, outputs, grad_outputs, false, pass, create_graph, &nodes, &count);
    for (int i = 0; i < n_in && st == NIS_OK; i++) {
        nis_tensor *g = inputs[i]->g;
        if (!g) g = nis_zeros(ctx, inputs[i]->ndim, inputs[i]->shape);
        result[i] = g;
    }
    for (int i = 0; i < n_in; i++) inputs[i]->mark = 0;
    for (size_t i = 0; i < count; i++) nodes[i]->mark = 0;
    return ctx->status;
}

nis_status nis_backward(nis_ctx *ctx, nis_tensor *out, nis_tensor *grad_output) {
    if (ctx->status != NIS_OK) return ctx->status;
    if (!out) return nis_ctx_fail(ctx, NIS_EINVAL, "backward: output is NULL");
    if (!out->requires_grad) return nis_ctx_fail(ctx, NIS_ESTATE, "backward: output does not require grad");
    nis_tensor **nodes;
    size_t count;
    nis_tensor *gos[1] = {grad_output};
    nis_status st = sweep(ctx, 1, &out, gos, true, 0, false, &nodes, &count);
    if (st != NIS_OK) return st;
    /* parameters: leaves with a grad buffer; each may feed several nodes, so clear g once added */
    if (!out->op && out->grad && out->g) {
        for (int64_t j = 0; j < out->n; j++) out->grad[j] += out->g->data[j];
        out->g = NULL;
    }
    for (size_t i = 0; i < count; i++)
        for (int s = 0; s < NIS_MAX_SRC; s++) {
            nis_tensor *p = nodes[i]->src[s];
            if (p && !p->op && p->grad && p->g) {
                const nis_real *g = p->g->data;
                for (int64_t j = 0; j < p->n; j++) p->grad[j] += g[j];
                p->g = NULL;
            }
        }
    return NIS_OK;
}
