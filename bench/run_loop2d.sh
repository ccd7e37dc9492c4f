#!/usr/bin/env bash
# bench/run_loop2d.sh — the end-to-end 2-D training loop, nis against PyTorch (issue 20, item 4), same run.
#
# nis:   NIS train --target donut --method M --iters N --seed 0 --threads T --quiet --checkpoint-every N2 (every
#        training setting the CLI's default), for N = N1 and N = N2; ms/update = (train_seconds(N2) -
#        train_seconds(N1)) / (N2 - N1).  train_seconds (metrics.json) starts after the initial fit (init_steps, in
#        nis_trainer_new) and covers the updates and the saves of sampler.safetensors and checkpoint.safetensors
#        (atomic, with fsync).  --checkpoint-every N2 makes that one save at the end of each run instead of the
#        default's 10 (every 10%): the difference removes the saves either way, but ten fsyncs on a shared disk
#        added 0.15-0.2 s of noisy time per run (measured: ~+-0.05 s between runs); NIS_CHECKPOINT_EVERY=0 gives
#        the default.  The difference also removes the first N1 updates and the one-time costs.
# torch: bench/loop2d_torch.py --method M --threads T --n1 N1 --n2 N2: the same loop in PyTorch (its header says
#        what it mirrors), timing updates N1+1..N2 of one run.
# CPU time: the same differences on the process's CPU clock (nis: train_cpu_seconds in metrics.json; torch:
#        time.process_time), all threads summed.  On a shared machine a neighbour stretches wall time far more than
#        CPU time, so at 1 thread the CPU ratio is the steadier one; at 2 threads CPU time also counts the second
#        thread's work and waiting, so there the wall columns are the ones that answer "faster or not".
# Cases: METHODS x THREADS.  Each of ROUNDS rounds runs every case once; within a case nis and torch run back to back,
# and who goes first alternates from case to case and from round to round.  Per case the table has the median
# over rounds of each side's ms/update and the per-round ratio torch/nis (median, min-max).
# OPENBLAS_CORETYPE is passed through as it is (unset: nis picks its kernels itself, torch's OpenBLAS its own).
#
# Environment: ROUNDS (3), N1 (200), N2 (1200), METHODS ("dft kl"), THREADS (default "1 2", plus `nproc` if > 2),
# NIS (build/nis), PY (/usr/bin/python3, Debian's python3-torch), EVAL_N (200: samples nis evaluates after training,
# outside train_seconds), NIS_CHECKPOINT_EVERY (N2; 0: the CLI's default, every 10%), OUT (also write the table to
# this file).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
N1=${N1:-200}
N2=${N2:-1200}
METHODS=${METHODS:-"dft kl"}
NIS=${NIS:-build/nis}
PY=${PY:-/usr/bin/python3}
EVAL_N=${EVAL_N:-200}
NIS_CHECKPOINT_EVERY=${NIS_CHECKPOINT_EVERY:-$N2}
if [ -z "${THREADS:-}" ]; then
    THREADS="1 2"
    np=$(nproc)
    [ "$np" -gt 2 ] && THREADS="$THREADS $np"
