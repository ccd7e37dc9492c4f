/* tests/fuzz/fuzz_checkpoint.c — libFuzzer target of the parameter checkpoint loader (nis_checkpoint_load,
 * src/nn/checkpoint.c) into a small fixed model: the MLP 2-4-3 "net" (fuzz_small_mlp, the model of the seeds),
 * with and without an optimiser.  On failure the parameters and the optimiser must be unchanged; on success every
 * value of the file must have arrived (checked against a second read through nis_st_read). */
#include "fuzz.h"
#include "fuzz_models.h"
#include "nis/checkpoint.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("ckpt");
    return 0;
}

/* Load path into a fresh model (with an optimiser when `adam`) and check the contract. */
static void load_one(const char *path, bool adam) {
    nis_params *P = fuzz_small_mlp();
    if (!P) return;   /* out of memory: nothing to check */
    nis_adam opt = nis_adam_default(1e-3), opt0 = opt;
    nis_real before[64];
    FUZZ_ASSERT(P->n <= 64, "model size");
    memcpy(before, P->data, (size_t)P->n * sizeof *before);
    char err[512] = "";
    nis_status st = nis_checkpoint_load(path, P, adam ? &opt : NULL, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(!memcmp(before, P->data, (size_t)P->n * sizeof *before), "parameters changed on failure");
        FUZZ_ASSERT(!memcmp(&opt, &opt0, sizeof opt) && !P->m && !P->v, "optimiser changed on failure");
        nis_params_free(P);
        return;
    }
    FUZZ_ASSERT(!adam || opt.step == 0 || (opt.step >= 1 && P->m && P->v), "adam state");
    nis_st_file *f;
    FUZZ_ASSERT(nis_st_read(path, &f, err, sizeof err) == NIS_OK, "read again: %s", err);
    for (int i = 0; i < P->count; i++) {
        const nis_param *p = &P->p[i];
        const nis_st_entry *e = nis_st_find(f, p->t.name);
        FUZZ_ASSERT(e && e->ndim == p->t.ndim, "tensor %s", p->t.name);
        for (int64_t k = 0; k < p->t.n; k++) {
            double v = e->dtype == NIS_DT_F32 ? ((const float *)e->data)[k] : ((const double *)e->data)[k];
            nis_real got = P->data[p->offset + k];
            FUZZ_ASSERT((nis_real)v == got || (isnan(v) && isnan(got)), "value %lld of %s", (long long)k, p->t.name);
        }
    }
    nis_st_close(f);
    nis_params_free(P);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("ckpt.safetensors", data, size);
    load_one(path, true);
    load_one(path, false);
    return 0;
}
