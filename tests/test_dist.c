/* Data-parallel training (nis/dist.h) without MPI: a group of threads whose sum is a barrier and a loop in rank
 * order.  P ranks with batch B train the sampler one process trains with batch B (to float tolerance), every rank
 * holds the same bits, two runs of the same group are bit-identical, and an uneven batch is refused. */
#include "check.h"
#include "nis/dist.h"
#include "nis/target.h"
#include "nis/train.h"

#include <pthread.h>
#include <string.h>

enum { MAX_RANKS = 4, MAX_N = 1 << 16 };

/* The threads' shared state: every rank writes its vector into its slot, and after a barrier each sums the slots
 * in rank order (so every rank gets the same bits), then waits again before the slots are reused. */
typedef struct {
    pthread_barrier_t bar;
    double slot[MAX_RANKS][MAX_N];
} group;

typedef struct {
    nis_dist d;
    group *g;
    const nis_train_config *cfg;
    int64_t iters;
    nis_real *out;     /* the generator's parameters after training, then the score network's */
    int64_t n_out;
    nis_status st;
    char err[512];
} rank_job;

static nis_status sum_any(const nis_dist *d, void *x, bool dbl, int64_t n, char *err, size_t errlen) {
    group *g = d->ud;
    if (n > MAX_N) {
        snprintf(err, errlen, "test group: %lld values is more than the slots hold", (long long)n);
        return NIS_EINVAL;
    }
    for (int64_t i = 0; i < n; i++) g->slot[d->rank][i] = dbl ? ((double *)x)[i] : ((nis_real *)x)[i];
    pthread_barrier_wait(&g->bar);
    for (int64_t i = 0; i < n; i++) {
        if (dbl) {
            double s = 0;
            for (int r = 0; r < d->size; r++) s += g->slot[r][i];
            ((double *)x)[i] = s;
        } else {
            nis_real s = 0;
            for (int r = 0; r < d->size; r++) s += (nis_real)g->slot[r][i];
            ((nis_real *)x)[i] = s;
        }
    }
    pthread_barrier_wait(&g->bar);
    return NIS_OK;
}
static nis_status sum_real(const nis_dist *d, nis_real *x, int64_t n, char *err, size_t errlen) {
    return sum_any(d, x, false, n, err, errlen);
}
static nis_status sum_double(const nis_dist *d, double *x, int64_t n, char *err, size_t errlen) {
    return sum_any(d, x, true, n, err, errlen);
}

/* Train one rank (or the lone process when job->g is NULL) and copy out its parameters. */
static void *train_rank(void *arg) {
    rank_job *j = arg;
    j->st = NIS_EINVAL;
    nis_trainer *tr = nis_trainer_new(nis_target_2d("donut"), j->cfg, NULL, j->err, sizeof j->err);
    if (!tr) return NULL;
    if (j->g && (j->st = nis_trainer_set_dist(tr, &j->d, j->err, sizeof j->err)) != NIS_OK) {
        nis_trainer_free(tr);
        return NULL;
    }
    if ((j->st = nis_trainer_train(tr, j->iters, NULL, NULL)) != NIS_OK)
        snprintf(j->err, sizeof j->err, "%s", nis_trainer_message(tr));
    const nis_params *G = nis_trainer_generator(tr), *S = nis_trainer_score_net(tr);
    j->n_out = G->n + S->n;
    j->out = malloc((size_t)j->n_out * sizeof *j->out);
    memcpy(j->out, G->data, (size_t)G->n * sizeof *j->out);
    memcpy(j->out + G->n, S->data, (size_t)S->n * sizeof *j->out);
    nis_trainer_free(tr);
    return NULL;
}

/* Run a group of P threads (P = 1: one process, no group) for `iters` updates; jobs[r].out holds rank r's result. */
static void run_group(int P, const nis_train_config *cfg, int64_t iters, rank_job *jobs) {
    static group g;
    pthread_t th[MAX_RANKS];
    if (P > 1) pthread_barrier_init(&g.bar, NULL, (unsigned)P);
    for (int r = 0; r < P; r++) {
        jobs[r] = (rank_job){.d = {.rank = r, .size = P, .sum_real = sum_real, .sum_double = sum_double, .ud = &g},
                             .g = P > 1 ? &g : NULL, .cfg = cfg, .iters = iters};
        pthread_create(&th[r], NULL, train_rank, &jobs[r]);
    }
    for (int r = 0; r < P; r++) pthread_join(th[r], NULL);
    if (P > 1) pthread_barrier_destroy(&g.bar);
    for (int r = 0; r < P; r++) CHECK(jobs[r].st == NIS_OK, "P = %d rank %d: %s", P, r, jobs[r].err);
}

