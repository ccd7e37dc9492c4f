/* src/targets/blr.c — the Bayesian logistic regression posterior (nis/blr.h): log p, a hand-written score and
 * HVP (all with ops, so each stays differentiable), minibatches, and the posterior predictive.
 *
 * With u_i = w·a_i, a_i = -(2 y_i - 1) x_i (stored once), the log-likelihood is -Σ_i softplus(u_i); its
 * gradient -Σ_i σ(u_i) a_i and its Hessian -Σ_i σ(u_i)(1 - σ(u_i)) a_i a_iᵀ.  For a batch W (B, d) and rows
 * A (M, d): U = W Aᵀ (B, M), one GEMM. */
#include "nis/blr.h"
#include "nis/ops.h"
#include "nis/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    nis_target t;          /* first member: the target returned is &b->t; its data points back to b, and the
                            * callbacks use t->data, so a copy of the nis_target (e.g. with score = NULL to
                            * force autodiff) shares the data and the minibatch stream */
    int64_t N, d;          /* rows and features */
    nis_real *A;           /* (N, d): -(2 y_i - 1) x_i */
    nis_blr_opts o;
    int64_t M;             /* minibatch rows (N when full batch) */
    uint32_t *perm;        /* minibatch only: a permutation of 0..N-1, partially reshuffled per draw */
    nis_rng rng;           /* minibatch draws */
} blr;

nis_blr_opts nis_blr_defaults(void) {
    nis_blr_opts o = {.prior = NIS_BLR_PRIOR_HIER, .minibatch = 0, .gamma_shape = 1.0, .gamma_rate = 0.01, .seed = 0};
    return o;
}

static const char *const prior_names[] = {"hier", "normal", "hier-nc", "hier-marg"};

const char *nis_blr_prior_name(nis_blr_prior p) {
    return (int)p >= 0 && (int)p < 4 ? prior_names[p] : "?";
}

bool nis_blr_prior_parse(const char *name, nis_blr_prior *out) {
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, prior_names[i])) {
            *out = (nis_blr_prior)i;
            return true;
        }
    return false;
}

nis_blr_prior nis_blr_prior_for_sampler(nis_blr_prior p) { return p == NIS_BLR_PRIOR_HIER ? NIS_BLR_PRIOR_HIER_NC : p; }

/* The rows for one evaluation: all of A (a view), or M rows drawn without replacement (partial Fisher-Yates
 * on the persistent permutation) copied into the arena.  *scale receives N / M. */
static nis_tensor *rows(nis_ctx *c, const nis_target *t, double *scale) {
    blr *b = t->data;
    if (b->M >= b->N) {
        *scale = 1.0;
        return nis_tensor_wrap(c, 2, (int64_t[]){b->N, b->d}, b->A);
    }
    nis_tensor *R = nis_new2(c, b->M, b->d);
    if (!R) return NULL;
    for (int64_t k = 0; k < b->M; k++) {
        int64_t j = k + (int64_t)nis_rng_below(&b->rng, (uint32_t)(b->N - k));
        uint32_t tmp = b->perm[k];
        b->perm[k] = b->perm[j], b->perm[j] = tmp;
        memcpy(R->data + k * b->d, b->A + (int64_t)b->perm[k] * b->d, (size_t)b->d * sizeof(nis_real));
    }
    *scale = (double)b->N / (double)b->M;
    return R;
}

/* The group the rows are split over (NULL: all rows here). */
static const nis_dist *group(const blr *b) { return b->o.dist && b->o.dist->size > 1 ? b->o.dist : NULL; }

/* True if θ has a log α coordinate (HIER, HIER_NC). */
static bool has_alpha(const blr *b) { return b->o.prior == NIS_BLR_PRIOR_HIER || b->o.prior == NIS_BLR_PRIOR_HIER_NC; }

