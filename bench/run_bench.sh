#!/usr/bin/env bash
# bench/run_bench.sh — build, then time nis (bench_train) against PyTorch (bench/torch_ref.py) and write
# docs/benchmarks.md.
#
# For each thread count (1, 2) the two programs run alternately, ROUNDS times each, so that both sides see
# the same machine load; per case the report takes the median over rounds of each side's ms/step and their
# ratio (ours / torch).  GFLOP/s and the fraction of the sgemm peak are ours, the peak being measured by
# bench_train in the same runs (median over rounds).
#
# Environment: BUILD (build directory, default build-native, built with NATIVE=1), ROUNDS (default 3), OUT (default docs/benchmarks.md),
# PY (a python3 with torch, default /usr/bin/python3: Debian's python3-torch), BENCH_CORETYPE (OpenBLAS kernels,
# default: those `nis` picks).
# Hand-written notes below the line "<!-- notes -->" of an existing OUT are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build-native}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-docs/benchmarks.md}
PY=${PY:-/usr/bin/python3}
cmd="BUILD=$BUILD ROUNDS=$ROUNDS bench/run_bench.sh"
[ -n "${BENCH_CORETYPE:-}" ] && cmd="BENCH_CORETYPE=$BENCH_CORETYPE $cmd"

# bench_train only, tuned for this CPU (-march=native, as `make NATIVE=1`), as a user who builds for speed would
bash scripts/setup.sh
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNIS_NATIVE=ON > "$BUILD/cmake.log" 2>&1 || { cat "$BUILD/cmake.log"; exit 1; }
cmake --build "$BUILD" --target bench_train -j 2 > "$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }
[ -x "$BUILD/bench_train" ] || { echo "run_bench: $BUILD/bench_train was not built" >&2; exit 1; }

# Both sides run the OpenBLAS kernels `nis` runs when OPENBLAS_CORETYPE is unset (the CLI restarts itself with the
# best kernel set the CPU runs, which OpenBLAS 0.3.21 does not always pick); BENCH_CORETYPE overrides.  PyTorch's
# linear layers go through the same OpenBLAS, its convolutions through oneDNN (which picks its own kernels).
OPENBLAS_CORETYPE=${BENCH_CORETYPE:-$(env -u OPENBLAS_CORETYPE "$BUILD/bench_train" --kernels)}
export OPENBLAS_CORETYPE

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date -u '+%Y-%m-%d %H:%M UTC')
run_ours() {
    "$BUILD/bench_train" --threads "$1" 2>/dev/null | sed "s/^{/{\"round\": $2, /" >>"$tmp/ours.jsonl"
}
run_torch() {
    echo "{\"threads\": $1, \"round\": $2, \"ms\": $("$PY" bench/torch_ref.py "$1")}" >>"$tmp/torch.jsonl"
}
loads=()
for t in 1 2; do
    for r in $(seq 1 "$ROUNDS"); do
        load=$(cut -d' ' -f1 /proc/loadavg)
        loads+=("$load")
        echo "run_bench: threads $t, round $r/$ROUNDS (load $load)" >&2
        if [ $((r % 2)) -eq 1 ]; then   # alternate which side goes first
            run_ours "$t" "$r"
            run_torch "$t" "$r"
        else
            run_torch "$t" "$r"
            run_ours "$t" "$r"
        fi
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

notes=""
if [ -f "$OUT" ] && grep -q '^<!-- notes -->' "$OUT"; then
    notes=$(sed -n '/^<!-- notes -->/,$p' "$OUT")
fi

export RB_TMP="$tmp" RB_CMD="$cmd" RB_START="$start" RB_LOAD0="$load_before" RB_LOAD1="$load_after"
export RB_ROUNDS="$ROUNDS" RB_NOTES="$notes" RB_LOADS="${loads[*]}"
export RB_CPU="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
export RB_CORES="$(lscpu | sed -n 's/^CPU(s): *//p' | head -1) CPUs ($(lscpu | sed -n 's/^Core(s) per socket: *//p' | head -1) cores per socket, $(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1) thread(s) per core)"
export RB_HYPER="$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)"
export RB_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
export RB_TORCH="$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo '?')"

"$PY" - >"$OUT.tmp" <<'EOF'
import json, os, statistics as st

