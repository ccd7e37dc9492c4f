#!/usr/bin/env python3
"""PyTorch peer of bench/bench_train.c: the same networks, losses and Adam step, timed the same way.

Usage: python3 bench/torch_ref.py THREADS [--no-energy]  -> one JSON object {case: ms_per_step} on stdout.
Uses Debian's python3-torch (allowed in bench/ only). Each case: warm-up steps, then the median of timed
blocks of steps, as the C benchmark does.
"""
import json
import sys
import time

import torch
import torch.nn as nn


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def convnet():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1, 1), nn.SiLU(),
        nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(64, 64, 3, 2, 1), nn.SiLU(),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1))


def energy():
    """The MNIST DSM energy of bench_train.c (models/ebm-mnist-dsm): 5 convs, SiLU, linear to a scalar."""
    layers, cin = [], 1
    for c, s in zip((64, 128, 128, 256, 256), (1, 2, 1, 2, 2)):
        layers += [nn.Conv2d(cin, c, 3, s, 1), nn.SiLU()]
        cin = c
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 4 * 4, 1))


def energy_cases(out, blocks=5):
    """energy_grad, energy_hvp and dsm_step of bench_train.c, batch 128, noise 0.2."""
    torch.manual_seed(0)
    f = energy()
    y0 = (torch.rand(128, 1, 28, 28) + 0.2 * torch.randn(128, 1, 28, 28))
    v = torch.randn(128, 1, 28, 28)

    def grad():
        y = y0.clone().requires_grad_(True)
        return torch.autograd.grad(f(y).sum(), y)[0]

    def hvp():
        y = y0.clone().requires_grad_(True)
        g = torch.autograd.grad(f(y).sum(), y, create_graph=True)[0]
        return torch.autograd.grad((g * v).sum(), y)[0]

    opt = torch.optim.Adam(f.parameters(), lr=1e-3)

    def dsm():
        y = y0.clone().requires_grad_(True)
        g = torch.autograd.grad(f(y).sum(), y, create_graph=True)[0]
        loss = (0.2 * g - v).square().sum(dim=(1, 2, 3)).mean()
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()

    out["energy_grad"] = time_fn(grad, 2, blocks, 2)
    out["energy_hvp"] = time_fn(hvp, 1, blocks, 2)
    out["dsm_step"] = time_fn(dsm, 1, blocks, 2)


def time_fn(step, steps, blocks, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps * 1e3)
    times.sort()
    return times[len(times) // 2]


def time_case(model, x, steps, blocks=5, warmup=5):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = model(x).square().mean()
        loss.backward()
        opt.step()

    return time_fn(step, steps, blocks, warmup)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}
    out["mlp_large"] = time_case(mlp([2, 256, 256, 256, 2]), torch.randn(1024, 2), 20)
    out["mlp_small"] = time_case(mlp([2, 64, 64, 2]), torch.randn(256, 2), 200)
    out["conv"] = time_case(convnet(), torch.randn(64, 1, 28, 28), 5)
    if "--no-energy" not in sys.argv:
        energy_cases(out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
