#!/usr/bin/env bash
# bench/mpi_speed.sh — P = 2 ranks x 1 thread against P = 1 x 1 thread, in the same run (issue 23, docs/scaling.md):
#   energy: the MNIST energy's DSM step (models/ebm-mnist-level's network: level input, convs 32-64-64-128-128,
#           batch 128; P = 2: 64 images per rank), `nis ebm train`;
#   blr:    DFT on the Covertype-shaped posterior (synthetic:581012:54, 80% of the rows for training; the posterior
#           preset's networks, batch BATCH (64; the preset's 1024 makes 2 GB (batch, rows) matrices per target
#           call), not whitened, no evaluation after training), `nis train --target blr`, with the rows split over the
#           ranks (--group-split rows) and with the batch split (each rank all rows, half the draws).
# ms/update = (T(N2) - T(N1)) / (N2 - N1): T is the command's wall time for the energy (its start-up, the data
# loading, is the same in both and cancels) and train_seconds (metrics.json) for the sampler.  ROUNDS rounds, the
# cases alternating inside each; the table gives the median per case and the speedup of the median.
# usage: bench/mpi_speed.sh   (ROUNDS, OUT = a file for the table; BUILD; needs mpirun and an MPI build)
{
set -euo pipefail
cd "$(dirname "$0")/.."
NIS=${BUILD:-build}/nis
ROUNDS=${ROUNDS:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
[ -f data/mnist/9.json ] || "$NIS" data fetch --dir data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi() { local np=$1; shift; if [ "$np" = 1 ]; then "$@"; else mpirun -q --oversubscribe -np "$np" "$@"; fi; }
energy() {   # energy NP ITERS -> seconds of wall time
  local t0 t1
  t0=$(date +%s.%N)
  mpi "$1" "$NIS" ebm train --data data --out "$tmp/e" --noise 0.1 --noise-max 1 --level-input --channels 32,64,64,128,128 \
    --strides 1,2,1,2,2 --batch 128 --lr 5e-4 --clip 100 --iters "$2" --checkpoint-every 100000 --seed 0 --threads 1 \
    --quiet > /dev/null
  t1=$(date +%s.%N)
  rm -rf "$tmp/e"
  python3 -c "print($t1 - $t0)"
}
blr() {   # blr NP SPLIT ITERS -> train_seconds
  mpi "$1" "$NIS" train --target blr --data synthetic:581012:54 --group-split "$2" --whiten=false --iters "$3" \
    --score-warmup 0 --batch "$BATCH" --eval-n 0 --seed 0 --threads 1 --quiet --out "$tmp/b" > /dev/null 2>&1
  python3 -c "import json; print(json.load(open('$tmp/b/metrics.json'))['train_seconds'])"
  rm -rf "$tmp/b"
}
declare -A ms
E1=3 E2=23 B1=2 B2=8
BATCH=${BATCH:-64}   # the BLR batch: every target call makes (batch, rows) matrices (batch 1024: ~2 GB each)
for r in $(seq "$ROUNDS"); do
  for np in 1 2; do
    a=$(energy $np $E1); b=$(energy $np $E2)
    ms[energy,$np]+="$(python3 -c "print(1000 * ($b - $a) / ($E2 - $E1))") "
    echo "round $r energy P=$np: ${ms[energy,$np]}" >&2
  done
  for c in "1 rows" "2 rows" "2 batch"; do
    set -- $c
    a=$(blr "$1" "$2" $B1); b=$(blr "$1" "$2" $B2)
    ms[blr-$2,$1]+="$(python3 -c "print(1000 * ($b - $a) / ($B2 - $B1))") "
    echo "round $r blr $2 P=$1: ${ms[blr-$2,$1]}" >&2
  done
done
med() { python3 -c "import statistics, sys; print(statistics.median(float(v) for v in sys.argv[1:]))" $1; }
e1=$(med "${ms[energy,1]}") e2=$(med "${ms[energy,2]}") b1=$(med "${ms[blr-rows,1]}") b2=$(med "${ms[blr-rows,2]}")
b2b=$(med "${ms[blr-batch,2]}")
table=$(python3 - "$e1" "$e2" "$b1" "$b2" "$b2b" "$BATCH" <<'EOF'
import sys
e1, e2, b1, b2, b2b = map(float, sys.argv[1:6])
BATCH = sys.argv[6]
print(f"| case | P = 1 ms/update | P = 2 ms/update | speedup |\n|---|---:|---:|---:|")
print(f"| MNIST energy, DSM step (batch 128) | {e1:.0f} | {e2:.0f} | {e1 / e2:.2f}x |")
print(f"| Covertype-shaped BLR, DFT (batch {BATCH}), rows split | {b1:.0f} | {b2:.0f} | {b1 / b2:.2f}x |")
print(f"| Covertype-shaped BLR, DFT (batch {BATCH}), batch split | {b1:.0f} | {b2b:.0f} | {b1 / b2b:.2f}x |")
EOF
)
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $ROUNDS round(s), 1 thread per rank, load $(cut -d' ' -f1 /proc/loadavg) after; \`bench/mpi_speed.sh\`"
echo
echo "$table"
[ -n "${OUT:-}" ] && { echo "$table" > "$OUT"; }
exit 0
}
