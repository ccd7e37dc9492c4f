/* Heap discipline of a training loop.
 *  1. Steady state: an MLP (2 -> 64 -> 64 -> 2, silu) trained with Adam, each step
 *     { nis_ctx_reset; forward; loss; zero_grad; backward; adam step }, makes no heap allocation between
 *     step 3 and step 20 (nis_alloc_count does not move).
 *  2. Fault injection (as SQLite's test_malloc.c): an allocator that fails the k-th allocation (once, or
 *     from then on), for every k until a run no longer reaches k; each run builds the model, a context, an
 *     EMA and takes training steps, and must end with NIS_ENOMEM reported (never OK, never a crash; run
 *     under ASan by `make asan`, which also checks that every error path frees what it took). */
#include "check.h"
#include "nis/nn.h"

#include <string.h>

enum { B = 32 };
static nis_real X[B * 2], Y[B * 2];

static void make_data(void) {
    test_seed(4);
    for (int i = 0; i < B; i++) {
        X[2 * i] = (nis_real)test_normal();
        X[2 * i + 1] = (nis_real)test_normal();
        Y[2 * i] = X[2 * i] * X[2 * i + 1];
        Y[2 * i + 1] = (nis_real)sin(X[2 * i]);
    }
}

/* One training step; returns the context's or the parameters' status. */
static nis_status step(nis_ctx *ctx, const nis_mlp *M, nis_params *P, nis_adam *opt) {
    nis_ctx_reset(ctx);
    nis_tensor *x = nis_tensor_wrap(ctx, 2, (int64_t[]){B, 2}, X);
    nis_tensor *y = nis_tensor_wrap(ctx, 2, (int64_t[]){B, 2}, Y);
    nis_tensor *loss = nis_mean(ctx, nis_square(ctx, nis_sub(ctx, nis_mlp_forward(ctx, M, x), y)));
    if (!loss) return nis_ctx_status(ctx);
    nis_params_zero_grad(P);
    nis_status st = nis_backward(ctx, loss, NULL);
    if (st != NIS_OK) return st;
    return nis_adam_step(opt, P);
}

static void test_steady_state(void) {
    nis_params *P = nis_params_new();
    nis_mlp M;
    nis_mlp_add(&M, P, "mlp", 4, (int64_t[]){2, 64, 64, 2}, NIS_ACT_SILU);
    CHECK(nis_params_finalize(P) == NIS_OK, "finalize: %s", nis_params_message(P));
    nis_rng rng = nis_rng_init(1, 0);
    nis_params_init(P, &rng);
    nis_ctx *ctx = nis_ctx_new(0);
    nis_adam opt = nis_adam_default(1e-3);
    uint64_t at3 = 0;
    nis_status st = NIS_OK;
    for (int s = 1; s <= 20 && st == NIS_OK; s++) {
        st = step(ctx, &M, P, &opt);
        if (s == 3) at3 = nis_alloc_count();
    }
    CHECK(st == NIS_OK, "training: %s %s", nis_ctx_message(ctx), nis_params_message(P));
    uint64_t at20 = nis_alloc_count();
    CHECK(at20 == at3, "%llu heap allocations between step 3 and step 20", (unsigned long long)(at20 - at3));
    nis_ctx_free(ctx);
    nis_params_free(P);
}

/* ---- fault injection ---- */

static long g_calls, g_fail_at; /* allocation calls so far; the first call to fail (0: none) */
static bool g_persistent, g_fired;

static bool should_fail(void) {
    long k = ++g_calls;
    bool fail = g_fail_at > 0 && (k == g_fail_at || (g_persistent && k > g_fail_at));
    g_fired |= fail;
    return fail;
}
static void *fi_malloc(size_t n, void *ud) {
    (void)ud;
    return should_fail() ? NULL : malloc(n);
}
static void *fi_realloc(void *p, size_t n, void *ud) {
    (void)ud;
    return should_fail() ? NULL : realloc(p, n);
}
static void fi_free(void *p, void *ud) {
    (void)ud;
    free(p);
}

/* Build, train three steps, keep an EMA; free everything.  Returns the first error met. */
static nis_status scenario(void) {
    nis_params *P = nis_params_new();
    if (!P) return NIS_ENOMEM;
    nis_mlp M;
    nis_mlp_add(&M, P, "mlp", 4, (int64_t[]){2, 16, 16, 2}, NIS_ACT_SILU);
    nis_status st = nis_params_finalize(P);
    nis_ctx *ctx = NULL;
    nis_ema E = {0};
    if (st == NIS_OK) {
        nis_rng rng = nis_rng_init(1, 0);
        st = nis_params_init(P, &rng);
    }
    if (st == NIS_OK) {
        ctx = nis_ctx_new(2048); /* small, so the arena grows (allocates) inside ops */
        if (!ctx) st = NIS_ENOMEM;
    }
    if (st == NIS_OK) st = nis_ema_init(&E, P, 0.9);
    nis_adam opt = nis_adam_default(1e-3);
    for (int s = 0; s < 3 && st == NIS_OK; s++) {
        st = step(ctx, &M, P, &opt);
        if (st == NIS_OK) st = nis_ema_update(&E, P);
    }
    if (st != NIS_OK) { /* the error comes with a message */
        const char *msg = ctx && nis_ctx_status(ctx) != NIS_OK ? nis_ctx_message(ctx) : nis_params_message(P);
        bool bare = st == nis_params_status(P) || (ctx && st == nis_ctx_status(ctx));
        CHECK(!bare || msg[0] != '\0', "error %s without a message", nis_status_name(st));
    }
    nis_ema_free(&E);
    nis_ctx_free(ctx);
    nis_params_free(P);
    return st;
}

static void test_faults(bool persistent) {
    const nis_allocator fi = {fi_malloc, fi_realloc, fi_free, NULL};
    nis_set_allocator(&fi);
    int runs = 0, failed_cleanly = 0;
    for (long k = 1; k < 10000; k++) {
        g_calls = 0;
        g_fail_at = k;
        g_persistent = persistent;
        g_fired = false;
        nis_status st = scenario();
        runs++;
        if (!g_fired) { /* k is past the last allocation: the run must have succeeded */
            CHECK(st == NIS_OK, "run without a fault failed: %s", nis_status_name(st));
            break;
        }
        CHECK(st == NIS_ENOMEM, "allocation %ld failed (%s) but the run returned %s", k,
              persistent ? "persistent" : "once", nis_status_name(st));
        failed_cleanly += st == NIS_ENOMEM;
    }
    nis_set_allocator(NULL);
    CHECK(runs > 5, "only %d runs: the scenario allocates almost nothing?", runs);
    printf("fault injection (%s): %d allocation sites, each failure reported as ENOMEM: %d\n",
           persistent ? "persistent" : "once", runs - 1, failed_cleanly);
}

int main(void) {
    make_data();
    test_steady_state();
    test_faults(false);
    test_faults(true);
    return check_done("test_alloc");
}
