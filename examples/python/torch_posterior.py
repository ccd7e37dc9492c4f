"""A posterior written in PyTorch, sampled by nis from Python: DFT and KL one-step samplers, and HMC, against the
exact answer.

The model: Bayesian linear regression in d = 20 dimensions, y = X w + N(0, 1) noise with w ~ N(0, I), on 40 rows
of synthetic data (fixed seed).  Its posterior is Gaussian with a closed form (mean m, covariance S), so every
sampler can be checked exactly: the mean error |mean - m| and the standard-deviation error |sd - sqrt(diag S)|,
in units of the true standard deviation, averaged over the 20 coordinates (0 for a perfect sampler; 10,000 exact
draws score about 0.01 by chance).

Only log q is written, in PyTorch; nis.torch_density gives the score and the Hessian-vector product (which DFT
needs) by autograd.  Run from a checkout after `make`, with Debian's python3-numpy and python3-torch:

    PYTHONPATH=python /usr/bin/python3 examples/python/torch_posterior.py
"""

import time

import numpy as np
import torch

import nis

d, n = 20, 40
rng = np.random.default_rng(0)
X = rng.normal(size=(n, d)).astype(np.float32)
w_true = rng.normal(size=d).astype(np.float32)
y = (X @ w_true + rng.normal(size=n)).astype(np.float32)

# the exact posterior: S = (X^T X + I)^-1, m = S X^T y
S = np.linalg.inv(X.T.astype(np.float64) @ X + np.eye(d))
m = S @ X.T.astype(np.float64) @ y
sd = np.sqrt(np.diag(S))

Xt, yt = torch.from_numpy(X), torch.from_numpy(y)


def log_q(w):   # w (B, d) -> (B,): log N(y | X w, I) + log N(w | 0, I), up to a constant
    r = yt - w @ Xt.T
    return -0.5 * (r * r).sum(1) - 0.5 * (w * w).sum(1)


posterior = nis.torch_density(log_q, d, name="linreg20")


def errors(x):
    return np.mean(np.abs(x.mean(0) - m) / sd), np.mean(np.abs(x.std(0, ddof=1) - sd) / sd)


rows = []
exact = rng.multivariate_normal(m, S, size=10000)
rows.append(("exact draws (reference)", *errors(exact), "-"))
for method in ("dft", "kl"):
    t0 = time.time()
    s = nis.train(posterior, method=method, iters=3000, seed=0, whiten=True)
    secs = time.time() - t0
    rows.append((f"{method.upper()} sampler (3000 + 3000 updates, whitened)", *errors(s.sample(10000, seed=1)),
                 f"{secs:.0f} s"))
t0 = time.time()
hmc = nis.mcmc(posterior, "hmc", n=1000, steps=500, warmup=500, seed=0)
rows.append(("HMC, 1000 chains x 1000 iterations", *errors(hmc.x), f"{time.time() - t0:.0f} s"))

print(f"{'sampler':48s} {'mean error':>10s} {'sd error':>10s} {'time':>8s}")
for name, me, se, secs in rows:
    print(f"{name:48s} {me:10.3f} {se:10.3f} {secs:>8s}")
