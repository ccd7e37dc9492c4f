#!/usr/bin/python3
"""bench/toy2d_blind.py — what DFT's objective charges for the errors that energy distance sees.

    /usr/bin/python3 bench/toy2d_blind.py rates [--md FILE]      (no networks, no training: about 2 minutes)
    /usr/bin/python3 bench/toy2d_blind.py fisher TARGET CLEAN.npy ...
    /usr/bin/python3 bench/toy2d_blind.py drift --root DIR [--md FILE]   (after bench/toy2d_drift's runs)

rates: each 2-D target q (docs/targets-2d.md) is perturbed in two ways, with the perturbed law p known exactly
(normalised density, score, exact sampler):
  - a *mass* error: how much probability sits where, with q's local shape kept (mog2's mode weights, donut's
    angular density, the x0-marginal of rosenbrock, funnel and squiggle along their long direction);
  - a *shape* error: q's local width changed by 10%, with the mass kept where it is.
For each p it prints the energy distance ED(p, q) (n = 5000 of each, as in docs/results-2d.md, averaged over
repeats), the Fisher divergence F(p || q) = E_p |∇log p − ∇log q|² (the quantity DFT minimises when p is the law
of its sample g(z) + σε) and the reverse KL(p || q) = E_p[log p − log q] (what KL training minimises), both by
Monte Carlo with exact scores and densities.  F / KL compares the two objectives' charges for the same error:
a mass error and a shape error that KL charges alike can differ by orders of magnitude in F.

fisher: F(p_σ || q) of the noisy law p_σ = p * N(0, σ²I), σ = 0.1, for the empirical law p of clean sampler
outputs (nis sample --clean-output): ∇log p_σ is exact for the Gaussian mixture with bandwidth σ centred on the
samples (leaving out each point's own component), so no score network is involved; and the energy distance of
the noisy samples to exact ones.  This is DFT's own objective, measured without its networks.

drift: the table of bench/toy2d_drift: for each run DIR/TARGET/sS_TN (KL for 3000 updates, then DFT up to N),
the energy distance and KSD of its metrics.json and F(p_σ || q) of its clean.npy as in `fisher`.

Standard library + numpy (Debian's python3-numpy).
"""
import argparse
import math
import os
import sys

import numpy as np

from tablelib import load

SIGMA = 0.1
LOG2PI = math.log(2 * math.pi)


def npdf_log(x, m, v):
    """log N(x; m, v), elementwise."""
    return -0.5 * (LOG2PI + np.log(v) + (x - m) ** 2 / v)


# ---------------------------------------------------------------------------------------------------------
# Targets and their perturbations: each law is (sample(rng, n) -> (n, 2), logp(x) -> (n,), normalised).
# ---------------------------------------------------------------------------------------------------------

def gauss_law(shift=0.0, scale=1.0):
    def sample(rng, n):
        return np.c_[shift + scale * rng.standard_normal(n), scale * rng.standard_normal(n)]

    def logp(x):
        return npdf_log(x[:, 0], shift, scale ** 2) + npdf_log(x[:, 1], 0.0, scale ** 2)
    return sample, logp


def mog2_law(w=0.5, sd=0.5):
    def sample(rng, n):
        left = rng.random(n) < w
        c = np.where(left, -2.0, 2.0)
        return np.c_[c + sd * rng.standard_normal(n), sd * rng.standard_normal(n)]

    def logp(x):
        v = sd ** 2
        a = math.log(w) + npdf_log(x[:, 0], -2.0, v) + npdf_log(x[:, 1], 0.0, v)
        b = math.log(1 - w) + npdf_log(x[:, 0], 2.0, v) + npdf_log(x[:, 1], 0.0, v)
        return np.logaddexp(a, b)
    return sample, logp


