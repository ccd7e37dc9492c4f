/* tests/fuzz/fuzz_config_json.c — libFuzzer target of a run directory's config.json as `nis eval --run DIR` and
 * `nis train --resume` read it.  That reader, cli_config_flags, lives in the CLI (src/cli/target_open.c), so this
 * target is compiled with src/cli/target_open.c, args.c and util.c (docs/fuzzing.md).  A file that is accepted must
 * name a target; its data options then open the target as the CLI would (cli_target_open), with the data file
 * replaced by a small CSV of this target's directory (named with the same extension).  Every refusal of
 * cli_config_flags must be one printable line on stderr (captured here: glibc's stderr is assignable; the sanitizers
 * write to file descriptor 2 directly, so their reports stay visible). */
#include "fuzz.h"
#include "cli/target_open.h"
#include "cli/util.h"

static const char *const g_data[4] = {"d", "d.csv", "d.arff", "d.libsvm"};   /* data stand-ins */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_init("config");
    cli_init_json();
    static const char csv[] = "a,b,y\n0.5,1,0\n1.5,-2,1\n-0.25,3,0\n2,0.125,1\n1,1,1\n-1,2,0\n0,0,1\n3,-1,0\n";
    for (int i = 0; i < 4; i++) fuzz_write(g_data[i], csv, sizeof csv - 1);
    return 0;
}

/* The file of this directory standing in for the data file `data` of config.json: the same extension (which
 * tells the format unless "format" is given), the same CSV content. */
static const char *data_stand_in(const char *data) {
    const char *dot = strrchr(data, '.');
    for (int i = 1; dot && i < 4; i++)
        if (!strcmp(dot, strchr(g_data[i], '.'))) return fuzz_path(g_data[i]);
    return fuzz_path(g_data[0]);
}

/* Check what a CLI step printed to stderr (text, len bytes) for its return code rc: nothing for 0, else a message
 * ending in a newline, which with `strict` must be one printable line. */
static void check_stderr(int rc, const char *text, size_t len, bool strict) {
    if (rc == 0) {
        FUZZ_ASSERT(len == 0, "printed on success: %s", text);
        return;
    }
    FUZZ_ASSERT(rc == 2, "return code %d", rc);
    FUZZ_ASSERT(len >= 2 && text[len - 1] == '\n', "no message: %s", text);
    if (!strict) return;
    FUZZ_ASSERT(memchr(text, '\n', len - 1) == NULL, "not one line: %s", text);
    char *line = strndup(text, len - 1);
    FUZZ_ASSERT(line && check_clean_line(line), "not printable: %s", text);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write("config.json", data, size);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len), *saved = stderr;
    FUZZ_ASSERT(mem != NULL, "open_memstream");
    stderr = mem;
    cli_blr_flags bf;
    cli_blr_flags_default(&bf);
    const char *target = NULL;
    cJSON *keep = (cJSON *)1;
    int rc = cli_config_flags("eval", fuzz_dir_, &target, &bf, &keep);
    fflush(mem);
    check_stderr(rc, text, len, true);
    if (rc) {
        FUZZ_ASSERT(keep == NULL, "keep set on failure");
    } else {
        FUZZ_ASSERT(keep && target, "accepted without a target");   /* ("" passes; cli_target_open refuses it) */
        if (bf.data) bf.data = data_stand_in(bf.data);
        cJSON_Delete(cli_blr_flags_json(&bf));
        size_t at = len;
        cli_target ct;
        rc = cli_target_open("eval", target, &bf, 0, &ct);
        fflush(mem);
        check_stderr(rc, text + at, len - at, true);   /* config.json's names are quoted too (regress-raw-*) */
        if (rc == 0) {
            FUZZ_ASSERT(ct.t && ct.t->dim >= 1, "no target");
            cli_target_close(&ct);
        }
        cJSON_Delete(keep);
    }
    stderr = saved;
    fclose(mem);
    free(text);
    return 0;
}