static double max_diff(const rank_job *a, const rank_job *b) {
    double m = 0;
    for (int64_t i = 0; i < a->n_out && i < b->n_out; i++) m = fmax(m, fabs((double)a->out[i] - b->out[i]));
    return a->n_out == b->n_out ? m : INFINITY;
}

static void free_jobs(rank_job *jobs, int P) {
    for (int r = 0; r < P; r++) free(jobs[r].out), jobs[r].out = NULL;
}

int main(void) {
    /* the shares: contiguous, in rank order, covering n */
    int64_t a, b, prev = 0;
    for (int r = 0; r < 3; r++) {
        nis_dist_share(10, r, 3, &a, &b);
        CHECK(a == prev && b >= a && b - a >= 3 && b - a <= 4, "share of rank %d: [%lld, %lld)", r, (long long)a,
              (long long)b);
        prev = b;
    }
    CHECK(prev == 10, "the shares cover n");

    for (int method = 0; method < 2; method++) {   /* DFT (residual score model, antithetic pairs), then KL */
        nis_train_config c = nis_train_config_default(method == 0 ? NIS_METHOD_DFT : NIS_METHOD_KL);
        c.batch = 64;
        c.width = c.score_width = 16;
        c.init_steps = 20;
        c.seed = 5;
        const int64_t iters = 30;
        rank_job one[1], two[2], again[2], four[4];
        run_group(1, &c, iters, one);
        run_group(2, &c, iters, two);
        run_group(2, &c, iters, again);
        run_group(4, &c, iters, four);
        if (!one[0].out || !two[0].out || !two[1].out || !again[0].out || !four[3].out) return check_done("test_dist");
        CHECK(two[0].n_out == two[1].n_out && !memcmp(two[0].out, two[1].out, (size_t)two[0].n_out * sizeof(nis_real)),
              "method %d: the ranks' parameters differ", method);
        CHECK(!memcmp(two[0].out, again[0].out, (size_t)two[0].n_out * sizeof(nis_real)),
              "method %d: two runs of the same group differ", method);
        for (int r = 1; r < 4; r++)
            CHECK(!memcmp(four[0].out, four[r].out, (size_t)four[0].n_out * sizeof(nis_real)),
                  "method %d: P = 4, rank %d differs from rank 0", method, r);
        /* one process and the groups: the same draws, sums in another order (rounding grows over the updates) */
        double d2 = max_diff(&one[0], &two[0]), d4 = max_diff(&one[0], &four[0]);
        printf("method %d, %lld updates: largest parameter difference P = 2: %.3g, P = 4: %.3g\n", method,
               (long long)iters, d2, d4);
        CHECK(d2 < 1e-4 && d4 < 1e-4, "method %d: P = 2 / 4 against one process: %g / %g", method, d2, d4);
        free_jobs(one, 1), free_jobs(two, 2), free_jobs(again, 2), free_jobs(four, 4);
    }

    /* a batch that does not split evenly (antithetic pairs: 64 rows are 32 pairs; 3 ranks do not divide them) */
    {
        nis_train_config c = nis_train_config_default(NIS_METHOD_DFT);
        c.batch = 64, c.width = c.score_width = 16, c.init_steps = 0;
        char err[256];
        nis_trainer *tr = nis_trainer_new(nis_target_2d("donut"), &c, NULL, err, sizeof err);
        nis_dist d = {.rank = 0, .size = 3, .sum_real = sum_real, .sum_double = sum_double};
        CHECK(tr && nis_trainer_set_dist(tr, &d, err, sizeof err) == NIS_EINVAL && strstr(err, "3 ranks"), "%s", err);
        d.rank = 3;
        CHECK(tr && nis_trainer_set_dist(tr, &d, err, sizeof err) == NIS_EINVAL && strstr(err, "rank"), "%s", err);
        nis_trainer_free(tr);
    }
    return check_done("test_dist");
}
