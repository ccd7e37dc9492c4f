/* src/metrics/convergence.c — MCMC convergence diagnostics: split-R̂ and effective sample size.
 *
 * Each chain is split into halves (the middle draw of an odd-length chain is dropped), giving M = 2 C chains of
 * N = floor(draws / 2) draws.  With chain means m_j, chain variances s_j^2 (1/(N-1)), W = mean s_j^2,
 * B/N = var(m_j) (1/(M-1)) and var+ = (N-1)/N W + B/N:
 *   split-R̂ = sqrt(var+ / W)                                              (Gelman et al., BDA3 §11.4)
 *   ESS = M N / τ,  τ = -1 + 2 Σ_{t=0}^{2K+1} ρ_t,  ρ_t = 1 - (W - mean_j acov_j(t)) / var+,
 * where acov_j(t) is chain j's autocovariance (1/N) and the sum stops at the first pair ρ_{2k} + ρ_{2k+1} that
 * is negative, the pair sums being made monotone (Geyer's initial monotone sequence, as in Stan).
 * Rank-normalised (Vehtari et al. 2021): the draws of all chains are replaced by Φ⁻¹((r - 3/8) / (S + 1/4)),
 * r their average rank among all S = M N; R̂ = max(R̂ of those, R̂ of the same for |x - median|) and the ESS
 * is the bulk ESS (of the rank-normalised draws).
 */
