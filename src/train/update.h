/* src/train/update.h — one optimiser update shared by the trainers (private). */
#ifndef NIS_SRC_TRAIN_UPDATE_H
#define NIS_SRC_TRAIN_UPDATE_H

#include "nis/nn.h"

/* Back-propagate loss (a scalar in ctx) into P (zeroed first), clip the gradient at norm clip (<= 0: no
 * clipping), check that loss, monitor and the gradient norm are finite, and take an Adam step.  `iter` is
 * the number of updates done before this one and `what` names the network, both for the message written
 * into msg on failure.  NIS_ENUMERIC (not finite), or the context's / parameters' status. */
nis_status nis__update(nis_ctx *ctx, nis_tensor *loss, double monitor, nis_params *P, nis_adam *opt, double clip,
                       int64_t iter, const char *what, char *msg, size_t msglen);

#endif
