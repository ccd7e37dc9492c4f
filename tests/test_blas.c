/* The BLAS kernel check: OpenBLAS names its kernel set, and nis_blas_better_core answers NULL (the kernels fit the
 * CPU) or a kernel set this CPU runs; with AVX-512 kernels in use it must answer NULL; AVX2 and AVX-512 kernel sets
 * are never generic. */
#include "check.h"
#include "nis/core.h"

#include <string.h>

int main(void) {
    const char *core = nis_blas_core(), *better = nis_blas_better_core();
    printf("OpenBLAS kernels: %s; better for this CPU: %s\n", core, better ? better : "(none)");
    CHECK(core && *core, "no kernel name");
    CHECK(!better || !strcmp(better, "SkylakeX") || !strcmp(better, "Haswell"), "better core %s", better);
    if (!strcmp(core, "SkylakeX") || !strcmp(core, "Cooperlake") || !strcmp(core, "SapphireRapids"))
        CHECK(better == NULL, "AVX-512 kernels in use, yet %s suggested", better);
    if (!strcmp(core, "Haswell") || !strcmp(core, "Zen") || !strcmp(core, "SkylakeX") || !strcmp(core, "Cooperlake"))
        CHECK(!nis_blas_generic(), "%s kernels called generic", core);
    if (!strcmp(core, "Prescott")) CHECK(nis_blas_generic() == (better != NULL), "Prescott: generic iff better exists");
    return check_done("test_blas");
}
