#!/usr/bin/env bash
# CLI behaviour: help, bad input (one line, exit 2), a short training with all its outputs, sample/eval
# round trip, damaged files, and the non-finite-loss path keeping the last good checkpoint.
# Usage: tests/cli_test.sh path/to/nis
set -u
NIS="$1"
. "$(dirname "$0")/cli_lib.sh"

expect 0 "" "$NIS" --help
for c in train sample eval demo mcmc data; do expect 0 "" "$NIS" $c --help; done
expect 0 "" "$NIS" data fetch --help
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
expect 2 "levels > 1 needs DFT" "$NIS" train --target gauss --out "$dir/cfg" --method kl --levels 2 --sigma-max 1
expect 2 "exclude each other" "$NIS" train --target gauss --out "$dir/cfg" --score-residual --no-score-residual
expect 2 "out of range" "$NIS" train --target gauss --out "$dir/cfg" --temper-iters 10 --temper-start 1
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
tr -d ' \t\n' < "$dir/run/config.json" | grep -q '"score_residual":true' && ok \
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

# a non-finite loss at update 45 with checkpoints every 20: exit 1, the update-40 sampler is kept
NIS_FAULT_NAN_AT=45 "$NIS" train --target gauss --iters 100 --batch 64 --width 16 --score-width 16 --quiet \
  --checkpoint-every 20 --out "$dir/nan" > /dev/null 2>"$dir/err"
st=$?
[ $st -eq 1 ] && ok || bad "non-finite training exited $st, want 1"
grep -q "kept the last good sampler.*update 40" "$dir/err" && ok || bad "no keep message: $(cat "$dir/err")"
expect 0 "" "$NIS" sample --model "$dir/nan" --n 10 --out "$dir/nan.npy"

# tempering: the schedule is recorded in config.json
expect 0 "" "$NIS" train --target gauss --iters 4 --init-steps 2 --eval-n 100 --quiet --temper-iters 3 \
  --temper-start 0.25 --out "$dir/temper"
tr -d ' \t\n' < "$dir/temper/config.json" | grep -q '"temper_iters":3,"temper_start":0.25' && ok \
  || bad "config.json lacks the tempering schedule: $(cat "$dir/temper/config.json")"

# the DFT + KL hybrid: its weight is recorded in config.json
expect 0 "" "$NIS" train --target gauss --iters 4 --init-steps 2 --eval-n 100 --quiet --kl-weight 1000 --out "$dir/hyb"
tr -d ' \t\n' < "$dir/hyb/config.json" | grep -q '"kl_weight":1000' && ok \
  || bad "config.json lacks kl_weight: $(cat "$dir/hyb/config.json")"

# --out: missing parents are created (mkdir -p); a file in the way is an error
expect 0 "" "$NIS" train --target gauss --iters 2 --init-steps 2 --eval-n 100 --quiet --out "$dir/new/nested/run"
[ -f "$dir/new/nested/run/sampler.safetensors" ] && ok || bad "nested --out: no sampler"
touch "$dir/afile"
expect 2 "not a directory" "$NIS" train --target gauss --iters 2 --quiet --out "$dir/afile/run"

finish cli_test
