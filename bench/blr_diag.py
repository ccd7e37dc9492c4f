#!/usr/bin/python3
"""bench/blr_diag.py — where a BLR sampler's posterior differs from the gold standard (bench/blr_notes.md).

    /usr/bin/python3 bench/blr_diag.py runs/blr/gold-NAME.npy SAMPLES.npy

SAMPLES.npy: (n, D) draws of θ = [w, log α] (e.g. `build/blr_run run ... --save SAMPLES.npy`).  Prints the
table's mean and sd errors (in gold sds), log α against the gold standard's, the median ‖w‖, the shrinkage of
the posterior mean (its projection on the gold mean), the range of sd ratios, and the mean error after one
exact Gibbs step log α | w ~ log Gamma(a + d/2, rate b + ‖w‖²/2) (a = 1, b = 0.01, the bench's prior).
"""
import sys

import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    gold = np.load(sys.argv[1]).astype(np.float64)
    gold = gold.reshape(-1, gold.shape[-1])
    x = np.load(sys.argv[2]).astype(np.float64)
    if x.ndim != 2 or x.shape[1] != gold.shape[1]:
        sys.exit("blr_diag: samples must be (n, %d)" % gold.shape[1])
    d = x.shape[1] - 1
    gm, gs = gold.mean(0), gold.std(0)

    def errors(s):
        m = np.abs(s.mean(0) - gm) / gs
        return m.mean(), m.max(), np.abs(s.std(0) / gs - 1).mean()

    me, mw, se = errors(x)
    ratio = x.std(0) / gs
    print("mean err %.3f / %.3f, sd err %.3f; sd / gold sd in [%.2f, %.2f]" % (me, mw, se, ratio.min(), ratio.max()))
    print("log alpha %.2f +- %.2f (gold %.2f +- %.2f), %+.2f gold sds" %
          (x[:, d].mean(), x[:, d].std(), gm[d], gs[d], (x[:, d].mean() - gm[d]) / gs[d]))
    print("median |w| %.2f (gold %.2f); mean w projected on the gold mean: %.3f x" %
          (np.median(np.linalg.norm(x[:, :d], axis=1)), np.median(np.linalg.norm(gold[:, :d], axis=1)),
           x[:, :d].mean(0) @ gm[:d] / (gm[:d] @ gm[:d])))
    rng = np.random.default_rng(0)
    y = x.copy()
    y[:, d] = np.log(rng.gamma(1 + d / 2, 1 / (0.01 + 0.5 * (x[:, :d] ** 2).sum(1))))
    print("after an exact log alpha | w draw: mean err %.3f / %.3f, sd err %.3f" % errors(y))


if __name__ == "__main__":
    main()
