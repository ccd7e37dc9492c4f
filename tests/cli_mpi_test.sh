# tests/cli_mpi_test.sh NIS — `mpirun -np 2 nis train` (issue 23, docs/scaling.md): two ranks with batch B train the
# sampler one process trains with batch B (to float tolerance), two such runs are bit-identical, a checkpoint resumes
# with another number of ranks, bad input stops every rank with one line and exit 2 (nothing written), a diverging run
# stops both with one line, other commands refuse to run as a group, and a rank killed mid-run ends the job within
# seconds, after which --resume finishes; the same for the energy's training (nis ebm train, DSM); and a BLR
# likelihood whose rows are split over the ranks (--group-split rows) trains what one process does.  Skipped (77) without mpirun or when NIS was built without MPI.
NIS=$1
. "$(dirname "$0")/cli_lib.sh"
command -v mpirun > /dev/null || { echo "cli_mpi_test: skipped: no mpirun (apt install openmpi-bin)"; exit 77; }
command -v python3 > /dev/null || { echo "cli_mpi_test: skipped: no python3"; exit 77; }
# root in a container (CI): OpenMPI asks for these; --oversubscribe: more ranks than cores is fine for a test
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mpi() { local np=$1; shift; timeout 120 mpirun -q --oversubscribe -np "$np" "$@"; }
mpi 2 "$NIS" train --target donut --iters 1 --out "$dir/probe" --quiet --eval-n 2 > /dev/null 2> "$dir/probe.err"
if grep -q "built without MPI" "$dir/probe.err"; then echo "cli_mpi_test: skipped: $NIS was built without MPI"; exit 77; fi

