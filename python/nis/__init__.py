"""nis — neural implicit samplers, from Python.

A thin binding (ctypes) over libnis: train a one-step sampler for a density, draw samples as NumPy arrays, save
and load the same files as the `nis` command line.  What is here so far (docs/python.md): the built-in 2-D targets,
every training setting of `nis train` (its schema), samplers saved and loaded, samples bit for bit those of the CLI.

    import nis
    s = nis.train("donut", method="dft", iters=3000, seed=0)   # a Sampler
    x = s.sample(1000, seed=0)                                # float32 array (1000, 2)
    s.save("donut.safetensors"); s2 = nis.load("donut.safetensors")
"""

import ctypes
import os

import numpy as np

from . import _lib

__all__ = ["Density", "NisError", "Sampler", "config_fields", "load", "set_threads", "targets", "torch_density",
           "train"]


class NisError(RuntimeError):
    """A failure inside the library; the message is the library's one line."""


def _check(status, message):
    if status != 0:
        raise NisError(f"{_lib.status_name(status).decode()}: {message}")


def targets():
    """Names of the built-in 2-D target densities (`nis train --target NAME`)."""
    names, i, arr = [], 0, _lib.target_2d_names()
    while arr[i]:
        names.append(arr[i].decode())
        i += 1
    return names


def set_threads(n):
    """Threads for OpenMP and OpenBLAS (as the CLI's --threads); results are bit-identical for a given count."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"threads must be an int >= 1, not {n!r}")
    _lib.set_threads(n)


def _fields():
    s = _lib.train_schema().contents
    return [s.fields[i] for i in range(s.count)]


def config_fields():
    """The training settings: {name: (default as text, help)}, as `nis train --help` lists them (kwargs of train)."""
    cfg = _lib.train_config_new(0)
    out, buf = {}, ctypes.create_string_buffer(128)
    try:
        for f in _fields():
            _lib.train_config_get(cfg, f.name, buf, len(buf))
            out[f.name.decode()] = (buf.value.decode(), f.help.decode() if f.help else "")
    finally:
        _lib.free(cfg)
    return out


def _text(name, value):
    """A keyword argument's value in the schema's text form; TypeError for a type no field takes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return value
    raise TypeError(f"{name}: {type(value).__name__} is not a setting's type (bool, int, float, str)")


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


