"""nis._blr: the Bayesian logistic regression posterior of a data set (`nis train --target blr`), from NumPy arrays
or a data file, prepared as the CLI prepares it."""

import ctypes
import os

import numpy as np

from . import _lib
from ._core import NisError

_PRIORS = {"hier": 0, "normal": 1, "hier-nc": 2}
_EXT = {".csv": "csv", ".arff": "arff", ".svm": "libsvm", ".libsvm": "libsvm", ".svmlight": "libsvm"}


class BLR:
    """The posterior of Bayesian logistic regression, a target for nis.train, nis.mcmc and nis.evaluate.

    From arrays, BLR(X, y): X (n, d) features, y (n,) labels 0/1.  From a file, BLR(path="data.arff",
    positive="g"), with format ("csv", "arff", "libsvm"; default from the extension), label (column name or
    index), positive (the class value that means 1), skip_lines, no_header: the options of `nis train --data`.
    Either way the rows are split (test_frac, split_seed), the features standardised by the training part and an
    intercept added, exactly as the CLI does (prepare=False keeps arrays as given: all rows train, no test part).
    prior: "hier" (w ~ N(0, 1/α), α ~ Gamma(1, 0.01); θ = [w, log α]), "hier-nc" (the same, sampled non-centred;
    samples are reported as θ) or "normal" (w ~ N(0, I)); not given: "hier", which nis.train trains in its
    non-centred form, as `nis train` does without --prior (nis_blr_prior_for_sampler).  minibatch > 0: each evaluation draws that many rows
    (seeded by seed: pass the training seed to match `nis train`, which uses it).
    """

    def __init__(self, X=None, y=None, *, path=None, format=None, label=None, positive=None, skip_lines=0,
                 no_header=False, prior=None, minibatch=0, test_frac=0.2, split_seed=0, seed=0, prepare=True):
        self._prior_given = prior is not None
        prior = "hier" if prior is None else prior
        if prior not in _PRIORS:
            raise ValueError(f"prior must be one of {', '.join(_PRIORS)}, not {prior!r}")
        if (path is None) == (X is None):
            raise ValueError("give the data as arrays X, y or as a file path=..., one of the two")
        if not (0 < float(test_frac) < 1):
            raise ValueError(f"test_frac must be in (0, 1), not {test_frac!r}")
        self._train, self._test = _lib.Dataset(), _lib.Dataset()
        self._t, self._own = None, {}   # _own: targets in another parametrisation made for nis.train, by prior
        err = ctypes.create_string_buffer(600)
        all_ = _lib.Dataset()
        try:
            if path is not None:
                fmt = format or _EXT.get(os.path.splitext(str(path))[1].lower())
                code = _lib.data_format_parse(fmt.encode()) if fmt else 0
                if not code:
                    raise ValueError(f"format: unknown or not given for {path!r} (csv, arff, libsvm)")
                opts = _lib.DataOpts(None if label is None else str(label).encode(),
                                     None if positive is None else str(positive).encode(), int(skip_lines),
                                     bool(no_header), 0)
                if _lib.data_load(os.fsencode(path), code, ctypes.byref(opts), ctypes.byref(all_), err, len(err)):
                    raise NisError(err.value.decode(errors="replace"))
            else:
                Xa = np.ascontiguousarray(X, dtype=np.float32)
                ya = np.ascontiguousarray(y, dtype=np.float32)
                if Xa.ndim != 2 or ya.shape != (Xa.shape[0],) or Xa.shape[0] < 2 or Xa.shape[1] < 1:
                    raise ValueError(f"X must be (n >= 2, d >= 1) and y (n,), not {Xa.shape} and {ya.shape}")
                if not np.all((ya == 0) | (ya == 1)):
                    raise ValueError("y must hold labels 0 and 1")
                if not np.all(np.isfinite(Xa)):
                    raise ValueError("X has non-finite values")
                if _lib.dataset_alloc(ctypes.byref(all_), Xa.shape[0], Xa.shape[1]):
                    raise MemoryError("nis: out of memory for the data")
                ctypes.memmove(all_.X, Xa.ctypes.data, Xa.nbytes)
                ctypes.memmove(all_.y, ya.ctypes.data, ya.nbytes)
            if prepare:
                if _lib.data_prepare(ctypes.byref(all_), float(test_frac), int(split_seed), ctypes.byref(self._train),
                                     ctypes.byref(self._test), err, len(err)):
                    raise NisError(err.value.decode(errors="replace"))
            else:
                self._train, all_ = all_, _lib.Dataset()
            self._minibatch, self._seed = int(minibatch), int(seed)
            self._t = self._new_target(_PRIORS[prior])
        finally:
            _lib.dataset_free(ctypes.byref(all_))
        self.prior, self.n_train, self.n_test, self.d = prior, self._train.n, self._test.n, self._train.d

    def _new_target(self, prior):
        o = _lib.blr_defaults()
        o.prior, o.minibatch, o.seed = prior, self._minibatch, self._seed
        err = ctypes.create_string_buffer(600)
        t = _lib.blr_target_new(ctypes.byref(self._train), ctypes.byref(o), err, len(err))
        if not t:
            raise NisError(err.value.decode(errors="replace"))
        return t

    def _sampler_target(self):
        """The C target a sampler trains on (owned by this object, made once per parametrisation): the library's
        parametrisation for a sampler (nis_blr_prior_for_sampler) unless prior was given."""
        p = _PRIORS[self.prior]
        q = p if self._prior_given else _lib.blr_prior_for_sampler(p)
        if q != p and q not in self._own:
            self._own[q] = self._new_target(q)
        return self._t if q == p else self._own[q]

    def __del__(self):
        if getattr(self, "_t", None):
            _lib.blr_target_free(self._t)
            self._t = None
        for t in getattr(self, "_own", {}).values():
            _lib.blr_target_free(t)
        self._own = {}
        for ds in ("_train", "_test"):
            if hasattr(self, ds):
                _lib.dataset_free(ctypes.byref(getattr(self, ds)))

    def predict(self, theta, test=True):
        """Posterior-predictive accuracy and mean log-likelihood of samples theta (n, D) (the first d columns are w)
        on the test part (test=False: the training part), as `nis train` reports them."""
        ds = self._test if test else self._train
        if ds.n == 0:
            raise ValueError("no test part (prepare=False)")
        a = np.ascontiguousarray(theta, dtype=np.float32)
        if a.ndim != 2 or a.shape[1] < self.d:
            raise ValueError(f"theta must be (n, >= {self.d}), not {a.shape}")
        acc, ll = ctypes.c_double(), ctypes.c_double()
        st = _lib.blr_predict(ctypes.byref(ds), a.ctypes.data_as(_lib.c_float_p), a.shape[0], a.shape[1],
                              ctypes.byref(acc), ctypes.byref(ll))
        if st:
            raise NisError(f"{_lib.status_name(st).decode()}: predicting with samples {a.shape}")
        return acc.value, ll.value

    def __repr__(self):
        return f"<nis.BLR prior={self.prior!r} train {self.n_train} x {self.d}, test {self.n_test}>"
