/* The BLR posterior (nis/blr.h) in double precision: log p against a direct double loop, the hand-written score
 * and HVP against central differences and against autodiff (of log p, and of the score), for both priors, full
 * batch and minibatch; minibatch scaling N/M (exact on a dataset of identical rows, and unbiased on average);
 * reproducible minibatch draws; the posterior predictive against a direct loop; bad arguments. */
#include "check.h"
#include "nis/blr.h"
#include "nis/ops.h"

#include <string.h>

enum { N = 40, d = 4, B = 5 };

static void make_data(nis_dataset *ds, bool identical) {
    CHECK(nis_dataset_alloc(ds, N, d) == NIS_OK, "alloc");
    for (int i = 0; i < N; i++) {
        int r = identical ? 0 : i;
        test_seed(100 + (uint64_t)r);
        double z = 0;
        for (int j = 0; j < d; j++) {
            double v = j == d - 1 ? 1.0 : test_normal();
            ds->X[i * d + j] = (float)v;
            z += (0.8 - 0.5 * j) * v;
        }
        ds->y[i] = test_uniform() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
}

/* log p(θ) by a direct double loop over the rows */
static double direct_logp(const nis_dataset *ds, const nis_blr_opts *o, const double *th) {
    double ll = 0, ww = 0;
    for (int i = 0; i < ds->n; i++) {
        double z = 0;
        for (int j = 0; j < d; j++) z += th[j] * ds->X[i * d + j];
        double s = ds->y[i] == 1.0f ? z : -z;   /* log σ(s) = -log(1 + e^{-s}) */
        ll -= s > 0 ? log1p(exp(-s)) : -s + log1p(exp(s));
    }
    for (int j = 0; j < d; j++) ww += th[j] * th[j];
    if (o->prior == NIS_BLR_PRIOR_NORMAL) return ll - ww / 2;
    double a = th[d];
    return ll + (d / 2.0 + o->gamma_shape) * a - exp(a) * (ww / 2 + o->gamma_rate);
}

static double lp_row(nis_ctx *c, const nis_target *t, const double *th) {
    nis_ctx_reset(c);
    nis_tensor *lp = t->log_prob(c, t, nis_tensor_from(c, 2, (int64_t[]){1, t->dim}, th));
    return lp ? lp->data[0] : NAN;
}

static double maxrel(const nis_real *a, const double *b, int64_t n) {
    double w = 0;
    for (int64_t i = 0; i < n; i++) w = fmax(w, fabs(a[i] - b[i]) / fmax(1, fabs(b[i])));
    return w;
}

static void check_full(const nis_dataset *ds, nis_blr_prior prior) {
    char err[256];
    nis_blr_opts o = nis_blr_defaults();
    o.prior = prior;
    o.gamma_rate = 0.5;   /* not the default, so a swapped shape/rate shows */
    nis_target *t = nis_blr_target_new(ds, &o, err, sizeof err);
    CHECK(t, "%s", err);
    if (!t) return;
    int D = t->dim;
    CHECK(D == (prior == NIS_BLR_PRIOR_HIER ? d + 1 : d), "dim %d", D);
    CHECK(!t->stochastic && t->score && t->hvp && !strcmp(t->name, "blr"), "full-batch target fields");
    double th[B * (d + 1)], v[B * (d + 1)];
    test_seed(7 + (uint64_t)prior);
    for (int i = 0; i < B * D; i++) th[i] = 0.7 * test_normal(), v[i] = test_normal();
    nis_ctx *c = nis_ctx_new(0), *c2 = nis_ctx_new(0);
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, D}, th), *vt = nis_tensor_from(c, 2, (int64_t[]){B, D}, v);
    nis_tensor *lp = t->log_prob(c, t, x);
    double worst_lp = 0;
    for (int b = 0; lp && b < B; b++)
        worst_lp = fmax(worst_lp, fabs(lp->data[b] - direct_logp(ds, &o, th + b * D)) / fmax(1, fabs(lp->data[b])));
    CHECK(lp && worst_lp < 1e-12, "prior %d: log p vs direct loop: %.3g", prior, worst_lp);

    /* hand-written score and HVP vs autodiff (a copy of the target without them) */
    nis_target ad = *t;
    ad.score = NULL, ad.hvp = NULL;
    nis_tensor *s = nis_target_score(c, t, x, false), *sa = nis_target_score(c, &ad, x, false);
    nis_tensor *h = nis_target_hvp(c, t, x, vt), *ha = nis_target_hvp(c, &ad, x, vt);
    CHECK(s && sa && h && ha, "%s", nis_ctx_message(c));
    if (!s || !sa || !h || !ha) goto out;
    double e_s = 0, e_h = 0;
    for (int i = 0; i < B * D; i++) {
        e_s = fmax(e_s, fabs(s->data[i] - sa->data[i]) / fmax(1, fabs(sa->data[i])));
        e_h = fmax(e_h, fabs(h->data[i] - ha->data[i]) / fmax(1, fabs(ha->data[i])));
    }
    CHECK(e_s < 1e-12, "prior %d: score vs autodiff %.3g", prior, e_s);
    CHECK(e_h < 1e-12, "prior %d: HVP vs autodiff %.3g", prior, e_h);
    /* the hand-written score is differentiable: its double backward (the DFT path) gives the HVP too */
    {
        nis_tensor *xd = nis_requires_grad(nis_tensor_from(c, 2, (int64_t[]){B, D}, th)), *hg = NULL;
        nis_tensor *sg = nis_target_score(c, t, xd, true);
        CHECK(sg && sg->requires_grad && nis_grad(c, 1, &sg, &vt, 1, &xd, false, &hg) == NIS_OK, "score graph");
        if (hg) {
            double e = 0;
            for (int i = 0; i < B * D; i++) e = fmax(e, fabs(hg->data[i] - h->data[i]) / fmax(1, fabs(h->data[i])));
            CHECK(e < 1e-12, "prior %d: d(score)/dx v vs hvp %.3g", prior, e);
        }
    }

    /* central differences: score from log p, HVP from the score */
    const double eps = 1e-5;
    double fd[B * (d + 1)];
    for (int b = 0; b < B; b++)
        for (int k = 0; k < D; k++) {
            double p[d + 1], m[d + 1];
            memcpy(p, th + b * D, sizeof(double) * D), memcpy(m, th + b * D, sizeof(double) * D);
            p[k] += eps, m[k] -= eps;
            fd[b * D + k] = (lp_row(c2, t, p) - lp_row(c2, t, m)) / (2 * eps);
        }
    double e_fs = maxrel(s->data, fd, B * D);
    CHECK(e_fs < 1e-6, "prior %d: score vs finite differences %.3g", prior, e_fs);
    double xp[B * (d + 1)], xm[B * (d + 1)];
    for (int i = 0; i < B * D; i++) xp[i] = th[i] + eps * v[i], xm[i] = th[i] - eps * v[i];
    nis_ctx_reset(c2);
    nis_tensor *sp = nis_target_score(c2, t, nis_tensor_from(c2, 2, (int64_t[]){B, D}, xp), false);
    nis_tensor *sm = nis_target_score(c2, t, nis_tensor_from(c2, 2, (int64_t[]){B, D}, xm), false);
    for (int i = 0; sp && sm && i < B * D; i++) fd[i] = (sp->data[i] - sm->data[i]) / (2 * eps);
    double e_fh = maxrel(h->data, fd, B * D);
    CHECK(e_fh < 1e-6, "prior %d: HVP vs finite differences %.3g", prior, e_fh);

    /* wrong width: an error, not a crash */
    nis_ctx_reset(c2);
    CHECK(!t->log_prob(c2, t, nis_zeros(c2, 2, (int64_t[]){2, D + 1})) && nis_ctx_status(c2) == NIS_ESHAPE,
          "wrong width accepted");
