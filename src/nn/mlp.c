/* src/nn/mlp.c — activations by enum, and the MLP builder: Linear, act, ..., Linear. */
#include "nis/nn.h"

#include <stdio.h>
#include <string.h>

static const char *const act_names[] = {"none", "relu", "silu", "tanh", "softplus", "elu", "leaky_relu", NULL};
#define N_ACTS ((int)(sizeof act_names / sizeof act_names[0]) - 1)

nis_tensor *nis_activation(nis_ctx *ctx, nis_act act, nis_tensor *x) {
    switch (act) {
    case NIS_ACT_NONE: return x;
    case NIS_ACT_RELU: return nis_relu(ctx, x);
    case NIS_ACT_SILU: return nis_silu(ctx, x);
    case NIS_ACT_TANH: return nis_tanh(ctx, x);
    case NIS_ACT_SOFTPLUS: return nis_softplus(ctx, x);
    case NIS_ACT_ELU: return nis_elu(ctx, x, 1.0);
    case NIS_ACT_LEAKY_RELU: return nis_leaky_relu(ctx, x, 0.01);
    }
    if (x) nis_ctx_fail(ctx, NIS_EINVAL, "activation: unknown activation %d", (int)act);
    return NULL;
}

const char *const *nis_act_names(void) { return act_names; }

const char *nis_act_name(nis_act act) { return (int)act >= 0 && (int)act < N_ACTS ? act_names[act] : "?"; }

bool nis_act_parse(const char *name, nis_act *out) {
    for (int i = 0; i < N_ACTS; i++)
        if (strcmp(name, act_names[i]) == 0) {
            *out = (nis_act)i;
            return true;
        }
    return false;
}

nis_status nis_mlp_add(nis_mlp *M, nis_params *P, const char *prefix, int n_widths, const int64_t *widths,
                       nis_act act) {
    if (P->status != NIS_OK) return P->status;
    if (n_widths < 2 || n_widths > NIS_MLP_MAX_LAYERS + 1)
        return nis_params_fail(P, NIS_EINVAL, "mlp \"%s\": %d widths (need 2 .. %d)", prefix, n_widths,
                               NIS_MLP_MAX_LAYERS + 1);
    if ((int)act < 0 || (int)act >= N_ACTS)
        return nis_params_fail(P, NIS_EINVAL, "mlp \"%s\": unknown activation %d", prefix, (int)act);
    memset(M, 0, sizeof *M);
    M->n_layers = n_widths - 1;
    M->act = act;
    for (int l = 0; l < M->n_layers; l++) {
        char name[256];
        if (snprintf(name, sizeof name, "%s.fc%d", prefix, l + 1) >= (int)sizeof name)
            return nis_params_fail(P, NIS_EINVAL, "mlp: prefix \"%s\" too long", prefix);
        nis_status st = nis_linear_layer_add(&M->layer[l], P, name, widths[l], widths[l + 1], true);
        if (st != NIS_OK) return st;
    }
    return NIS_OK;
}

/* x: (B, widths[0]) -> (B, widths[last]) */
nis_tensor *nis_mlp_forward(nis_ctx *ctx, const nis_mlp *M, nis_tensor *x) {
    for (int l = 0; l < M->n_layers; l++) {
        x = nis_linear_layer_forward(ctx, &M->layer[l], x);
        if (l + 1 < M->n_layers) x = nis_activation(ctx, M->act, x);
    }
    return x;
}
