#!/usr/bin/env bash
# CLI behaviour: help (the configuration's flags and defaults from its schema), bad input (one line, exit 2), a short
# training with all its outputs, sample/eval round trip, damaged files, and --resume continuing bit-identically.
# (A failed update keeping the last good files is tested in test_train.c, with a plug-in objective: the shipped
# binary has no fault hook.)
# Usage: tests/cli_test.sh path/to/nis
set -u
NIS="$1"
. "$(dirname "$0")/cli_lib.sh"

expect 0 "" "$NIS" --help
for c in train sample eval demo mcmc data; do expect 0 "" "$NIS" $c --help; done
expect 0 "" "$NIS" data fetch --help
# the BLAS check: generic kernels forced on an AVX2 CPU give exactly one warning line; otherwise stderr stays empty
if grep -qw avx2 /proc/cpuinfo; then
  expect 0 "warning: OPENBLAS_CORETYPE=Prescott makes OpenBLAS run its generic Prescott kernels" env OPENBLAS_CORETYPE=Prescott "$NIS" train --help
fi
for kernels in unset Haswell; do
  if [ $kernels = unset ]; then env -u OPENBLAS_CORETYPE "$NIS" train --help >/dev/null 2>"$dir/err"
  else env OPENBLAS_CORETYPE=$kernels "$NIS" train --help >/dev/null 2>"$dir/err"; fi
  [ ! -s "$dir/err" ] && ok || bad "OPENBLAS_CORETYPE $kernels: nis said $(cat "$dir/err")"
done
expect 2 "expected 'fetch'" "$NIS" data bogus
expect 2 "unknown set" "$NIS" data fetch --what nope --dir "$dir/data"
expect 2 "unknown command" "$NIS" frobnicate
expect 2 "unknown option '--bogus'" "$NIS" train --target gauss --out "$dir/x" --bogus 1
expect 2 "unknown target 'nope'" "$NIS" train --target nope --out "$dir/x"
expect 2 "expected an integer" "$NIS" train --target gauss --out "$dir/x" --iters ten
expect 2 "out of range" "$NIS" train --target gauss --out "$dir/x" --sigma -1
expect 2 "--out is required" "$NIS" train --target gauss
expect 2 "needs a value" "$NIS" train --target gauss --out
expect 2 "unknown method" "$NIS" train --target gauss --out "$dir/x" --method magic
expect 2 "unknown option '--levels'" "$NIS" train --target gauss --out "$dir/cfg" --levels 2   # an experiment's, removed
expect 2 "unknown score_model 'both'" "$NIS" train --target gauss --out "$dir/cfg" --score-model both
expect 2 "out of range" "$NIS" train --target gauss --out "$dir/cfg" --ema 1
expect 2 "batch must be even" "$NIS" train --target gauss --out "$dir/cfg" --batch 7
expect 2 "kl_weight needs method dft" "$NIS" train --target gauss --out "$dir/cfg" --method kl --kl-weight 10
expect 2 "out of range" "$NIS" train --target gauss --out "$dir/cfg" --kl-weight -1
[ ! -e "$dir/cfg" ] && ok || bad "a refused configuration left its --out directory behind"
expect 2 "No such file" "$NIS" eval --target gauss --samples "$dir/missing.npy"
printf 'not an npy file' > "$dir/damaged.npy"
expect 2 "damaged.npy" "$NIS" eval --target gauss --samples "$dir/damaged.npy"
expect 2 "model" "$NIS" sample --model "$dir/nowhere" --out "$dir/s.npy"
[ ! -e "$dir/s.npy" ] && ok || bad "a failed sample wrote its output"

# a short training: all four outputs, loadable sampler, sample + eval round trip
if "$NIS" train --target gauss --iters 60 --batch 64 --width 16 --score-width 16 --eval-n 500 --quiet \
     --out "$dir/run" > "$dir/train.json" 2>"$dir/err"; then ok; else bad "train failed: $(cat "$dir/err")"; fi
for f in sampler.safetensors config.json metrics.json samples.png; do
  [ -s "$dir/run/$f" ] && ok || bad "train did not write $f"
done
grep -q '"energy_distance"' "$dir/run/metrics.json" && ok || bad "metrics.json lacks energy_distance"
tr -d ' \t\n' < "$dir/run/config.json" | grep -q '"score_model":"residual"' && ok \
  || bad "DFT on a 2-D target did not default to the residual score model"
head -c 8 "$dir/run/samples.png" | od -An -tx1 | grep -q "89 50 4e 47" && ok || bad "samples.png is not a PNG"
expect 0 "" "$NIS" sample --model "$dir/run" --n 300 --seed 3 --out "$dir/s.npy"
expect 0 "" "$NIS" eval --target gauss --samples "$dir/s.npy"
grep -q '"n":300' "$dir/out" && ok || bad "eval did not report 300 samples: $(cat "$dir/out")"
"$NIS" sample --model "$dir/run" --n 300 --seed 3 --out "$dir/s2.npy" && cmp -s "$dir/s.npy" "$dir/s2.npy" && ok \
  || bad "same seed gave different samples"
