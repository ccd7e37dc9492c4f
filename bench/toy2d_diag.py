#!/usr/bin/python3
"""bench/toy2d_diag.py — why DFT's mass goes wrong on mog2 and donut (docs/dft-experiments.md, Session 10).

    /usr/bin/python3 bench/toy2d_diag.py split RUN_DIR          (a mog2 sampler)
    /usr/bin/python3 bench/toy2d_diag.py fisher CLEAN.npy ...    (clean donut samples: nis sample --clean-output)

split: where the sampler cuts its latent space between mog2's two modes.  Draws 200,000 z ~ N(0, I), maps them
through the saved MLP (RUN_DIR/sampler.safetensors, read here with numpy; the EMA weights, no σ noise), fits the
line in z-space that separates x0 > 0 from x0 < 0 (least squares on ±1 labels) and prints the fraction with
x0 > 0, the line's offset from the origin (0: a balanced cut) and the mass in the gap |x0| < 1 (exact: 2.3%).

fisher: the Fisher divergence D = E_{p_σ} |∇log p_σ − s_q|² of the sampler's noisy law p_σ = p * N(0, σ²I),
σ = 0.1, and its energy distance to exact donut samples, for the samples as they are and reweighted to a uniform
angle (32 sectors).  ∇log p_σ is exact for the empirical law of the clean samples (a Gaussian mixture with
bandwidth σ, leaving out each point's own component), so D needs no score network.  Standard library + numpy.
"""
import json
import struct
import sys

import numpy as np

SIGMA = 0.1
rng = np.random.default_rng(1)


def load_sampler(run_dir):
    with open(run_dir + "/sampler.safetensors", "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        buf = f.read()
    meta = head.pop("__metadata__", {})
    if meta.get("act", "silu") != "silu":
        sys.exit("toy2d_diag: only SiLU samplers")
    w = {}
    for k, v in head.items():
        a, b = v["data_offsets"]
        w[k] = np.frombuffer(buf[a:b], dtype=np.float32).reshape(v["shape"]).astype(np.float64)
    layers = sorted({k.split(".")[1] for k in w}, key=lambda s: int(s[2:]))
    return [(w[f"sampler.{l}.weight"], w[f"sampler.{l}.bias"]) for l in layers]


def forward(layers, z):
    h = z
    for i, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if i + 1 < len(layers):
            h = h / (1 + np.exp(-h))
    return h


def split(run_dir):
    z = rng.standard_normal((200000, 2))
    x = forward(load_sampler(run_dir), z)
    pos = x[:, 0] > 0
    c = np.linalg.lstsq(np.c_[z, np.ones(len(z))], np.where(pos, 1.0, -1.0), rcond=None)[0]
    norm = np.hypot(c[0], c[1])
    print(f"{run_dir}: x0 > 0: {pos.mean():.3f}; cut |offset| from the origin {abs(c[2]) / norm:.2f} "
          f"(latent sds); mass in |x0| < 1: {(np.abs(x[:, 0]) < 1).mean():.3f} (exact 0.023)")


def donut_score(y):
    r = np.hypot(*y.T)[:, None]
    return -2 * (r - 2.6) / 0.033 * y / r


def donut_exact(n):
    out = np.empty(0)
    while len(out) < n:   # radius by rejection from N(2.6, 0.033/2) with acceptance r / r_max
        r = rng.normal(2.6, np.sqrt(0.033 / 2), n)
        out = np.r_[out, r[rng.random(n) < r / (2.6 + 8 * 0.13)]]
    r, a = out[:n], rng.uniform(-np.pi, np.pi, n)
    return np.c_[r * np.cos(a), r * np.sin(a)]


def energy_distance(x, y):
    d = lambda a, b: np.mean(np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)))
    return 2 * d(x, y) - d(x, x) - d(y, y)


def fisher(x, w, m=3000):
    """D and its standard error for p_σ = Σ_j w_j N(x_j, σ²I) (w normalised), from m draws."""
    w = w / w.sum()
    idx = rng.choice(len(x), m, p=w)
    y = x[idx] + SIGMA * rng.standard_normal((m, 2))
    out = []
    for i0 in range(0, m, 500):
        yy, ii = y[i0:i0 + 500], idx[i0:i0 + 500]
        k = np.exp(-((yy[:, None] - x[None]) ** 2).sum(-1) / (2 * SIGMA ** 2)) * w[None]
        k[np.arange(len(yy)), ii] = 0   # leave out the point's own component
        sp = (k[:, :, None] * (x[None] - yy[:, None])).sum(1) / k.sum(1)[:, None] / SIGMA ** 2
        out.append(((sp - donut_score(yy)) ** 2).sum(1))
    out = np.concatenate(out)
    return out.mean(), out.std() / np.sqrt(m)


def fisher_report(files):
    exact = donut_exact(3000)
    for f in files:
        x = np.load(f).astype(np.float64)
        a = np.arctan2(x[:, 1], x[:, 0])
        h, edges = np.histogram(a, 32, (-np.pi, np.pi))
        uniform = (h.mean() / np.maximum(h, 1))[np.clip(np.digitize(a, edges) - 1, 0, 31)]
        for name, w in (("as sampled", np.ones(len(x))), ("uniform angle", uniform)):
            d, se = fisher(x, w)
            ys = x[rng.choice(len(x), 3000, p=w / w.sum())] + SIGMA * rng.standard_normal((3000, 2))
            print(f"{f} {name:13s}: Fisher divergence {d:7.1f} ± {se:.1f}, energy distance "
                  f"{energy_distance(ys, exact):.4f}")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("split", "fisher"):
        sys.exit(__doc__)
    if sys.argv[1] == "split":
        for d in sys.argv[2:]:
            split(d)
    else:
        fisher_report(sys.argv[2:])


if __name__ == "__main__":
    main()
