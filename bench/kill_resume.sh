#!/usr/bin/env bash
# bench/kill_resume.sh — `nis train` killed with SIGKILL at random points, KILLS times, always leaves a loadable run
# directory, and --resume then finishes bit-identical to an uninterrupted run (issue 19).
#
# usage: bench/kill_resume.sh [KILLS (default 20)] [ITERS (default 3000)] [nis train flags...]
#   BUILD=dir picks the build (default build).  Prints one line per kill and a verdict; exit 0 only if every check held.
{ # one compound command, read whole before it runs: editing this file during a run is safe
set -uo pipefail
cd "$(dirname "$0")/.."
kills=${1:-20}
iters=${2:-3000}
shift 2 || shift $#
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--target donut --method dft --checkpoint-every 50 --seed 3)
flags+=(--iters "$iters")
NIS="${BUILD:-build}/nis"
export OMP_NUM_THREADS=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
"$NIS" train "${flags[@]}" --quiet --threads 1 --out "$dir/ref" > /dev/null 2>&1 || { echo "reference run failed"; exit 1; }
t_ref=$(python3 -c "import json; print(json.load(open('$dir/ref/metrics.json'))['train_seconds'])")
for k in $(seq 1 "$kills"); do
  run=("${flags[@]}")   # a fresh start, or --resume (which takes the settings from the checkpoint)
  [ -f "$dir/run/checkpoint.safetensors" ] && run=(--resume --iters "$iters")
  "$NIS" train "${run[@]}" --quiet --threads 1 --out "$dir/run" > /dev/null 2>"$dir/err" &
  pid=$!
  # a random point in a window of about twice the run's time over KILLS, so the kills spread over the whole run
  sleep "$(awk -v s="$RANDOM" -v t="$t_ref" -v k="$kills" 'BEGIN { srand(s); printf "%.3f", 0.05 + rand() * 2 * t / k }')"
  if ! kill -9 "$pid" 2>/dev/null; then   # it ended before the kill: it must have finished, not failed
    wait "$pid" || { echo "kill $k: the run failed by itself: $(cat "$dir/err")"; fail=1; }
  fi
  wait "$pid" 2>/dev/null
  state="no checkpoint yet"
  if [ -f "$dir/run/checkpoint.safetensors" ]; then
    if "$NIS" sample --model "$dir/run" --n 10 --out "$dir/s.npy" > /dev/null 2>"$dir/err"; then
      state="loadable: $(python3 -c "
import struct, json
b = open('$dir/run/checkpoint.safetensors', 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
m = json.loads(b[8:8 + n]).get('__metadata__', {})
print('update', m.get('iter', '?'))")"
    else
      state="NOT LOADABLE: $(cat "$dir/err")"
      fail=1
    fi
  fi
  tmps=$(find "$dir/run" -name '*.tmp.*' 2>/dev/null | wc -l)
  echo "kill $k: $state; temp files left: $tmps"
done
"$NIS" train --resume --iters "$iters" --quiet --threads 1 --out "$dir/run" > /dev/null 2>"$dir/err" ||
  { echo "final resume failed: $(cat "$dir/err")"; fail=1; }
for f in sampler.safetensors checkpoint.safetensors; do
  cmp -s "$dir/ref/$f" "$dir/run/$f" && echo "$f: bit-identical to the uninterrupted run" || { echo "$f DIFFERS"; fail=1; }
done
left=$(find "$dir/run" -name '*.tmp.*' | wc -l)
echo "temp files left at the end: $left"
[ "$left" = 0 ] || fail=1
[ $fail = 0 ] && echo "kill_resume: all checks held ($kills kills)" || echo "kill_resume: FAILED"
exit $fail
}
