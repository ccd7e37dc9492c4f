"""nis._train: training a sampler (nis.train), its settings, and trained samplers (Sampler, load)."""

import ctypes
import os
import signal
import threading

import numpy as np

from . import _lib
from ._core import NisError, _check, _text, set_threads
from ._targets import Density, open_target, target_dim


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


class Sampler:
    """A trained one-step sampler: sample(n) draws (n, dim) float32 samples.  From nis.train (it keeps the trainer,
    so save_checkpoint works too) or nis.load (a sampler.safetensors written by either)."""

    def __init__(self, _trainer=None, _sampler=None, _dim=0, _target="", _keep=None):
        self._tr, self._s, self.dim, self.target = _trainer, _sampler, _dim, _target
        self._keep = _keep  # objects the C side points into (the target)
        self.image_shape = None  # (c, h, w) for image samplers: sample() then returns (n, c, h, w)

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
            _lib.target_report(self._keep[1], ptr, int(n))   # e.g. blr hier-nc: [v, log α] -> θ, as `nis sample`
        return out.reshape((int(n),) + tuple(self.image_shape)) if self.image_shape else out

    def save(self, path):
        """Write the sampler for generation (safetensors, atomically): `nis sample --model PATH` and nis.load read it."""
        if not self._tr:
            raise NisError("this sampler was loaded from a file: copy that file instead")
        _check(_lib.trainer_save(self._tr, os.fsencode(path)), _lib.trainer_message(self._tr).decode(errors="replace"))

    def __repr__(self):
        return f"<nis.Sampler target={self.target!r} dim={self.dim}>"


def load(path):
    """A Sampler from a sampler.safetensors (written by nis.train, Sampler.save or `nis train`), or from a run
    directory holding one (`nis train --out DIR`, nis.train(out=DIR)), as `nis sample --model` takes either."""
    if os.path.isdir(path):
        path = os.path.join(path, "sampler.safetensors")
    err = ctypes.create_string_buffer(512)
    s = _lib.sampler_load(os.fsencode(path), err, len(err))
    if not s:
        raise NisError(err.value.decode(errors="replace"))
    smp = Sampler(_sampler=s, _dim=_lib.sampler_dim(s), _target=_lib.sampler_target(s).decode())
    c, h, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    if _lib.sampler_image_shape(s, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w)):
        smp.image_shape = (c.value, h.value, w.value)
    return smp