out:
    nis_ctx_free(c);
    nis_ctx_free(c2);
    nis_blr_target_free(t);
}

/* minibatch: same seed same draws; hand-written = autodiff on the same draw; exact scaling on identical rows;
 * unbiased on average */
static void check_minibatch(const nis_dataset *ds, const nis_dataset *same, nis_blr_prior prior) {
    char err[256];
    nis_blr_opts o = nis_blr_defaults();
    o.prior = prior, o.minibatch = 7, o.seed = 11;
    nis_target *t1 = nis_blr_target_new(ds, &o, err, sizeof err), *t2 = nis_blr_target_new(ds, &o, err, sizeof err);
    nis_blr_opts of = o;
    of.minibatch = 0;
    nis_target *tf = nis_blr_target_new(ds, &of, err, sizeof err);
    CHECK(t1 && t2 && tf, "%s", err);
    if (!t1 || !t2 || !tf) return;
    CHECK(t1->stochastic && !tf->stochastic, "stochastic flag");
    int D = t1->dim;
    double th[B * (d + 1)], v[B * (d + 1)];
    test_seed(21);
    for (int i = 0; i < B * D; i++) th[i] = 0.5 * test_normal(), v[i] = test_normal();
    nis_ctx *c = nis_ctx_new(0);
    nis_tensor *x = nis_tensor_from(c, 2, (int64_t[]){B, D}, th), *vt = nis_tensor_from(c, 2, (int64_t[]){B, D}, v);
    /* same seed, same sequence of calls: the same values; the next call draws a different minibatch */
    nis_tensor *a1 = t1->log_prob(c, t1, x), *a2 = t2->log_prob(c, t2, x), *a3 = t1->log_prob(c, t1, x);
    CHECK(a1 && a2 && a3 && !memcmp(a1->data, a2->data, B * sizeof(nis_real)), "same seed, different draws");
    CHECK(a1 && a3 && memcmp(a1->data, a3->data, B * sizeof(nis_real)), "two calls drew the same minibatch");
    /* score / HVP of one draw vs autodiff of log p on the same draw (t2 advanced to the same point) */
    t2->log_prob(c, t2, x);
    nis_target ad = *t2;
    ad.score = NULL, ad.hvp = NULL;
    nis_tensor *s = nis_target_score(c, t1, x, false), *sa = nis_target_score(c, &ad, x, false);
    nis_tensor *h = nis_target_hvp(c, t1, x, vt), *ha = nis_target_hvp(c, &ad, x, vt);
    CHECK(s && sa && h && ha, "%s", nis_ctx_message(c));
    if (s && sa && h && ha) {
        double es = 0, eh = 0;
        for (int i = 0; i < B * D; i++) {
            es = fmax(es, fabs(s->data[i] - sa->data[i]) / fmax(1, fabs(sa->data[i])));
            eh = fmax(eh, fabs(h->data[i] - ha->data[i]) / fmax(1, fabs(ha->data[i])));
        }
        CHECK(es < 1e-12 && eh < 1e-12, "prior %d minibatch: score %.3g HVP %.3g vs autodiff", prior, es, eh);
    }
    /* unbiased on average: the mean over 4000 draws of log p and of the score is the full-batch value within
     * 4.5 standard errors (each coordinate) */
    enum { K = 4000 };
    double m_lp[B] = {0}, q_lp[B] = {0}, m_s[B * (d + 1)] = {0}, q_s[B * (d + 1)] = {0};
    nis_ctx *cc = nis_ctx_new(0);
    for (int k = 0; k < K; k++) {
        nis_ctx_reset(cc);
        nis_tensor *xx = nis_tensor_from(cc, 2, (int64_t[]){B, D}, th);
        nis_tensor *lp = t1->log_prob(cc, t1, xx), *sc = nis_target_score(cc, t1, xx, false);
        if (!lp || !sc) break;
        for (int b = 0; b < B; b++) m_lp[b] += lp->data[b], q_lp[b] += lp->data[b] * lp->data[b];
        for (int i = 0; i < B * D; i++) m_s[i] += sc->data[i], q_s[i] += sc->data[i] * sc->data[i];
    }
    nis_tensor *lf = tf->log_prob(c, tf, x), *sf = nis_target_score(c, tf, x, false);
    double worst = 0;
    for (int b = 0; lf && b < B; b++) {
        double m = m_lp[b] / K, se = sqrt((q_lp[b] / K - m * m) / K);
        worst = fmax(worst, fabs(m - lf->data[b]) / se);
    }
    for (int i = 0; sf && i < B * D; i++) {
        double m = m_s[i] / K, var = q_s[i] / K - m * m;
        if (var > 1e-20) worst = fmax(worst, fabs(m - sf->data[i]) / sqrt(var / K));
        else worst = fmax(worst, fabs(m - sf->data[i]) < 1e-9 ? 0 : 99);   /* the α-coordinate: no noise */
    }
    CHECK(lf && sf && worst < 4.5, "prior %d: minibatch mean off by %.2f standard errors", prior, worst);
    nis_ctx_free(cc);

    /* identical rows: every minibatch gives exactly the full-batch value, so the N/M scale is right */
    nis_target *ts = nis_blr_target_new(same, &o, err, sizeof err), *tsf = nis_blr_target_new(same, &of, err, sizeof err);
    CHECK(ts && tsf, "%s", err);
    if (ts && tsf) {
        nis_tensor *l1 = ts->log_prob(c, ts, x), *l2 = tsf->log_prob(c, tsf, x);
        nis_tensor *g1 = nis_target_score(c, ts, x, false), *g2 = nis_target_score(c, tsf, x, false);
        double e = 0;
        for (int b = 0; l1 && l2 && b < B; b++) e = fmax(e, fabs(l1->data[b] - l2->data[b]) / fabs(l2->data[b]));
        for (int i = 0; g1 && g2 && i < B * D; i++) e = fmax(e, fabs(g1->data[i] - g2->data[i]) / fmax(1, fabs(g2->data[i])));
        CHECK(l1 && l2 && g1 && g2 && e < 1e-12, "prior %d: minibatch scaling off by %.3g", prior, e);
    }
    nis_blr_target_free(ts);
    nis_blr_target_free(tsf);
    nis_ctx_free(c);
    nis_blr_target_free(t1);
    nis_blr_target_free(t2);
    nis_blr_target_free(tf);
}