class _TargetHead(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dim", ctypes.c_int)]


def _open_target(target):
    if isinstance(target, Density):
        return target._t
    if not isinstance(target, str):
        raise TypeError(f"target must be a name (str) or a nis.Density, not {type(target).__name__}")
    t = _lib.target_2d(target.encode())
    if not t:
        raise ValueError(f"unknown target {target!r} (built-in: {', '.join(targets())})")
    return t


class Sampler:
    """A trained one-step sampler: sample(n) draws (n, dim) float32 samples.  From nis.train (it keeps the trainer,
    so save_checkpoint works too) or nis.load (a sampler.safetensors written by either)."""

    def __init__(self, _trainer=None, _sampler=None, _dim=0, _target="", _keep=None):
        self._tr, self._s, self.dim, self.target = _trainer, _sampler, _dim, _target
        self._keep = _keep  # objects the C side points into (the configuration)

    def __del__(self):
        if getattr(self, "_tr", None):
            _lib.trainer_free(self._tr)
            self._tr = None
        if getattr(self, "_s", None):
            _lib.sampler_free(self._s)
            self._s = None

    def sample(self, n, seed=0, noisy=None):
        """n samples, float32 (n, dim), drawn with the stream `nis sample --seed` uses (the same bits).  noisy: None
        (the sampler's own default: g(z) + σε for DFT and KL), True, or False (g(z))."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be an int >= 1, not {n!r}")
        if noisy not in (None, True, False):
            raise ValueError(f"noisy must be None, True or False, not {noisy!r}")
        out = np.empty((int(n), self.dim), dtype=np.float32)
        rng = _lib.rng_init(int(seed), _lib.STREAM_SAMPLE)
        ptr = out.ctypes.data_as(_lib.c_float_p)
        if self._s:
            err = ctypes.create_string_buffer(512)
            st = _lib.sampler_generate(self._s, ctypes.byref(rng), int(n), -1 if noisy is None else int(noisy), ptr,
                                       err, len(err))
            _check(st, err.value.decode(errors="replace"))
            _lib.sampler_report(self._s, ptr, int(n))
        else:
            cfg = ctypes.cast(_lib.trainer_config(self._tr), ctypes.c_void_p)
            if noisy is None:
                buf = ctypes.create_string_buffer(16)
                _lib.train_config_get(cfg, b"noisy_output", buf, len(buf))
                noisy = buf.value == b"true"
            st = _lib.trainer_sample(self._tr, ctypes.byref(rng), int(n), bool(noisy), ptr)
            _check(st, _lib.trainer_message(self._tr).decode(errors="replace"))
        return out

    def save(self, path):
        """Write the sampler for generation (safetensors, atomically): `nis sample --model PATH` and nis.load read it."""
        if not self._tr:
            raise NisError("this sampler was loaded from a file: copy that file instead")
        _check(_lib.trainer_save(self._tr, os.fsencode(path)), _lib.trainer_message(self._tr).decode(errors="replace"))

    def __repr__(self):
        return f"<nis.Sampler target={self.target!r} dim={self.dim}>"


def load(path):
    """A Sampler from a sampler.safetensors (written by nis.train, Sampler.save or `nis train`)."""
    err = ctypes.create_string_buffer(512)
    s = _lib.sampler_load(os.fsencode(path), err, len(err))
    if not s:
        raise NisError(err.value.decode(errors="replace"))
    return Sampler(_sampler=s, _dim=_lib.sampler_dim(s), _target=_lib.sampler_target(s).decode())


def train(target, *, method="dft", out=None, threads=1, checkpoint_every=0, progress=None, **config):
    """Train a one-step sampler for `target` (a built-in 2-D density's name, see targets(), or a nis.Density)
    and return it.

    method: "dft", "kl" or "fisher".  config: any training setting by its name (config_fields(): iters, batch, seed,
    lr, sigma, width, ...), with the defaults of `nis train`.  out: a directory for sampler.safetensors and
    checkpoint.safetensors (written after every `checkpoint_every` updates, default every 10%, and at the end),
    the files `nis train --out` writes.  threads: as --threads.  progress: called as progress(stats) after every
    update with a dict (iter, sampler_loss, score_loss, sigma, lr, target_evals); returning False stops the run.
    An exception raised by progress, or Ctrl-C, stops training and is raised here.

    The same settings, seed and thread count give the CLI's sampler bit for bit.
    """
    if config.get("whiten"):
        raise ValueError("whiten=True is not available from Python yet (a pilot run, then the main run): "
                         "use `nis train --whiten`")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    if not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be an int >= 0, not {checkpoint_every!r}")
    t = _open_target(target)
    dim = ctypes.cast(t, ctypes.POINTER(_TargetHead)).contents.dim
    cfg = ctypes.c_void_p(_lib.train_config_new(0))
    if not cfg:
        raise MemoryError("nis: out of memory for a configuration")
    err = ctypes.create_string_buffer(512)
    try:
        for name, value in [("method", method)] + list(config.items()):
            if _lib.train_config_set(cfg, name.encode(), _text(name, value).encode(), err, len(err)) != 0:
                raise ValueError(err.value.decode(errors="replace"))
        if _lib.train_config_check(cfg, t, err, len(err)) != 0:
            raise ValueError(err.value.decode(errors="replace"))
        buf = ctypes.create_string_buffer(32)
        _lib.train_config_get(cfg, b"iters", buf, len(buf))
        iters = int(buf.value)
        set_threads(threads)
        tr = _lib.trainer_new(t, cfg, None, err, len(err))
        if not tr:
            raise NisError(err.value.decode(errors="replace"))
    finally:
        _lib.free(cfg)
    density = target if isinstance(target, Density) else None
    sampler = Sampler(_trainer=tr, _dim=dim, _target=density.name if density else target, _keep=density)
    if out is not None:
        os.makedirs(out, exist_ok=True)
    raised = []

    def on_update(ud, trainer, stats):
        try:  # Ctrl-C arrives here too, as KeyboardInterrupt, at the first Python line the callback runs
            if not progress:
                return True
            s = stats.contents
            keep_going = progress({"iter": s.iter, "sampler_loss": s.sampler_loss, "score_loss": s.score_loss,
                                   "sigma": s.sigma, "lr": s.lr, "target_evals": s.target_evals})
            return keep_going is not False
        except BaseException as e:  # noqa: BLE001 - re-raised below, after the C side has stopped
            raised.append(e)
            return False

    fn = _lib.PROGRESS_FN(on_update)
    opts = _lib.RunOpts(os.fsencode(out) if out is not None else None, int(checkpoint_every), 0, None, fn, None)
    res = _lib.RunResult()
    st = _lib.trainer_run(tr, iters, ctypes.byref(opts), ctypes.byref(res))
    if density:
        density._reraise()
    if raised:
        raise raised[0]
    _check(st, _lib.trainer_message(tr).decode(errors="replace"))
    sampler.train_seconds = res.seconds
    return sampler
