#!/usr/bin/env bash
# `nis ebm`: help, bad input (one line, exit 2), a tiny training run on synthetic MNIST-format digits with
# all its outputs, resume bit-identical to an uninterrupted run, Langevin sampling and energies.
# Usage: tests/cli_ebm_test.sh path/to/nis
set -u
NIS="$1"
. "$(dirname "$0")/cli_lib.sh"
exists() { [ -s "$1" ] && ok || bad "missing or empty: $1"; }

# synthetic digits: 10 files of 5 images (4 train, 1 test each), a bar whose place depends on the digit
mkdir -p "$dir/data/mnist"
for d in 0 1 2 3 4 5 6 7 8 9; do
  awk -v d="$d" 'BEGIN { printf "{\"data\":["; for (k = 0; k < 5; k++) for (i = 0; i < 784; i++) {
    r = int(i / 28); c = i % 28; v = (c == 4 + 2 * d || r == 4 + k) ? 0.9 : 0.01;
    printf "%s%g", (k || i) ? "," : "", v } printf "]}\n" }' > "$dir/data/mnist/$d.json"
done
small=(--data "$dir/data" --batch 4 --buffer 8 --steps 2 --width 2 --checkpoint-every 2 --quiet)

expect 0 "" "$NIS" ebm --help
for c in train langevin energy; do expect 0 "" "$NIS" ebm $c --help; done
expect 2 "" "$NIS" ebm
expect 2 "expected train, langevin, denoise, energy, sampler or sample" "$NIS" ebm bogus
expect 2 "--data is required" "$NIS" ebm train --out "$dir/r"
expect 2 "--out is required" "$NIS" ebm train --data "$dir/data"
expect 2 "unknown data set 'nope'" "$NIS" ebm train --data "$dir/data" --dataset nope --out "$dir/r"
expect 2 "nowhere" "$NIS" ebm train --data "$dir/nowhere" --out "$dir/r"
expect 2 "must be at least --batch" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --batch 8 --buffer 4
expect 2 "out of range" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --sigma -1
expect 2 "does not exist" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --resume
expect 2 "No such file" "$NIS" ebm langevin --energy "$dir/missing.safetensors" --out "$dir/x.npy"
printf 'garbage' > "$dir/damaged.safetensors"
expect 2 "damaged.safetensors" "$NIS" ebm langevin --energy "$dir/damaged.safetensors" --out "$dir/x.npy"
expect 2 "--steps" "$NIS" ebm langevin --energy "$dir/damaged.safetensors" --out "$dir/x.npy" --steps -3
[ ! -e "$dir/r" ] && ok || bad "a rejected command created its output directory"

# uninterrupted 6 iterations vs 4 + resume to 6: identical energy files
expect 0 "" "$NIS" ebm train "${small[@]}" --out "$dir/a" --iters 6 --seed 3
for f in checkpoint.safetensors energy.safetensors buffer.png shortrun.png; do exists "$dir/a/$f"; done
expect 0 "" "$NIS" ebm train "${small[@]}" --out "$dir/b" --iters 4 --seed 3
expect 2 "--seed cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/b" --iters 6 --seed 3 --resume
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/b" --iters 6 --resume --quiet
cmp -s "$dir/a/energy.safetensors" "$dir/b/energy.safetensors" && ok || bad "resumed energy differs"
cmp -s "$dir/a/checkpoint.safetensors" "$dir/b/checkpoint.safetensors" && ok || bad "resumed checkpoint differs"
expect 2 "--width cannot be given" "$NIS" ebm train --data "$dir/data" --out "$dir/b" --iters 8 --resume --width 3

# joint training with a one-step DFT sampler: bad flags, outputs, resume bit-identical (energy and sampler)
expect 2 "--sampler: unknown method 'svgd'" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --sampler svgd
expect 2 "--sampler-sigma needs --sampler" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --sampler-sigma 0.1
expect 2 "must be even with --sampler" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --sampler dft --batch 5
[ ! -e "$dir/r" ] && ok || bad "a rejected joint command created its output directory"
joint=(--data "$dir/data" --batch 4 --width 2 --checkpoint-every 2 --quiet --sampler dft --seed 2)
expect 0 "" "$NIS" ebm train "${joint[@]}" --out "$dir/j" --iters 3
for f in checkpoint.safetensors energy.safetensors sampler.safetensors sampler-checkpoint.safetensors samples.png buffer.png; do
  exists "$dir/j/$f"
