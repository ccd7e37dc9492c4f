#!/usr/bin/env python3
"""PyTorch peer of bench/bench_train.c: the same networks, losses and Adam step, timed the same way.

Usage: python3 bench/torch_ref.py THREADS  -> one JSON object {case: ms_per_step} on stdout.
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


def time_case(model, x, steps, blocks=5, warmup=5):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = model(x).square().mean()
        loss.backward()
        opt.step()

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


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}
    out["mlp_large"] = time_case(mlp([2, 256, 256, 256, 2]), torch.randn(1024, 2), 20)
    out["mlp_small"] = time_case(mlp([2, 64, 64, 2]), torch.randn(256, 2), 200)
    out["conv"] = time_case(convnet(), torch.randn(64, 1, 28, 28), 5)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
