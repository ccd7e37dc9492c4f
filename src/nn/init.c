/* src/nn/init.c — initial values: each parameter drawn from its initialiser with its own RNG stream. */
#include "nis/nn.h"

#include <math.h>
#include <string.h>

double nis_default_init_bound(int64_t fan_in) { return fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0; }

/* FNV-1a, 64-bit: the stream of a parameter comes from its name. */
static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

nis_status nis_params_init(nis_params *P, const nis_rng *rng) {
    if (P->status != NIS_OK) return P->status;
    if (!P->finalized) return nis_params_fail(P, NIS_ESTATE, "params: init before finalize");
    for (int i = 0; i < P->count; i++) {
        nis_tensor *t = &P->p[i].t;
        nis_init in = P->p[i].init;
        nis_rng r = nis_rng_split(rng, fnv1a(t->name));
        switch (in.kind) {
        case NIS_INIT_ZERO: memset(t->data, 0, (size_t)t->n * sizeof(nis_real)); break;
        case NIS_INIT_CONST:
            for (int64_t j = 0; j < t->n; j++) t->data[j] = (nis_real)in.a;
            break;
        case NIS_INIT_UNIFORM:
            if (!(in.a < in.b)) { /* an empty interval (e.g. bound 0 for fan_in 0): all values are a */
                for (int64_t j = 0; j < t->n; j++) t->data[j] = (nis_real)in.a;
                break;
            }
            nis_rng_fill_uniform(&r, t->data, t->n, in.a, in.b);
            break;
        case NIS_INIT_NORMAL: nis_rng_fill_normal(&r, t->data, t->n, in.a, in.b); break;
        default:
            return nis_params_fail(P, NIS_EINVAL, "params: \"%s\" has an unknown initialiser %d", t->name,
                                   (int)in.kind);
        }
    }
    return NIS_OK;
}
