/* tests/fuzz/fuzz_ebm.c — libFuzzer target of the energy loaders (src/targets/ebm_io.c: nis_ebm_load,
 * nis_ebm_file_config) and of an energy training checkpoint (nis_ebm_checkpoint_config, nis_ebm_trainer_resume).
 * An energy that loads must evaluate on an image (when small); a checkpoint whose energy and training settings load
 * is resumed into a trainer built from them, which must succeed or fail cleanly and leave nothing behind. */
#include "fuzz.h"
#include "nis/ebm_train.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("ebm");
    return 0;
}

/* Resume a trainer of E with the checkpoint's settings, when they are small. */
static void resume(nis_ebm *E, const char *path) {
    nis_ebm_train_config tc;
    uint64_t seed;
    char err[512] = "";
    nis_status st = nis_ebm_checkpoint_config(path, &tc, &seed, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        return;
    }
    if (tc.buffer_size > (1 << 16) / E->target.dim || tc.batch > (1 << 16) / E->target.dim) return;
    nis_ebm_trainer T;
    st = nis_ebm_trainer_init(&T, E, &tc, seed, err, sizeof err);
    if (st == NIS_OK) {
        st = nis_ebm_trainer_resume(&T, path, err, sizeof err);
        if (st == NIS_OK) FUZZ_ASSERT(T.iter >= 0 && T.opt.step >= 0, "counters");
    }
    if (st != NIS_OK) fuzz_check_failure(st, err);
    nis_ebm_trainer_free(&T);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("energy.safetensors", data, size);
    nis_ebm E;
    char err[512] = "";
    nis_status st = nis_ebm_load(path, &E, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(fuzz_zeroed(&E, sizeof E), "energy not empty on failure");
        return 0;
    }
    FUZZ_ASSERT(E.P && E.target.dim == E.cfg.c * E.cfg.h * E.cfg.w && E.target.dim >= 1, "energy");
    if (E.target.dim <= 256 && nis_params_numel(E.P) <= 65536) {
        nis_real x[256] = {0};
        double me, mf;
        st = nis_ebm_mean_energy(&E, x, 1, &me, &mf, err, sizeof err);
        if (st != NIS_OK) fuzz_check_failure(st, err);
    }
    resume(&E, path);
    nis_ebm_free(&E);
    return 0;
}