/* w = θ[:, :d] (B, d); for HIER/HIER_NC also log α = θ[:, d] as (B, 1). */
static nis_tensor *weights(nis_ctx *c, const blr *b, nis_tensor *x, nis_tensor **loga) {
    *loga = has_alpha(b) ? nis_slice(c, x, 1, b->d, 1) : NULL;
    return nis_slice(c, x, 1, 0, b->d);
}

static bool shape_ok(nis_ctx *c, const nis_target *t, nis_tensor *x, const char *what) {
    if (!x) return false;
    if (x->ndim != 2 || x->shape[1] != t->dim) {
        char s[64];
        nis_ctx_fail(c, NIS_ESHAPE, "blr %s: x must be (B, %d), got %s", what, t->dim, nis_shape_str(x, s, sizeof s));
        return false;
    }
    return true;
}

static nis_tensor *blr_log_prob(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    const blr *b = t->data;
    if (!shape_ok(c, t, x, "log_prob")) return NULL;
    double scale;
    nis_tensor *A = rows(c, t, &scale), *la, *lal;
    nis_tensor *w = weights(c, b, x, &la), *v = NULL;
    /* the likelihood: this rank's rows at a copy of x (its gradient summed over the ranks), summed over the ranks */
    nis_tensor *wl = group(b) ? weights(c, b, nis_dist_copy(c, group(b), x), &lal) : w;
    if (!group(b)) lal = la;
    if (b->o.prior == NIS_BLR_PRIOR_HIER_NC) {
        v = w, w = nis_mul(c, v, nis_exp(c, nis_mul_scalar(c, la, -0.5)));
        wl = group(b) ? nis_mul(c, wl, nis_exp(c, nis_mul_scalar(c, lal, -0.5))) : w;
    }
    nis_tensor *ll = nis_mul_scalar(c, nis_sum_axis(c, nis_softplus(c, nis_matmul(c, wl, A, false, true)), 1, false),
                                    -scale);
    ll = nis_dist_sum(c, group(b), ll);
    if (v) {   /* non-centred: − ‖v‖²/2 + a log α − b α */
        nis_tensor *a = nis_reshape(c, la, 1, (int64_t[]){x->shape[0]});
        nis_tensor *p = nis_sub(c, nis_mul_scalar(c, a, b->o.gamma_shape), nis_mul_scalar(c, nis_exp(c, a), b->o.gamma_rate));
        return nis_add(c, ll, nis_sub(c, p, nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, v), 1, false), 0.5)));
    }
    nis_tensor *ww = nis_sum_axis(c, nis_square(c, w), 1, false);   /* (B,) */
    if (b->o.prior == NIS_BLR_PRIOR_NORMAL) return nis_sub(c, ll, nis_mul_scalar(c, ww, 0.5));
    if (b->o.prior == NIS_BLR_PRIOR_HIER_MARG)   /* − (a + d/2) log(b + ‖w‖²/2) */
        return nis_sub(c, ll, nis_mul_scalar(c, nis_log(c, nis_add_scalar(c, nis_mul_scalar(c, ww, 0.5), b->o.gamma_rate)),
                                             b->o.gamma_shape + 0.5 * (double)b->d));
    int64_t B = x->shape[0];
    nis_tensor *a = nis_reshape(c, la, 1, (int64_t[]){B});
    nis_tensor *prior = nis_sub(c, nis_mul_scalar(c, a, 0.5 * (double)b->d + b->o.gamma_shape),
                                nis_mul(c, nis_exp(c, a), nis_add_scalar(c, nis_mul_scalar(c, ww, 0.5), b->o.gamma_rate)));
    return nis_add(c, ll, prior);
}

