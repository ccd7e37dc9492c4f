/* src/cli/cmd_demo.c — `nis demo`: the engine end to end in a few seconds.  An MLP (2 -> 64 -> 64 -> 1,
 * SiLU) learns f(x) = sin(3 x0) cos(2 x1) on x ~ U[-1, 1]^2 with Adam; the loss is printed as it falls. */
#include "args.h"
#include "commands.h"
#include "nis/core.h"
#include "nis/nn.h"
#include "nis/ops.h"
#include "nis/rng.h"

#include <math.h>
#include <stdio.h>

int cmd_demo(int argc, char **argv) {
    int64_t steps = 2000, batch = 256, seed = 0, threads = 1;
    double lr = 3e-3;
    const cli_opt opts[] = {
        {"steps", OPT_INT, &steps, "training steps", 1, 1e9, false},
        {"batch", OPT_INT, &batch, "batch size", 1, 1e7, false},
        {"lr", OPT_DOUBLE, &lr, "Adam learning rate", 1e-12, 10, false},
        CLI_SEED(&seed),
        CLI_THREADS(&threads),
    };
    int rc = cli_parse("demo", "Train a small MLP regression and print its loss falling.", argc, argv, opts,
                            sizeof opts / sizeof opts[0]);
    if (rc) return rc == 1 ? 0 : rc;
    nis_set_threads((int)threads);

    nis_params *P = nis_params_new();
    nis_ctx *ctx = nis_ctx_new(0);
    if (!P || !ctx) return cli_error("demo", "out of memory");
    nis_mlp mlp;
    nis_rng init = nis_rng_init((uint64_t)seed, NIS_STREAM_INIT), data = nis_rng_init((uint64_t)seed, NIS_STREAM_TRAIN);
    nis_mlp_add(&mlp, P, "mlp", 4, (int64_t[]){2, 64, 64, 1}, NIS_ACT_SILU);
    if (nis_params_finalize(P) != NIS_OK || nis_params_init(P, &init) != NIS_OK) {
        int e = cli_error("demo", "%s", nis_params_message(P));
        nis_params_free(P);
        nis_ctx_free(ctx);
        return e == 2 ? 1 : e;
    }
    nis_adam opt = nis_adam_default(lr);
    printf("demo: MLP 2-64-64-1 (SiLU, %lld parameters) learns sin(3 x0) cos(2 x1), batch %lld, Adam lr %g\n",
           (long long)nis_params_numel(P), (long long)batch, lr);
    double t0 = nis_seconds(), avg = 0;
    int status = 0;
    for (int64_t s = 1; s <= steps; s++) {
        nis_ctx_reset(ctx);
        nis_tensor *x = nis_new2(ctx, batch, 2), *y = nis_new2(ctx, batch, 1);
        if (!x || !y) break;
        nis_rng_fill_uniform(&data, x->data, x->n, -1, 1);
        for (int64_t i = 0; i < batch; i++) y->data[i] = sinf(3 * x->data[2 * i]) * cosf(2 * x->data[2 * i + 1]);
        nis_tensor *loss = nis_mean(ctx, nis_square(ctx, nis_sub(ctx, nis_mlp_forward(ctx, &mlp, x), y)));
        nis_params_zero_grad(P);
        if (!loss || nis_backward(ctx, loss, NULL) != NIS_OK || nis_adam_step(&opt, P) != NIS_OK) {
            fprintf(stderr, "nis demo: step %lld: %s\n", (long long)s,
                    nis_ctx_status(ctx) ? nis_ctx_message(ctx) : nis_params_message(P));
            status = 1;
            break;
        }
        if (!isfinite(loss->data[0])) {
            fprintf(stderr, "nis demo: step %lld: loss is %g\n", (long long)s, (double)loss->data[0]);
            status = 1;
            break;
        }
        avg += loss->data[0];
        if (s % (steps / 10 > 0 ? steps / 10 : 1) == 0) {
            printf("step %6lld  loss %.6f  (%.0f steps/s)\n", (long long)s, avg / (steps / 10 > 0 ? steps / 10 : 1),
                   s / (nis_seconds() - t0));
            avg = 0;
        }
    }
    printf("demo: %lld steps in %.2f s; arena peak %.1f KiB\n", (long long)steps, nis_seconds() - t0,
           nis_ctx_peak(ctx) / 1024.0);
    nis_params_free(P);
    nis_ctx_free(ctx);
    return status;
}