tmp = os.environ["RB_TMP"]
ours = [json.loads(l) for l in open(f"{tmp}/ours.jsonl") if l.strip()]
torch = [json.loads(l) for l in open(f"{tmp}/torch.jsonl") if l.strip()]
cases = [("mlp_large", "MLP 2-256-256-256-2, batch 1024", 1.0),
         ("mlp_small", "MLP 2-64-64-2, batch 256", 0.33),
         ("conv", "conv net 28x28, batch 64", 0.67),
        ("energy_grad", "MNIST energy: f and ∇f, batch 128", 1.0),
        ("energy_hvp", "MNIST energy: Hessian-vector product, batch 128", 1.0),
        ("dsm_step", "MNIST energy: DSM training step, batch 128", 1.0)]
blas = next((o.get("openblas", "?") for o in ours if o["case"] == "sgemm1024"), "?")

rows, peaks, verdicts = [], {}, []
for t in (1, 2):
    sg = [o["gflops"] for o in ours if o["case"] == "sgemm1024" and o["threads"] == t]
    peaks[t] = (st.median(sg), min(sg), max(sg))
    for name, desc, bar in cases:
        mine = {o["round"]: o for o in ours if o["case"] == name and o["threads"] == t}
        theirs = {o["round"]: o["ms"][name] for o in torch if o["threads"] == t}
        ms = st.median(o["ms"] for o in mine.values())
        tms = st.median(theirs.values())
        per_round = [mine[r]["ms"] / theirs[r] for r in sorted(mine) if r in theirs]
        gflop = next(iter(mine.values()))["gflop_per_step"]
        gfs, tgfs = gflop / (ms * 1e-3), gflop / (tms * 1e-3)
        ratio = ms / tms
        ok = ratio <= bar
        rows.append((desc, t, ms, tms, ratio, min(per_round), max(per_round), bar, ok, gfs,
                     100 * gfs / peaks[t][0], 100 * tgfs / peaks[t][0]))
        verdicts.append(ok)

out = []
w = out.append
w("# Benchmarks: one training step, nis vs PyTorch")
w("")
w("Generated by `bench/run_bench.sh`; do not edit by hand above the notes marker (the script rewrites it).")
w("")
w(f"- Command: `{os.environ['RB_CMD']}` (from the repository root)")
w(f"- Date: {os.environ['RB_START']}; tree: {os.environ['RB_GIT']}")
hyper = os.environ["RB_HYPER"]
w(f"- Machine: {os.environ['RB_CPU']}, {os.environ['RB_CORES']}" + (f", virtualised ({hyper})" if hyper else ""))
w(f"- Load average (1, 5, 15 min): {os.environ['RB_LOAD0']} before, {os.environ['RB_LOAD1']} after "
  "(the machine is shared; a load above ~0.5 means another process competed for the 2 CPUs)")
w(f"- Libraries: ours OpenBLAS `{blas}`; PyTorch {os.environ['RB_TORCH']} (Debian python3-torch: OpenBLAS "
  "0.3.21's pthread build through libblas.so.3, oneDNN for convolutions)")
loads = [float(v) for v in os.environ["RB_LOADS"].split()]
w(f"- Rounds: {os.environ['RB_ROUNDS']} per thread count, ours and PyTorch alternating (which goes first "
  f"alternates too); 1-min load at the start of each round: {min(loads):.2f}-{max(loads):.2f}")
w("")
w("| case | threads | ours ms | torch ms | ratio (range) | bar | holds | GFLOP/s | % of sgemm peak | torch % of peak |")
w("|---|---:|---:|---:|---:|---:|:---:|---:|---:|---:|")
for (desc, t, ms, tms, ratio, rlo, rhi, bar, ok, gfs, pct, tpct) in rows:
    w(f"| {desc} | {t} | {ms:.3f} | {tms:.3f} | {ratio:.2f} ({rlo:.2f}-{rhi:.2f}) | <= {bar:g} | "
      f"{'yes' if ok else 'NO'} | {gfs:.1f} | {pct:.1f}% | {tpct:.1f}% |")
w("")
w("sgemm peak (cblas_sgemm, 1024 x 1024 x 1024 float, best of 5 calls per run; median (min-max) over rounds):")
for t in (1, 2):
    m, lo, hi = peaks[t]
    w(f"{t} thread{'s' if t > 1 else ''}: {m:.1f} ({lo:.1f}-{hi:.1f}) GFLOP/s" + (";" if t == 1 else "."))