def donut_law(a=0.0, k=1.0):
    """Radial profile exp(-(r - 2.6)^2 / (0.033 k^2)) (Cartesian density), angle density (1 + a cos φ) / 2π."""
    c = 0.033 * k ** 2
    r = np.linspace(1e-6, 2.6 + 12 * math.sqrt(c), 200001)
    logz = math.log(2 * math.pi * np.trapz(r * np.exp(-(r - 2.6) ** 2 / c), r))

    def sample(rng, n):
        rad = np.empty(0)
        while len(rad) < n:   # r by rejection from N(2.6, c/2), acceptance r / r_max
            t = rng.normal(2.6, math.sqrt(c / 2), 2 * n)
            rad = np.r_[rad, t[(t > 0) & (rng.random(2 * n) < t / (2.6 + 12 * math.sqrt(c)))]]
        phi = np.empty(0)
        while len(phi) < n:   # φ by rejection from uniform, acceptance (1 + a cos φ) / (1 + a)
            t = rng.uniform(-math.pi, math.pi, 2 * n)
            phi = np.r_[phi, t[rng.random(2 * n) * (1 + abs(a)) < 1 + a * np.cos(t)]]
        rad, phi = rad[:n], phi[:n]
        return np.c_[rad * np.cos(phi), rad * np.sin(phi)]

    def logp(x):
        rad = np.hypot(x[:, 0], x[:, 1])
        phi = np.arctan2(x[:, 1], x[:, 0])
        return -(rad - 2.6) ** 2 / c - logz + np.log1p(a * np.cos(phi))
    return sample, logp


def rosenbrock_law(s0=1.0, k=1.0):
    """x0 ~ N(1, s0^2), x1 | x0 ~ N(x0^2, 0.1 k^2) (q: s0 = k = 1; a = 1/2, b = 5)."""
    def sample(rng, n):
        x0 = 1 + s0 * rng.standard_normal(n)
        return np.c_[x0, x0 ** 2 + k * math.sqrt(0.1) * rng.standard_normal(n)]

    def logp(x):
        return npdf_log(x[:, 0], 1.0, s0 ** 2) + npdf_log(x[:, 1], x[:, 0] ** 2, 0.1 * k ** 2)
    return sample, logp


def funnel_law(m=0.0, k=1.0):
    """x0 ~ N(m, 9), x1 | x0 ~ N(0, k^2 e^x0) (q: m = 0, k = 1)."""
    def sample(rng, n):
        x0 = m + 3 * rng.standard_normal(n)
        return np.c_[x0, k * np.exp(x0 / 2) * rng.standard_normal(n)]

    def logp(x):
        return npdf_log(x[:, 0], m, 9.0) + npdf_log(x[:, 1], 0.0, k ** 2 * np.exp(x[:, 0]))
    return sample, logp


def squiggle_law(s0=1.0, k=1.0):
    """y = (x0, x1 + sin 5 x0) ~ N(0, S) with y0's sd scaled by s0 and y1 | y0's sd by k (q: S = [[2, .25], [.25, .5]])."""
    v0 = 2.0 * s0 ** 2
    beta = 0.25 / 2.0                    # E[y1 | y0] = beta y0, kept
    vc = (0.5 - 0.25 ** 2 / 2.0) * k ** 2   # Var[y1 | y0]

    def sample(rng, n):
        y0 = math.sqrt(v0) * rng.standard_normal(n)
        y1 = beta * y0 + math.sqrt(vc) * rng.standard_normal(n)
        return np.c_[y0, y1 - np.sin(5 * y0)]

    def logp(x):
        y0, y1 = x[:, 0], x[:, 1] + np.sin(5 * x[:, 0])   # the map x -> y has unit Jacobian
        return npdf_log(y0, 0.0, v0) + npdf_log(y1, beta * y0, vc)
    return sample, logp


