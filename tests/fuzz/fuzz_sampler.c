/* tests/fuzz/fuzz_sampler.c — libFuzzer target of the sampler loader (nis_sampler_load, src/train/sampler_io.c:
 * metadata -> generator, then nis_checkpoint_load or the preconditioned path).  A sampler that loads must report a
 * dimension >= 1, a consistent image shape, and (when small) generate a few samples. */
#include "fuzz.h"
#include "nis/train.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("sampler");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("sampler.safetensors", data, size);
    char err[512] = "";
    nis_sampler *s = nis_sampler_load(path, err, sizeof err);
    if (!s) {
        fuzz_check_failure(NIS_EFORMAT, err);
        return 0;
    }
    int dim = nis_sampler_dim(s), c, h, w;
    FUZZ_ASSERT(dim >= 1 && nis_sampler_target(s) != NULL, "dim %d", dim);
    if (nis_sampler_image_shape(s, &c, &h, &w)) FUZZ_ASSERT(c >= 1 && h >= 4 && w >= 4 && c * h * w == dim, "image");
    if (dim <= 64) {
        nis_real out[3 * 64];
        nis_rng rng = nis_rng_init(data[size - 1], NIS_STREAM_SAMPLE);
        for (int noisy = -1; noisy <= 1; noisy++) {
            nis_status st = nis_sampler_generate(s, &rng, 3, noisy, out, err, sizeof err);
            if (st != NIS_OK) fuzz_check_failure(st, err);
            else nis_sampler_report(s, out, 3);
        }
    }
    nis_sampler_free(s);
    return 0;
}
