/* src/train/run.c — a training run with its files (nis_trainer_run): updates, periodic atomic saves of the
 * sampler and the whole training state, and a failure that names the state kept. */
#include "internal.h"

#include <stdio.h>

typedef struct {
    const nis_train_run_opts *o;
    nis_train_run_result *res;
    int64_t iters, every;
    char path[2][4096];
    bool save_failed;
} run_state;

static bool after_update(void *ud, nis_trainer *tr, const nis_train_stats *s) {
    run_state *r = ud;
    r->res->stats = *s;
    if (r->o->dir && (s->iter % r->every == 0 || s->iter == r->iters)) {
        if (nis_trainer_save(tr, r->path[0]) != NIS_OK ||
            nis_trainer_checkpoint(tr, r->path[1], r->o->n_meta, r->o->meta) != NIS_OK) {
            r->save_failed = true;
            return false;
        }
        r->res->last_saved = s->iter;
    }
    return !r->o->progress || r->o->progress(r->o->ud, tr, s);
}

nis_status nis_trainer_run(nis_trainer *tr, int64_t iters, const nis_train_run_opts *o, nis_train_run_result *res) {
    run_state r = {.o = o, .res = res, .iters = iters};
    int64_t todo = iters - tr->iter;
    r.every = o->every > 0 ? o->every : (iters / 10 > 0 ? iters / 10 : 1);
    *res = (nis_train_run_result){.last_saved = -1};
    if (o->dir) {
        snprintf(r.path[0], sizeof r.path[0], "%s/sampler.safetensors", o->dir);
        snprintf(r.path[1], sizeof r.path[1], "%s/checkpoint.safetensors", o->dir);
    }
    double t0 = nis_seconds(), c0 = nis_cpu_seconds();
    nis_status st = nis_trainer_train(tr, iters, after_update, &r);
    res->seconds = nis_seconds() - t0;
    res->cpu_seconds = nis_cpu_seconds() - c0;
    if (st == NIS_OK && r.save_failed) return NIS_EIO;
    if (st != NIS_OK) {   /* the update's message, and which files are kept */
        char why[600];
        long long u = (long long)tr->failed;
        snprintf(why, sizeof why, "%.599s", tr->msg);
        if (!o->dir) snprintf(tr->msg, sizeof tr->msg, "update %lld: %.600s", u, why);
        else if (res->last_saved >= 0)
            snprintf(tr->msg, sizeof tr->msg, "update %lld: %.600s; kept the last good sampler %.300s (update %lld)", u, why,
                     r.path[0], (long long)res->last_saved);
        else snprintf(tr->msg, sizeof tr->msg, "update %lld: %.600s; no sampler was saved", u, why);
        return st;
    }
    if (o->dir && todo <= 0) {   /* nothing to train (iters reached): the files still describe this trainer */
        if (nis_trainer_save(tr, r.path[0]) != NIS_OK || nis_trainer_checkpoint(tr, r.path[1], o->n_meta, o->meta) != NIS_OK)
            return NIS_EIO;
        res->last_saved = tr->iter;
    }
    return NIS_OK;
}
