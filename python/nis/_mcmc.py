"""nis._mcmc: the MCMC baselines (ULA, MALA, HMC, SVGD) on a target, and R-hat / ESS of chains."""

import ctypes

import numpy as np

from . import _lib
from ._core import NisError, set_threads
from ._targets import open_target, target_dim

_METHODS = ("ula", "mala", "hmc", "svgd")


class MCMCResult:
    """What mcmc returns: x, the final states (n, dim) float32; draws, the kept states (steps // thin, n, dim) of
    MALA and HMC when asked for (else None); stats, a dict (accept_rate, step_size, grad_evals per chain, steps,
    divergences, seconds, ...)."""

    def __init__(self, x, draws, stats):
        self.x, self.draws, self.stats = x, draws, stats

    def __repr__(self):
        return f"<nis.MCMCResult x {self.x.shape}, accept_rate {self.stats['accept_rate']:.3g}>"


def _int(name, v, lo):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
        raise ValueError(f"{name} must be an int >= {lo}, not {v!r}")
    return int(v)


def mcmc(target, method, *, n=1000, steps=1000, seed=0, step_size=0.0, warmup=-1, leapfrog=10, init_std=1.0,
         thin=1, draws=False, threads=1):
    """Run n chains of `method` ("ula", "mala", "hmc" or "svgd") on `target` (a built-in name or a nis.Density) from
    N(0, init_std² I), as `nis mcmc` does (the same draws bit for bit at the same seed and thread count).

    steps: ULA/SVGD steps, MALA/HMC sampling iterations after `warmup` (-1: the method's default; HMC 500, MALA 0)
    warm-up iterations that adapt the step size.  step_size: 0 for the method's default.  leapfrog: HMC's steps per
    iteration.  draws=True keeps every thin-th state of MALA and HMC in the result's draws (steps // thin, n, dim).
    Returns an MCMCResult."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, not {method!r}")
    n, steps, thin = _int("n", n, 2), _int("steps", steps, 1), _int("thin", thin, 1)
    leapfrog, warmup = _int("leapfrog", leapfrog, 1), _int("warmup", warmup, -1)
    if not (float(step_size) >= 0) or not (float(init_std) > 0):
        raise ValueError("step_size must be >= 0 and init_std > 0")
    if draws and method not in ("mala", "hmc"):
        raise ValueError("draws=True needs method mala or hmc")
    t = open_target(target)
    density = getattr(target, "_reraise", None)
    d = target_dim(t)
    set_threads(threads)
    x = np.empty((n, d), dtype=np.float32)
    kept = np.empty((steps // thin, n, d), dtype=np.float32) if draws else None
    rng = _lib.rng_init(int(seed), _lib.STREAM_MCMC)
    xp = x.ctypes.data_as(_lib.c_float_p)
    _lib.mcmc_init_normal(ctypes.byref(rng), xp, n, d, 0.0, float(init_std))
    st, err = _lib.McmcStats(), ctypes.create_string_buffer(512)
    dp = kept.ctypes.data_as(_lib.c_float_p) if draws else None
    if method == "ula":
        c = _lib.ula_defaults()
        c.steps = steps
        if step_size > 0:
            c.step_size = step_size
        status = _lib.ula_run(t, ctypes.byref(c), ctypes.byref(rng), xp, n, ctypes.byref(st), err, len(err))
    elif method == "mala":
        c = _lib.mala_defaults()
        c.steps, c.thin = steps, thin
        if step_size > 0:
            c.step_size = step_size
        if warmup >= 0:
            c.warmup = warmup
        status = _lib.mala_run(t, ctypes.byref(c), ctypes.byref(rng), xp, n, dp, ctypes.byref(st), err, len(err))
    elif method == "hmc":
        c = _lib.hmc_defaults()
        c.steps, c.thin, c.n_leapfrog = steps, thin, leapfrog
        if step_size > 0:
            c.step_size = step_size
        if warmup >= 0:
            c.warmup = warmup
        status = _lib.hmc_run(t, ctypes.byref(c), ctypes.byref(rng), xp, n, dp, ctypes.byref(st), err, len(err))
    else:
        c = _lib.svgd_defaults()
        c.steps = steps
        if step_size > 0:
            c.step_size = step_size
        status = _lib.svgd_run(t, ctypes.byref(c), xp, n, ctypes.byref(st), err, len(err))
    if density:
        density()
    if status != 0:
        raise NisError(f"{_lib.status_name(status).decode()}: {err.value.decode(errors='replace')}")
    _lib.target_report(t, xp, n)
    stats = {name: getattr(st, name) for name, _ in _lib.McmcStats._fields_}
    return MCMCResult(x, kept, stats)


def convergence(chains, rank=True):
    """Split R-hat and effective sample size per coordinate of chains (C, draws, D) (draws >= 8), as Stan computes
    them (rank=True: the rank-normalised R-hat and bulk ESS of Vehtari et al. 2021).  Returns (rhat, ess), each
    float64 (D,)."""
    a = np.ascontiguousarray(chains, dtype=np.float32)
    if a.ndim != 3 or a.shape[1] < 8:
        raise ValueError(f"chains must be (chains, draws >= 8, D), not shape {a.shape}")
    C, T, D = a.shape
    rhat, ess = np.empty(D), np.empty(D)
    status = _lib.convergence(a.ctypes.data_as(_lib.c_float_p), C, T, D, bool(rank),
                              rhat.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                              ess.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
    if status != 0:
        raise NisError(f"{_lib.status_name(status).decode()}: convergence of chains {a.shape}")
    return rhat, ess