static void check_predict(const nis_dataset *ds) {
    enum { S = 6, D = d + 1 };
    double th[S * D];
    test_seed(33);
    for (int i = 0; i < S * D; i++) th[i] = test_normal();
    double acc = -1, ll = 1, want_acc = 0, want_ll = 0;
    for (int i = 0; i < ds->n; i++) {
        double p = 0;
        for (int s = 0; s < S; s++) {
            double z = 0;
            for (int j = 0; j < d; j++) z += th[s * D + j] * ds->X[i * d + j];
            p += 1 / (1 + exp(-z)) / S;
        }
        bool y1 = ds->y[i] == 1.0f;
        want_acc += ((p > 0.5) == y1) / (double)ds->n;
        want_ll += log(y1 ? p : 1 - p) / (double)ds->n;
    }
    CHECK(nis_blr_predict(ds, th, S, D, &acc, &ll) == NIS_OK, "predict");
    CHECK_CLOSE(acc, want_acc, 1e-12, 0);
    CHECK_CLOSE(ll, want_ll, 1e-10, 1e-10);
    CHECK(nis_blr_predict(ds, th, S, d - 1, &acc, &ll) == NIS_EINVAL, "D < d accepted");
    th[3] = NAN;
    CHECK(nis_blr_predict(ds, th, S, D, &acc, &ll) == NIS_ENUMERIC, "NaN sample accepted");
}