small=(--target donut --iters 60 --seed 2 --quiet --eval-n 50 --checkpoint-every 30)
# the largest difference between the parameters of two sampler files (safetensors, float32)
maxdiff() {
  python3 - "$1" "$2" <<'EOF'
import json, struct, sys
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    return {k: struct.unpack("<%df" % ((v["data_offsets"][1] - v["data_offsets"][0]) // 4),
                             d[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32"}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(max(abs(x - y) for k in a for x, y in zip(a[k], b[k])) if a.keys() == b.keys() else "inf")
EOF
}
close() {   # close D TOL: D is a number (not empty, not "inf": a comparison that could not run fails) and D <= TOL
  case "$1" in ""|*[!0-9.e+-]*) return 1 ;; esac
  awk -v d="$1" -v t="$2" 'BEGIN { exit !(d + 0 <= t + 0) }'
}

# one process, and two ranks with the same (global) batch
expect 0 "" "$NIS" train "${small[@]}" --out "$dir/p1"
expect 0 "" mpi 2 "$NIS" train "${small[@]}" --out "$dir/p2"
grep -q '"ranks":2' "$dir/out" && ok || bad "metrics of a group lack ranks: $(cat "$dir/out")"
[ "$(wc -l < "$dir/out")" -eq 1 ] && ok || bad "a group printed $(wc -l < "$dir/out") JSON lines, not 1"
d=$(maxdiff "$dir/p1/sampler.safetensors" "$dir/p2/sampler.safetensors")
echo "cli_mpi_test: P = 2 against one process after 60 DFT updates: largest parameter difference $d"
close "$d" 1e-4 && ok || bad "P = 2 differs from one process by $d"
expect 0 "" mpi 2 "$NIS" train "${small[@]}" --out "$dir/p2b"
cmp -s "$dir/p2/sampler.safetensors" "$dir/p2b/sampler.safetensors" && ok || bad "two P = 2 runs differ"
cmp -s "$dir/p2/checkpoint.safetensors" "$dir/p2b/checkpoint.safetensors" && ok || bad "two P = 2 checkpoints differ"

# a checkpoint resumes with another number of ranks: 2 -> 1 and 1 -> 2, both where one process gets
expect 0 "" "$NIS" train "${small[@]}" --iters 30 --out "$dir/r21"
expect 0 "" mpi 2 "$NIS" train --out "$dir/r21" --resume --iters 60 --quiet --eval-n 50
expect 0 "" mpi 2 "$NIS" train "${small[@]}" --iters 30 --out "$dir/r12"
expect 0 "" "$NIS" train --out "$dir/r12" --resume --iters 60 --quiet --eval-n 50
for r in r21 r12; do
  d=$(maxdiff "$dir/p1/sampler.safetensors" "$dir/$r/sampler.safetensors")
  close "$d" 1e-4 && ok || bad "resumed with another P ($r) differs from one process by $d"
done

# bad input: one line, exit 2, nothing written; a diverging run: one line, exit 1 on every rank
expect 2 "does not split evenly over 3 ranks" mpi 3 "$NIS" train "${small[@]}" --out "$dir/odd"
[ ! -e "$dir/odd" ] && ok || bad "a refused group run created its directory"
expect 2 "is out of range" mpi 2 "$NIS" train "${small[@]}" --lr 1e9 --out "$dir/bad"
expect 2 "cannot read\|no such\|not found\|No such" mpi 2 "$NIS" train --target blr --data "$dir/none.csv" --out "$dir/bad"
# a file only rank 1 cannot read: every rank stops before training, one line (rank 1's), exit 2, nothing written
printf 'a,b,y\n1,2,0\n2,1,1\n3,3,0\n1,1,1\n' > "$dir/ok.csv"
expect 2 "missing.csv" mpi 2 sh -c 'f="$1"; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && f="$2"; exec "$3" train --target blr \
  --data "$f" --label y --positive 1 --whiten=false --width 16 --score-width 16 --batch 32 --init-steps 10 \
  --iters 5 --quiet --out "$4"' sh "$dir/ok.csv" "$dir/missing.csv" "$NIS" "$dir/one"
[ ! -e "$dir/one" ] && ok || bad "a run that rank 1 could not start created its directory"
expect 1 "the run diverged" mpi 2 "$NIS" train --target donut --iters 300 --lr 1 --lr-score 1 --out "$dir/div" --quiet
expect 2 "runs in one process; under mpirun only nis train, nis ebm train and nis mcmc" mpi 2 "$NIS" sample --model "$dir/p1" --n 4 --out "$dir/s.npy"

# a likelihood split by rows (--group-split rows): every rank runs the whole batch against its rows; the sums of the
# target keep the ranks equal and the sampler one process's
blr=(--target blr --data synthetic:500:5:3 --iters 30 --score-warmup 10 --width 32 --score-width 32 --batch 64
     --whiten=false --seed 1 --quiet --eval-n 100)
expect 0 "" "$NIS" train "${blr[@]}" --out "$dir/b1"
expect 0 "" mpi 2 "$NIS" train "${blr[@]}" --group-split rows --out "$dir/b2"
d=$(maxdiff "$dir/b1/sampler.safetensors" "$dir/b2/sampler.safetensors")
echo "cli_mpi_test: BLR rows split over 2 ranks against one process after 30 DFT updates: largest difference $d"
close "$d" 1e-4 && ok || bad "the row-split BLR run differs from one process by $d"
expect 0 "" mpi 2 "$NIS" train "${blr[@]}" --group-split rows --eval-n 0 --out "$dir/b3"   # (no evaluation: no rank waits)
cmp -s "$dir/b2/sampler.safetensors" "$dir/b3/sampler.safetensors" && ok || bad "--eval-n 0 changed the row-split sampler"
# MCMC on the row-split target: Langevin chains as one process's (HMC's adapted step drifts with the rounding)
expect 0 "" "$NIS" mcmc --target blr --data synthetic:500:5:3 --method ula --steps 30 --n 8 --seed 0 --out "$dir/u1.npy"
expect 0 "" mpi 2 "$NIS" mcmc --target blr --data synthetic:500:5:3 --method ula --steps 30 --n 8 --seed 0 --out "$dir/u2.npy"
d=$(python3 - "$dir/u1.npy" "$dir/u2.npy" <<'PY'
import struct, sys
def load(p):   # a float32 .npy: magic, version, header length, header, data
    b = open(p, "rb").read(); n = struct.unpack("<H", b[8:10])[0]; d = b[10 + n:]
    return struct.unpack("<%df" % (len(d) // 4), d)
a, b = load(sys.argv[1]), load(sys.argv[2])
print(max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else "inf")
PY
)
echo "cli_mpi_test: ULA on BLR, rows split over 2 ranks against one process: largest difference $d"
close "$d" 1e-4 && ok || bad "ULA on the row-split target differs from one process by $d"
expect 2 "under mpirun only --target blr" mpi 2 "$NIS" mcmc --target donut --method ula --steps 3 --n 4 --out "$dir/x.npy"
expect 2 "--group-split rows needs --target blr" mpi 2 "$NIS" train "${small[@]}" --group-split rows --out "$dir/x"
expect 2 "is not synthetic:ROWS:FEATURES" "$NIS" train --target blr --data synthetic:5 --out "$dir/x"

# the energy's training (DSM over levels) as a group: one process's energy, bit-identical runs, ML energies refused
mkdir -p "$dir/data/mnist"
for d in 0 1 2 3 4 5 6 7 8 9; do   # five 28x28 "digits" per class: a blob at a place that depends on the class
  awk -v d="$d" 'BEGIN { printf "{\"data\":["; for (k = 0; k < 5; k++) for (i = 0; i < 784; i++) {
    r = int(i / 28); c = i % 28; v = ((r - 4 - 2 * d) ^ 2 + (c - 6 - 2 * k) ^ 2 < 12) ? 0.9 : 0.01
    printf "%s%g", (k || i) ? "," : "", v } printf "]}\n" }' > "$dir/data/mnist/$d.json"
done
ebm=(ebm train --data "$dir/data" --noise 0.1 --noise-max 1 --level-input --channels 4,8 --strides 2,2 --batch 8 --iters 6
     --checkpoint-every 3 --seed 1 --quiet)
expect 0 "" "$NIS" "${ebm[@]}" --out "$dir/e1"
expect 0 "" mpi 2 "$NIS" "${ebm[@]}" --out "$dir/e2"
expect 0 "" mpi 2 "$NIS" "${ebm[@]}" --out "$dir/e2b"
cmp -s "$dir/e2/energy.safetensors" "$dir/e2b/energy.safetensors" && ok || bad "two P = 2 energy runs differ"
d=$(maxdiff "$dir/e1/energy.safetensors" "$dir/e2/energy.safetensors")
echo "cli_mpi_test: energy, P = 2 against one process after 6 updates: largest parameter difference $d"
close "$d" 1e-5 && ok || bad "the P = 2 energy differs from one process's by $d"
expect 2 "nowhere" mpi 2 sh -c 'd="$1"; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && d="$2"; shift 2; exec "$@" --data "$d"' \
  sh "$dir/data" "$dir/nowhere" "$NIS" "${ebm[@]}" --out "$dir/eone"
[ ! -e "$dir/eone" ] && ok || bad "an energy run that rank 1 could not start created its directory"
expect 2 "denoising (--noise) energies only" mpi 2 "$NIS" ebm train --data "$dir/data" --batch 4 --buffer 8 --steps 2 \
  --width 2 --iters 2 --quiet --out "$dir/eml"

# a rank killed mid-run: the job ends within seconds (non-zero), the last checkpoint resumes and finishes
# (without -q: mpirun's own report names the rank and the signal)
timeout 120 mpirun --oversubscribe -np 2 "$NIS" train --target donut --iters 100000 --checkpoint-every 100 --seed 2 \
  --quiet --out "$dir/kill" > /dev/null 2> "$dir/kill.err" &
job=$!
for _ in $(seq 600); do [ -f "$dir/kill/checkpoint.safetensors" ] && break; sleep 0.1; done
victim=""
for p in $(pgrep -f "nis train --target donut --iters 100000"); do
  tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
done
[ -n "$victim" ] && kill -9 "$victim" && ok || bad "no rank 1 to kill"
t0=$(date +%s)
wait "$job"; rc=$?
[ "$rc" -ne 0 ] && [ $(( $(date +%s) - t0 )) -le 20 ] && ok || bad "after rank 1 was killed: exit $rc, $(( $(date +%s) - t0 )) s"
grep -q "rank 1 .*signal 9" "$dir/kill.err" && ok || bad "mpirun did not name the killed rank: $(cat "$dir/kill.err")"
expect 0 "" mpi 2 "$NIS" train --out "$dir/kill" --resume --iters 400 --quiet --eval-n 50
grep -q '"updates":400' "$dir/out" && ok || bad "the killed run did not resume to 400 updates: $(cat "$dir/out")"
finish cli_mpi_test
