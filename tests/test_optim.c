/* Optimisers against the textbook formulas written out in double: Adam's first three steps (plain, L2
 * weight decay, AdamW), SGD with momentum / dampening / Nesterov, gradient-norm clipping, EMA. */
#include "check.h"
#include "nis/nn.h"

#include <string.h>

#define N 3
static const double p0[N] = {0.5, -1.0, 2.0};
static const double grads[3][N] = {{0.1, -0.2, 0.3}, {-0.05, 0.4, 0.25}, {0.2, 0.1, -0.6}};

/* A set with one (3,) parameter "w" = p0. */
static nis_params *make_params(void) {
    nis_params *P = nis_params_new();
    nis_params_add(P, "w", 1, (int64_t[]){N});
    if (nis_params_finalize(P) != NIS_OK) return P;
    for (int i = 0; i < N; i++) P->data[i] = (nis_real)p0[i];
    return P;
}

static void set_grad(nis_params *P, const double *g) {
    for (int i = 0; i < N; i++) P->grad[i] = (nis_real)g[i];
}

/* Adam by hand: three steps, L2 weight decay wd (decoupled = AdamW). */
static void adam_case(const char *what, double wd, bool decoupled) {
    const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    nis_params *P = make_params();
    nis_adam opt = nis_adam_default(lr);
    opt.weight_decay = wd;
    opt.decoupled = decoupled;
    double p[N], m[N] = {0}, v[N] = {0};
    memcpy(p, p0, sizeof p);
    for (int t = 1; t <= 3; t++) {
        set_grad(P, grads[t - 1]);
        CHECK(nis_adam_step(&opt, P) == NIS_OK, "%s: step %d: %s", what, t, nis_params_message(P));
        for (int i = 0; i < N; i++) {
            double g = grads[t - 1][i];
            if (decoupled)
                p[i] -= lr * wd * p[i];
            else
                g += wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double mhat = m[i] / (1 - pow(b1, t)), vhat = v[i] / (1 - pow(b2, t));
            p[i] -= lr * mhat / (sqrt(vhat) + eps);
            CHECK(fabs(P->data[i] - p[i]) < 1e-6, "%s: step %d, p[%d] = %.9f, expected %.9f", what, t, i,
                  (double)P->data[i], p[i]);
            CHECK(fabs(P->m[i] - m[i]) < 1e-7 && fabs(P->v[i] - v[i]) < 1e-9, "%s: step %d moments[%d]", what,
                  t, i);
        }
        /* the gradient buffer itself is not changed by weight decay */
        CHECK(P->grad[0] == (nis_real)grads[t - 1][0], "%s: grad modified", what);
    }
    CHECK(opt.step == 3, "%s: step count %lld", what, (long long)opt.step);
    nis_params_free(P);
}

/* SGD by hand, two steps (torch.optim.SGD: the buffer is the gradient at the first step). */
static void sgd_case(const char *what, double mom, double damp, double wd, bool nesterov) {
    const double lr = 0.1;
    nis_params *P = make_params();
    nis_sgd opt = {.lr = lr, .momentum = mom, .dampening = damp, .weight_decay = wd, .nesterov = nesterov};
    double p[N], buf[N] = {0};
    memcpy(p, p0, sizeof p);
    for (int t = 1; t <= 2; t++) {
        set_grad(P, grads[t - 1]);
        CHECK(nis_sgd_step(&opt, P) == NIS_OK, "%s: step %d: %s", what, t, nis_params_message(P));
        for (int i = 0; i < N; i++) {
            double d = grads[t - 1][i] + wd * p[i];
            if (mom != 0) {
                buf[i] = t == 1 ? d : mom * buf[i] + (1 - damp) * d;
                d = nesterov ? d + mom * buf[i] : buf[i];
            }
            p[i] -= lr * d;
            CHECK(fabs(P->data[i] - p[i]) < 1e-6, "%s: step %d, p[%d] = %.9f, expected %.9f", what, t, i,
                  (double)P->data[i], p[i]);
        }
    }
    nis_params_free(P);
}

