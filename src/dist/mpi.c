/* src/dist/mpi.c — nis/dist.h over MPI (built with NIS_WITH_MPI; otherwise the "alone" stubs at the end).
 *
 * Sums are MPI_Reduce to rank 0 and MPI_Bcast back: the same bits on every rank whatever reduction order the MPI
 * library picks (an MPI_Allreduce may combine in a different order on different ranks), so the ranks' parameters
 * stay identical; two messages where one would do, which docs/scaling.md counts. */
#include "mpi.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef NIS_WITH_MPI
#include <limits.h>
#include <mpi.h>
#include <unistd.h>

static nis_dist group;
static bool joined;
static int64_t n_calls, n_values;   /* nis_mpi_traffic */

static bool launched_by_mpi(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

static nis_status sum(void *x, int64_t n, MPI_Datatype t, size_t size, char *err, size_t errlen) {
    n_calls++, n_values += n;
    for (int64_t off = 0; off < n; off += INT_MAX / 2) {   /* MPI counts are ints */
        int c = (int)(n - off < INT_MAX / 2 ? n - off : INT_MAX / 2), rc;
        char *p = (char *)x + (size_t)off * size;
        rc = group.rank == 0 ? MPI_Reduce(MPI_IN_PLACE, p, c, t, MPI_SUM, 0, MPI_COMM_WORLD)
                             : MPI_Reduce(p, NULL, c, t, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rc == MPI_SUCCESS) rc = MPI_Bcast(p, c, t, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            char s[MPI_MAX_ERROR_STRING];
            int len = 0;
            MPI_Error_string(rc, s, &len);
            snprintf(err, errlen, "MPI sum over %d ranks failed: %s", group.size, s);
            return NIS_EIO;
        }
    }
    return NIS_OK;
}

static nis_status sum_real(const nis_dist *d, nis_real *x, int64_t n, char *err, size_t errlen) {
    (void)d;
    return sum(x, n, sizeof(nis_real) == sizeof(double) ? MPI_DOUBLE : MPI_FLOAT, sizeof(nis_real), err, errlen);
}

static nis_status sum_double(const nis_dist *d, double *x, int64_t n, char *err, size_t errlen) {
    (void)d;
    return sum(x, n, MPI_DOUBLE, sizeof(double), err, errlen);
}

/* Ranks other than 0 write stdout nowhere and stderr into a temporary file (held_fd: the real stderr), which goes
 * to the real stderr only when that rank alone has something to say (nis_mpi_agree, nis_mpi_leave). */
static FILE *held;
static int held_fd = -1;
static bool together, agreed;   /* the failure is every rank's; an agreement has happened */

static void hold_output(void) {
    fflush(stdout), fflush(stderr);
    if (!freopen("/dev/null", "w", stdout)) { /* stdout stays: the ranks' output doubles, nothing worse */ }
    if (!(held = tmpfile())) return;
    held_fd = dup(2);
    if (held_fd < 0 || dup2(fileno(held), 2) < 0) fclose(held), held = NULL;
}

/* What stderr holds: with `print` to the real stderr; then emptied (stderr stays held). */
static void flush_held(bool print) {
    if (!held) return;
    fflush(stderr);
    rewind(held);   /* (fd 2 shares this file offset) */
    if (print) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, held)) > 0)
            if (write(held_fd, buf, n) < 0) break;
        rewind(held);
    }
    if (ftruncate(fileno(held), 0) != 0) { /* the held text then grows: it is only ever printed once more */ }
}

const nis_dist *nis_mpi_join(int *argc, char ***argv) {
    if (joined || !launched_by_mpi()) return joined ? &group : NULL;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "nis: MPI_Init failed; run without mpirun, or check the MPI installation\n");
        exit(1);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &group.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &group.size);
    group.sum_real = sum_real, group.sum_double = sum_double;
    joined = true;
    if (group.rank > 0) hold_output();
    return &group;
}

const nis_dist *nis_mpi_group(void) { return joined ? &group : NULL; }
bool nis_mpi_root(void) { return !joined || group.rank == 0; }
void nis_mpi_traffic(int64_t *calls, int64_t *values) { *calls = n_calls, *values = n_values; }

int nis_mpi_agree(int status) {
    if (!joined) return status;
    agreed = true;
    /* the worst status, rank 0's, and the lowest failing rank */
    int mine[2] = {status, status ? group.rank : INT_MAX}, all[2] = {status, INT_MAX}, root = status;
    if (MPI_Allreduce(&mine[0], &all[0], 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(&mine[1], &all[1], 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Bcast(&root, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
        flush_held(true);
        return status ? status : 1;
    }
    /* rank 0 reported it (its stderr is not held), or the lowest failing rank does */
    flush_held(status && !root && group.rank == all[1]);
    if (all[0]) together = true;
    return all[0];
}

void nis_mpi_failed_together(void) { together = true; }

int nis_mpi_leave(int status) {
    if (!joined) return status;
    if (status && !agreed) status = nis_mpi_agree(status);
    if (status && !together) {
        flush_held(true);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    flush_held(false);
    MPI_Finalize();
    return status;
}

#else   /* built without MPI: always alone */

const nis_dist *nis_mpi_join(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE") ? getenv("OMPI_COMM_WORLD_SIZE") : getenv("PMI_SIZE");
    if (n && atoi(n) > 1) {   /* P copies of one run, each writing the same files: refuse */
        fprintf(stderr, "nis: launched by an MPI launcher with %s ranks, but this nis was built without MPI "
                        "(install libopenmpi-dev and rebuild: docs/scaling.md)\n", n);
        exit(2);
    }
    return NULL;
}
const nis_dist *nis_mpi_group(void) { return NULL; }
bool nis_mpi_root(void) { return true; }
void nis_mpi_traffic(int64_t *calls, int64_t *values) { *calls = 0, *values = 0; }
int nis_mpi_agree(int status) { return status; }
void nis_mpi_failed_together(void) {}
int nis_mpi_leave(int status) { return status; }

#endif
