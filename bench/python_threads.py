"""bench/python_threads.py — Python's nis on 1 and 2 threads, with nis imported before or after NumPy.

usage (from the checkout's root, after `make`):  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 bench/python_threads.py nis-first
                                                 OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 bench/python_threads.py numpy-first
`import nis` loads the OpenMP build of OpenBLAS that libnis links (python/nis/_blas.py); NumPy imported first loads
the pthread build under the same soname, which libnis then shares (docs/python.md).  Times 256 annealed Langevin
chains of 20 steps on models/ebm-mnist-level at 1 and 2 threads, and prints the samples' sum (the same bits either
way).
"""
import os
import sys
import time

order = sys.argv[1] if len(sys.argv) > 1 else "nis-first"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "python"))
if order == "numpy-first":
    import numpy  # noqa: F401
import nis  # noqa: E402
from nis import _lib  # noqa: E402

E = nis.Energy(os.path.join(root, "models", "ebm-mnist-level", "energy.safetensors"))
for threads in (1, 2):
    E.langevin(n=64, steps=4, levels=2, threads=threads)   # warm-up
    t = time.perf_counter()
    x = E.langevin(n=256, steps=20, levels=2, seed=0, threads=threads)
    print(f"{order}: OpenBLAS threading {_lib.blas_parallel} (1 pthreads, 2 OpenMP), threads {threads}: "
          f"{time.perf_counter() - t:.2f} s, sum {float(x.sum()):.6f}")