/* ∇ log p: [-s Σ σ(u_i) a_i - α w, (d/2 + a) - α(‖w‖²/2 + b)] (HIER) or -s Σ σ(u_i) a_i - w (NORMAL). */
static nis_tensor *blr_score(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    const blr *b = t->data;
    if (!shape_ok(c, t, x, "score")) return NULL;
    double scale;
    nis_tensor *A = rows(c, t, &scale), *la, *lal;
    nis_tensor *w = weights(c, b, x, &la), *wl = group(b) ? weights(c, b, nis_dist_copy(c, group(b), x), &lal) : w;
    nis_tensor *S = nis_sigmoid(c, nis_matmul(c, wl, A, false, true));          /* (B, M) */
    nis_tensor *gl = nis_mul_scalar(c, nis_matmul(c, S, A, false, false), -scale);   /* (B, d) */
    gl = nis_dist_sum(c, group(b), gl);
    if (b->o.prior == NIS_BLR_PRIOR_NORMAL) return nis_sub(c, gl, w);
    nis_tensor *ea = nis_exp(c, la);                                               /* (B, 1) */
    nis_tensor *gw = nis_sub(c, gl, nis_mul(c, ea, w));
    nis_tensor *ww = nis_sum_axis(c, nis_square(c, w), 1, true);                   /* (B, 1) */
    nis_tensor *ga = nis_rsub_scalar(c, nis_mul(c, ea, nis_add_scalar(c, nis_mul_scalar(c, ww, 0.5), b->o.gamma_rate)),
                                     0.5 * (double)b->d + b->o.gamma_shape);
    nis_tensor *parts[2] = {gw, ga};
    return nis_concat(c, 2, parts, 1);
}

/* (∇² log p) v:  w-part -s Σ σ'(u_i)(a_i·v_w) a_i - α(v_w + w v_a);  α-part -α(w·v_w) - α(‖w‖²/2 + b) v_a. */
static nis_tensor *blr_hvp(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    const blr *b = t->data;
    if (!shape_ok(c, t, x, "hvp") || !shape_ok(c, t, v, "hvp")) return NULL;
    double scale;
    nis_tensor *A = rows(c, t, &scale), *la, *va;
    nis_tensor *w = weights(c, b, x, &la), *vw = weights(c, b, v, &va);
    nis_tensor *S = nis_sigmoid(c, nis_matmul(c, w, A, false, true));
    nis_tensor *D = nis_mul(c, S, nis_rsub_scalar(c, S, 1.0));                     /* σ(1 - σ) */
    nis_tensor *Av = nis_matmul(c, vw, A, false, true);                            /* (B, M) */
    nis_tensor *hl = nis_mul_scalar(c, nis_matmul(c, nis_mul(c, D, Av), A, false, false), -scale);
    hl = nis_dist_sum(c, group(b), hl);   /* (not differentiated further: no copy of x needed) */
    if (b->o.prior == NIS_BLR_PRIOR_NORMAL) return nis_sub(c, hl, vw);
    nis_tensor *ea = nis_exp(c, la);
    nis_tensor *hw = nis_sub(c, hl, nis_mul(c, ea, nis_add(c, vw, nis_mul(c, w, va))));
    nis_tensor *wv = nis_sum_axis(c, nis_mul(c, w, vw), 1, true);
    nis_tensor *ww = nis_sum_axis(c, nis_square(c, w), 1, true);
    nis_tensor *k = nis_add_scalar(c, nis_mul_scalar(c, ww, 0.5), b->o.gamma_rate);
    nis_tensor *ha = nis_neg(c, nis_mul(c, ea, nis_add(c, wv, nis_mul(c, k, va))));
    nis_tensor *parts[2] = {hw, ha};
    return nis_concat(c, 2, parts, 1);
}

