#!/usr/bin/env bash
# Install what the build needs from Debian's packages, if missing.  Idempotent; silent when all is present.
# Extra groups on request: `setup.sh clang` adds clang with libFuzzer, the sanitizer runtimes and clang's OpenMP
# (make fuzz, make ubsan-clang); `setup.sh llvm` adds llvm-profdata and llvm-cov (bench/fuzz's coverage); `setup.sh
# torch` adds Debian's PyTorch (make test: the Python package's PyTorch helper is tested against it); `setup.sh mpi`
# adds OpenMPI (make test builds nis with it and runs tests/cli_mpi_test.sh: two ranks under mpirun).
set -euo pipefail
need=(gcc make cmake libopenblas-dev libopenblas-openmp-dev libcjson-dev libstb-dev zlib1g-dev python3 python3-numpy python3-pytest
      python3-venv python3-setuptools python3-wheel)
for group in "$@"; do
  case "$group" in
    clang) need+=(clang libclang-rt-14-dev libomp-14-dev) ;;
    llvm) need+=(llvm-14) ;;
    torch) need+=(python3-torch) ;;
    mpi) need+=(libopenmpi-dev openmpi-bin) ;;
    *) echo "setup: unknown group '$group' (clang, llvm, torch, mpi)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