static void check_bad(const nis_dataset *ds) {
    char err[256] = "";
    nis_blr_opts o = nis_blr_defaults();
    o.gamma_rate = 0;
    CHECK(!nis_blr_target_new(ds, &o, err, sizeof err) && strstr(err, "Gamma"), "rate 0 accepted: %s", err);
    o = nis_blr_defaults();
    o.minibatch = -1;
    CHECK(!nis_blr_target_new(ds, &o, err, sizeof err) && strstr(err, "minibatch"), "minibatch -1: %s", err);
    nis_dataset empty = {0};
    CHECK(!nis_blr_target_new(&empty, NULL, err, sizeof err) && strstr(err, "empty"), "empty data: %s", err);
    ds->y[3] = 2.0f;
    CHECK(!nis_blr_target_new(ds, NULL, err, sizeof err) && strstr(err, "row 4"), "label 2 accepted: %s", err);
    ds->y[3] = 0.0f;
    o = nis_blr_defaults();
    o.minibatch = N;   /* M >= N: full batch, not stochastic */
    nis_target *t = nis_blr_target_new(ds, &o, err, sizeof err);
    CHECK(t && !t->stochastic, "minibatch = N should be the full batch");
    nis_blr_target_free(t);
    nis_blr_target_free(NULL);
}