nis_target *nis_blr_target_new(const nis_dataset *train, const nis_blr_opts *o, char *err, size_t errlen) {
    nis_blr_opts opts = o ? *o : nis_blr_defaults();
    const char *bad = NULL;
    if (!train || train->n < 1 || train->d < 1 || !train->X || !train->y) bad = "the training data is empty";
    else if (opts.prior != NIS_BLR_PRIOR_HIER && opts.prior != NIS_BLR_PRIOR_NORMAL &&
             opts.prior != NIS_BLR_PRIOR_HIER_NC && opts.prior != NIS_BLR_PRIOR_HIER_MARG) bad = "unknown prior";
    else if (opts.minibatch < 0) bad = "minibatch must be >= 0";
    else if (opts.dist && opts.dist->size > 1 && opts.minibatch > 0 && opts.minibatch < train->n)
        bad = "a likelihood split over ranks is full batch (no minibatch)";
    else if (opts.dist && opts.dist->size > 1 && train->n < opts.dist->size) bad = "fewer rows than ranks";
    else if (opts.prior != NIS_BLR_PRIOR_NORMAL && !(opts.gamma_shape > 0 && opts.gamma_rate > 0))
        bad = "the Gamma prior needs shape > 0 and rate > 0";
    else if (train->n > (int64_t)UINT32_MAX) bad = "too many rows (at most 2^32 - 1)";
    else if (train->d > (1 << 20)) bad = "too many features (at most 2^20)";
    if (bad) {
        snprintf(err, errlen, "blr: %s", bad);
        return NULL;
    }
    for (int64_t i = 0; i < train->n; i++)
        if (train->y[i] != 0.0f && train->y[i] != 1.0f) {
            snprintf(err, errlen, "blr: label of row %lld is %g, not 0 or 1", (long long)i + 1, (double)train->y[i]);
            return NULL;
        }
    for (int64_t i = 0; i < train->n * train->d; i++)
        if (!isfinite(train->X[i])) {
            snprintf(err, errlen, "blr: feature %lld of row %lld is not finite", (long long)(i % train->d) + 1,
                     (long long)(i / train->d) + 1);
            return NULL;
        }
    blr *b = nis_calloc(1, sizeof *b);
    int64_t N = train->n, d = train->d, r0 = 0, r1 = N;   /* this rank's rows [r0, r1) */
    if (opts.dist && opts.dist->size > 1) nis_dist_share(N, opts.dist->rank, opts.dist->size, &r0, &r1);
    N = r1 - r0;
    bool mb = opts.minibatch > 0 && opts.minibatch < N;
    if (b) b->A = nis_malloc((size_t)(N * d) * sizeof(nis_real));
    if (b && mb) b->perm = nis_malloc((size_t)N * sizeof(uint32_t));
    if (!b || !b->A || (mb && !b->perm)) {
        if (b) nis_free(b->A), nis_free(b->perm);
        nis_free(b);
        snprintf(err, errlen, "blr: out of memory for %lld x %lld data", (long long)N, (long long)d);
        return NULL;
    }
    for (int64_t i = 0; i < N; i++) {
        double s = train->y[r0 + i] == 1.0f ? -1.0 : 1.0;
        for (int64_t j = 0; j < d; j++) b->A[i * d + j] = (nis_real)(s * (double)train->X[(r0 + i) * d + j]);
    }
    if (mb)
        for (int64_t i = 0; i < N; i++) b->perm[i] = (uint32_t)i;
    b->N = N, b->d = d, b->o = opts, b->M = mb ? opts.minibatch : N;
    b->rng = nis_rng_init(opts.seed, NIS_STREAM_BLR);
    bool nc = opts.prior == NIS_BLR_PRIOR_HIER_NC, marg = opts.prior == NIS_BLR_PRIOR_HIER_MARG;
    b->t.name = nc ? "blr-nc" : marg ? "blr-marg" : "blr";
    b->t.dim = (int)(has_alpha(b) ? d + 1 : d);
    b->t.log_prob = blr_log_prob;
    b->t.score = nc || marg ? NULL : blr_score;   /* non-centred, marginal: by autodiff */
    b->t.hvp = nc || marg ? NULL : blr_hvp;
    b->t.sample = NULL;
    b->t.data = b;
    b->t.stochastic = mb;
    b->t.mode = nis_blr_mode;   /* the trainer's broad start is centred there (its funnel's neck is a spike) */
    b->t.report = nc ? nis_blr_nc_report : NULL;
    return &b->t;
}

void nis_blr_target_free(nis_target *t) {
    if (!t) return;
    blr *b = (blr *)t;
    nis_free(b->A);
    nis_free(b->perm);
    nis_free(b);
}

