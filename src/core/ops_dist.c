/* src/core/ops_dist.c — the two ops that put a sum across a group's ranks into a graph (nis/dist.h), so that
 * autodiff (scores, Hessian-vector products, double backward) works through a likelihood whose rows are split over
 * the ranks: every rank builds the same graph, dist_copy where the replicated input enters its rows' part, dist_sum
 * where the parts are added.  Each is the other's backward (Shoeybi et al. 2019, Megatron-LM's f and g):
 *   dist_copy(x) = x,          d = sum over ranks of g;
 *   dist_sum(x)  = Σ_r x_r,    d = dist_copy(g) = g.
 * The group rides in the node's integer parameters (a pointer, borrowed; it must outlive the graph). */
#include "op.h"
#include "nis/dist.h"

#include <stdint.h>
#include <string.h>

static const nis_dist *group_of(const nis_tensor *node) { return (const nis_dist *)(intptr_t)node->p.i[0]; }

static void dist_copy_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_dist_sum(ctx, group_of(node), g);
}
static const nis_op_info op_dist_copy = {"dist_copy", dist_copy_backward};

static void dist_sum_backward(nis_ctx *ctx, nis_tensor *node, nis_tensor *g, nis_tensor **gs) {
    gs[0] = nis_dist_copy(ctx, group_of(node), g);
}
static const nis_op_info op_dist_sum = {"dist_sum", dist_sum_backward};

/* op's node over x holding x's values and the group (x itself, no node, alone). */
static nis_tensor *dist_node(nis_ctx *ctx, const nis_op_info *op, const nis_dist *d, nis_tensor *x) {
    if (nis__bail(ctx, x)) return NULL;
    if (!d || d->size <= 1) return x;
    nis_tensor *y = nis__result_like(ctx, op, x, x, NULL, NULL);
    if (!y) return NULL;
    y->p.i[0] = (int64_t)(intptr_t)d;
    memcpy(y->data, x->data, (size_t)x->n * sizeof *y->data);
    return y;
}

nis_tensor *nis_dist_copy(nis_ctx *ctx, const nis_dist *d, nis_tensor *x) { return dist_node(ctx, &op_dist_copy, d, x); }

nis_tensor *nis_dist_sum(nis_ctx *ctx, const nis_dist *d, nis_tensor *x) {
    nis_tensor *y = dist_node(ctx, &op_dist_sum, d, x);
    if (!y || y == x) return y;
    char err[256];
    if (d->sum_real(d, y->data, y->n, err, sizeof err) != NIS_OK) {
        nis_ctx_fail(ctx, NIS_EIO, "dist_sum: %s", err);
        return NULL;
    }
    return y;
}