/* log p of the non-centred target by the direct loop: the centred log p at w = v e^{-a/2}, minus (d/2) a. */
static double nc_logp(const nis_dataset *ds, const nis_blr_opts *o, const double *v) {
    double w[d + 1];
    for (int j = 0; j < d; j++) w[j] = v[j] * exp(-0.5 * v[d]);
    w[d] = v[d];
    return direct_logp(ds, o, w) - d / 2.0 * v[d];
}

/* Non-centred prior: log p_nc(v, a) = log p_hier(w = v e^{-a/2}, a) − (d/2) a (the Jacobian of v -> w), the map
 * nis_blr_nc_to_theta, the score by autodiff against finite differences, and the mode mapped to v = w √α. */
static void check_noncentred(const nis_dataset *ds) {
    char err[256];
    nis_blr_opts o = nis_blr_defaults(), onc = o;
    onc.prior = NIS_BLR_PRIOR_HIER_NC;
    nis_target *th = nis_blr_target_new(ds, &o, err, sizeof err), *tn = nis_blr_target_new(ds, &onc, err, sizeof err);
    CHECK(th && tn && tn->dim == d + 1 && !strcmp(tn->name, "blr-nc") && !tn->score, "non-centred target: %s", err);
    if (!th || !tn) return;
    nis_ctx *c = nis_ctx_new(0);
    for (int rep = 0; rep < 5; rep++) {
        double v[d + 1], w[d + 1];
        for (int j = 0; j <= d; j++) v[j] = test_normal();
        nis_real x[d + 1];
        for (int j = 0; j <= d; j++) x[j] = v[j];
        nis_blr_nc_to_theta(x, 1, d + 1);
        for (int j = 0; j <= d; j++) w[j] = x[j];
        CHECK(fabs(w[0] - v[0] * exp(-0.5 * v[d])) < 1e-12 && w[d] == v[d], "nc_to_theta");
        double want = nc_logp(ds, &o, v), got = lp_row(c, tn, v);
        CHECK(fabs(got - want) < 1e-9 * fmax(1, fabs(want)), "non-centred log p %.12g vs %.12g", got, want);
        double hi = lp_row(c, th, w);
        CHECK(fabs(hi - direct_logp(ds, &o, w)) < 1e-9 * fmax(1, fabs(hi)), "centred log p");
        /* score by autodiff against central differences */
        nis_ctx_reset(c);
        nis_tensor *s = nis_target_score(c, tn, nis_tensor_from(c, 2, (int64_t[]){1, d + 1}, v), false);
        for (int j = 0; s && j <= d; j++) {
            double vp[d + 1], vm[d + 1], h = 1e-6;
            memcpy(vp, v, sizeof vp), memcpy(vm, v, sizeof vm);
            vp[j] += h, vm[j] -= h;
            double fd = (nc_logp(ds, &o, vp) - nc_logp(ds, &o, vm)) / (2 * h);
            CHECK(fabs(s->data[j] - fd) < 1e-5 * fmax(1, fabs(fd)), "non-centred score %d: %g vs %g", j, s->data[j], fd);
        }
    }
    nis_real mh[d + 1], mn[d + 1];
    CHECK(nis_blr_mode(th, mh, err, sizeof err) == NIS_OK && nis_blr_mode(tn, mn, err, sizeof err) == NIS_OK, "mode: %s",
          err);
    nis_blr_nc_to_theta(mn, 1, d + 1);
    double mhd[d + 1];
    for (int j = 0; j <= d; j++) mhd[j] = mh[j];
    CHECK(maxrel(mn, mhd, d + 1) < 1e-9, "mode of the non-centred target does not map to the centred one");
    nis_ctx_free(c);
    nis_blr_target_free(th);
    nis_blr_target_free(tn);
}

