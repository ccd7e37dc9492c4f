/* src/dist/mpi.h — the CLI's process group (nis/dist.h) over MPI, when nis is built with it (NIS_MPI) and launched
 * by mpirun.  Without MPI, or outside mpirun, every function says "alone" and nothing else happens. */
#ifndef NIS_SRC_DIST_MPI_H
#define NIS_SRC_DIST_MPI_H

#include "nis/dist.h"

#include <stdbool.h>

/* Join the group when this process was launched by an MPI launcher (its environment says so): MPI_Init, then the
 * group of every rank of MPI_COMM_WORLD.  NULL when alone.  Call once, at the start of main. */
const nis_dist *nis_mpi_join(int *argc, char ***argv);
/* The group joined (NULL: alone). */
const nis_dist *nis_mpi_group(void);
/* What this rank has summed with the others so far: calls and values (float or double), for the scaling model. */
void nis_mpi_traffic(int64_t *calls, int64_t *values);
/* True on rank 0 or when alone: the process that writes files and prints. */
bool nis_mpi_root(void);
/* Agree on a status: the largest of every rank's (0 = success), so that a failure on one rank (a file it cannot
 * read) stops all of them together instead of leaving the others waiting.  The ranks other than 0 hold back what
 * they write to stderr: a failure that rank 0 reports too (the same flags on every rank) is printed once, by rank
 * 0; one that only other ranks have is printed by the lowest of them.  Alone: status itself. */
int nis_mpi_agree(int status);
/* Mark the failure being returned as one every rank has (a loss that is not finite: the losses are averaged), so
 * that nis_mpi_leave ends the group quietly instead of aborting it; ranks other than 0 do not print it. */
void nis_mpi_failed_together(void);
/* Leave the group with the command's exit status.  A failure before the command's first agreement (bad flags, a file
 * this rank cannot read) is agreed on here, so that it is every rank's and the ranks still setting up stop too.
 * Then MPI_Finalize after a success or a failure every rank shares; after any other failure, MPI_Abort (so no rank
 * is left waiting in a sum for one that has stopped), with this rank's held-back message printed first.  Alone:
 * status.  Returns the status to exit with. */
int nis_mpi_leave(int status);

#endif
