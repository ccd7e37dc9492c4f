/* tests/fuzz/fuzz_arff.c — libFuzzer target of the ARFF loader (nis_data_load, format ARFF): an option byte, then the
 * file (tests/fuzz/fuzz_data.h says what is checked). */
#include "fuzz_data.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("arff");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_data_run(NIS_DATA_ARFF, "in.arff", data, size);
}