/* log of ∫ exp(log p_hier(w, a)) da by the trapezoid rule around the peak a* = log((d/2 + shape) / k), with
 * log-sum-exp (step 1e-3 over a* ± 30 widths). */
static double integrate_alpha(const nis_dataset *ds, const nis_blr_opts *o, const double *w) {
    double th[d + 1], ww = 0;
    for (int j = 0; j < d; j++) th[j] = w[j], ww += w[j] * w[j];
    double sh = d / 2.0 + o->gamma_shape, peak = log(sh / (ww / 2 + o->gamma_rate)), wid = 1 / sqrt(sh), h = 1e-3;
    int n = (int)(60 * wid / h);
    double mx = -INFINITY, acc = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i <= n; i++) {
            th[d] = peak - 30 * wid + i * h;
            double l = direct_logp(ds, o, th) + (i == 0 || i == n ? log(0.5) : 0);
            if (pass == 0) mx = fmax(mx, l);
            else acc += exp(l - mx);
        }
    return mx + log(acc * h);
}

/* Marginal target (α integrated out): log p_marg(w) − log ∫ p_hier(w, a) da is the same for every w; its score
 * by autodiff against central differences of the closed form; nis_blr_marg_to_theta's α draws have the
 * conditional's mean and variance; its mode is the centred mode's w; bad calls are refused. */