done
[ ! -e "$dir/j/shortrun.png" ] && ok || bad "joint training with K = 0 wrote shortrun.png"
expect 0 "" "$NIS" ebm train "${joint[@]}" --out "$dir/k" --iters 2
expect 2 "--sampler cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/k" --iters 3 --resume --sampler kl
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/k" --iters 3 --resume --quiet
cmp -s "$dir/j/energy.safetensors" "$dir/k/energy.safetensors" && ok || bad "resumed joint energy differs"
cmp -s "$dir/j/sampler.safetensors" "$dir/k/sampler.safetensors" && ok || bad "resumed joint sampler differs"
cmp -s "$dir/j/sampler-checkpoint.safetensors" "$dir/k/sampler-checkpoint.safetensors" && ok \
  || bad "resumed joint sampler's training state differs"
expect 0 "" "$NIS" ebm sample --model "$dir/j" --n 3 --out "$dir/js.npy"
head -c 128 "$dir/js.npy" | grep -q "'shape': (3, 1, 28, 28)" && ok || bad "joint sampler npy: $(head -c 128 "$dir/js.npy")"
# fine-tuning a trained energy jointly: its weights are the start; architecture flags and bad files are refused
expect 2 "--width cannot be given with --init-energy" "$NIS" ebm train --data "$dir/data" --out "$dir/r" --init-energy "$dir/a/energy.safetensors" --width 3
expect 2 "--init-energy: cannot open '$dir/missing.safetensors'" "$NIS" ebm train --data "$dir/data" --out "$dir/r2" --init-energy "$dir/missing.safetensors"
expect 0 "" "$NIS" ebm train --data "$dir/data" --batch 4 --quiet --sampler dft --out "$dir/ft" --iters 0 --init-energy "$dir/a/energy.safetensors"
e0=$("$NIS" ebm energy --energy "$dir/a/energy.safetensors" --data "$dir/data")
e1=$("$NIS" ebm energy --energy "$dir/ft/energy.safetensors" --data "$dir/data")
[ -n "$e0" ] && [ "$e0" = "$e1" ] && ok || bad "--init-energy --iters 0 changed the energy: $e0 vs $e1"
# a sampler file from another iteration than the checkpoint is refused
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/j" --iters 4 --resume --quiet
cp "$dir/j/sampler-checkpoint.safetensors" "$dir/k/sampler-checkpoint.safetensors"
expect 2 "is at update 4 but the checkpoint at iteration 3" "$NIS" ebm train --data "$dir/data" --out "$dir/k" --iters 5 --resume

# a denoising-score-matching energy: --noise, per-layer channels and strides; its files; resume bit-identical; the
# jump (nis ebm denoise, nis ebm langevin --jump); bad flags
dsm=(--data "$dir/data" --noise 0.3 --channels 2,3 --strides 1,2 --batch 4 --checkpoint-every 2 --quiet --seed 1)
expect 2 "--strides needs --channels" "$NIS" ebm train --data "$dir/data" --out "$dir/d" --strides 1,2
expect 2 "--channels: '2,x'" "$NIS" ebm train --data "$dir/data" --out "$dir/d" --channels 2,x
expect 2 "not 2 comma-separated strides" "$NIS" ebm train --data "$dir/data" --out "$dir/d" --channels 2,3 --strides 1
expect 2 "--sampler needs a maximum-likelihood energy" "$NIS" ebm train --data "$dir/data" --out "$dir/d" --noise 0.3 --sampler dft
[ ! -e "$dir/d" ] && ok || bad "a refused DSM run created its output directory"
expect 0 "" "$NIS" ebm train "${dsm[@]}" --out "$dir/d4" --iters 4
for f in checkpoint.safetensors energy.safetensors denoised.png; do exists "$dir/d4/$f"; done
expect 0 "" "$NIS" ebm train "${dsm[@]}" --out "$dir/d2" --iters 2
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/d2" --iters 4 --resume --quiet
cmp -s "$dir/d4/energy.safetensors" "$dir/d2/energy.safetensors" && ok || bad "resumed DSM energy differs"
expect 0 "" "$NIS" ebm langevin --energy "$dir/d4/energy.safetensors" --steps 3 --n 5 --jump --out "$dir/dl.npy"
grep -q '"energy_grad_evals_per_sample":4' "$dir/out" && ok || bad "langevin --jump: $(cat "$dir/out")"
expect 0 "" "$NIS" ebm denoise --energy "$dir/d4/energy.safetensors" --samples "$dir/dl.npy" --out "$dir/dd.npy"
head -c 128 "$dir/dd.npy" | grep -q "'shape': (5, 1, 28, 28)" && ok || bad "denoise npy: $(head -c 128 "$dir/dd.npy")"
expect 2 "not a DSM energy" "$NIS" ebm denoise --energy "$dir/a/energy.safetensors" --samples "$dir/dl.npy" --out "$dir/x.npy"
printf 'not an npy file' > "$dir/junk.npy"
expect 2 "junk.npy" "$NIS" ebm denoise --energy "$dir/d4/energy.safetensors" --samples "$dir/junk.npy" --out "$dir/x.npy"

