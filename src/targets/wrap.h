/* src/targets/wrap.h — the one rule of a target built on another (tempered.c, affine.c). */
#ifndef NIS_TARGETS_WRAP_H
#define NIS_TARGETS_WRAP_H

#include "nis/target.h"

typedef nis_tensor *(*nis__lp_fn)(nis_ctx *, const nis_target *, nis_tensor *);
typedef nis_tensor *(*nis__hvp_fn)(nis_ctx *, const nis_target *, nis_tensor *, nis_tensor *);

/* A target over inner with state data: inner's name, dim, stochasticity and picture box, no exact sampler, log_prob
 * lp, and the hand-written score / hvp only where inner has its own (otherwise autodiff of lp, as for any target). */
static inline nis_target nis__wrapped_target(const nis_target *inner, void *data, nis__lp_fn lp, nis__lp_fn score,
                                             nis__hvp_fn hvp) {
    return (nis_target){
        .name = inner->name,
        .dim = inner->dim,
        .log_prob = lp,
        .score = inner->score ? score : NULL,
        .hvp = inner->hvp ? hvp : NULL,
        .sample = NULL,
        .data = data,
        .stochastic = inner->stochastic,
        .plot_box = {inner->plot_box[0], inner->plot_box[1], inner->plot_box[2], inner->plot_box[3]},
    };
}

#endif