# the saved sampler damaged: rejected with exit 2
head -c 100 "$dir/run/sampler.safetensors" > "$dir/trunc.safetensors"
expect 2 "trunc.safetensors" "$NIS" sample --model "$dir/trunc.safetensors" --out "$dir/t.npy"

# --help: the configuration's flags with their defaults, from the schema
expect 0 "" "$NIS" train --help
for f in "--lr X .*(default 0.0001)" "--score-model S .*(default auto)" "--clean-output" "--no-init-mode" "--whiten"; do
  grep -q -- "$f" "$dir/out" && ok || bad "train --help lacks '$f'"
done

# --resume: 40 updates, then on to 60, give the sampler of 60 straight (a constant lr: the schedule spans the
# planned updates); the checkpoint's settings cannot be changed on resuming; a missing run is refused
small=(--target gauss --batch 64 --width 16 --score-width 16 --init-steps 10 --eval-n 100 --quiet --checkpoint-every 20)
expect 0 "" "$NIS" train "${small[@]}" --iters 60 --out "$dir/r60"
expect 0 "" "$NIS" train "${small[@]}" --iters 40 --out "$dir/r40"
expect 2 "--lr cannot be given with --resume" "$NIS" train --out "$dir/r40" --resume --iters 60 --lr 0.1
expect 0 "" "$NIS" train --out "$dir/r40" --resume --iters 60 --quiet --eval-n 100
cmp -s "$dir/r60/sampler.safetensors" "$dir/r40/sampler.safetensors" && ok || bad "the resumed sampler differs"
expect 2 "config.json" "$NIS" train --out "$dir/nowhere" --resume --quiet

# the DFT + KL hybrid: its weight is recorded in config.json
expect 0 "" "$NIS" train --target gauss --iters 4 --init-steps 2 --eval-n 100 --quiet --kl-weight 1000 --out "$dir/hyb"
tr -d ' \t\n' < "$dir/hyb/config.json" | grep -q '"kl_weight":1000' && ok \
  || bad "config.json lacks kl_weight: $(cat "$dir/hyb/config.json")"

# --out: missing parents are created (mkdir -p); a file in the way is an error
expect 0 "" "$NIS" train --target gauss --iters 2 --init-steps 2 --eval-n 100 --quiet --out "$dir/new/nested/run"
[ -f "$dir/new/nested/run/sampler.safetensors" ] && ok || bad "nested --out: no sampler"
touch "$dir/afile"
expect 2 "not a directory" "$NIS" train --target gauss --iters 2 --quiet --out "$dir/afile/run"

# exit status 2 and one accurate line for the bad inputs of issue 19, item 6: output paths refused before any
# work, a step size that blows up the chains, a number that underflows
expect 2 "--out: directory '$dir/nowhere' does not exist" "$NIS" sample --model "$dir/run" --out "$dir/nowhere/s.npy"
expect 2 "--out: '$dir' is a directory" "$NIS" sample --model "$dir/run" --out "$dir"
expect 2 "--out: '$dir/afile' is not a directory" "$NIS" mcmc --target donut --out "$dir/afile/m.npy"
expect 2 "the chains diverged; use a smaller --step-size (it was 1e+06)" \
  "$NIS" mcmc --target donut --method ula --step-size 1e6 --n 10 --steps 10 --out "$dir/m.npy"
expect 2 "--step-size: '1e-400' is outside a double's normal range" \
  "$NIS" mcmc --target donut --method ula --step-size 1e-400 --out "$dir/m.npy"

# a diverging run (finite runaway values) stops with one line, a non-zero status and the last good sampler (issue 19)
expect 1 "update 10: the run diverged: the samples' root mean square is .*kept the last good sampler .*(update 5)" \
  "$NIS" train --target donut --method dft --lr 1 --lr-score 1 --grad-clip 0 --ema 0 --iters 300 \
  --checkpoint-every 5 --quiet --out "$dir/div"
[ -s "$dir/div/sampler.safetensors" ] && [ -s "$dir/div/checkpoint.safetensors" ] && ok || bad "diverged run: files"

# --eval-n 0: no evaluation, metrics.json with the training's numbers only; 1 is refused
expect 0 "" "$NIS" train --target donut --iters 5 --eval-n 0 --quiet --out "$dir/ev0"
grep -q '"updates":.5' "$dir/ev0/metrics.json" && ! grep -q '"ksd"' "$dir/ev0/metrics.json" && [ ! -e "$dir/ev0/samples.png" ] \
  && ok || bad "--eval-n 0: $(cat "$dir/ev0/metrics.json")"
expect 2 "--eval-n: 0 (no evaluation) or at least 2" "$NIS" train --target donut --iters 5 --eval-n 1 --out "$dir/ev1"
finish cli_test