def train(target, *, method="dft", out=None, threads=1, checkpoint_every=0, progress=None, **config):
    """Train a one-step sampler for `target` (a built-in 2-D density's name, see targets(), or a nis.Density)
    and return it.

    method: "dft", "kl" or "fisher".  config: any training setting by its name (config_fields(): iters, batch, seed,
    lr, sigma, width, ...), with the defaults of `nis train`.  out: a directory for sampler.safetensors and
    checkpoint.safetensors (written after every `checkpoint_every` updates, default every 10%, and at the end),
    the files `nis train --out` writes.  threads: as --threads.  progress: called as progress(stats) after every
    update with a dict (phase, iter, sampler_loss, score_loss, sigma, lr, target_evals, drift: the convergence
    monitor's, NaN between its checks); returning False stops the run.  An exception raised by progress, or Ctrl-C,
    stops training and is raised here.  whiten=True fits a Gaussian first (whiten_by="pilot", the default: a pilot
    run, phase "pilot"; "laplace": the mode and the Hessian there; "hmc": short HMC chains' fit of the bulk) and
    trains on the whitened target (phase "main"), as `nis train --whiten` does.  A nis.BLR target starts from the
    library's preset for posteriors, as `nis train --target blr` does (whitened by the HMC fit, its sizes:
    nis_train_config_posterior; whiten=False turns the whitening off).

    The same settings, seed and thread count give the CLI's sampler bit for bit.
    """
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    if not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be an int >= 0, not {checkpoint_every!r}")
    blr = type(target).__name__ == "BLR"
    t = target._sampler_target() if blr else open_target(target)   # a BLR trains in the library's parametrisation
    dim = target_dim(t)
    energy = target if type(target).__name__ == "Energy" else None
    cfg = ctypes.c_void_p(_lib.train_config_new_image(0, *energy.shape) if energy
                          else _lib.train_config_new_posterior(0) if blr else _lib.train_config_new(0))
    if not cfg:
        raise MemoryError("nis: out of memory for a configuration")
    err = ctypes.create_string_buffer(512)
    try:
        for name, value in [("method", method)] + list(config.items()):
            if _lib.train_config_set(cfg, name.encode(), _text(name, value).encode(), err, len(err)) != 0:
                raise ValueError(err.value.decode(errors="replace"))
        if blr:   # the library's policy for a posterior (its preset above, and its rule), as `nis train` applies it
            _lib.train_config_for_posterior(cfg, t, "whiten" in config)
        if energy:   # the library's policy for an energy's sampler, as `nis ebm sampler` applies it
            _lib.train_config_for_energy(cfg, energy._E, "sigma" in config,
                                         "sigma_max" in config or "sigma_start" in config)
        if _lib.train_config_check(cfg, t, err, len(err)) != 0:
            raise ValueError(err.value.decode(errors="replace"))
        buf = ctypes.create_string_buffer(32)
        _lib.train_config_get(cfg, b"iters", buf, len(buf))
        iters = int(buf.value)
        set_threads(threads)
        raised = []
        # Ctrl-C while C computes: Python runs a handler only between bytecodes, i.e. in the next callback; this
        # one only notes it, the callback then stops the run, and KeyboardInterrupt is raised once C has returned
        old_sigint = None
        if threading.current_thread() is threading.main_thread():
            old_sigint = signal.signal(signal.SIGINT, lambda signum, frame: raised.append(KeyboardInterrupt()))

        def on_update(phase):
            def fn(ud, trainer, stats):
                try:
                    if raised:
                        return False
                    if not progress:
                        return True
                    s = stats.contents
                    keep_going = progress({"phase": phase, "iter": s.iter, "sampler_loss": s.sampler_loss,
                                           "score_loss": s.score_loss, "sigma": s.sigma, "lr": s.lr,
                                           "target_evals": s.target_evals, "drift": s.drift})
                    return keep_going is not False
                except BaseException as e:  # noqa: BLE001 - re-raised below, after the C side has stopped
                    raised.append(e)
                    return False
            return _lib.PROGRESS_FN(fn)

        pilot_fn = on_update("pilot")
        tr = _lib.trainer_prepare(t, cfg, pilot_fn, None, err, len(err))
        if isinstance(target, Density):
            target._reraise()
        if raised or not tr:
            if old_sigint is not None:
                signal.signal(signal.SIGINT, old_sigint)
            if tr:
                _lib.trainer_free(tr)
            if raised:
                raise raised[0]
            raise NisError(err.value.decode(errors="replace"))
    finally:
        _lib.free(cfg)
    density = target if isinstance(target, Density) else None
    name = target if isinstance(target, str) else density.name if density else "ebm" if energy else "blr"
    sampler = Sampler(_trainer=tr, _dim=dim, _target=name, _keep=(target, t))
    sampler.image_shape = energy.shape if energy else None
    if out is not None:
        os.makedirs(out, exist_ok=True)

    fn = on_update("main")
    opts = _lib.RunOpts(os.fsencode(out) if out is not None else None, int(checkpoint_every), 0, None, fn, None)
    res = _lib.RunResult()
    try:
        st = _lib.trainer_run(tr, iters, ctypes.byref(opts), ctypes.byref(res))
    finally:
        if old_sigint is not None:
            signal.signal(signal.SIGINT, old_sigint)
    if density:
        density._reraise()
    if raised:
        raise raised[0]
    _check(st, _lib.trainer_message(tr).decode(errors="replace"))
    sampler.train_seconds = res.seconds
    sampler.stopped_at = _lib.trainer_stopped(tr) or None   # the update at which stop_drift ended the run
    return sampler
