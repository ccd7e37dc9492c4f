/* src/cli/cmd_eval.c — `nis eval`: metrics of a .npy sample file against a target, one JSON object on
 * stdout.  2-D targets: energy distance, MMD, KSD, moments against exact samples.  blr: test accuracy and
 * log-likelihood of the posterior predictive on the held-out split (rebuilt from the same data flags). */
#include "args.h"
#include "commands.h"
#include "target_open.h"
#include "util.h"
#include "nis/io.h"
#include "nis/metrics.h"

#include <stdio.h>
#include <string.h>

int cmd_eval(int argc, char **argv) {
    const char *target = NULL, *samples = NULL, *run = NULL;
    int64_t seed = 0, threads = 1;
    cli_blr_flags bf;
    cli_blr_flags_default(&bf);
    const cli_opt base[] = {
        {"target", OPT_STRING, &target, cli_target_help, 0, 0, false},
        {"run", OPT_STRING, &run, "a nis train output directory: the target and data options of its config.json", 0, 0, false},
        {"samples", OPT_STRING, &samples, ".npy file of shape (n, d), float32 or float64", 0, 0, true},
        {"seed", OPT_INT, &seed, "seed of the exact reference samples", 0, 9e18, false},
        CLI_THREADS(&threads),
    };
    cli_opt opts[sizeof base / sizeof base[0] + CLI_BLR_NOPTS];
    int nopts = cli_target_opts(opts, base, (int)(sizeof base / sizeof base[0]), &bf);
    int rc = cli_parse("eval", "Evaluate samples against a target: energy distance, MMD, KSD, moments (2-D "
                            "targets); test accuracy and log-likelihood of the posterior predictive (blr).", argc,
                            argv, opts, nopts);
    if (rc) return rc == 1 ? 0 : rc;
    cli_init_json();
    cJSON *keep = NULL;
    if (run && (target || bf.data)) return cli_error("eval", "--run replaces --target and --data: give one or the other");
    if (run && (rc = cli_config_flags("eval", run, &target, &bf, &keep))) return rc;
    if (!target) return cli_error("eval", "--target is required (or --run DIR)");
    cli_target ct;
    rc = cli_target_open("eval", target, &bf, 0, &ct);
    cJSON_Delete(keep);   /* held the strings of bf, used only while opening */
    if (rc) return rc;
    const nis_target *t = ct.t;
    nis_set_threads((int)threads);
    char err[512];
    nis_npy_array a;
    if (nis_npy_read_as(samples, NIS_DT_REAL, &a, err, sizeof err) != NIS_OK) {
        cli_target_close(&ct);
        return cli_error("eval", "--samples: %s", err);
    }
    if (a.ndim != 2 || a.shape[1] != t->dim || a.shape[0] < 2) {
        int dim = t->dim;
        nis_npy_free(&a);
        cli_target_close(&ct);
        return cli_error("eval", "--samples: %s: expected shape (n >= 2, %d)", samples, dim);
    }
    nis_eval_result r;
    double acc = 0, ll = 0;
    nis_status st;
    if (ct.blr) {
        st = nis_blr_predict(&ct.test, a.data, a.shape[0], t->dim, &acc, &ll);
        if (st != NIS_OK) snprintf(err, sizeof err, "posterior predictive: %s (are the samples finite?)", nis_status_name(st));
    } else {
        st = nis_evaluate(t, a.data, a.shape[0], (uint64_t)seed, &r, err, sizeof err);
    }
    int64_t n = a.shape[0];
    nis_npy_free(&a);
    if (st != NIS_OK) {
        fprintf(stderr, "nis eval: %s\n", err);
        cli_target_close(&ct);
        return 1;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "target", ct.blr ? "blr" : t->name);   /* samples are θ whatever the prior's form */
    if (ct.blr) {
        cJSON_AddNumberToObject(m, "n", (double)n);
        cJSON_AddNumberToObject(m, "n_test", (double)ct.test.n);
        cli_json_number(m, "test_accuracy", acc);
        cli_json_number(m, "test_loglik", ll);
    } else {
        cli_json_eval(m, &r);
    }
    cli_target_close(&ct);
    return cli_print_json(m) ? 0 : 1;
}
