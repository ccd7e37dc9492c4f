/* Data-parallel training (nis/dist.h) without MPI: a group of threads whose sum is a barrier and a loop in rank
 * order.  P ranks with batch B train the sampler one process trains with batch B (to float tolerance), every rank
 * holds the same bits, two runs of the same group are bit-identical, and an uneven batch is refused.  A BLR
 * likelihood split by rows over the ranks (nis_dist_sum / nis_dist_copy in its graph) has the whole data's log q,
 * score, HVP (hand-written and by double backward) and mode on every rank. */
#include "check.h"
#include "nis/blr.h"
#include "nis/data.h"
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

/* ---- the row-split BLR target ---- */
enum { BLR_B = 5 };
typedef struct {
    nis_dist d;
    const nis_dataset *ds;
    nis_blr_prior prior;
    const nis_real *x, *v;   /* (BLR_B, D) */
    nis_real lp[BLR_B], score[BLR_B * 64], hvp[BLR_B * 64], mode[64];
    bool grouped;
    nis_status st;
    char err[512];
} blr_job;

static void *blr_rank(void *arg) {
    blr_job *j = arg;
    nis_blr_opts o = nis_blr_defaults();
    o.prior = j->prior;
    o.dist = j->grouped ? &j->d : NULL;
    nis_target *t = nis_blr_target_new(j->ds, &o, j->err, sizeof j->err);
    j->st = NIS_EINVAL;
    if (!t) return NULL;
    nis_ctx *c = nis_ctx_new(0);
    int D = t->dim;
    nis_tensor *x = nis_new2(c, BLR_B, D), *v = nis_new2(c, BLR_B, D);
    memcpy(x->data, j->x, sizeof(nis_real) * BLR_B * D), memcpy(v->data, j->v, sizeof(nis_real) * BLR_B * D);
    nis_tensor *lp = t->log_prob(c, t, x), *sc = nis_target_score(c, t, x, false), *hv = nis_target_hvp(c, t, x, v);
    if (lp && sc && hv) {
        memcpy(j->lp, lp->data, sizeof(nis_real) * BLR_B);
        memcpy(j->score, sc->data, sizeof(nis_real) * BLR_B * D);
        memcpy(j->hvp, hv->data, sizeof(nis_real) * BLR_B * D);
        j->st = t->mode(t, j->mode, j->err, sizeof j->err);
    } else {
        snprintf(j->err, sizeof j->err, "%s", nis_ctx_message(c));
    }
    nis_ctx_free(c);
    nis_blr_target_free(t);
    return NULL;
}

/* Largest |a - b| / (1 + |b|) over n values. */
static double rel(const nis_real *a, const nis_real *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i])));
    return m;
}

static void blr_split(void) {
    nis_dataset ds;
    CHECK(nis_dataset_synthetic_logistic(101, 6, 2.0, 7, &ds, NULL) == NIS_OK, "synthetic data");
    nis_rng r = nis_rng_init(11, 0);
    nis_real x[BLR_B * 64], v[BLR_B * 64];
    nis_rng_fill_normal(&r, x, BLR_B * 64, 0, 0.5);
    nis_rng_fill_normal(&r, v, BLR_B * 64, 0, 1);
    const nis_blr_prior priors[] = {NIS_BLR_PRIOR_HIER, NIS_BLR_PRIOR_NORMAL, NIS_BLR_PRIOR_HIER_NC, NIS_BLR_PRIOR_HIER_MARG};
    for (int pi = 0; pi < 4; pi++) {
        blr_job one = {.ds = &ds, .prior = priors[pi], .x = x, .v = v};
        blr_rank(&one);
        CHECK(one.st == NIS_OK, "prior %d alone: %s", pi, one.err);
        const int D = 6 + (priors[pi] == NIS_BLR_PRIOR_HIER || priors[pi] == NIS_BLR_PRIOR_HIER_NC);
        for (int P = 2; P <= 3; P++) {
            static group g;
            blr_job jobs[MAX_RANKS];
            pthread_t th[MAX_RANKS];
            pthread_barrier_init(&g.bar, NULL, (unsigned)P);
            for (int k = 0; k < P; k++) {
                jobs[k] = (blr_job){.d = {.rank = k, .size = P, .sum_real = sum_real, .sum_double = sum_double, .ud = &g},
                                    .ds = &ds, .prior = priors[pi], .x = x, .v = v, .grouped = true};
                pthread_create(&th[k], NULL, blr_rank, &jobs[k]);
            }
            for (int k = 0; k < P; k++) pthread_join(th[k], NULL);
            pthread_barrier_destroy(&g.bar);
            for (int k = 0; k < P; k++) {
                CHECK(jobs[k].st == NIS_OK, "prior %d, P = %d, rank %d: %s", pi, P, k, jobs[k].err);
                double e[4] = {rel(jobs[k].lp, one.lp, BLR_B), rel(jobs[k].score, one.score, BLR_B * D),
                               rel(jobs[k].hvp, one.hvp, BLR_B * D), rel(jobs[k].mode, one.mode, D)};
                CHECK(e[0] < 1e-5 && e[1] < 1e-5 && e[2] < 1e-5 && e[3] < 1e-4,
                      "prior %d, P = %d, rank %d: log q %g, score %g, HVP %g, mode %g from the unsplit target", pi, P, k,
                      e[0], e[1], e[2], e[3]);
                if (k == 0 && P == 2)
                    printf("blr prior %d split over 2 ranks: largest relative difference log q %.2g, score %.2g, HVP %.2g, "
                           "mode %.2g\n", pi, e[0], e[1], e[2], e[3]);
            }
        }
    }
    nis_blr_opts o = nis_blr_defaults();
    nis_dist d = {.rank = 0, .size = 2, .sum_real = sum_real, .sum_double = sum_double};
    o.dist = &d, o.minibatch = 10;
    char err[256];
    CHECK(nis_blr_target_new(&ds, &o, err, sizeof err) == NULL && strstr(err, "full batch"), "minibatch + split: %s", err);
    nis_dataset_free(&ds);
}

int main(void) {
    blr_split();

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
