#!/usr/bin/env bash
# tests/python_test.sh LIBNIS NIS — the Python package's tests (tests/python, pytest) against this build's libnis.so
# and nis, with Debian's python3.  Skipped (exit 77) when python3-numpy or python3-pytest is missing
# (scripts/setup.sh installs them).  The sanitizer builds have no libnis.so (an uninstrumented interpreter cannot load
# an instrumented library), so no such test there.
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
if ! "$py" -c "import numpy, pytest" 2>/dev/null; then echo "python_test: skipped: python3-numpy or python3-pytest missing"; exit 77; fi
NIS_LIBRARY=$1 NIS_CLI=$2 PYTHONPATH=$root/python exec "$py" -m pytest -q -p no:cacheprovider "$root/tests/python"