#include "nis/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Inverse of the standard normal CDF (Acklam's rational approximation refined by one Halley step). */
static double norm_icdf(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double e[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double q, r, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double u = (0.5 * erfc(-x / sqrt(2)) - p) * 2.5066282746310002 * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* split-R̂ of M chains of N draws, v[j * N + i]. */
static double rhat_of(const double *v, int M, int64_t N) {
    double mean_all = 0, W = 0, B = 0;
    for (int j = 0; j < M; j++) {
        const double *c = v + j * N;
        double m = 0, s = 0;
        for (int64_t i = 0; i < N; i++) m += c[i];
        m /= (double)N;
        for (int64_t i = 0; i < N; i++) s += (c[i] - m) * (c[i] - m);
        W += s / (double)(N - 1);
        mean_all += m;
    }
    W /= M;
    mean_all /= M;
    for (int j = 0; j < M; j++) {
        const double *c = v + j * N;
        double m = 0;
        for (int64_t i = 0; i < N; i++) m += c[i];
        m /= (double)N;
        B += (m - mean_all) * (m - mean_all);
    }
    B /= (M - 1);   /* this is B / N */
    if (!(W > 0)) return B > 0 ? INFINITY : 1.0;   /* constant chains: equal (1) or not (inf) */
    double var_plus = (double)(N - 1) / (double)N * W + B;
    return sqrt(var_plus / W);
}

/* Mean over chains of the lag-t autocovariance (1/N), chain means mu[j]. */
static double acov_mean(const double *v, const double *mu, int M, int64_t N, int64_t t) {
    double s = 0;
    for (int j = 0; j < M; j++) {
        const double *c = v + j * N;
        double a = 0;
        for (int64_t i = 0; i + t < N; i++) a += (c[i] - mu[j]) * (c[i + t] - mu[j]);
        s += a / (double)N;
    }
    return s / M;
}

/* ESS of M chains of N draws (N >= 4); rho: scratch of N + 2 doubles, mu: M doubles. */
static double ess_of(const double *v, int M, int64_t N, double *rho, double *mu) {
    double W = 0, mean_all = 0, B = 0;
    for (int j = 0; j < M; j++) {
        double m = 0;
        for (int64_t i = 0; i < N; i++) m += v[j * N + i];
        mu[j] = m / (double)N;
        mean_all += mu[j];
    }
    mean_all /= M;
    double acov0 = acov_mean(v, mu, M, N, 0);
    W = acov0 * (double)N / (double)(N - 1);
    for (int j = 0; j < M; j++) B += (mu[j] - mean_all) * (mu[j] - mean_all);
    B = M > 1 ? B / (M - 1) : 0;
    double var_plus = W * (double)(N - 1) / (double)N + B;
    if (!(var_plus > 0)) return NAN;
    for (int64_t t = 0; t < N + 2; t++) rho[t] = 0;
    rho[0] = 1;
    double even = 1, odd = 1 - (W - acov_mean(v, mu, M, N, 1)) / var_plus;
    rho[1] = odd;
    int64_t t = 1;
    while (t < N - 5 && even + odd > 0) {
        even = 1 - (W - acov_mean(v, mu, M, N, t + 1)) / var_plus;
        odd = 1 - (W - acov_mean(v, mu, M, N, t + 2)) / var_plus;
        if (even + odd >= 0) rho[t + 1] = even, rho[t + 2] = odd;
        t += 2;
    }
    int64_t max_t = t;
    if (even > 0) rho[max_t + 1] = even;
    /* initial monotone sequence: each pair sum at most the previous one */
    for (t = 1; t <= max_t - 2; t += 2)
        if (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]) {
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2;
            rho[t + 2] = rho[t + 1];
        }
    double sum = 0;
    for (t = 0; t <= max_t; t++) sum += rho[t];
    double tau = -1 + 2 * sum + rho[max_t + 1];
    double S = (double)M * (double)N;
    double floor_tau = 1 / log10(S);   /* Stan's cap: ESS <= S log10(S) */
    if (tau < floor_tau) tau = floor_tau;
    return S / tau;
}

typedef struct {
    double v;
    int64_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Replace the S values of v by their rank-normal scores (average ranks for ties); tmp: S entries. */
static void rank_normalise(double *v, int64_t S, ranked *tmp) {
    for (int64_t i = 0; i < S; i++) tmp[i] = (ranked){v[i], i};
    qsort(tmp, (size_t)S, sizeof *tmp, cmp_ranked);
    for (int64_t a = 0; a < S;) {
        int64_t b = a + 1;
        while (b < S && tmp[b].v == tmp[a].v) b++;
        double r = (double)(a + 1 + b) / 2;   /* average of ranks a+1 .. b */
        double z = norm_icdf((r - 0.375) / ((double)S + 0.25));
        for (int64_t k = a; k < b; k++) v[tmp[k].i] = z;
        a = b;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

nis_status nis_convergence(const nis_real *x, int chains, int64_t draws, int D, bool rank, double *rhat,
                           double *ess) {
    if (!x || chains < 1 || draws < 8 || D < 1) return NIS_EINVAL;
    const int M = 2 * chains;
    const int64_t N = draws / 2, S = (int64_t)M * N;
    nis_status st = NIS_OK;
#pragma omp parallel
    {
        double *v = nis_malloc((size_t)S * sizeof *v), *f = nis_malloc((size_t)S * sizeof *f);
        double *rho = nis_malloc((size_t)(N + 2) * sizeof *rho), *mu = nis_malloc((size_t)M * sizeof *mu);
        ranked *tmp = rank ? nis_malloc((size_t)S * sizeof *tmp) : NULL;
        bool ok = v && f && rho && mu && (!rank || tmp);
        if (!ok) {
#pragma omp atomic write
            st = NIS_ENOMEM;
        }
#pragma omp for schedule(dynamic)
        for (int k = 0; k < D; k++) {
            if (!ok) continue;
            bool finite = true;
            for (int c = 0; c < chains; c++) {
                const nis_real *base = x + (int64_t)c * draws * D + k;
                for (int64_t i = 0; i < N; i++) {
                    double a = base[i * D], b = base[(draws - N + i) * D];   /* first and last halves */
                    v[(2 * c) * N + i] = a;
                    v[(2 * c + 1) * N + i] = b;
                    finite = finite && isfinite(a) && isfinite(b);
                }
            }
            double r, e;
            if (!finite) {
                r = NAN, e = NAN;
            } else if (!rank) {
                r = rhat_of(v, M, N);
                e = ess_of(v, M, N, rho, mu);
            } else {
                /* folded draws |x - median| for the tail R̂ */
                memcpy(f, v, (size_t)S * sizeof *f);
                qsort(f, (size_t)S, sizeof *f, cmp_double);
                double med = S % 2 ? f[S / 2] : (f[S / 2 - 1] + f[S / 2]) / 2;
                for (int64_t i = 0; i < S; i++) f[i] = fabs(v[i] - med);
                rank_normalise(v, S, tmp);
                rank_normalise(f, S, tmp);
                double rb = rhat_of(v, M, N), rf = rhat_of(f, M, N);
                r = rb > rf ? rb : rf;
                e = ess_of(v, M, N, rho, mu);
            }
            if (rhat) rhat[k] = r;
            if (ess) ess[k] = e;
        }
        nis_free(v), nis_free(f), nis_free(rho), nis_free(mu), nis_free(tmp);
    }
    return st;
}

nis_status nis_convergence_summary(const nis_real *x, int chains, int64_t draws, int D, bool rank,
                                   double *max_rhat, double *min_ess) {
    double *r = nis_malloc((size_t)(D > 0 ? D : 1) * sizeof *r), *e = nis_malloc((size_t)(D > 0 ? D : 1) * sizeof *e);
    if (!r || !e) {
        nis_free(r), nis_free(e);
        return NIS_ENOMEM;
    }
    nis_status st = nis_convergence(x, chains, draws, D, rank, r, e);
    if (st == NIS_OK) {
        double mr = 0, me = INFINITY;
        for (int k = 0; k < D; k++) {
            /* NaN (non-finite draws) dominates both */
            if (isnan(r[k]) || r[k] > mr) mr = isnan(mr) ? mr : r[k];
            if (isnan(e[k]) || e[k] < me) me = isnan(me) ? me : e[k];
        }
        if (max_rhat) *max_rhat = mr;
        if (min_ess) *min_ess = me;
    }
    nis_free(r), nis_free(e);
    return st;
}