w("")
w(f"Bars: {sum(verdicts)} of {len(verdicts)} hold.")
if max(loads) > 1.0:
    w("")
    w(f"**Warning: the machine was busy during this run (1-min load up to {max(loads):.2f} on 2 CPUs).** "
      "Times are inflated and noisy, the 2-thread rows most of all (a thread that loses its CPU stalls every "
      "barrier), so they measure contention as much as the libraries; treat the verdicts as provisional and "
      "rerun when `uptime` shows a load below ~0.5.")
w("")
w("Per-round ms/step (ours / torch), in round order:")
w("")
for t in (1, 2):
    for name, desc, _ in cases:
        mine = {o["round"]: o["ms"] for o in ours if o["case"] == name and o["threads"] == t}
        theirs = {o["round"]: o["ms"][name] for o in torch if o["threads"] == t}
        pairs = ", ".join(f"{mine[r]:.3f} / {theirs[r]:.3f}" for r in sorted(mine) if r in theirs)
        w(f"- {name}, {t} thread{'s' if t > 1 else ''}: {pairs}")
w("")
w("## Method")
w("")
w("- A step: `nis_ctx_reset`; `y = forward(x)`; `loss = nis_mean(nis_square(y))`; `nis_params_zero_grad`;")
w("  `nis_backward`; `nis_adam_step` (lr 1e-3, PyTorch's defaults otherwise).  PyTorch: `zero_grad()`,")
w("  `model(x).square().mean().backward()`, `torch.optim.Adam(lr=1e-3).step()`; same layers (SiLU between")
w("  layers, PyTorch's default initialisation), same batch; `torch.set_num_threads(threads)`.  PyTorch's")
w("  Adam runs its default implementation (in 1.13 on CPU: the single-tensor loop, foreach=False).")
w(f"- Both link OpenBLAS 0.3.21 (libnis its OpenMP build, PyTorch Debian's default libblas.so.3 build), both run")
w(f"  with OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '?')} (the kernels `nis` runs when the variable is unset);")
w("  PyTorch's convolutions go through oneDNN, ours through im2col + sgemm.")
w("- Each program: 5 warm-up steps, then 5 timed blocks of 20 (large MLP), 200 (small MLP) or 5 (conv net)")
w("  steps (the energy cases: 2 warm-up steps, blocks of 2, 1 and 1 steps); a run reports the median block's")
w("  ms per step.  The table gives the median over rounds; the ratio")
w("  is median(ours) / median(torch), the range in brackets the min and max of the per-round ratios.")
w("- FLOPs: each Linear or Conv2d layer is a GEMM of M N K multiply-adds (Linear: batch x in x out; Conv2d:")
w("  Cout x Cin kh kw x batch Ho Wo).  A step counts 2 M N K for the forward and 2 x 2 M N K for the")
w("  backward (input and weight gradients): FLOP/step = 6 sum_layers M N K, whether or not a layer's input")
w("  gradient is actually needed; element-wise ops, reductions and Adam are not counted.  That is 0.812")
w("  GFLOP (large MLP), 0.00669 GFLOP (small MLP) and 2.169 GFLOP (conv net) per step.  GFLOP/s = that /")
w("  ms per step; % of sgemm peak = GFLOP/s / the sgemm peak at the same thread count.")
w("- The MNIST energy (models/ebm-mnist-dsm's network: 5 convs 64-128-128-256-256, strides 1,2,1,2,2, SiLU, linear")
w("  to a scalar; batch 128): energy_grad is f(y) and its input gradient (a Langevin step), energy_hvp the")
w("  Hessian-vector product by double backward (what DFT asks of a target), dsm_step one DSM training step")
w("  (loss mean ||0.2 ∇f(y) - ε||², double backward to the weights, Adam).  PyTorch: torch.autograd.grad with")
w("  create_graph.  GEMM FLOPs counted as 4, 8 and 12 M N K per layer.  Bars: the conv net >= 1.5x PyTorch's")
w("  speed (issue 18), the rest no slower than PyTorch.")
w("")
notes = os.environ.get("RB_NOTES", "")
w(notes if notes else "<!-- notes -->\n")
print("\n".join(out).rstrip("\n"))
EOF
mv "$OUT.tmp" "$OUT"
echo "run_bench: wrote $OUT" >&2
sed -n '/^| case | threads/,/^Bars/p' "$OUT"
