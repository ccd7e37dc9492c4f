#!/usr/bin/env python3
"""bench/blr_table.py — docs/results-blr.md from bench/blr's result files (runs/blr/gold-*.json, DATASET/*.json).

Plain Python 3 (standard library; JSON through bench/tablelib.py).  Means ± standard deviations over the seeds found; missing runs are listed."""
import argparse, math, os, statistics, sys

from tablelib import load

p = argparse.ArgumentParser()
p.add_argument("--out", default="runs/blr")
p.add_argument("--datasets", default="ionosphere diabetes credit-g breast_cancer")
p.add_argument("--seeds", default="0 1 2")
p.add_argument("--command", default="bench/blr")
a = p.parse_args()
seeds = a.seeds.split()
METHODS = [("dft", "DFT"), ("dft_nc", "DFT, non-centred"), ("dft_ncwsw", "DFT, non-centred, whitened"), ("kl", "KL"), ("svgd", "SVGD (100)"), ("sgld", "SGLD"), ("hmc", "HMC (short)")]


def ms(vals, fmt="{:.3f}", pm=True):
    vals = [v for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return "—"
    m = statistics.mean(vals)
    if len(vals) > 1 and pm:
        return (fmt + " ± " + fmt).format(m, statistics.stdev(vals))
    return fmt.format(m)


out = []
w = out.append
w("# Bayesian logistic regression: samplers against a gold standard (issue 4)")
w("")
w(f"Produced by `{a.command}` (driver bench/blr_run.c, table bench/blr_table.py, notes bench/blr_notes.md; OMP_NUM_THREADS=1, on a machine shared with "
  "other jobs, so wall times are inflated and only roughly comparable between rows).")
w("")
w("Posterior: p(y=1|x,w) = sigmoid(w·x), w | α ~ N(0, α⁻¹I), α ~ Gamma(1, rate 0.01), sampled in θ = [w, log α] "
  "(D = d + 1).  UCI sets: seeded 80/20 split (split seed 0, the same for every run), features standardised with "
  "the training statistics, intercept column.  Fashion-MNIST: T-shirt/top (0) vs Shirt (6), pixels/255, its own "
  "train (12,000) and test (2,000) files, intercept (d = 785).")
w("")
w("Gold standard: HMC on the full-batch posterior, 8 chains; a pilot run (identity mass, adapted step) estimates "
  "the posterior covariance (for D > 200 a Laplace approximation at the mode replaces the pilot); the main run samples the affinely preconditioned posterior (= HMC with a dense mass "
  "matrix), 8 leapfrog steps with ±30% step jitter.  R̂ = rank-normalised split-R̂ (Vehtari et al. 2021), ESS = "
  "bulk ESS (Geyer's initial monotone sequence), both over all D coordinates (src/metrics/convergence.c).")
w("")
w("Metrics (src/metrics/posterior.c): test accuracy and test log-likelihood of the posterior predictive "
  "(probabilities averaged over samples, nis_blr_predict); mean err = |mean − mean_gold| / sd_gold per coordinate, "
  "and sd err = |sd − sd_gold| / sd_gold, each as mean over the D coordinates / worst coordinate; ED = energy "
  "distance to the gold samples on the first 5 coordinates (2,000 rows of each).  Samples: 2,000 from a neural "
  "sampler, the 100 SVGD particles, 1,000 SGLD chains (final states), 10 HMC chains × 100 draws.  Cost: train s = "
  "wall time of the whole run (for MCMC: the run), s/1000 = time to draw 1,000 samples after training (MCMC: run "
  "time per 1,000 samples).  ± = standard deviation over seeds.")
w("")
w("DFT rows: \"DFT\" samples θ = [w, log α] directly; \"non-centred\" samples [√α w, log α] (no funnel), started "
  "at the posterior mode, width 256, batch 1024, sampler lr 3e-4, 3000 updates; \"whitened\" is that run (the "
  "pilot) followed by a second run of 3000 updates on the target whitened by the pilot's sample mean and "
  "covariance, started at u ~ N(0, I) (the pilot's Gaussian fit), 1000 score-network updates before the first "
  "sampler update, sampler lr 1e-3 decayed by a cosine to 3e-5 (bench/blr_notes.md, Sessions 7 and 8).")
w("")

# ---- gold standards
w("## Gold standards")
w("")
w("| dataset | D | train / test rows | chains × draws | max R̂ | min ESS | step | accept | accuracy | test LL | seconds |")
w("|---|---|---|---|---|---|---|---|---|---|---|")
golds = {}
for d in a.datasets.split():
    g = load(os.path.join(a.out, f"gold-{d}.json"))
    golds[d] = g
    if not g:
        w(f"| {d} | — | — | not run | | | | | | | |")
        continue
    w(f"| {d} | {g['D']} | {g['n_train']} / {g['n_test']} | {g['chains']} × {g['draws']} | {g['max_rhat']:.4f} | "
      f"{g['min_ess']:.0f} | {g['step_size']:.3f} | {g['accept']:.2f} | {100 * g['acc']:.2f}% | {g['ll']:.4f} | "
      f"{g['seconds']:.0f} |")
w("")

# ---- the cost with the CLI's defaults (bench/blr_defaults: runs DIR/defaults/NAME/METHOD_sS/metrics.json)
rows = []
for d in a.datasets.split():
    for m in ("dft", "kl"):
        rs = [load(os.path.join(a.out, "defaults", d, f"{m}_s{s}", "metrics.json")) for s in seeds]
        rs = [r for r in rs if r]
        hmc = [load(os.path.join(a.out, d, f"hmc_s{s}.json")) for s in seeds]
        hmc = [h["train_s"] / 1000 for h in hmc if h]   # seconds per draw (1000 draws, warm-up included)
        if rs and hmc:
            per = statistics.mean(hmc)
            be = [r["total_train_seconds"] / (per - r["seconds_per_1000_samples"] / 1000) for r in rs]
            rows.append(f"| {d} | {m.upper()} | {len(rs)} | {ms([r['total_train_seconds'] for r in rs], '{:.1f}', False)} | "
                        f"{ms([r['seconds_per_1000_samples'] for r in rs], '{:.4f}', False)} | {1000 * per:.3f} | "
                        f"{ms(be, '{:,.0f}', False)} |")
if rows:
    w("## Cost with the CLI's defaults (issue 22)")
    w("")
    w("`nis train --target blr --data FILE --positive CLASS --method M --seed S --threads 2`, nothing else (the "
      "posterior preset); accuracy and errors against the gold standards in "
      "[results-blr-defaults.md](results-blr-defaults.md), which `bench/blr_defaults` writes.  train s: the whole "
      "training (whitening included, 2 threads); HMC: the bench's short HMC (10 chains, 300 warm-up + 100 draws, one "
      "thread; `nis train` runs the same for its metrics.json's `break_even_draws`); break-even: the draws from "
      "which the sampler, training included, is cheaper than that HMC.  Means over the seeds.")
    w("")
    w("| dataset | method | seeds | train s | s / 1000 draws | HMC s / 1000 draws | break-even draws |")
    w("|---|---|---|---|---|---|---|")
    out.extend(rows)
    w("")

# ---- per dataset
verdict = []
for d in a.datasets.split():
    g = golds.get(d)
    w(f"## {d}" + (f" (D = {g['D']}; gold accuracy {100 * g['acc']:.2f}%, test LL {g['ll']:.4f})" if g else ""))
    w("")
    w("| method | accuracy % | test LL | mean err (avg / worst) | sd err (avg / worst) | ED (5 coords) | train s | s / 1000 samples | seeds |")
    w("|---|---|---|---|---|---|---|---|---|")
    for key, name in METHODS:
        rs = [load(os.path.join(a.out, d, f"{key}_s{s}.json")) for s in seeds]
        rs = [r for r in rs if r]
        if not rs:
            w(f"| {name} | not run | | | | | | | 0 |")
            continue
        if key == "dft_ncwsw":   # the pilot run's training time is part of the cost
            for r in rs:
                pr = load(os.path.join(a.out, d, f"dft_ncpilot_s{int(r['seed'])}.json"))
                r["train_s"] = r["train_s"] + pr["train_s"] if pr else float("nan")
        col = lambda k: [r.get(k) for r in rs]
        acc = [100 * v for v in col("acc") if v is not None]
        w(f"| {name} | {ms(acc, '{:.2f}')} | {ms(col('ll'), '{:.4f}')} | {ms(col('mean_err_avg'), '{:.3f}', False)} / "
          f"{ms(col('mean_err_max'), '{:.3f}', False)} | {ms(col('sd_err_avg'), '{:.3f}', False)} / "
          f"{ms(col('sd_err_max'), '{:.3f}', False)} | {ms(col('ed5'), '{:.4f}')} | {ms(col('train_s'), '{:.1f}', False)} | "
          f"{ms(col('per1000_s'), '{:.4f}', False)} | {len(rs)} |")
        if key in ("dft", "dft_nc", "dft_ncwsw", "kl") and g:
            gap = [abs(100 * r["acc"] - 100 * g["acc"]) for r in rs]
            me = [r["mean_err_avg"] for r in rs]
            verdict.append((d, name, rs, g, gap, me))
    w("")

# ---- the bar
w("## The issue's bar for DFT")
w("")
w("Done requires, on every dataset except d = 785: DFT's test accuracy within 1 percentage point of the gold "
  "standard's, and its standardised posterior-mean error (mean over coordinates) at most 0.2.  Per seed (KL, which "
  "the bar does not concern, for comparison).  One test row is 100 / n_test pp: 1.43 pp on ionosphere (70 rows), "
  "0.65 (diabetes), 0.5 (credit-g), 0.88 (breast cancer), so on ionosphere the bar means the same predicted "
  "class as the gold standard on every test row.")
w("")
w("| dataset | method | seeds | accuracy gap to gold (pp, absolute) per seed | mean err per seed | worst-coordinate mean err | passes |")
w("|---|---|---|---|---|---|---|")
passed, failed = [], []
row_ok = {}   # DFT row -> passes on every dataset it ran on (all of them, 3 seeds each)
for d, name, rs, g, gap, me in verdict:
    if d == "fashion":
        continue
    ok = all(x <= 1.0 for x in gap) and all(x <= 0.2 for x in me) and len(rs) == len(seeds)
    if name.startswith("DFT"):
        (passed if ok else failed).append(f"{d} ({name})")
        row_ok[name] = row_ok.get(name, True) and ok
    w(f"| {d} | {name} | {len(rs)} | {', '.join(f'{x:.2f}' for x in gap)} | {', '.join(f'{x:.3f}' for x in me)} | "
      f"{', '.join('%.2f' % r['mean_err_max'] for r in rs)} | {'**yes**' if ok else '**no**'} |")
w("")

uci = [d for d in a.datasets.split() if d != "fashion"]
whole = [n for n, ok in row_ok.items() if ok and sum(1 for v in verdict if v[1] == n and v[0] != "fashion") == len(uci)]
w(f"**In plain words: DFT meets the bar on {', '.join(passed) if passed else 'no dataset'}"
  f"{' and fails it on ' + ', '.join(failed) if failed else ''}.**")
w("")
if whole:
    w(f"**The issue's bar is met by the row{'s' if len(whole) > 1 else ''} {', '.join(whole)}: on every dataset "
      f"({', '.join(uci)}), every seed.**  The whitened row costs two training runs (its \"train s\" includes the "
      "pilot run); see bench/blr_notes.md, Sessions 7 and 8.")
else:
    w("No DFT row passes on every dataset, so the issue's bar is not met; compare KL training (the centred DFT "
      "row's networks, settings and budget; the non-centred rows use width 256) in the table above.")
w("")

sp = load(os.path.join(a.out, "speed.json"))
if sp:
    w("## Covertype-shaped speed (synthetic, 581,012 × 54)")
    w("")
    cpu = lambda k: sp.get("cpu_" + k, float("nan"))
    w(f"Synthetic logistic data of Covertype's shape (nis_dataset_synthetic_logistic), {sp['n_train']} training rows "
      f"(80% of 581,012), D = {sp['D']}, {sp['threads']} thread(s).  Generating {sp['generate_s']:.2f} s, split + "
      f"standardise {sp['prepare_s']:.2f} s (wall).  Per operation, CPU time (wall time on the shared machine in "
      f"brackets): one full-batch score of 256 points {cpu('score_full_batch256_s'):.3f} s "
      f"({sp['score_full_batch256_s']:.3f} s); one minibatch-100 score of 256 points "
      f"{cpu('score_minibatch100_batch256_s') * 1000:.2f} ms ({sp['score_minibatch100_batch256_s'] * 1000:.2f} ms); "
      f"one DFT update (minibatch 100, batch 256, width 256, 5 score steps) {cpu('dft_step_minibatch100_s') * 1000:.1f} ms "
      f"({sp['dft_step_minibatch100_s'] * 1000:.1f} ms).  So 3000 DFT updates at this scale cost about "
      f"{3000 * cpu('dft_step_minibatch100_s') / 60:.1f} CPU minutes, independent of the number of rows.")
    w("")

notes = "bench/blr_notes.md"
if os.path.exists(notes):
    with open(notes) as f:
        w(f.read().rstrip())
    w("")
print("\n".join(out))
