"""nis._targets: target densities: the built-in 2-D ones by name, and densities written in Python or PyTorch."""

import ctypes

import numpy as np

from . import _lib


def targets():
    """Names of the built-in 2-D target densities (`nis train --target NAME`)."""
    names, i, arr = [], 0, _lib.target_2d_names()
    while arr[i]:
        names.append(arr[i].decode())
        i += 1
    return names


class Density:
    """A target density written in Python, for nis.train: functions of a batch x, a float32 array (n, dim) (a view
    of the trainer's memory, valid during the call):

    score(x) -> (n, dim), ∇ log q at each row                                       (required)
    hvp(x, v) -> (n, dim), ∇² log q(x_i) v_i                           (DFT and Fisher need it; KL does not)
    log_prob(x) -> (n,), log q up to a constant                                     (optional)

    An exception raised by one of them stops training and is raised from nis.train, traceback and all; so does
    a result of the wrong shape (ValueError).  torch_density builds one from a PyTorch log q."""

    def __init__(self, dim, score, hvp=None, log_prob=None, name="python"):
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be an int >= 1, not {dim!r}")
        for what, fn in (("score", score), ("hvp", hvp), ("log_prob", log_prob)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{what} must be callable")
        if score is None:
            raise TypeError("score is required")
        self.dim, self.name = int(dim), str(name)
        self.score, self.hvp, self.log_prob = score, hvp, log_prob
        self._raised = []
        d = self.dim

        def call(what, fn, args, out, n, shape):
            if self._raised:  # an earlier call failed: the run is stopping
                return 1
            try:
                r = np.asarray(fn(*args), dtype=np.float32)
                if r.shape != shape:
                    raise ValueError(f"{self.name}: {what} returned shape {r.shape}, expected {shape}")
                np.ctypeslib.as_array(out, shape=shape)[...] = r
                return 0
            except BaseException as e:  # noqa: BLE001 - re-raised by nis.train once the C side has stopped
                self._raised.append(e)
                return 1

        def score_cb(ud, x, n, out):
            return call("score", score, (np.ctypeslib.as_array(x, shape=(n, d)),), out, n, (n, d))

        def hvp_cb(ud, x, v, n, out):
            args = (np.ctypeslib.as_array(x, shape=(n, d)), np.ctypeslib.as_array(v, shape=(n, d)))
            return call("hvp", hvp, args, out, n, (n, d))

        def logp_cb(ud, x, n, out):
            return call("log_prob", log_prob, (np.ctypeslib.as_array(x, shape=(n, d)),), out, n, (n,))

        # the C side keeps these pointers: they live as long as this object
        self._fns = (_lib.ARRAY_FN(score_cb), _lib.HVP_FN(hvp_cb) if hvp else _lib.HVP_FN(),
                     _lib.ARRAY_FN(logp_cb) if log_prob else _lib.ARRAY_FN())
        self._t = _lib.foreign_target_new(self.name.encode(), self.dim, self._fns[0], self._fns[1], self._fns[2], None)
        if not self._t:
            raise MemoryError("nis: out of memory for a target")

    def __del__(self):
        if getattr(self, "_t", None):
            _lib.foreign_target_free(self._t)
            self._t = None

    def _reraise(self):
        if self._raised:
            e = self._raised[0]
            self._raised.clear()
            raise e

    def __repr__(self):
        return f"<nis.Density {self.name!r} dim={self.dim}>"


def torch_density(log_prob, dim, name="torch"):
    """A Density from a PyTorch function log_prob(x) of a batch x (a float32 tensor (n, dim)) returning (n,): the score
    and the Hessian-vector product come from torch.autograd (one backward; a double backward for the HVP)."""
    import torch

    def score(x):
        xt = torch.from_numpy(x).requires_grad_(True)
        (g,) = torch.autograd.grad(log_prob(xt).sum(), xt)
        return g.numpy()

    def hvp(x, v):
        xt = torch.from_numpy(x).requires_grad_(True)
        (g,) = torch.autograd.grad(log_prob(xt).sum(), xt, create_graph=True)
        (h,) = torch.autograd.grad(g, xt, grad_outputs=torch.from_numpy(v))
        return h.detach().numpy()

    def lq(x):
        with torch.no_grad():
            return log_prob(torch.from_numpy(x)).numpy()

    return Density(dim, score, hvp, lq, name)


class TargetHead(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dim", ctypes.c_int)]


def open_target(target):
    """The C target (a pointer) for a name or a Density; ValueError / TypeError otherwise."""
    if isinstance(target, Density) or type(target).__name__ in ("BLR", "Energy"):
        return target._t
    if not isinstance(target, str):
        raise TypeError(f"target must be a name (str), a nis.Density, nis.BLR or nis.Energy, not {type(target).__name__}")
    t = _lib.target_2d(target.encode())
    if not t:
        raise ValueError(f"unknown target {target!r} (built-in: {', '.join(targets())})")
    return t


def target_dim(t):
    """The dimension of a C target."""
    return ctypes.cast(t, ctypes.POINTER(TargetHead)).contents.dim
