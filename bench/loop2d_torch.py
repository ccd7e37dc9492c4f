#!/usr/bin/env python3
"""PyTorch peer of nis's end-to-end 2-D training loop (issue 20, item 4): `nis train --target donut --method dft|kl`
with the CLI defaults, one update at a time, timed as bench/run_loop2d.sh times nis.

Usage: /usr/bin/python3 bench/loop2d_torch.py --method dft|kl [--threads T] [--n1 200] [--n2 1200] [--seed 0]
Prints one JSON object on stdout: ms_per_update = (T(n2) - T(n1)) / (n2 - n1), T(n) being the wall time from the
start of the first update to the end of update n (set-up, the initial fit and updates 1..n1 are the warm-up), and
cpu_ms_per_update, the same with the process's CPU time (time.process_time, all threads) for T.
Torch 1.13 (Debian's python3-torch). The process's BLAS and OpenMP thread counts are set to --threads before torch
is imported (Debian's torch calls the pthread build of OpenBLAS, whose pool torch.set_num_threads does not size;
nis sets both, src/core/blas.c). OPENBLAS_CORETYPE is taken from the environment as it is; the kernel set the
loaded OpenBLAS reports is in the output ("openblas_core").

What it mirrors (nis_train_config defaults, as written to DIR/config.json; file:function of nis in brackets):
- Networks [src/train/nets.c]: generator MLP latent 2 -> 64 -> 64 -> 64 -> 2 and score MLP 2 -> 64 x3 -> 2, SiLU
  between layers, linear output, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) init (torch's nn.Linear default has the same
  bound). float32. Score model: residual for DFT (s = s_q + r_phi; `auto` on a 2-D target), plain for KL
  [config.c:nis__config_resolve].
- Target [src/targets/toy2d.c:donut_lp]: log q = -(|x| - 2.6)^2 / 0.033 built from the same element-wise ops; its
  score is the autograd gradient of sum_b log q (grad_outputs ones, as nis_grad with a NULL seed), with
  create_graph where nis builds it with create_graph [src/targets/target.c:nis_target_score].
- Initial phase [trainer.c:broad_start]: init_steps 500 Adam(1e-3) steps fitting g(z) ~ 2 z (donut has no mode:
  centre 0) on batches of 256, then a fresh optimiser; then the EMA shadow is a copy of the weights. Untimed (in nis
  it happens in nis_trainer_new, before train_seconds starts).
- One update [trainer.c:nis_trainer_step], in order:
  0. before the first update, the divergence guard's reference: RMS of 64 samples of the live generator (no grad);
  1. sigma and the sampler lr from their schedules (constant at the defaults: sigma 0.1, lr 1e-4);
  2. score_steps = 5 score-network updates (score_warmup resolves to 0), each [objectives.c:dsm_loss]: a fresh
     antithetic draw (z ~ N(0, I) for 128 rows, g(z) on those rows and its output repeated; eps for 128 rows and its
     negation; nets.c:nis_train_draw), x0 = g(z) without a graph, x~ = x0 + sigma eps detached, DSM loss
     mean_b ||s(x~) + eps/sigma||^2 where for DFT s(x~) = r_phi(x~) + s_q(x~) (the target score computed without
     create_graph, one log q forward and one backward per score step [nets.c:nis__score]) and for KL s = r_phi;
     then [trainer.c:nis__update] the finiteness check of the loss, zero_grad, backward, global gradient-norm clip
     at 10, the norm's finiteness check, Adam (lr_score 1e-3, betas 0.9/0.999, eps 1e-8);
  3. the sampler update with the score network's weights frozen (requires_grad off, then on again):
     DFT [objectives.c:nis_dft_residual_objective]: antithetic draw, x0 = g(z) with a graph, x~ = x0 + sigma eps,
       e = eps/sigma, s_q(x~) with create_graph (its backward is the Hessian-vector product of log q), r = r_phi(x~),
       loss = -mean_b(2 <s_q(x~) + e, r> + ||r||^2); the backward runs through r_phi's input, the double backward of
       log q and the generator;
     KL [objectives.c:nis_kl_objective]: antithetic draw, x0 = g(z) with a graph, x~ = x0 + sigma eps; without
       grad: v = s_phi(x~) - s_q(x~) (s_q by a log q forward and a backward on a detached copy), monitor
       mean_b ||v||^2; loss = mean_b <x~, v>;
     then nis__update as above (clip 10, Adam lr 1e-4);
  4. the EMA of the generator's weights with nis's warm decay min(0.999, (1 + k)/(10 + k)) [nn/clip_ema.c];
  5. every 10 updates the divergence guard: RMS of 64 fresh live samples (no grad) against 1e6 x the reference.
What it leaves out:
- Saving: `nis train` saves sampler.safetensors and checkpoint.safetensors (atomic writes with fsync) inside
  train_seconds [src/train/run.c], every iters/10 updates by default; run_loop2d.sh passes --checkpoint-every N2
  so that its runs of n1 and n2 updates save once each, at the end, and the difference removes the save. This
  script saves nothing.
- nis's per-update bookkeeping that does no tensor work: the progress callback (--quiet), the statistics struct,
  the counted target's row count; the evaluation and samples.png after training (outside train_seconds).
- The random numbers differ (torch's generator, not nis's streams), so the values differ from nis's; the work per
  update (shapes, network passes, autograd passes) is the same.
- Options off at the defaults are not implemented: sigma annealing, cosine lr decay, noise levels (sigma_max),
  kl_weight, whitening, score warm-up, Fisher training.
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

BATCH, LATENT, DIM, WIDTH, DEPTH = 256, 2, 2, 64, 3
SIGMA, LR, LR_SCORE, SCORE_STEPS, CLIP, EMA = 0.1, 1e-4, 1e-3, 5, 10.0, 0.999
INIT_SCALE, INIT_LR = 2.0, 1e-3
GUARD_EVERY, GUARD_N, GUARD_FACTOR = 10, 64, 1e6


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--method", choices=("dft", "kl"), required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n1", type=int, default=200, help="updates before the timed span (warm-up)")
    p.add_argument("--n2", type=int, default=1200, help="total updates; updates n1+1..n2 are timed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init-steps", type=int, default=500, help="steps of the initial fit (nis: init_steps)")
    a = p.parse_args()
    if a.threads < 1 or a.n1 < 0 or a.n2 <= a.n1:
        p.error("need threads >= 1 and 0 <= n1 < n2")
    return a


args = parse()
# before torch loads OpenBLAS / libgomp: both pools sized to --threads
os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)

import torch  # noqa: E402
from torch_ref import mlp  # noqa: E402  (Linear layers with SiLU between; bench/torch_ref.py)


def openblas_core():
    """The kernel set of the OpenBLAS torch loaded (libblas.so.3 -> OpenBLAS on Debian), or "?"."""
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return "?"


def donut_lp(x):
    """log q of donut (toy2d.c:donut_lp): -(|x| - 2.6)^2 / 0.033, x (B, 2) -> (B,)."""
    r = x.square().sum(1).sqrt()
    return (r - 2.6).square() * (-1.0 / 0.033)


def target_score(x, create_graph):
    """s_q(x) = grad_x sum_b log q(x_b) (target.c:nis_target_score).  With create_graph, x must be part of the graph
    (the gradient then carries the Hessian-vector product back to x); without, a detached copy is used."""
    with torch.enable_grad():
        xd = x if create_graph else x.detach().requires_grad_(True)
        lp = donut_lp(xd)
        (g,) = torch.autograd.grad(lp, xd, grad_outputs=torch.ones_like(lp), create_graph=create_graph)
    return g


def sqnorm(t):
    return t.square().sum(1)


class Loop:
    def __init__(self, method, seed, init_steps):
        torch.manual_seed(seed)
        self.method = method
        self.residual = method == "dft"   # score_model auto: residual for DFT on a 2-D target, plain for KL
        self.G = mlp([LATENT] + [WIDTH] * DEPTH + [DIM])
        self.S = mlp([DIM] + [WIDTH] * DEPTH + [DIM])
        self.gen = torch.Generator().manual_seed(seed + 1)          # training noise
        self.guard_gen = torch.Generator().manual_seed(seed + 2)    # the guard's own stream
        self.broad_start(init_steps, seed + 3)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
        self.opt_s = torch.optim.Adam(self.S.parameters(), lr=LR_SCORE, betas=(0.9, 0.999), eps=1e-8)
        self.ema = [p.detach().clone() for p in self.G.parameters()]
        self.ema_updates = 0
        self.iter = 0
        self.guard_ref = 0.0
        self.sigma = SIGMA

    def broad_start(self, steps, seed):
        """trainer.c:broad_start: g(z) ~ 0 + INIT_SCALE z by least squares, Adam(1e-3), its moments then dropped."""
        opt = torch.optim.Adam(self.G.parameters(), lr=INIT_LR)
        g = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            z = torch.randn(BATCH, LATENT, generator=g)
            y = INIT_SCALE * z[:, :DIM]
            loss = (self.G(z) - y).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    def draw(self, graph):
        """nets.c:nis_train_draw: antithetic (z, eps), (z, -eps) pairs; x0 = g(z) on the 128 distinct z (with or without
        a graph), its output repeated for the pairs' second halves."""
        half = BATCH // 2
        zh = torch.randn(half, LATENT, generator=self.gen)
        eh = torch.randn(half, DIM, generator=self.gen)
        eps = torch.cat([eh, -eh])
        if graph:
            xh = self.G(zh)
        else:
            with torch.no_grad():
                xh = self.G(zh)
        return torch.cat([xh, xh]), eps

    def score(self, x):
        """nets.c:nis__score: r_phi(x), plus s_q(x) (no graph) for the residual model."""
        y = self.S(x)
        return y + target_score(x, False) if self.residual else y

    def update(self, loss, monitor, params, opt, what):
        """trainer.c:nis__update."""
        if not (math.isfinite(monitor) and math.isfinite(loss.item())):
            raise RuntimeError(f"{what} loss is not finite at update {self.iter + 1}")
        opt.zero_grad()
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(params, CLIP))
        if not math.isfinite(norm):
            raise RuntimeError(f"{what} gradient is not finite at update {self.iter + 1}")
        opt.step()

    def guard_rms(self):
        with torch.no_grad():
            x = self.G(torch.randn(GUARD_N, LATENT, generator=self.guard_gen))
        return float(x.square().mean().sqrt())

    def dsm_loss(self):
        """objectives.c:nis_dsm_objective on a fresh draw (no graph into the generator)."""
        x0, eps = self.draw(False)
        xt = (x0 + self.sigma * eps).detach()
        target = eps * (1.0 / self.sigma)
        loss = sqnorm(self.score(xt) + target).mean()
        return loss, loss.item()

    def dft_loss(self):
        """objectives.c:nis_dft_residual_objective."""
        x0, eps = self.draw(True)
        xt = x0 + self.sigma * eps
        e = eps * (1.0 / self.sigma)
        sq = target_score(xt, True)
        r = self.S(xt)
        cross = ((sq + e) * r).sum(1)
        loss = -(cross * 2 + sqnorm(r)).mean()
        return loss, loss.item()

    def kl_loss(self):
        """objectives.c:nis_kl_objective (plain score model) and kl_surrogate."""
        x0, eps = self.draw(True)
        xt = x0 + self.sigma * eps
        with torch.no_grad():
            xd = xt.detach()
            v = self.score(xd) - target_score(xd, False)
            vv = sqnorm(v).mean()
        loss = (xt * v).sum(1).mean()
        return loss, vv.item()

    def step(self):
        """trainer.c:nis_trainer_step."""
        if self.guard_ref == 0:
            rms = self.guard_rms()
            self.guard_ref = rms if math.isfinite(rms) and rms > 1 else 1.0
        self.sigma = SIGMA                      # geometric schedule: constant without sigma_start
        for gp in self.opt_g.param_groups:      # cosine schedule: constant without lr_final
            gp["lr"] = LR
        s_params = list(self.S.parameters())
        for _ in range(SCORE_STEPS):
            loss, mon = self.dsm_loss()
            self.update(loss, mon, s_params, self.opt_s, "score-network")
        for p in s_params:
            p.requires_grad_(False)
        loss, mon = self.dft_loss() if self.method == "dft" else self.kl_loss()
        self.update(loss, mon, list(self.G.parameters()), self.opt_g, "sampler")
        for p in s_params:
            p.requires_grad_(True)
        with torch.no_grad():                   # clip_ema.c:nis_ema_update_warm
            w = (1.0 + self.ema_updates) / (10.0 + self.ema_updates)
            d = min(w, EMA)
            for s, p in zip(self.ema, self.G.parameters()):
                s.mul_(d).add_(p, alpha=1 - d)
            self.ema_updates += 1
        self.iter += 1
        if self.iter % GUARD_EVERY == 0:
            rms = self.guard_rms()
            if not rms <= GUARD_FACTOR * self.guard_ref:
                raise RuntimeError(f"the run diverged: RMS {rms:.3g} at update {self.iter}")
        return mon

    def ema_radius(self, n=2000):
        """Mean |x~| of n noisy samples from the EMA weights (donut's ring is at 2.6): a sanity check, untimed."""
        live = [p.detach().clone() for p in self.G.parameters()]
        with torch.no_grad():
            for p, s in zip(self.G.parameters(), self.ema):
                p.copy_(s)
            z = torch.randn(n, LATENT, generator=self.guard_gen)
            x = self.G(z) + self.sigma * torch.randn(n, DIM, generator=self.guard_gen)
            for p, s in zip(self.G.parameters(), live):
                p.copy_(s)
        return float(x.norm(dim=1).mean())


def main():
    torch.set_num_threads(args.threads)
    t_setup = time.perf_counter()
    loop = Loop(args.method, args.seed, args.init_steps)
    setup_s = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    t1, c1 = t0, time.process_time()
    mon = float("nan")
    for k in range(args.n2):
        if k == args.n1:
            t1, c1 = time.perf_counter(), time.process_time()
        mon = loop.step()
    t2, c2 = time.perf_counter(), time.process_time()
    out = {
        "method": args.method, "threads": args.threads, "n1": args.n1, "n2": args.n2,
        "ms_per_update": (t2 - t1) / (args.n2 - args.n1) * 1e3,
        "cpu_ms_per_update": (c2 - c1) / (args.n2 - args.n1) * 1e3,
        "seconds_first_n1": t1 - t0, "seconds_n1_to_n2": t2 - t1, "setup_seconds": setup_s,
        "final_monitor": mon, "ema_mean_radius": loop.ema_radius(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "openblas_core": openblas_core(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
