/* src/cli/commands.h — the subcommands of the nis tool.  Each takes the arguments after its name and
 * returns the process exit status: 0 success, 1 a run that failed (numerics, I/O), 2 bad input. */
#ifndef NIS_CLI_COMMANDS_H
#define NIS_CLI_COMMANDS_H

int cmd_demo(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_mcmc(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_classifier(int argc, char **argv);   /* `nis classifier train`, in cmd_classifier.c */
int cmd_fid(int argc, char **argv);          /* in cmd_classifier.c */
int cmd_classify(int argc, char **argv);     /* in cmd_classifier.c */
int cmd_ebm(int argc, char **argv);
int cmd_ebm_sampler(int argc, char **argv);   /* `nis ebm sampler`, in cmd_ebm_sampler.c */
int cmd_ebm_sample(int argc, char **argv);    /* `nis ebm sample` = `nis sample`, in cmd_sample.c */

#endif
