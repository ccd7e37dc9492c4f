/* nis/dist.h — a group of processes that train one model together (data parallelism), as the trainer sees it.
 *
 * The library holds no MPI: a nis_dist is a rank, a size and a sum across the group, and whoever launched the
 * processes supplies it (the CLI's MPI build: src/dist/mpi.c, docs/scaling.md; the tests: threads).  With a group,
 * every rank computes its share of each batch and the gradients are summed before each optimiser step, so the
 * ranks' parameters stay identical.  Which rows are a rank's: nis_dist_share, contiguous and equal.
 */
#ifndef NIS_DIST_H
#define NIS_DIST_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nis_dist nis_dist;
struct nis_dist {
    int rank, size;   /* 0 <= rank < size */
    /* x[0..n) := the elementwise sum of every rank's x[0..n), in place, the same bits on every rank (all ranks
     * call it with the same n, in the same order).  A failure is a status with a message in err; the caller then
     * stops every rank (the MPI build aborts the group). */
    nis_status (*sum_real)(const nis_dist *d, nis_real *x, int64_t n, char *err, size_t errlen);
    nis_status (*sum_double)(const nis_dist *d, double *x, int64_t n, char *err, size_t errlen);
    void *ud;         /* the implementation's state */
};

/* Rank r's share [*a, *b) of n items split over `size` ranks: contiguous, in rank order, sizes differ by at most
 * one (equal when size divides n). */
void nis_dist_share(int64_t n, int rank, int size, int64_t *a, int64_t *b);

/* d NULL, or a group (0 <= rank < size, both sums) over which n items split evenly: NIS_OK; else NIS_EINVAL and one
 * line "WHO: ..." in err, naming the items as `what` (e.g. "the batch (256)"). */
nis_status nis_dist_check(const nis_dist *d, int64_t n, const char *who, const char *what, char *err, size_t errlen);

/* The mean over ranks of x[0..n) (sum_real, then / size); d NULL or of size 1: nothing. */
nis_status nis_dist_mean_real(const nis_dist *d, nis_real *x, int64_t n, char *err, size_t errlen);
nis_status nis_dist_mean_double(const nis_dist *d, double *x, int64_t n, char *err, size_t errlen);

/* Sums across the group inside a graph (autodiff works through them, to any order): every rank builds the same
 * graph.  nis_dist_sum(x) is the elementwise sum of every rank's x (x's shape; a collective call: every rank, same
 * order); nis_dist_copy(x) is x, whose gradient is summed over the ranks.  A likelihood split by rows over the
 * ranks is then nis_dist_sum(part(nis_dist_copy(θ))), the replicated parts (a prior) added outside, and its
 * score and HVP by autodiff are the whole likelihood's.  d NULL or of size 1: x itself.  d is borrowed and must
 * outlive the graph.  A failed sum fails the context (NIS_EIO). */
nis_tensor *nis_dist_sum(nis_ctx *ctx, const nis_dist *d, nis_tensor *x);
nis_tensor *nis_dist_copy(nis_ctx *ctx, const nis_dist *d, nis_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
