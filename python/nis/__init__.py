"""nis — neural implicit samplers, from Python.

A thin binding (ctypes) over libnis: train a one-step sampler for a density, draw samples as NumPy arrays, save
and load the same files as the `nis` command line.  What is here so far (docs/python.md): the built-in 2-D targets,
every training setting of `nis train` (its schema), samplers saved and loaded, samples bit for bit those of the CLI.

    import nis
    s = nis.train("donut", method="dft", iters=3000, seed=0)   # a Sampler
    x = s.sample(1000, seed=0)                                # float32 array (1000, 2)
    s.save("donut.safetensors"); s2 = nis.load("donut.safetensors")
"""

from . import _blas  # noqa: F401  (first: it chooses OpenBLAS's kernels before NumPy loads one)
from ._blr import BLR
from ._core import NisError, set_threads
from ._energy import Energy
from ._mcmc import MCMCResult, convergence, mcmc
from ._metrics import evaluate
from ._targets import Density, targets, torch_density
from ._train import Sampler, config_fields, load, train

__all__ = ["BLR", "Density", "Energy", "MCMCResult", "NisError", "Sampler", "config_fields", "convergence", "evaluate", "load", "mcmc",
           "set_threads", "targets", "torch_density", "train"]