int main(void) {
    adam_case("adam", 0, false);
    adam_case("adam wd", 0.1, false);
    adam_case("adamw", 0.1, true);

    /* the formulas differ: with weight decay the result must move (Adam's first step is lr sign(g) either
     * way, so take two) */
    {
        nis_params *P = make_params(), *Q = make_params();
        nis_adam a = nis_adam_default(0.1), b = nis_adam_default(0.1);
        b.weight_decay = 0.1;
        for (int t = 0; t < 2; t++) {
            set_grad(P, grads[t]);
            set_grad(Q, grads[t]);
            nis_adam_step(&a, P);
            nis_adam_step(&b, Q);
        }
        CHECK(fabs(P->data[0] - Q->data[0]) > 1e-2, "weight decay had no effect");
        nis_params_free(P);
        nis_params_free(Q);
    }

    sgd_case("sgd", 0, 0, 0, false);
    sgd_case("sgd momentum", 0.9, 0, 0, false);
    sgd_case("sgd momentum dampening wd", 0.9, 0.3, 0.01, false);
    sgd_case("sgd nesterov", 0.9, 0, 0.01, true);

    /* bad hyper-parameters: an error status and a message, sticky until cleared */
    {
        nis_params *P = make_params();
        nis_sgd bad = {.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .nesterov = true};
        CHECK(nis_sgd_step(&bad, P) == NIS_EINVAL, "nesterov with dampening accepted");
        CHECK(strstr(nis_params_message(P), "Nesterov") != NULL, "message: %s", nis_params_message(P));
        nis_adam good = nis_adam_default(0.1);
        CHECK(nis_adam_step(&good, P) == NIS_EINVAL, "error not sticky");
        nis_params_clear_error(P);
        CHECK(nis_adam_step(&good, P) == NIS_OK, "after clear_error: %s", nis_params_message(P));
        nis_adam neg = nis_adam_default(0.1);
        neg.beta1 = 1.0;
        CHECK(nis_adam_step(&neg, P) == NIS_EINVAL, "beta1 = 1 accepted");
        nis_params_free(P);
    }

    /* clip_grad_norm: two tensors, grads (3, 4) and (12,): norm 13 */
    {
        nis_params *P = nis_params_new();
        nis_params_add(P, "a", 1, (int64_t[]){2});
        nis_params_add(P, "b", 2, (int64_t[]){1, 1});
        CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
        P->grad[0] = 3, P->grad[1] = 4, P->grad[2] = 12;
        CHECK_CLOSE(nis_grad_norm(P), 13.0, 1e-12, 0);
        double norm = nis_clip_grad_norm(P, 20.0); /* below max: unchanged */
        CHECK_CLOSE(norm, 13.0, 1e-12, 0);
        CHECK(P->grad[0] == 3 && P->grad[2] == 12, "grads changed below max_norm");
        norm = nis_clip_grad_norm(P, 6.5);
        CHECK_CLOSE(norm, 13.0, 1e-12, 0);
        double c = 6.5 / (13.0 + 1e-6);
        CHECK_CLOSE(P->grad[0], 3 * c, 1e-6, 0);
        CHECK_CLOSE(P->grad[1], 4 * c, 1e-6, 0);
        CHECK_CLOSE(P->grad[2], 12 * c, 1e-6, 0);
        CHECK_CLOSE(nis_grad_norm(P), 6.5, 1e-5, 0);
        P->grad[1] = INFINITY;
        CHECK(isinf(nis_clip_grad_norm(P, 1.0)) && P->grad[0] == (nis_real)(3 * c),
              "inf norm: grads changed");
        nis_params_free(P);
    }

    /* a large buffer: the blocked double sum is exact for integers and the same with more threads */
    {
        nis_params *P = nis_params_new();
        nis_params_add(P, "big", 1, (int64_t[]){100003});
        CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
        double want = 0;
        for (int64_t i = 0; i < P->n; i++) {
            P->grad[i] = (nis_real)(i % 7);
            want += (double)(i % 7) * (i % 7);
        }
        double n1 = nis_grad_norm(P);
        CHECK(n1 == sqrt(want), "norm %.17g, expected %.17g", n1, sqrt(want));
        nis_set_threads(2);
        CHECK(nis_grad_norm(P) == n1, "norm depends on the thread count");
        nis_set_threads(1);
        nis_params_free(P);
    }

    /* EMA: two updates by hand, copy_to, swap twice restores */
    {
        nis_params *P = make_params();
        nis_ema E;
        CHECK(nis_ema_init(&E, P, 0.9) == NIS_OK, "ema init: %s", nis_params_message(P));
        double s[N];
        memcpy(s, p0, sizeof s);
        for (int t = 0; t < 2; t++) {
            for (int i = 0; i < N; i++) P->data[i] = (nis_real)(p0[i] + t + 1);
            nis_ema_update(&E, P);
            for (int i = 0; i < N; i++) s[i] = 0.9 * s[i] + 0.1 * (p0[i] + t + 1);
        }
        for (int i = 0; i < N; i++) CHECK_CLOSE(E.shadow[i], s[i], 1e-6, 0);
        CHECK(E.updates == 2, "ema updates %lld", (long long)E.updates);
        nis_ema_swap(&E, P);
        for (int i = 0; i < N; i++) CHECK_CLOSE(P->data[i], s[i], 1e-6, 0);
        nis_ema_swap(&E, P);
        for (int i = 0; i < N; i++) CHECK(P->data[i] == (nis_real)(p0[i] + 2), "swap twice: p[%d]", i);
        nis_ema_copy_to(&E, P);
        for (int i = 0; i < N; i++) CHECK_CLOSE(P->data[i], s[i], 1e-6, 0);
        nis_ema_free(&E);

        nis_params *Q = nis_params_new();
        nis_params_add(Q, "other", 1, (int64_t[]){5});
        nis_params_finalize(Q);
        nis_ema_init(&E, P, 0.99);
        CHECK(nis_ema_update(&E, Q) == NIS_EINVAL, "ema of another model accepted");
        nis_ema_free(&E);
        nis_params_free(Q);
        nis_params_free(P);
    }
    return check_done("test_optim");
}
