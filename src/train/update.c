/* src/train/update.c — one optimiser update of a network from its loss (internal.h: nis__update). */
#include "internal.h"

#include <math.h>
#include <stdio.h>

nis_status nis__update(nis_ctx *ctx, nis_tensor *loss, double monitor, nis_params *P, nis_adam *opt, double clip,
                       int64_t iter, const char *what, double *norm_out, char *msg, size_t msglen) {
    if (!loss) {
        snprintf(msg, msglen, "%s loss: %s", what, nis_ctx_message(ctx));
        return nis_ctx_status(ctx) ? nis_ctx_status(ctx) : NIS_ESTATE;
    }
    if (!isfinite(monitor) || !isfinite(loss->data[0])) {
        snprintf(msg, msglen, "%s loss is not finite (%g) at update %lld", what, monitor, (long long)iter + 1);
        return NIS_ENUMERIC;
    }
    nis_params_zero_grad(P);
    if (nis_backward(ctx, loss, NULL) != NIS_OK) {
        snprintf(msg, msglen, "%s backward: %s", what, nis_ctx_message(ctx));
        return nis_ctx_status(ctx);
    }
    double norm = clip > 0 ? nis_clip_grad_norm(P, clip) : nis_grad_norm(P);
    if (norm_out) *norm_out = norm;
    if (!isfinite(norm)) {
        snprintf(msg, msglen, "%s gradient is not finite at update %lld", what, (long long)iter + 1);
        return NIS_ENUMERIC;
    }
    if (nis_adam_step(opt, P) != NIS_OK) {
        snprintf(msg, msglen, "%s optimiser: %s", what, nis_params_message(P));
        return nis_params_status(P);
    }
    return NIS_OK;
}
