"""nis._core: the package's error type and the helpers every module shares."""

import numpy as np

from . import _lib


class NisError(RuntimeError):
    """A failure inside the library; the message is the library's one line."""


def _check(status, message):
    if status != 0:
        raise NisError(f"{_lib.status_name(status).decode()}: {message}")


_warned_pthreads = False


def set_threads(n):
    """Threads for OpenMP and OpenBLAS (as the CLI's --threads); results are bit-identical for a given count."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"threads must be an int >= 1, not {n!r}")
    global _warned_pthreads
    if n > 1 and _lib.blas_parallel == 1 and not _warned_pthreads:
        import warnings

        _warned_pthreads = True
        warnings.warn("nis: libnis is using NumPy's pthread build of OpenBLAS (numpy was imported before nis), whose "
                      "threads compete with nis's OpenMP threads: up to 2-6x slower with threads > 1; import nis "
                      "before numpy", stacklevel=2)
    _lib.set_threads(n)


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
