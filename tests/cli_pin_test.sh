#!/usr/bin/env bash
# Pinned outputs of the paths users rely on: SHA-256 of the saved samplers and of samples drawn from them, at fixed
# seeds and one thread, against tests/data/pins.txt.  A change that alters any of them fails here; a deliberate one
# re-records the file (NIS_PIN_RECORD=1 bash tests/cli_pin_test.sh build/nis) and says why in its commit.
# The hashes hold for one machine kind and build (CPU vector set, build type, compiler, OpenBLAS and the kernel set
# OPENBLAS_CORETYPE picks: -march=native, -O2 and the BLAS kernels change the rounding); on another the script says
# so and exits 77, which ctest reports as skipped.
# Usage: tests/cli_pin_test.sh path/to/nis
set -u
NIS="$1"
. "$(dirname "$0")/cli_lib.sh"
pins="$(dirname "$0")/data/pins.txt"
example="$(dirname "$NIS")/example_user_density"
export OMP_NUM_THREADS=1

# the CPU enters as the widest vector set the element-wise kernels' clones dispatch on (src/core/op.h): an AMD EPYC
# (Zen 5) and an Intel Xeon with AVX-512 gave the same hashes with the same BLAS kernels (2026-12-06)
flags=$(grep -m1 '^flags' /proc/cpuinfo)
case " $flags " in
  *" avx512f "*) cpu="x86-64 avx512f;" ;;
  *" avx2 "*) cpu="x86-64 avx2;" ;;
  *) cpu="$(uname -m) baseline;" ;;
esac
blas=$(dpkg-query -W -f='${Version}' libopenblas0-openmp 2>/dev/null || echo unknown)
machine="$cpu build ${NIS_BUILD_TYPE:-Release}; gcc $(gcc -dumpfullversion 2>/dev/null || echo unknown); openblas $blas ${OPENBLAS_CORETYPE:-(auto kernels)}"

if [ "${NIS_PIN_RECORD:-0}" != 1 ] && [ "$(head -n 1 "$pins")" != "# machine: $machine" ]; then
  echo "SKIP: the pins were recorded on $(head -n 1 "$pins" | cut -c12-), this machine is $machine" >&2
  exit 77
fi

got="$dir/pins.txt"
echo "# machine: $machine" > "$got"
pin() { echo "$1 $(sha256sum < "$2" | cut -c1-64)" >> "$got"; }
run() { "$@" > /dev/null 2>"$dir/err" || bad "$* failed: $(cat "$dir/err")"; }

# 2-D DFT and KL with the CLI defaults (fewer updates)
for m in dft kl; do
  run "$NIS" train --target donut --method $m --iters 300 --seed 0 --quiet --out "$dir/$m"
  run "$NIS" sample --model "$dir/$m" --n 2000 --seed 1 --out "$dir/$m.npy"
  pin "train.$m.sampler" "$dir/$m/sampler.safetensors"
  pin "train.$m.samples" "$dir/$m.npy"
done

# nis train --whiten on a small BLR set (non-centred prior: pilot run, whitened main run, samples mapped back;
# then the Laplace fit and the HMC fit of the posterior preset in place of the pilot)
awk 'BEGIN { srand(7); print "a,b,c,label";
  for (i = 0; i < 150; i++) { a = 2*rand()-1; b = 2*rand()-1; c = 2*rand()-1;
    z = 2*a - b + 0.5*c + 0.6*(rand() - 0.5); printf "%.4f,%.4f,%.4f,%s\n", a, b, c, (z > 0 ? "yes" : "no") } }' \
  > "$dir/d.csv"
run "$NIS" train --target blr --data "$dir/d.csv" --positive yes --prior hier-nc --whiten --whiten-by pilot \
  --iters 100 --batch 64 --width 16 --score-width 16 --eval-n 400 --quiet --out "$dir/wh"
run "$NIS" sample --model "$dir/wh" --n 500 --seed 1 --out "$dir/wh.npy"
pin train.whiten.sampler "$dir/wh/sampler.safetensors"
pin train.whiten.samples "$dir/wh.npy"
for by in laplace hmc; do
  run "$NIS" train --target blr --data "$dir/d.csv" --positive yes --prior hier-nc --whiten-by $by --iters 100 \
    --batch 64 --width 16 --score-width 16 --eval-n 400 --quiet --out "$dir/w$by"
  run "$NIS" sample --model "$dir/w$by" --n 500 --seed 1 --out "$dir/w$by.npy"
  pin train.$by.samples "$dir/w$by.npy"
done

# nis ebm sampler (DFT and KL) against the Gaussian image target
for m in dft kl; do
  run "$NIS" ebm sampler --target gauss784 --method $m --iters 20 --batch 8 --gen-channels 8 --score-channels 4 \
    --latent 8 --eval-n 16 --quiet --out "$dir/es$m"
  run "$NIS" ebm sample --model "$dir/es$m" --n 16 --seed 1 --out "$dir/es$m.npy"
  pin "ebm-sampler.$m.sampler" "$dir/es$m/sampler.safetensors"
  pin "ebm-sampler.$m.samples" "$dir/es$m.npy"
done

# nis ebm train --sampler dft (joint training) on synthetic MNIST-format digits
mkdir -p "$dir/data/mnist"
for d in 0 1 2 3 4 5 6 7 8 9; do
  awk -v d="$d" 'BEGIN { printf "{\"data\":["; for (k = 0; k < 5; k++) for (i = 0; i < 784; i++) {
    r = int(i / 28); c = i % 28; v = (c == 4 + 2 * d || r == 4 + k) ? 0.9 : 0.01;
    printf "%s%g", (k || i) ? "," : "", v } printf "]}\n" }' > "$dir/data/mnist/$d.json"
done
run "$NIS" ebm train --data "$dir/data" --batch 4 --width 2 --checkpoint-every 2 --quiet --sampler dft --seed 2 \
  --iters 3 --out "$dir/j"
run "$NIS" ebm sample --model "$dir/j" --n 8 --seed 1 --out "$dir/j.npy"
pin ebm-joint.energy "$dir/j/energy.safetensors"
pin ebm-joint.sampler "$dir/j/sampler.safetensors"
pin ebm-joint.samples "$dir/j.npy"

# examples/user_density.c (the library's DFT with its defaults; its own tolerance check needs more updates)
"$example" --iters 300 --out "$dir/ud.npy" > /dev/null 2>&1
pin example.user_density.samples "$dir/ud.npy"

if [ "${NIS_PIN_RECORD:-0}" = 1 ]; then
  [ -f "$pins" ] && diff "$pins" "$got" >&2
  cp "$got" "$pins" && ok
  echo "recorded $pins" >&2
else
  while read -r name hash; do
    case "$name" in "#"*) continue ;; esac
    want=$(awk -v n="$name" '$1 == n { print $2 }' "$pins")
    [ "$hash" = "$want" ] && ok || bad "$name: $hash, pinned ${want:-nothing}"
  done < "$got"
  [ "$(grep -vc '^#' "$pins")" = "$(grep -vc '^#' "$got")" ] && ok || bad "pins.txt and this run name different outputs"
fi
finish cli_pin_test
