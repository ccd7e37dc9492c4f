/* tests/fuzz/fuzz_csv.c — libFuzzer target of the CSV loader (nis_data_load, format CSV): an option byte, then the
 * file (tests/fuzz/fuzz_data.h says what is checked). */
#include "fuzz_data.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("csv");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_data_run(NIS_DATA_CSV, "in.csv", data, size);
}