nis_status nis_blr_mode(const nis_target *t, nis_real *out, char *err, size_t errlen) {
    if (!t || t->log_prob != blr_log_prob || !out) {
        snprintf(err, errlen, "blr mode: not a target made by nis_blr_target_new");
        return NIS_EINVAL;
    }
    const blr *b = t->data;
    int64_t N = b->N, d = b->d;
    bool hier = b->o.prior != NIS_BLR_PRIOR_NORMAL;   /* α re-estimated (for MARG only w is returned) */
    double *w = nis_calloc((size_t)(3 * d), sizeof(double)), *m = w ? w + d : NULL, *v = w ? w + 2 * d : NULL;
    double *g = nis_malloc((size_t)(2 * d) * sizeof(double)), *gl = g ? g + d : NULL;   /* gl: a rank's rows' part */
    if (!w || !g) {
        nis_free(w), nis_free(g);
        snprintf(err, errlen, "blr mode: out of memory");
        return NIS_ENOMEM;
    }
    /* Gradient ascent (Adam, lr 0.05) in w with α fixed, α set to its conditional mode
     * (d/2 + a) / (|w|²/2 + b) every 100 steps; log lik = -Σ softplus(A_i·w). */
    double alpha = 1, lr = 0.05, b1 = 0.9, b2 = 0.999;
    for (int step = 1; step <= 2000; step++) {
        double gn = 0, wn = 0;
        /* alone, into g after the prior's part (the order of the sums the pinned results were made with); in a group,
         * the rows' part on its own, summed over the ranks, then the prior's */
        double *acc = group(b) ? gl : g;
        for (int64_t j = 0; j < d; j++) acc[j] = group(b) ? 0 : -alpha * w[j];
        for (int64_t i = 0; i < N; i++) {
            const nis_real *a = b->A + i * d;
            double u = 0;
            for (int64_t j = 0; j < d; j++) u += a[j] * w[j];
            double sg = 1 / (1 + exp(-u));
            for (int64_t j = 0; j < d; j++) acc[j] -= sg * a[j];
        }
        if (group(b)) {
            if (group(b)->sum_double(group(b), gl, d, err, errlen) != NIS_OK) {
                nis_free(w), nis_free(g);
                return NIS_EIO;
            }
            for (int64_t j = 0; j < d; j++) g[j] = -alpha * w[j] + gl[j];
        }
        for (int64_t j = 0; j < d; j++) {
            m[j] = b1 * m[j] + (1 - b1) * g[j], v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
            w[j] += lr * (m[j] / (1 - pow(b1, step))) / (sqrt(v[j] / (1 - pow(b2, step))) + 1e-8);
            gn += g[j] * g[j], wn += w[j] * w[j];
        }
        if (hier && step % 100 == 0) alpha = (d / 2.0 + b->o.gamma_shape) / (wn / 2 + b->o.gamma_rate);
        if (!isfinite(gn)) break;
    }
    bool finite = isfinite(alpha);
    for (int64_t j = 0; j < d; j++) finite = finite && isfinite(w[j]), out[j] = (nis_real)w[j];
    if (has_alpha(b)) out[d] = (nis_real)log(alpha);
    if (b->o.prior == NIS_BLR_PRIOR_HIER_NC)   /* v = w √α */
        for (int64_t j = 0; j < d; j++) out[j] = (nis_real)(out[j] * sqrt(alpha));
    nis_free(w), nis_free(g);
    if (!finite) {
        snprintf(err, errlen, "blr mode: the ascent diverged");
        return NIS_ENUMERIC;
    }
    return NIS_OK;
}

void nis_blr_nc_to_theta(nis_real *x, int64_t n, int D) {
    for (int64_t i = 0; i < n; i++) {
        nis_real *r = x + i * D;
        double s = exp(-0.5 * (double)r[D - 1]);
        for (int j = 0; j < D - 1; j++) r[j] = (nis_real)(r[j] * s);
    }
}