static void check_marginal(const nis_dataset *ds) {
    char err[256];
    nis_blr_opts o = nis_blr_defaults(), om = o;
    om.prior = NIS_BLR_PRIOR_HIER_MARG;
    nis_target *th = nis_blr_target_new(ds, &o, err, sizeof err), *tm = nis_blr_target_new(ds, &om, err, sizeof err);
    CHECK(th && tm && tm->dim == d && !strcmp(tm->name, "blr-marg") && !tm->score, "marginal target: %s", err);
    if (!th || !tm) return;
    nis_ctx *c = nis_ctx_new(0);
    const double sh = d / 2.0 + o.gamma_shape;
    double off0 = NAN;
    for (int rep = 0; rep < 5; rep++) {
        double w[d];
        for (int j = 0; j < d; j++) w[j] = (rep + 1) * 0.4 * test_normal();
        double off = lp_row(c, tm, w) - integrate_alpha(ds, &o, w);
        if (rep == 0) off0 = off;
        CHECK(fabs(off - off0) < 1e-6, "marginal log p minus the numerical integral varies: %.9g vs %.9g", off, off0);
        nis_ctx_reset(c);
        nis_tensor *s = nis_target_score(c, tm, nis_tensor_from(c, 2, (int64_t[]){1, d}, w), false);
        for (int j = 0; s && j < d; j++) {
            double wp[d], wm[d], h = 1e-6, lp[2];
            for (int side = 0; side < 2; side++) {   /* closed form: ll − sh log(b + ‖w‖²/2) */
                double *x = side ? wm : wp, ww = 0;
                memcpy(x, w, sizeof wp);
                x[j] += side ? -h : h;
                for (int k = 0; k < d; k++) ww += x[k] * x[k];
                nis_blr_opts on = o;
                on.prior = NIS_BLR_PRIOR_NORMAL;
                lp[side] = direct_logp(ds, &on, x) + ww / 2 - sh * log(o.gamma_rate + ww / 2);
            }
            double fd = (lp[0] - lp[1]) / (2 * h);
            CHECK(fabs(s->data[j] - fd) < 1e-5 * fmax(1, fabs(fd)), "marginal score %d: %g vs %g", j, s->data[j], fd);
        }
    }
    /* α | w ~ Gamma(sh, rate k): n draws for one w; mean sh / k and variance sh / k² within 5 standard errors */
    enum { n = 20000 };
    static nis_real buf[n * (d + 1)];
    double w[d] = {0.5, -1, 0.25, 2}, ww = 0;
    for (int j = 0; j < d; j++) ww += w[j] * w[j];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) buf[i * d + j] = (nis_real)w[j];
    nis_rng r = nis_rng_init(4, 0);
    CHECK(nis_blr_marg_to_theta(tm, buf, n, &r, buf) == NIS_OK, "marg_to_theta");
    double k = o.gamma_rate + ww / 2, m1 = 0, m2 = 0;
    bool same_w = true;
    for (int i = 0; i < n; i++) {
        double al = exp(buf[i * (d + 1) + d]);
        m1 += al / n, m2 += al * al / n;
        for (int j = 0; j < d; j++) same_w = same_w && buf[i * (d + 1) + j] == (nis_real)w[j];
    }
    double var = m2 - m1 * m1, mv = sh / k, vv = sh / (k * k);
    CHECK(same_w, "marg_to_theta changed w");
    CHECK(fabs(m1 - mv) < 5 * sqrt(vv / n), "alpha | w: mean %.5f, want %.5f", m1, mv);
    CHECK(fabs(var - vv) < 5 * sqrt(2 * vv * vv * (1 + 3 / sh) / n), "alpha | w: variance %.5f, want %.5f", var, vv);
    CHECK(nis_blr_marg_to_theta(th, buf, 1, &r, buf) == NIS_EINVAL, "marg_to_theta accepted a centred target");
    nis_real mh[d + 1], mm[d];
    CHECK(nis_blr_mode(th, mh, err, sizeof err) == NIS_OK && nis_blr_mode(tm, mm, err, sizeof err) == NIS_OK, "mode: %s",
          err);
    double mhd[d];
    for (int j = 0; j < d; j++) mhd[j] = mh[j];
    CHECK(maxrel(mm, mhd, d) < 1e-9, "mode of the marginal target differs from the centred mode's w");
    nis_ctx_free(c);
    nis_blr_target_free(th);
    nis_blr_target_free(tm);
}

int main(void) {
    nis_dataset ds, same;
    make_data(&ds, false);
    make_data(&same, true);
    check_full(&ds, NIS_BLR_PRIOR_HIER);
    check_full(&ds, NIS_BLR_PRIOR_NORMAL);
    check_minibatch(&ds, &same, NIS_BLR_PRIOR_HIER);
    check_minibatch(&ds, &same, NIS_BLR_PRIOR_NORMAL);
    check_predict(&ds);
    check_noncentred(&ds);
    check_marginal(&ds);
    check_bad(&ds);
    nis_dataset_free(&ds);
    nis_dataset_free(&same);
    return check_done("test_blr_f64");
}