fi
[ -x "$NIS" ] || { echo "run_loop2d: $NIS not found (build it: make)" >&2; exit 1; }
[ "$N2" -gt "$N1" ] || { echo "run_loop2d: need N2 > N1" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "train_seconds train_cpu_seconds" of one nis run of $3 updates (method $1, threads $2)
nis_seconds() {
    local dir="$tmp/nis-$1-$2-$3"
    if ! "$NIS" train --target donut --method "$1" --iters "$3" --seed 0 --threads "$2" --out "$dir" --quiet \
        --eval-n "$EVAL_N" --checkpoint-every "$NIS_CHECKPOINT_EVERY" >"$tmp/nis.out" 2>"$tmp/nis.err"; then
        echo "run_loop2d: nis train failed:" >&2
        cat "$tmp/nis.err" >&2
        exit 1
    fi
    "$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(repr(m["train_seconds"]), repr(m["train_cpu_seconds"]))' \
        "$dir/metrics.json"
    rm -rf "$dir"
}
# "wall_ms cpu_ms" per update of nis
nis_ms() {
    local a b
    a=$(nis_seconds "$1" "$2" "$N1")
    b=$(nis_seconds "$1" "$2" "$N2")
    "$PY" -c 'import sys; a, ac, b, bc, n1, n2 = map(float, sys.argv[1:]); k = 1e3 / (n2 - n1); print(repr((b - a) * k), repr((bc - ac) * k))' \
        $a $b "$N1" "$N2"
}
torch_ms() {
    if ! "$PY" bench/loop2d_torch.py --method "$1" --threads "$2" --n1 "$N1" --n2 "$N2" >"$tmp/torch.json" \
        2>"$tmp/torch.err"; then
        echo "run_loop2d: bench/loop2d_torch.py failed:" >&2
        cat "$tmp/torch.err" >&2
        exit 1
    fi
    cp "$tmp/torch.json" "$tmp/torch-last.json"
    "$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(repr(m["ms_per_update"]), repr(m["cpu_ms_per_update"]))' \
        "$tmp/torch.json"
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
start=$(date -u '+%Y-%m-%d %H:%M UTC')
: >"$tmp/rows.tsv"
for r in $(seq 1 "$ROUNDS"); do
    c=0
    for m in $METHODS; do
        for t in $THREADS; do
            echo "run_loop2d: round $r/$ROUNDS, $m, $t thread(s) (load $(cut -d' ' -f1 /proc/loadavg))" >&2
            if [ $(((r + c) % 2)) -eq 1 ]; then
                a=$(nis_ms "$m" "$t")
                b=$(torch_ms "$m" "$t")
            else
                b=$(torch_ms "$m" "$t")
                a=$(nis_ms "$m" "$t")
            fi
            printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$t" "$r" "$a" "$b" | tr ' ' '\t' >>"$tmp/rows.tsv"
            c=$((c + 1))
        done
    done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

"$PY" - "$tmp/rows.tsv" "$tmp/torch-last.json" >"$tmp/table.md" <<EOF
import json, statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
tj = json.load(open(sys.argv[2]))
cases = {}
for m, t, r, a, ac, b, bc in rows:
    cases.setdefault((m, int(t)), []).append((float(a), float(b), float(ac), float(bc)))
print("## End-to-end 2-D training loop: nis against PyTorch (donut, CLI defaults)")
print()
print("$start; $ROUNDS round(s); ms/update = (T($N2) - T($N1)) / ($N2 - $N1), T wall or the process's CPU time; nis --checkpoint-every $NIS_CHECKPOINT_EVERY; "
      "1-min load average $load_before before, $load_after after; OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}; "
      "torch %s, its OpenBLAS core %s; \`bench/run_loop2d.sh\`." % (tj["torch"], tj["openblas_core"]))
print()
print("| case | threads | nis ms/update | torch ms/update | speedup torch/nis (median) | min-max over rounds "
      "| nis CPU ms | torch CPU ms | CPU speedup (median) | min-max |")
print("|---|---:|---:|---:|---:|---|---:|---:|---:|---|")
med = statistics.median
for (m, t), v in cases.items():
    ratios = [b / a for a, b, _, _ in v]
    cratios = [bc / ac for _, _, ac, bc in v]
    print("| %s donut | %d | %.3f | %.3f | %.2fx | %.2f-%.2f | %.3f | %.3f | %.2fx | %.2f-%.2f |" % (
        m, t, med(x[0] for x in v), med(x[1] for x in v), med(ratios), min(ratios), max(ratios),
        med(x[2] for x in v), med(x[3] for x in v), med(cratios), min(cratios), max(cratios)))
EOF
cat "$tmp/table.md"
if [ -n "${OUT:-}" ]; then
    cp "$tmp/table.md" "$OUT"
    echo "run_loop2d: wrote $OUT" >&2
fi
