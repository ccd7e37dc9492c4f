"""nis._energy: an image energy trained by `nis ebm train` (an MNIST energy, say), as a target for nis.train and
sampled by its own annealed Langevin walk, as `nis ebm langevin` does."""

import ctypes
import os

import numpy as np

from . import _lib
from ._core import NisError, set_threads


class Energy:
    """An energy file (`nis ebm train`'s energy.safetensors, e.g. models/ebm-mnist-ncsn/energy.safetensors).

    As a target of nis.train it is log q = -E at its lowest level; the sampler is a conv generator with the image
    defaults of `nis ebm sampler` (sigma = the energy's noise, trained over all its levels for a noise-conditional
    energy), bit for bit the CLI's sampler.  shape is (c, h, w); noise and noise_max its levels (0: none)."""

    def __init__(self, path):
        err = ctypes.create_string_buffer(600)
        self._E = _lib.ebm_open(os.fsencode(path), err, len(err))
        if not self._E:
            raise NisError(err.value.decode(errors="replace"))
        c, h, w, lo, hi = ctypes.c_int(), ctypes.c_int(), ctypes.c_int(), ctypes.c_double(), ctypes.c_double()
        _lib.ebm_info(self._E, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w), ctypes.byref(lo), ctypes.byref(hi))
        self.shape, self.noise, self.noise_max = (c.value, h.value, w.value), lo.value, hi.value
        self.dim = c.value * h.value * w.value
        self._t = _lib.ebm_target(self._E)
        self.path = str(path)

    def __del__(self):
        if getattr(self, "_E", None):
            _lib.ebm_close(self._E)
            self._E = None

    def langevin(self, n=1000, steps=200, step_size=0.0, levels=0, jump=False, seed=0, chunk=500, threads=1,
                 temperature=1.0):
        """n images (n, c, h, w) float32 from Langevin started at U[0, 1): `steps` steps of size step_size (0: the
        energy's default), annealed over `levels` levels for a noise-conditional energy (0: 10, or steps if fewer),
        at `temperature` (noise sqrt(2 h T) per step: samples q^(1/T)), then with jump the Tweedie step to the clean
        image.  The same draws as `nis ebm langevin` bit for bit."""
        for name, v, lo in (("n", n, 1), ("steps", steps, 0), ("levels", levels, 0), ("chunk", chunk, 1)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name} must be an int >= {lo}, not {v!r}")
        if levels == 0:
            levels = 1 if not self.noise_max or steps < 1 else min(steps, 10)
        if levels > 1 and not self.noise_max:
            raise ValueError(f"levels={levels} needs a noise-conditional energy ({self.path} has one level)")
        if levels > 1 and levels > steps:
            raise ValueError(f"steps ({steps}) must be at least levels ({levels})")
        if jump and not self.noise:
            raise ValueError("jump needs a DSM energy (noise > 0)")
        if not (isinstance(temperature, (int, float, np.floating)) and 0 < temperature < float("inf")):
            raise ValueError(f"temperature must be a number > 0, not {temperature!r}")
        set_threads(threads)
        x = np.empty((int(n), self.dim), dtype=np.float32)
        rng = _lib.rng_init(int(seed), _lib.STREAM_LANGEVIN)
        err, ge = ctypes.create_string_buffer(600), ctypes.c_int64()
        for i in range(0, n, chunk):
            part = x[i:i + chunk]
            st = _lib.ebm_langevin(self._E, int(steps), float(step_size), int(levels), float(temperature), ctypes.byref(rng),
                                   part.ctypes.data_as(_lib.c_float_p), len(part), ctypes.byref(ge), err, len(err))
            if st:
                raise NisError(f"{_lib.status_name(st).decode()}: {err.value.decode(errors='replace')}")
        if jump:
            self._denoise_into(x)
        return x.reshape((int(n),) + self.shape)

    def _denoise_into(self, x):
        err = ctypes.create_string_buffer(600)
        st = _lib.ebm_denoise(self._E, x.ctypes.data_as(_lib.c_float_p), len(x), err, len(err))
        if st:
            raise NisError(f"{_lib.status_name(st).decode()}: {err.value.decode(errors='replace')}")

    def denoise(self, x):
        """The jump x - noise² ∇E(x) (the posterior mean of the clean image under the energy's smoothing) of images
        x (n, c, h, w) or (n, dim): a new float32 array of x's shape."""
        if not self.noise:
            raise ValueError("denoise needs a DSM energy (noise > 0)")
        a = np.array(x, dtype=np.float32, copy=True, order="C")
        if a.size % self.dim or a.ndim < 2 or a.shape[0] * self.dim != a.size:
            raise ValueError(f"x must be (n, {self.dim}) or (n,) + {self.shape}, not {a.shape}")
        self._denoise_into(a.reshape(-1, self.dim))
        return a

    def __repr__(self):
        return f"<nis.Energy {self.path!r} shape={self.shape} noise={self.noise:g}..{self.noise_max:g}>"
