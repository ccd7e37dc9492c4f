/* src/cli/cmd_eval.c — `nis eval`: metrics of a .npy sample file against a target, one JSON object on
 * stdout. */
#include "args.h"
#include "commands.h"
#include "util.h"
#include "nis/io.h"
#include "nis/metrics.h"

#include <stdio.h>

int nis_cmd_eval(int argc, char **argv) {
    const char *target = NULL, *samples = NULL;
    int64_t seed = 0, threads = 1;
    const nis_opt opts[] = {
        {"target", OPT_STRING, &target, "gauss|mog2|rosenbrock|donut|funnel|squiggle", 0, 0, true},
        {"samples", OPT_STRING, &samples, ".npy file of shape (n, d), float32 or float64", 0, 0, true},
        {"seed", OPT_INT, &seed, "seed of the exact reference samples", 0, 9e18, false},
        {"threads", OPT_INT, &threads, "threads", 1, 256, false},
    };
    int rc = nis_args_parse("eval", "Evaluate samples against a target: energy distance, MMD, KSD, moments.", argc,
                            argv, opts, sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    const nis_target *t = nis_target_2d(target);
    if (!t) return nis_cli_error("eval", "--target: unknown target '%s'", target);
    nis_set_threads((int)threads);
    nis_cli_init_json();
    char err[512];
    nis_npy_array a;
    if (nis_npy_read_as(samples, NIS_DT_REAL, &a, err, sizeof err) != NIS_OK)
        return nis_cli_error("eval", "--samples: %s", err);
    if (a.ndim != 2 || a.shape[1] != t->dim || a.shape[0] < 2) {
        nis_npy_free(&a);
        return nis_cli_error("eval", "--samples: %s: expected shape (n >= 2, %d)", samples, t->dim);
    }
    nis_eval_result r;
    nis_status st = nis_evaluate(t, a.data, a.shape[0], (uint64_t)seed, &r, err, sizeof err);
    nis_npy_free(&a);
    if (st != NIS_OK) {
        fprintf(stderr, "nis eval: %s\n", err);
        return 1;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "target", t->name);
    nis_json_add_eval(m, &r);
    char *line = cJSON_PrintUnformatted(m);
    printf("%s\n", line ? line : "{}");
    cJSON_free(line);
    cJSON_Delete(m);
    return 0;
}