# (target, the exact law, [(kind, description, law)])
CASES = [
    ("gauss", gauss_law(), [
        ("mass", "mean shifted by 0.1", gauss_law(shift=0.1)),
        ("shape", "sd x 1.1", gauss_law(scale=1.1)),
    ]),
    ("mog2", mog2_law(), [
        ("mass", "mode weights 0.4 / 0.6", mog2_law(w=0.4)),
        ("mass", "mode weights 0.3 / 0.7", mog2_law(w=0.3)),
        ("shape", "mode sd x 1.1", mog2_law(sd=0.55)),
    ]),
    ("rosenbrock", rosenbrock_law(), [
        ("mass", "x0 marginal sd x 0.9 (less mass in the arms)", rosenbrock_law(s0=0.9)),
        ("mass", "x0 marginal sd x 0.7", rosenbrock_law(s0=0.7)),
        ("shape", "x1 given x0: sd x 1.1", rosenbrock_law(k=1.1)),
    ]),
    ("donut", donut_law(), [
        ("mass", "angle density 1 + 0.2 cos φ", donut_law(a=0.2)),
        ("mass", "angle density 1 + 0.4 cos φ", donut_law(a=0.4)),
        ("shape", "radial sd x 1.1", donut_law(k=1.1)),
    ]),
    ("funnel", funnel_law(), [
        ("mass", "x0 marginal shifted by +0.5 (less mass in the neck)", funnel_law(m=0.5)),
        ("mass", "x0 marginal shifted by +1", funnel_law(m=1.0)),
        ("shape", "x1 given x0: sd x 1.1", funnel_law(k=1.1)),
    ]),
    ("squiggle", squiggle_law(), [
        ("mass", "y0 marginal sd x 0.9 (along the wave)", squiggle_law(s0=0.9)),
        ("shape", "y1 given y0: sd x 1.1 (across the wave)", squiggle_law(k=1.1)),
    ]),
]
EXACT = {name: law for name, law, _ in CASES}