# a noise-conditional DSM energy (--noise-max): bad flags, resume bit-identical, the annealed walk and its flags
expect 2 "--noise-max (1) needs --noise" "$NIS" ebm train --data "$dir/data" --out "$dir/c" --noise-max 1
expect 2 "must exceed it (0.3)" "$NIS" ebm train --data "$dir/data" --out "$dir/c" --noise 0.3 --noise-max 0.2
[ ! -e "$dir/c" ] && ok || bad "a refused noise-conditional run created its output directory"
cond=("${dsm[@]}" --noise 0.1 --noise-max 1)
expect 0 "" "$NIS" ebm train "${cond[@]}" --out "$dir/c4" --iters 4
expect 0 "" "$NIS" ebm train "${cond[@]}" --out "$dir/c2" --iters 2
expect 2 "--noise-max cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/c2" --iters 4 --resume --noise-max 2
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/c2" --iters 4 --resume --quiet
cmp -s "$dir/c4/energy.safetensors" "$dir/c2/energy.safetensors" && ok || bad "resumed noise-conditional energy differs"
# a sampler over the energy's levels: trains, and resumes bit-identically
esl=(--energy "$dir/c4/energy.safetensors" --sigma-max 1 --batch 4 --gen-channels 4 --score-channels 2 --latent 4 --eval-n 4 --quiet --checkpoint-every 1)
expect 0 "" "$NIS" ebm sampler "${esl[@]}" --iters 2 --out "$dir/sl2"
expect 0 "" "$NIS" ebm sampler "${esl[@]}" --iters 1 --out "$dir/sl1"
expect 0 "" "$NIS" ebm sampler --energy "$dir/c4/energy.safetensors" --out "$dir/sl1" --resume --iters 2 --quiet --eval-n 4
cmp -s "$dir/sl2/sampler.safetensors" "$dir/sl1/sampler.safetensors" && ok || bad "resumed sampler over levels differs"
grep -q '"sigma_max":.1,' "$dir/sl2/config.json" && ok || bad "config.json lacks sigma_max: $(cat "$dir/sl2/config.json")"
small=(--energy "$dir/c4/energy.safetensors" --batch 4 --gen-channels 4 --score-channels 2 --latent 4 --eval-n 4 --quiet --iters 1)
expect 0 "" "$NIS" ebm sampler "${small[@]}" --out "$dir/sld"
grep -q '"sigma_max":.1,' "$dir/sld/config.json" && ok || bad "default: all the energy's levels: $(cat "$dir/sld/config.json")"
expect 0 "" "$NIS" ebm sampler "${small[@]}" --out "$dir/sl0" --sigma-max 0
grep -q '"sigma_max":.0,' "$dir/sl0/config.json" && ok || bad "--sigma-max 0 (one level): $(cat "$dir/sl0/config.json")"
expect 0 "" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 6 --n 3 --jump --out "$dir/cl.npy"
grep -q '"levels":6,' "$dir/out" && ok || bad "the default annealing (10 levels, or --steps if fewer): $(cat "$dir/out")"
expect 2 "--steps (6) must be at least --levels (10)" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 6 --levels 10 --out "$dir/x.npy"
expect 0 "" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 6 --levels 3 --n 3 --jump --out "$dir/cl.npy"
grep -q '"levels":3,"temperature":1,"energy_grad_evals_per_sample":7' "$dir/out" && ok || bad "langevin --levels 3: $(cat "$dir/out")"
# at a temperature below 1: other draws from the same seed, recorded; refused at 0 and with --reverse
expect 0 "" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 6 --levels 3 --n 3 --jump --temperature 0.5 --out "$dir/clt.npy"
grep -q '"temperature":0.5,' "$dir/out" && ok || bad "langevin --temperature 0.5: $(cat "$dir/out")"
cmp -s "$dir/cl.npy" "$dir/clt.npy" && bad "--temperature 0.5 made no difference" || ok
expect 2 "--temperature" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 6 --temperature 0 --out "$dir/x.npy"
expect 2 "--reverse takes one step per level" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 5 --reverse --temperature 0.5 --out "$dir/x.npy"
expect 2 "--levels 3 needs a noise-conditional energy" "$NIS" ebm langevin --energy "$dir/d4/energy.safetensors" --steps 6 --levels 3 --out "$dir/x.npy"
# reverse diffusion over the levels: one gradient per step (+ the jump), deterministic, refused without levels
expect 0 "" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 5 --reverse --n 3 --jump --out "$dir/rv.npy"
grep -q '"method":"reverse diffusion"' "$dir/out" && grep -q '"energy_grad_evals_per_sample":6' "$dir/out" && ok \
  || bad "langevin --reverse: $(cat "$dir/out")"
