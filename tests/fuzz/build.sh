#!/usr/bin/env bash
# tests/fuzz/build.sh SRC DIR CLANG — configure and build the fuzz targets of SRC with CLANG in DIR (NIS_FUZZ=ON:
# libnis and the targets only, target fuzz_all).  The test fuzz_build of a plain build runs it; incremental.
set -euo pipefail
src=$1 dir=$2 cc=$3
mkdir -p "$dir"
cmake -S "$src" -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release -DNIS_FUZZ=ON > "$dir/cmake.log" 2>&1 ||
  { cat "$dir/cmake.log"; exit 1; }
cmake --build "$dir" --target fuzz_all -j "${JOBS:-2}" > "$dir/build.log" 2>&1 ||
  { grep -v -E '^\[ *[0-9]+%\]' "$dir/build.log" | tail -60; exit 1; }
echo "built the fuzz targets in $dir"
