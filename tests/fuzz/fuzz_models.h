/* tests/fuzz/fuzz_models.h — the small models of the seed corpus (tests/fuzz/make_corpus.c) and of the targets that
 * load into a model they declare themselves (fuzz_checkpoint). */
#ifndef NIS_TESTS_FUZZ_MODELS_H
#define NIS_TESTS_FUZZ_MODELS_H

#include "nis/ebm.h"
#include "nis/nn.h"
#include "nis/rng.h"
#include "nis/train.h"

#include <string.h>

/* The MLP 2-4-3 "net" (net.fc1.weight (4, 2), net.fc1.bias, net.fc2.weight (3, 4), net.fc2.bias), finalized and
 * initialised from seed 1; NULL if out of memory. */
static inline nis_params *fuzz_small_mlp(void) {
    nis_params *P = nis_params_new();
    nis_mlp M;
    nis_rng r = nis_rng_init(1, NIS_STREAM_INIT);
    if (P && nis_mlp_add(&M, P, "net", 3, (const int64_t[]){2, 4, 3}, NIS_ACT_SILU) == NIS_OK &&
        nis_params_finalize(P) == NIS_OK && nis_params_init(P, &r) == NIS_OK)
        return P;
    nis_params_free(P);
    return NULL;
}

/* A tiny energy: 1x4x4 images, one conv of 2 channels (3x3, stride 2). */
static inline nis_ebm_config fuzz_small_ebm(void) {
    nis_ebm_config c = nis_ebm_config_default();
    c.c = 1, c.h = 4, c.w = 4;
    c.n_conv = 1;
    memset(c.channels, 0, sizeof c.channels);
    c.channels[0] = 2;
    return c;
}

/* A small MLP sampler configuration for a 2-D target: width 4, one hidden layer each, batch 8. */
static inline nis_train_config fuzz_small_train(nis_method m) {
    nis_train_config c = nis_train_config_default(m);
    c.width = 4, c.depth = 1, c.score_width = 4, c.score_depth = 1;
    c.batch = 8, c.iters = 4, c.init_steps = 2, c.score_steps = 1;
    return c;
}

#endif