void nis_blr_nc_report(const nis_target *t, nis_real *x, int64_t n) { nis_blr_nc_to_theta(x, n, t->dim); }

nis_status nis_blr_marg_to_theta(const nis_target *t, const nis_real *w, int64_t n, nis_rng *rng, nis_real *theta) {
    if (!t || t->log_prob != blr_log_prob || ((const blr *)t->data)->o.prior != NIS_BLR_PRIOR_HIER_MARG || n < 0 ||
        (n > 0 && (!w || !theta || !rng)))
        return NIS_EINVAL;
    const blr *b = t->data;
    const int64_t d = b->d;
    const double shape = b->o.gamma_shape + 0.5 * (double)d;
    nis_status st = NIS_OK;
    for (int64_t i = n - 1; i >= 0; i--) {   /* backwards: w and theta may be the same buffer */
        double ww = 0;
        for (int64_t j = 0; j < d; j++) ww += (double)w[i * d + j] * (double)w[i * d + j];
        double la = log(nis_rng_gamma(rng, shape)) - log(b->o.gamma_rate + 0.5 * ww);
        if (!isfinite(la)) st = NIS_ENUMERIC;
        theta[i * (d + 1) + d] = (nis_real)la;
        memmove(theta + i * (d + 1), w + i * d, (size_t)d * sizeof(nis_real));
    }
    return st;
}

nis_status nis_blr_predict(const nis_dataset *data, const nis_real *theta, int64_t n, int D, double *accuracy,
                           double *loglik) {
    if (!data || !theta || n < 1 || data->n < 1 || data->d < 1 || D < data->d) return NIS_EINVAL;
    for (int64_t i = 0; i < n * D; i++)
        if (!isfinite(theta[i])) return NIS_ENUMERIC;
    int64_t N = data->n, d = data->d;
    /* chunks of R rows so that the (R, n) logits stay near 4M values */
    int64_t R = (int64_t)4 << 20;
    R = R / n > 0 ? R / n : 1;
    if (R > N) R = N;
    nis_ctx *c = nis_ctx_new(0);
    if (!c) return NIS_ENOMEM;
    double correct = 0, ll = 0;
    nis_status st = NIS_OK;
    for (int64_t i0 = 0; i0 < N && st == NIS_OK; i0 += R) {
        int64_t r = N - i0 < R ? N - i0 : R;
        nis_ctx_reset(c);   /* one chunk's tensors at a time; W is copied again (n d, small next to the GEMM) */
        nis_ctx_set_grad(c, false);
        nis_tensor *W = nis_new2(c, n, d), *X = nis_new2(c, r, d);
        if (W)
            for (int64_t s = 0; s < n; s++)
                for (int64_t j = 0; j < d; j++) W->data[s * d + j] = theta[s * D + j];
        if (X)
            for (int64_t k = 0; k < r * d; k++) X->data[k] = (nis_real)data->X[i0 * d + k];
        nis_tensor *Z = nis_matmul(c, X, W, false, true);                         /* (r, n) */
        nis_tensor *p1 = nis_mean_axis(c, nis_sigmoid(c, Z), 1, false);          /* mean_s σ(z) */
        nis_tensor *p0 = nis_mean_axis(c, nis_sigmoid(c, nis_neg(c, Z)), 1, false);   /* mean_s σ(-z) */
        if ((st = nis_ctx_status(c)) != NIS_OK) break;
        for (int64_t k = 0; k < r; k++) {
            bool y1 = data->y[i0 + k] == 1.0f;
            double py = y1 ? p1->data[k] : p0->data[k];
            correct += ((double)p1->data[k] > 0.5) == y1;
            ll += log(fmax(py, 1e-300));
        }
    }
    nis_ctx_free(c);
    if (st != NIS_OK) return st;
    if (accuracy) *accuracy = correct / (double)N;
    if (loglik) *loglik = ll / (double)N;
    return NIS_OK;
}
