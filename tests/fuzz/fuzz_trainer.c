/* tests/fuzz/fuzz_trainer.c — libFuzzer target of the training checkpoint loader (nis_trainer_resume,
 * src/train/state_io.c: configuration from the schema's metadata, counters, noise state, networks, Adam, EMA,
 * preconditioner) for the built-in 2-D target "gauss".  A trainer that resumes must report its update count and, when
 * its networks are small, draw a few samples. */
#include "fuzz.h"
#include "nis/train.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("trainer");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("checkpoint.safetensors", data, size);
    const nis_target *t = nis_target_2d("gauss");
    char err[512] = "";
    nis_trainer *tr = nis_trainer_resume(t, path, err, sizeof err);
    if (!tr) {
        fuzz_check_failure(NIS_EFORMAT, err);
        return 0;
    }
    const nis_train_config *c = nis_trainer_config(tr);
    FUZZ_ASSERT(nis_trainer_iter(tr) >= 0 && nis_trainer_target_evals(tr) >= 0, "counters");
    FUZZ_ASSERT(nis_trainer_sigma(tr) > 0, "sigma %g", nis_trainer_sigma(tr));
    FUZZ_ASSERT(nis_train_config_check(c, t, err, sizeof err) == NIS_OK, "resumed an invalid configuration: %s", err);
    if (nis_params_numel(nis_trainer_generator(tr)) <= 4096) {
        nis_real out[3 * 2];
        nis_rng rng = nis_rng_init(data[size - 1], NIS_STREAM_SAMPLE);
        nis_status st = nis_trainer_sample(tr, &rng, 3, true, out);
        if (st != NIS_OK) fuzz_check_failure(st, nis_trainer_message(tr));
    }
    nis_trainer_free(tr);
    return 0;
}
