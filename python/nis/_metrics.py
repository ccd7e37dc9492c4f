"""nis._metrics: what `nis eval` reports about a set of samples of a target."""

import ctypes

import numpy as np

from . import _lib
from ._core import NisError
from ._targets import open_target, target_dim


def evaluate(target, x, seed=0):
    """The metrics `nis eval` prints for samples x (n, dim) of `target` (a built-in name or a nis.Density), as a dict:
    ksd (and ksd_floor, its value for as many exact samples), and for targets with an exact sampler the energy
    distance, MMD, mean and covariance errors against exact draws (seeded by seed), frac_x0_positive, nonfinite."""
    t = open_target(target)
    d = target_dim(t)
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != d or a.shape[0] < 2:
        raise ValueError(f"x must be (n >= 2, {d}) samples of the target, not shape {a.shape}")
    r, err = _lib.EvalResult(), ctypes.create_string_buffer(512)
    status = _lib.evaluate(t, a.ctypes.data_as(_lib.c_float_p), a.shape[0], int(seed), ctypes.byref(r), err, len(err))
    reraise = getattr(target, "_reraise", None)
    if reraise:
        reraise()
    if status != 0:
        raise NisError(f"{_lib.status_name(status).decode()}: {err.value.decode(errors='replace')}")
    out = {"n": r.n, "nonfinite": r.nonfinite, "ksd": r.ksd, "ksd_floor": r.ksd_floor, "frac_x0_positive": r.frac_pos}
    if r.has_exact:
        out.update(energy_distance=r.ed, energy_distance_floor=r.ed_floor, mmd=r.mmd, mmd_floor=r.mmd_floor,
                   mean_error=r.mean_err, cov_error=r.cov_err)
    return out
