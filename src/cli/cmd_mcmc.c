/* src/cli/cmd_mcmc.c — `nis mcmc`: run a training-free baseline (ULA, MALA, HMC, SVGD) on n chains from
 * N(0, I) and write the final states as .npy (n, d); a JSON line with the run's statistics on stdout (for blr
 * also the test accuracy and log-likelihood of the final states as posterior samples).  With blr --minibatch,
 * ULA is SGLD and SVGD uses minibatch scores; MALA and HMC need the exact density and refuse minibatches. */
#include "args.h"
#include "commands.h"
#include "target_open.h"
#include "util.h"
#include "dist/mpi.h"
#include "nis/io.h"
#include "nis/mcmc.h"

#include <stdio.h>
#include <string.h>

/* Under mpirun (--target blr only): the data's rows are split over the ranks, every rank runs every chain against its
 * rows and the target's sums make the chains the same on every rank; rank 0 writes.  The ranks agree that each is
 * ready before the chains start (an earlier return is agreed on in nis_mpi_leave). */
int cmd_mcmc(int argc, char **argv) {
    const char *target = NULL, *method = NULL, *out = NULL;
    int64_t steps = 1000, n = 1000, seed = 0, threads = 1, warmup = -1, leapfrog = 10;
    double step = 0, init_std = 1;
    cli_blr_flags bf;
    cli_blr_flags_default(&bf);
    const cli_opt base[] = {
        {"target", OPT_STRING, &target, cli_target_help, 0, 0, true},
        {"method", OPT_STRING, &method, "ula|mala|hmc|svgd", 0, 0, true},
        {"steps", OPT_INT, &steps, "steps K (sampling iterations after warm-up for MALA/HMC)", 1, 1e9, false},
        {"n", OPT_INT, &n, "chains (particles for SVGD)", 2, 1e8, false},
        CLI_SEED(&seed),
        {"out", OPT_OUTFILE, &out, "output .npy of the final states, (n, d) float32", 0, 0, true},
        {"step-size", OPT_DOUBLE, &step, "step size (0: the method's default)", 0, 1e6, false},
        {"warmup", OPT_INT, &warmup, "MALA/HMC warm-up steps adapting the step size (-1: method default)", -1, 1e9, false},
        {"leapfrog", OPT_INT, &leapfrog, "HMC leapfrog steps per iteration", 1, 100000, false},
        {"init-std", OPT_DOUBLE, &init_std, "chains start from N(0, init_std^2 I)", 1e-9, 1e6, false},
        CLI_THREADS(&threads),
    };
    cli_opt opts[sizeof base / sizeof base[0] + CLI_BLR_NOPTS];
    int nopts = cli_target_opts(opts, base, (int)(sizeof base / sizeof base[0]), &bf);
    int rc = cli_parse("mcmc", "Run Langevin (ula; SGLD with blr --minibatch), MALA, HMC or SVGD chains on a "
                            "target.", argc, argv, opts, nopts);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(method, "ula") && strcmp(method, "mala") && strcmp(method, "hmc") && strcmp(method, "svgd"))
        return cli_error("mcmc", "--method: unknown method '%s' (ula, mala, hmc, svgd)", method);
    const nis_dist *g = nis_mpi_group();
    if (g && (!target || strcmp(target, "blr")))
        return cli_error("mcmc", "under mpirun only --target blr runs as a group (its rows split)");
    bf.dist = g;
    cli_target ct;
    if ((rc = cli_target_open("mcmc", target, &bf, (uint64_t)seed, &ct))) return rc;
    const nis_target *t = ct.t;
    if (t->stochastic && (!strcmp(method, "mala") || !strcmp(method, "hmc"))) {
        cli_target_close(&ct);
        return cli_error("mcmc", "--minibatch: %s needs the exact log density; use ula (SGLD) or svgd, or the "
                             "full batch", method);
    }
    nis_set_threads((int)threads);
    cli_init_json();
    int d = t->dim;
    nis_real *x = nis_malloc((size_t)n * (size_t)d * sizeof *x);
    if (!x) {
        cli_target_close(&ct);
        return cli_error("mcmc", "out of memory for %lld chains", (long long)n);
    }
    if ((rc = nis_mpi_agree(0)) != 0) {   /* another rank could not start: it has said why */
        nis_free(x);
        cli_target_close(&ct);
        return rc;
    }
    nis_rng rng = nis_rng_init((uint64_t)seed, NIS_STREAM_MCMC);
    nis_mcmc_init_normal(&rng, x, n, d, 0, init_std);
    nis_mcmc_stats s = {0};
    char err[512] = "";
    nis_status st;
    double used = 0;   /* the step size the chains ran with (the flag's, or the method's default) */
    if (!strcmp(method, "ula")) {
        nis_ula_config c = nis_ula_defaults();
        c.steps = steps;
        if (step > 0) c.step_size = step;
        used = c.step_size;
        st = nis_ula_run(t, &c, &rng, x, n, &s, err, sizeof err);
    } else if (!strcmp(method, "mala")) {
        nis_mala_config c = nis_mala_defaults();
        c.steps = steps;
        if (step > 0) c.step_size = step;
        used = c.step_size;
        if (warmup >= 0) c.warmup = warmup;
        st = nis_mala_run(t, &c, &rng, x, n, NULL, &s, err, sizeof err);
    } else if (!strcmp(method, "hmc")) {
        nis_hmc_config c = nis_hmc_defaults();
        c.steps = steps;
        c.n_leapfrog = (int)leapfrog;
        if (step > 0) c.step_size = step;
        used = c.step_size;
        if (warmup >= 0) c.warmup = warmup;
        st = nis_hmc_run(t, &c, &rng, x, n, NULL, &s, err, sizeof err);
    } else {
        nis_svgd_config c = nis_svgd_defaults();
        c.steps = steps;
        if (step > 0) c.step_size = step;
        used = c.step_size;
        st = nis_svgd_run(t, &c, x, n, &s, err, sizeof err);
    }
    int status = 0;
    if (st == NIS_ENUMERIC) nis_mpi_failed_together();   /* the chains are the same on every rank, and so is their end */
    if (st == NIS_OK) nis_target_report(t, x, n);   /* e.g. chains that ran in the non-centred [v, log α] -> θ */
    if (st == NIS_ENUMERIC && !strstr(err, "initial")) {   /* chains that ran to NaN/Inf: the step size the user chose (or ours) is too large */
        status = cli_error("mcmc", "%s: the chains diverged; use a smaller --step-size (it was %g)", err, used);
    } else if (st != NIS_OK) {
        fprintf(stderr, "nis mcmc: %s\n", err);
        status = 1;
    } else if (!nis_mpi_root()) {   /* rank 0 writes the group's chains */
    } else if (nis_npy_write(out, NIS_DT_REAL, 2, (int64_t[]){n, d}, x, err, sizeof err) != NIS_OK) {
        fprintf(stderr, "nis mcmc: %s\n", err);
        status = 1;
    } else {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "target", t->name);
        cJSON_AddStringToObject(j, "method", method);
        cJSON_AddNumberToObject(j, "chains", (double)n);
        cJSON_AddNumberToObject(j, "steps", (double)s.steps);
        cli_json_number(j, "accept_rate", s.accept_rate);
        cli_json_number(j, "step_size", s.step_size);
        cJSON_AddNumberToObject(j, "grad_evals_per_chain", (double)s.grad_evals);
        cJSON_AddNumberToObject(j, "target_grad_evals_per_1000_samples", (double)s.grad_evals * 1000.0);
        cJSON_AddNumberToObject(j, "divergences", (double)s.divergences);
        cJSON_AddNumberToObject(j, "seconds", s.seconds);
        cJSON_AddNumberToObject(j, "seconds_per_1000_samples", s.seconds / (double)n * 1000);
        double acc, ll;
        if (ct.blr && nis_blr_predict(&ct.test, x, n, d, &acc, &ll) == NIS_OK) {
            cli_json_number(j, "test_accuracy", acc);
            cli_json_number(j, "test_loglik", ll);
        }
        char *line = cJSON_PrintUnformatted(j);
        printf("%s\n", line ? line : "{}");
        cJSON_free(line);
        cJSON_Delete(j);
    }
    nis_free(x);
    cli_target_close(&ct);
    return status;
}
