/* tests/fuzz/fuzz_libsvm.c — libFuzzer target of the LIBSVM loader (nis_data_load, format LIBSVM): an option byte,
 * then the file (tests/fuzz/fuzz_data.h says what is checked).  Library allocations above 256 KiB fail (see below). */
#include "fuzz_data.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("libsvm");
    /* A 20-byte file naming feature 999999 makes a table of a million named columns (0.5 s under ASan, as the
     * format says it should); with allocations above 256 KiB failing, such inputs take the out-of-memory path at
     * once and the fuzzer keeps its speed.  Tables up to 32768 columns still load. */
    check_alloc_cap((size_t)256 << 10);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_data_run(NIS_DATA_LIBSVM, "in.libsvm", data, size);
}
