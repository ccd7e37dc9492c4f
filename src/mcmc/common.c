/* src/mcmc/common.c — a sampler run's set-up, error reporting, batched target evaluation and streams. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void vwrite(char *err, size_t errlen, const char *method, const char *fmt, va_list ap) {
    if (!err || errlen == 0) return;
    int k = snprintf(err, errlen, "%s: ", method);
    if (k >= 0 && (size_t)k < errlen) vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
}

nis_status nis__mcmc_fail(nis__mcmc_run *r, nis_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vwrite(r->err, r->errlen, r->method, fmt, ap);
    va_end(ap);
    return s;
}

int64_t nis__mcmc_nonfinite_row(const nis_real *a, int64_t rows, int64_t width) {
    for (int64_t i = 0; i < rows; i++)
        for (int64_t k = 0; k < width; k++)
            if (!isfinite(a[i * width + k])) return i;
    return -1;
}

nis_status nis__mcmc_finite_score(nis__mcmc_run *r, const nis_real *x, nis_real *score, int64_t step,
                                  const char *unit) {
    nis_status s = nis__mcmc_eval(r, x, NULL, score, step);
    if (s != NIS_OK) return s;
    int64_t bad = nis__mcmc_nonfinite_row(score, r->n, r->dim);
    if (bad >= 0)
        return nis__mcmc_fail(r, NIS_ENUMERIC, "non-finite score at step %lld (%s %lld)", (long long)step, unit,
                              (long long)bad);
    return NIS_OK;
}

nis_status nis__mcmc_check_moved(nis__mcmc_run *r, const nis_real *x, int64_t step, const char *unit) {
    int64_t bad = nis__mcmc_nonfinite_row(x, r->n, r->dim);
    if (bad >= 0)
        return nis__mcmc_fail(r, NIS_ENUMERIC, "%s %lld left the finite numbers at step %lld", unit,
                              (long long)bad, (long long)step);
    return NIS_OK;
}

nis_status nis__mcmc_begin(nis__mcmc_run *r, const char *method, const nis_target *t, const nis_real *x,
                           int64_t n, int64_t n_min, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->method = method;
    r->err = err;
    r->errlen = errlen;
    if (err && errlen) err[0] = '\0';
    if (!t || !t->log_prob || t->dim < 1)
        return nis__mcmc_fail(r, NIS_EINVAL, "the target needs log_prob and dim >= 1");
    if (!x) return nis__mcmc_fail(r, NIS_EINVAL, "x is NULL");
    if (n < n_min) return nis__mcmc_fail(r, NIS_EINVAL, "needs n >= %lld chains, got %lld", (long long)n_min,
                                         (long long)n);
    r->t = t;
    r->n = n;
    r->dim = t->dim;
    int64_t bad = nis__mcmc_nonfinite_row(x, n, t->dim);
    if (bad >= 0) return nis__mcmc_fail(r, NIS_ENUMERIC, "initial point of chain %lld is not finite", (long long)bad);
    r->ctx = nis_ctx_new(0);
    if (!r->ctx) return nis__mcmc_fail(r, NIS_ENOMEM, "out of memory");
    r->t_start = nis_seconds();
    return NIS_OK;
}

nis_status nis__mcmc_end(nis__mcmc_run *r, nis_mcmc_stats *stats, nis_status s) {
    if (stats) {
        stats->grad_evals = r->n_score;
        stats->logq_evals = r->n_logq;
        stats->seconds = nis_seconds() - r->t_start;
    }
    nis_ctx_free(r->ctx);
    r->ctx = NULL;
    return s;
}

/* v holds n values (else the context fails naming `what`, and the shape and batch size). */
static bool sized(nis__mcmc_run *r, const nis_tensor *v, int64_t n, const char *what) {
    if (!v) {
        nis_ctx_fail(r->ctx, NIS_EINVAL, "%s returned NULL without an error", what);   /* kept if one is set */
        return false;
    }
    if (v->n == n) return true;
    char sh[64];
    nis_ctx_fail(r->ctx, NIS_ESHAPE, "%s returned shape %s for %lld points", what, nis_shape_str(v, sh, sizeof sh),
                 (long long)r->n);
    return false;
}