expect 0 "" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 5 --reverse --n 3 --jump --out "$dir/rv2.npy"
cmp -s "$dir/rv.npy" "$dir/rv2.npy" && ok || bad "reverse diffusion is not deterministic"
expect 2 "--reverse needs a noise-conditional energy" "$NIS" ebm langevin --energy "$dir/d4/energy.safetensors" --steps 5 --reverse --out "$dir/x.npy"
expect 2 "--reverse takes one step per level" "$NIS" ebm langevin --energy "$dir/c4/energy.safetensors" --steps 5 --reverse --levels 2 --out "$dir/x.npy"
# a U-Net energy (--arch unet): bad flags, resume bit-identical, its file drives the walk and the jump
un=(--data "$dir/data" --noise 0.1 --noise-max 1 --batch 4 --checkpoint-every 2 --quiet --seed 1)
expect 2 "--arch: unknown network 'mlp'" "$NIS" ebm train "${un[@]}" --out "$dir/u" --arch mlp
expect 2 "--arch unet takes --width" "$NIS" ebm train "${un[@]}" --out "$dir/u" --arch unet --channels 4,4
expect 0 "" "$NIS" ebm train "${un[@]}" --out "$dir/u4" --arch unet --width 2 --iters 4
expect 0 "" "$NIS" ebm train "${un[@]}" --out "$dir/u2" --arch unet --width 2 --iters 2
expect 2 "--arch cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/u2" --iters 4 --resume --arch conv
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/u2" --iters 4 --resume --quiet
cmp -s "$dir/u4/energy.safetensors" "$dir/u2/energy.safetensors" && ok || bad "resumed U-Net energy differs"
expect 0 "" "$NIS" ebm langevin --energy "$dir/u4/energy.safetensors" --steps 6 --levels 3 --n 3 --jump --out "$dir/ul.npy"
exists "$dir/ul.npy"
# an energy that sees its level (--level-input): bad flags, resume bit-identical, a sampler over its levels
expect 2 "--level-input needs --noise-max and the conv net" "$NIS" ebm train --data "$dir/data" --out "$dir/l" --noise 0.1 --level-input
expect 2 "--level-input needs --noise-max and the conv net" "$NIS" ebm train "${un[@]}" --out "$dir/l" --arch unet --level-input
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --out "$dir/l4" --iters 4
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --out "$dir/l2" --iters 2
expect 2 "--level-input cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/l2" --iters 4 --resume --level-input
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/l2" --iters 4 --resume --quiet
cmp -s "$dir/l4/energy.safetensors" "$dir/l2/energy.safetensors" && ok || bad "resumed level-input energy differs"
cmp -s "$dir/l4/energy.safetensors" "$dir/c4/energy.safetensors" && bad "--level-input made no difference" || ok
expect 0 "" "$NIS" ebm langevin --energy "$dir/l4/energy.safetensors" --steps 6 --levels 3 --n 3 --jump --out "$dir/ll.npy"
expect 0 "" "$NIS" ebm sampler --energy "$dir/l4/energy.safetensors" --batch 4 --gen-channels 4 --score-channels 2 --latent 4 --eval-n 4 --quiet --iters 1 --out "$dir/lsl"
# a hidden layer before the head (--hidden): bad flags, resume bit-identical, the walk reads its file
expect 2 "--hidden needs the conv net" "$NIS" ebm train "${un[@]}" --out "$dir/h" --arch unet --hidden 4
expect 2 "--hidden: -3 is out of range" "$NIS" ebm train "${cond[@]}" --out "$dir/h" --hidden -3
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --hidden 6 --out "$dir/h4" --iters 4
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --hidden 6 --out "$dir/h2" --iters 2
expect 2 "--hidden cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/h2" --iters 4 --resume --hidden 6
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/h2" --iters 4 --resume --quiet
cmp -s "$dir/h4/energy.safetensors" "$dir/h2/energy.safetensors" && ok || bad "resumed energy with a hidden layer differs"
expect 0 "" "$NIS" ebm langevin --energy "$dir/h4/energy.safetensors" --steps 6 --levels 3 --n 3 --jump --out "$dir/hl.npy"
# EDM's preconditioning (--precondition): bad flags, resume bit-identical, the walk and a sampler read its file
expect 2 "--precondition needs --level-input" "$NIS" ebm train "${cond[@]}" --precondition --out "$dir/p"
expect 2 "--precondition cannot be given with --init-energy" "$NIS" ebm train --data "$dir/data" --out "$dir/p" --init-energy "$dir/l4/energy.safetensors" --precondition
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --precondition --hidden 6 --out "$dir/p4" --iters 4
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --precondition --hidden 6 --out "$dir/p2" --iters 2
expect 2 "--precondition cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/p2" --iters 4 --resume --precondition
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/p2" --iters 4 --resume --quiet
cmp -s "$dir/p4/energy.safetensors" "$dir/p2/energy.safetensors" && ok || bad "resumed preconditioned energy differs"
cmp -s "$dir/p4/energy.safetensors" "$dir/h4/energy.safetensors" && bad "--precondition made no difference" || ok
expect 0 "" "$NIS" ebm langevin --energy "$dir/p4/energy.safetensors" --steps 6 --levels 3 --n 3 --jump --out "$dir/pl.npy"
expect 0 "" "$NIS" ebm sampler --energy "$dir/p4/energy.safetensors" --batch 4 --gen-channels 4 --score-channels 2 --latent 4 --eval-n 4 --quiet --iters 1 --out "$dir/psl"

