"""nis._blas: picks OpenBLAS's kernels and build before OpenBLAS loads, as the `nis` command line does.

OpenBLAS reads OPENBLAS_CORETYPE once, when it loads.  `nis` restarts itself with it set when OpenBLAS picks older
kernels than the CPU runs (src/cli/main.c; Debian 12's OpenBLAS 0.3.21 takes newer Xeons for generic "Prescott"
ones, 2-5x slower).  A Python process cannot restart, and NumPy loads an OpenBLAS too (with the same soname as
libnis's, so libnis then uses NumPy's), so this module runs first in `import nis`: on a CPU with AVX-512, when no
OpenBLAS is loaded yet and OPENBLAS_CORETYPE is unset, it asks for SkylakeX, the kernels `nis` ends on there
(OpenBLAS's own Cooperlake and SapphireRapids choices compute the same bits).  When NumPy was imported first, or on
a CPU this rule does not cover, nis._lib warns once after loading.

The build: libnis links the OpenMP build of OpenBLAS, so that BLAS and nis's own OpenMP loops share one pool of
threads (CMakeLists.txt: with the pthread build the two pools spin against each other, 2-6x slower conv steps on 2
threads).  NumPy links the system's default, Debian's pthread build, under the same soname, so whichever loads first
serves both.  This module loads the OpenMP build first (RTLD_GLOBAL: NumPy's BLAS calls then go to it too, and
libnis's dependency is the library already loaded); nis.set_threads warns when NumPy came first.
"""

import ctypes
import os
import sysconfig


def _cpu_has_avx512():
    """True when /proc/cpuinfo lists the AVX-512 subsets of OpenBLAS's SkylakeX kernels (f, dq, bw, vl)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return {"avx512f", "avx512dq", "avx512bw", "avx512vl"} <= set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return False


def _openblas_loaded():
    try:
        with open("/proc/self/maps") as f:
            return any("openblas" in line for line in f)
    except OSError:
        return False


def _openmp_openblas():
    """The OpenMP build of OpenBLAS that libnis links (Debian's openblas-openmp), or None."""
    arch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    path = f"/usr/lib/{arch}/openblas-openmp/libopenblas.so.0"
    return path if os.path.exists(path) else None


if not _openblas_loaded():
    if "OPENBLAS_CORETYPE" not in os.environ and _cpu_has_avx512():
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    _path = _openmp_openblas()
    if _path:
        try:
            ctypes.CDLL(_path, mode=os.RTLD_GLOBAL)
        except OSError:
            pass   # libnis then loads whichever OpenBLAS the system gives it