nis_status nis__mcmc_eval(nis__mcmc_run *r, const nis_real *x, nis_real *logq, nis_real *score, int64_t step) {
    nis_ctx *c = r->ctx;
    const nis_target *t = r->t;
    const int64_t n = r->n, nd = r->n * r->dim;
    nis_ctx_reset(c);
    /* the ops read x but never write it */
    nis_tensor *X = nis_tensor_wrap(c, 2, (int64_t[]){n, r->dim}, (nis_real *)x);
    if (score && !t->score) {
        /* log q and its gradient from one forward + backward pass */
        bool saved = nis_ctx_set_grad(c, true);
        nis_tensor *lp = t->log_prob(c, t, nis_requires_grad(X)), *g = NULL;
        if (sized(r, lp, n, "log_prob") && nis_grad(c, 1, &lp, NULL, 1, &X, false, &g) == NIS_OK &&
            sized(r, g, nd, "score")) {
            memcpy(score, g->data, (size_t)nd * sizeof *score);
            if (logq) memcpy(logq, lp->data, (size_t)n * sizeof *logq);
        }
        nis_ctx_set_grad(c, saved);
    } else {
        bool saved = nis_ctx_set_grad(c, false);
        nis_tensor *lp = logq ? t->log_prob(c, t, X) : NULL;
        if (lp && sized(r, lp, n, "log_prob")) memcpy(logq, lp->data, (size_t)n * sizeof *logq);
        nis_tensor *g = score ? nis_target_score(c, t, X, false) : NULL;
        if (g && sized(r, g, nd, "score")) memcpy(score, g->data, (size_t)nd * sizeof *score);
        nis_ctx_set_grad(c, saved);
    }
    if (nis_ctx_status(c) != NIS_OK)
        return nis__mcmc_fail(r, nis_ctx_status(c), "target %s failed at step %lld: %s",
                              t->name ? t->name : "(unnamed)", (long long)step, nis_ctx_message(c));
    if (score) r->n_score++;
    if (logq) r->n_logq++;
    return NIS_OK;
}

nis_rng *nis__mcmc_chain_rngs(nis_rng *rng, int64_t n) {
    nis_rng *rs = nis_malloc((size_t)n * sizeof *rs);
    if (!rs) return NULL;
    nis_rng base = nis_rng_split(rng, nis_rng_u64(rng));
    for (int64_t i = 0; i < n; i++) rs[i] = nis_rng_split(&base, (uint64_t)i);
    return rs;
}

void nis_mcmc_init_normal(nis_rng *rng, nis_real *x, int64_t n, int dim, double mean, double std) {
    nis_rng_fill_normal(rng, x, n * dim, mean, std);
}

void nis__tally_step(nis__tally *t, int64_t step, int64_t warmup, int64_t acc, int64_t diverged,
                     struct nis__adapter *ad, const double *prob, nis_real *draws, const nis_real *x, int64_t thin,
                     int64_t n, int d) {
    if (step <= warmup) {
        t->acc_warm += acc;
        t->done_warm++;
        nis__adapter_update(ad, prob);
        return;
    }
    t->acc_samp += acc;
    t->divergences += diverged;
    t->done_samp++;
    int64_t k = step - warmup;
    if (draws && k % thin == 0) memcpy(draws + (k / thin - 1) * n * d, x, (size_t)(n * d) * sizeof *x);
}

void nis__tally_report(const nis__tally *t, const struct nis__adapter *ad, int64_t n, nis_mcmc_stats *stats) {
    if (!stats) return;
    *stats = (nis_mcmc_stats){0};
    stats->accept_rate = t->done_samp ? (double)t->acc_samp / ((double)t->done_samp * n) : 0;
    stats->accept_rate_warmup = t->done_warm ? (double)t->acc_warm / ((double)t->done_warm * n) : 0;
    stats->divergences = t->divergences;
    stats->steps = t->done_warm + t->done_samp;
    nis__adapter_report(ad, stats);
}

nis_status nis__metropolis_start(nis__metropolis *m, nis__mcmc_run *r, bool bufs_ok, int64_t warmup,
                                 nis_adapt_mode mode, double eps0, double target_accept, const nis_real *x,
                                 nis_real *lq, nis_real *s) {
    memset(m, 0, sizeof *m);
    if (!bufs_ok || nis__adapter_init(&m->ad, warmup > 0 ? mode : NIS_ADAPT_NONE, r->n, eps0, target_accept) !=
                        NIS_OK)
        return nis__mcmc_fail(r, NIS_ENOMEM, "out of memory");
    nis_status st = nis__mcmc_eval(r, x, lq, s, 0);
    const int d = r->dim;
    for (int64_t i = 0; st == NIS_OK && i < r->n; i++)
        if (!isfinite(lq[i]) || !nis__row_finite(s + i * d, d))
            st = nis__mcmc_fail(r, NIS_ENUMERIC, "non-finite log q or score at the initial point of chain %lld "
                                                 "(step 0)", (long long)i);
    return st;
}

nis_status nis__metropolis_end(nis__metropolis *m, nis__mcmc_run *r, nis_mcmc_stats *stats, nis_status s) {
    nis__tally_report(&m->tally, &m->ad, r->n, stats);
    nis__adapter_free(&m->ad);
    return nis__mcmc_end(r, stats, s);
}