def grad(f, x, h=1e-5):
    """Central-difference gradient of a scalar field f: (n, 2) -> (n,), in float64."""
    g = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        g[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def pair_mean(a, b, same):
    """Mean of |a_i - b_j| over i, j (over i != j when a is b), in chunks."""
    tot = 0.0
    for i in range(0, len(a), 1000):
        d = np.sqrt(((a[i:i + 1000, None, :] - b[None, :, :]) ** 2).sum(-1))
        tot += d.sum()
    n, m = len(a), len(b)
    return tot / (n * (n - 1)) if same else tot / (n * m)


def energy_distance(x, y):
    return 2 * pair_mean(x, y, False) - pair_mean(x, x, True) - pair_mean(y, y, True)


def write_atomic(path, text):
    """Write text to path through a temporary file and a rename."""
    with open(path + ".tmp", "w") as out:
        out.write(text)
    os.replace(path + ".tmp", path)


def rates(md_path):
    rng = np.random.default_rng(20261202)
    n_ed, reps, n_mc = 5000, 4, 400000
    rows = []
    for name, (q_sample, q_logp), perts in CASES:
        for kind, desc, (p_sample, p_logp) in perts:
            eds = [energy_distance(p_sample(rng, n_ed), q_sample(rng, n_ed)) for _ in range(reps)]
            x = p_sample(rng, n_mc)
            diff = lambda y: p_logp(y) - q_logp(y)   # noqa: E731
            f = (grad(diff, x) ** 2).sum(1)
            kl = diff(x)
            ed, ed_se = float(np.mean(eds)), float(np.std(eds, ddof=1) / math.sqrt(reps))
            rows.append((name, kind, desc, ed, ed_se, f.mean(), f.std() / math.sqrt(n_mc),
                         kl.mean(), kl.std() / math.sqrt(n_mc)))
            r = rows[-1]
            print(f"{name:10s} {kind:5s} {desc:52s} ED {r[3]:.4f} ± {r[4]:.4f}  F {r[5]:.4g} ± {r[6]:.2g}  "
                  f"KL {r[7]:.4g} ± {r[8]:.2g}", flush=True)
    if md_path:
        text = ("# What DFT's objective charges for mass and for shape errors (bench/toy2d_blind.py rates)\n\n"
                f"Produced by `/usr/bin/python3 bench/toy2d_blind.py rates --md {md_path}` (fixed seed, no "
                "networks, no training; about 2 minutes). p is q perturbed as described, with its exact density, "
                "score and sampler. ED: energy distance at n = 5000 (as in docs/results-2d.md), mean ± standard "
                "error over 4 repeats. F and KL: Monte Carlo over 400,000 draws of p. "
                "Interpretation: docs/dft-blindness.md.\n\n"
                "| target | kind | p (q perturbed) | ED(p, q) | F(p ‖ q), DFT's objective | KL(p ‖ q), KL's | F / KL |\n"
                "|---|---|---|---|---|---|---|\n")
        for name, kind, desc, ed, ed_se, f, f_se, kl, kl_se in rows:
            text += (f"| {name} | {kind} | {desc} | {ed:.4f} ± {ed_se:.4f} | {f:.3g} ± {f_se:.1g} | "
                     f"{kl:.3g} ± {kl_se:.1g} | {f / kl:.3g} |\n")
        write_atomic(md_path, text)


def fisher_noisy(name, x, rng, m=4000):
    """F(p_σ ‖ q) and its standard error for p_σ = (1/N) Σ_j N(x_j, σ²I), from m draws."""
    _, q_logp = EXACT[name]
    idx = rng.choice(len(x), m)
    y = x[idx] + SIGMA * rng.standard_normal((m, 2))
    sq = grad(q_logp, y)
    out = []
    for i0 in range(0, m, 250):
        yy, ii = y[i0:i0 + 250], idx[i0:i0 + 250]
        lk = -((yy[:, None] - x[None]) ** 2).sum(-1) / (2 * SIGMA ** 2)
        lk[np.arange(len(yy)), ii] = -np.inf   # leave out the point's own component
        k = np.exp(lk - lk.max(1, keepdims=True))
        sp = (k[:, :, None] * (x[None] - yy[:, None])).sum(1) / k.sum(1)[:, None] / SIGMA ** 2
        out.append(((sp - sq[i0:i0 + 250]) ** 2).sum(1))
    out = np.concatenate(out)
    return out.mean(), out.std() / math.sqrt(m)


def fisher_report(name, files):
    rng = np.random.default_rng(5)
    exact = EXACT[name][0](rng, 5000)
    for f in files:
        x = np.load(f).astype(np.float64)
        d, se = fisher_noisy(name, x, rng)
        dh, seh = fisher_noisy(name, x[: len(x) // 2], rng)   # half the centres: the mixture's roughness bias
        noisy = x[rng.choice(len(x), 5000)] + SIGMA * rng.standard_normal((5000, 2))
        print(f"{f}: F(p_sigma || q) {d:9.3f} ± {se:.3f} (N = {len(x)}), {dh:9.3f} ± {seh:.3f} (N = {len(x) // 2})"
              f"   ED {energy_distance(noisy, exact):.4f}", flush=True)


def drift(root, md_path):
    rng = np.random.default_rng(5)
    runs = {}
    for name in sorted(os.listdir(root)):
        if name not in EXACT:
            continue
        for run in os.listdir(os.path.join(root, name)):
            seed, n = run[1:].split("_T")
            runs.setdefault(name, {}).setdefault(int(seed), {})[int(n)] = os.path.join(root, name, run)
    lengths = sorted({n for seeds in runs.values() for by_n in seeds.values() for n in by_n})
    lines = ["| target | seed | " + " | ".join(f"after {n - 3000} DFT updates" for n in lengths) + " |",
             "|---|---|" + "---|" * len(lengths)]
    order = [c[0] for c in CASES]
    for name in sorted(runs, key=order.index):
        for seed in sorted(runs[name]):
            cells = []
            for n in sorted(runs[name][seed]):
                d = runs[name][seed][n]
                m = load(os.path.join(d, "metrics.json"))
                if m is None:
                    sys.exit(f"toy2d_blind: {d}/metrics.json: missing or not JSON")
                x = np.load(os.path.join(d, "clean.npy")).astype(np.float64)
                fv, se = fisher_noisy(name, x, rng)
                cells.append(f"ED {m['energy_distance']:.4f}, KSD {m['ksd']:.3f}, F {fv:.3g} ± {se:.2g}")
                print(f"{name} seed {seed} after {n - 3000} DFT updates: {cells[-1]}", file=sys.stderr, flush=True)
            lines.append(f"| {name} | {seed} | " + " | ".join(cells) + " |")
    if md_path:
        write_atomic(md_path, "\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rates")
    r.add_argument("--md", help="also write the table as Markdown to this file")
    f = sub.add_parser("fisher")
    f.add_argument("target", choices=sorted(EXACT))
    f.add_argument("files", nargs="+")
    dr = sub.add_parser("drift")
    dr.add_argument("--root", required=True)
    dr.add_argument("--md", help="also write the table as Markdown to this file")
    a = ap.parse_args()
    if a.cmd == "rates":
        rates(a.md)
    elif a.cmd == "drift":
        drift(a.root, a.md)
    else:
        fisher_report(a.target, a.files)


if __name__ == "__main__":
    sys.exit(main())