# off-data rows (--off-data): levels needed, resume bit-identical, a difference; fine-tuning a DSM energy gets its
# kind's defaults (no replay buffer in the checkpoint, the average of the weights on)
expect 2 "off_data needs a noise-conditional DSM energy" "$NIS" ebm train --data "$dir/data" --out "$dir/o" --noise 0.1 --batch 4 --quiet --off-data 2
expect 2 "--off-data: -1 is out of range" "$NIS" ebm train "${cond[@]}" --out "$dir/o" --off-data -1
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --precondition --hidden 6 --off-data 3 --out "$dir/o4" --iters 4
expect 0 "" "$NIS" ebm train "${cond[@]}" --level-input --precondition --hidden 6 --off-data 3 --out "$dir/o2" --iters 2
expect 2 "--off-data cannot be given with --resume" "$NIS" ebm train --data "$dir/data" --out "$dir/o2" --iters 4 --resume --off-data 3
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/o2" --iters 4 --resume --quiet
cmp -s "$dir/o4/energy.safetensors" "$dir/o2/energy.safetensors" && ok || bad "resumed energy with off-data rows differs"
cmp -s "$dir/o4/energy.safetensors" "$dir/p4/energy.safetensors" && bad "--off-data made no difference" || ok
expect 0 "" "$NIS" ebm train --data "$dir/data" --out "$dir/of" --init-energy "$dir/p4/energy.safetensors" --batch 4 --iters 2 --checkpoint-every 2 --quiet --off-data 2
grep -aq '"train.ema":"0.99[89]' "$dir/of/checkpoint.safetensors" && ok || bad "a fine-tuned DSM energy lost its moving average"
grep -aq '"train.buffer_size":"4"' "$dir/of/checkpoint.safetensors" && ok || bad "a fine-tuned DSM energy got a replay buffer"
# one-step image samplers (nis ebm sampler) against the Gaussian test target: bad flags, outputs, resume, sample
es=(--target gauss784 --batch 8 --gen-channels 4 --score-channels 2 --latent 4 --eval-n 8 --quiet --checkpoint-every 2)
expect 2 "exactly one of" "$NIS" ebm sampler --target gauss784 --energy "$dir/a/energy.safetensors" --out "$dir/es"
expect 2 "a conv sampler trains by dft or kl" "$NIS" ebm sampler "${es[@]}" --method fisher --out "$dir/es"
expect 2 "batch must be even" "$NIS" ebm sampler "${es[@]}" --batch 7 --out "$dir/es"
expect 2 "sigma_max must exceed sigma" "$NIS" ebm sampler "${es[@]}" --sigma-max 0.05 --out "$dir/es"
expect 2 "sigma_max needs a target with noise levels" "$NIS" ebm sampler --energy "$dir/d4/energy.safetensors" --sigma-max 1 --out "$dir/es"
[ ! -e "$dir/es" ] && ok || bad "a refused ebm sampler created its output directory"
expect 0 "" "$NIS" ebm sampler "${es[@]}" --iters 6 --out "$dir/es6"
for f in sampler.safetensors checkpoint.safetensors config.json metrics.json samples.png; do exists "$dir/es6/$f"; done
expect 0 "" "$NIS" ebm sampler "${es[@]}" --iters 3 --out "$dir/es3"
expect 2 "--lr cannot be given with --resume" "$NIS" ebm sampler --target gauss784 --out "$dir/es3" --resume --iters 6 --lr 0.1
expect 2 "trained against 'gauss784', not 'ebm'" "$NIS" ebm sampler --energy "$dir/a/energy.safetensors" --out "$dir/es3" --resume
expect 0 "" "$NIS" ebm sampler --target gauss784 --out "$dir/es3" --resume --iters 6 --quiet --eval-n 8
cmp -s "$dir/es6/sampler.safetensors" "$dir/es3/sampler.safetensors" && ok || bad "resumed image sampler differs"
expect 0 "" "$NIS" ebm sample --model "$dir/es6" --n 3 --out "$dir/es.npy"
# the pooled score U-Net (--score-net pooled): its own network, resumed bit for bit (the checkpoint holds the choice)
expect 0 "" "$NIS" ebm sampler "${es[@]}" --score-net pooled --iters 4 --out "$dir/ep4"
expect 0 "" "$NIS" ebm sampler "${es[@]}" --score-net pooled --iters 2 --out "$dir/ep2"
expect 0 "" "$NIS" ebm sampler --target gauss784 --out "$dir/ep2" --resume --iters 4 --quiet --eval-n 8
cmp -s "$dir/ep4/sampler.safetensors" "$dir/ep2/sampler.safetensors" && ok || bad "resumed sampler with the pooled U-Net differs"
expect 0 "" "$NIS" ebm sampler "${es[@]}" --iters 4 --out "$dir/es4"
cmp -s "$dir/ep4/sampler.safetensors" "$dir/es4/sampler.safetensors" && bad "--score-net pooled made no difference" || ok
grep -q '"score_net":.*"pooled"' "$dir/ep4/config.json" && ok || bad "config.json lacks score_net pooled"
head -c 128 "$dir/es.npy" | grep -q "'shape': (3, 1, 28, 28)" && ok || bad "image sampler npy: $(head -c 128 "$dir/es.npy")"

# Langevin from noise, its energies, data energies
expect 0 "" "$NIS" ebm langevin --energy "$dir/a/energy.safetensors" --steps 3 --n 5 --seed 1 --out "$dir/x.npy" --png "$dir/x.png"
exists "$dir/x.npy"; exists "$dir/x.png"
grep -q '"energy_grad_evals_per_sample":3' "$dir/out" && ok || bad "langevin JSON: $(cat "$dir/out")"
# (5, 1, 28, 28) float32: header says so
head -c 128 "$dir/x.npy" | grep -q "'shape': (5, 1, 28, 28)" && ok || bad "npy shape: $(head -c 128 "$dir/x.npy")"
expect 0 "" "$NIS" ebm energy --energy "$dir/a/energy.safetensors" --samples "$dir/x.npy"
grep -q '"n":5,' "$dir/out" && ok || bad "energy JSON: $(cat "$dir/out")"
expect 0 "" "$NIS" ebm energy --energy "$dir/a/energy.safetensors" --data "$dir/data" --split test
grep -q '"n":10,' "$dir/out" && ok || bad "energy of the test split: $(cat "$dir/out")"
expect 2 "exactly one of" "$NIS" ebm energy --energy "$dir/a/energy.safetensors"
finish cli_ebm_test
