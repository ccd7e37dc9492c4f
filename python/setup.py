"""Build hook for `pip install ./python` (pyproject.toml has the rest).

Two things a plain package would not do:
- the wheel carries the libnis.so that `make` built (../build/libnis.so, or $NIS_LIBRARY) beside the modules, where
  nis/_lib.py looks first;
- Python 3.9-3.12 have a standard-library module called `nis` (the NIS/YP client, deprecated by PEP 594, gone in
  3.13), which comes before site-packages on sys.path and would hide this package.  So the package is installed in
  site-packages/nis_first/nis, and nis_first.pth (run by `site` at start-up) puts site-packages/nis_first at the
  front of sys.path: only `nis` is affected.  (From a checkout, PYTHONPATH=python already comes first.)
"""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PTH = 'import os, sys; sys.path.insert(0, os.path.join(sitedir, "nis_first"))\n'


class build_py_with_lib(build_py):
    def run(self):
        super().run()
        lib = os.environ.get("NIS_LIBRARY") or os.path.join(HERE, "..", "build", "libnis.so")
        if not os.path.exists(lib):
            raise SystemExit(f"nis: {lib} not found: run `make` in the checkout first (or set NIS_LIBRARY)")
        pkg, first = os.path.join(self.build_lib, "nis"), os.path.join(self.build_lib, "nis_first")
        shutil.rmtree(first, ignore_errors=True)
        os.makedirs(first)
        shutil.move(pkg, os.path.join(first, "nis"))
        shutil.copy2(lib, os.path.join(first, "nis", "libnis.so"))
        with open(os.path.join(self.build_lib, "nis_first.pth"), "w") as f:
            f.write(PTH)


setup(cmdclass={"build_py": build_py_with_lib})
