#!/usr/bin/python3
"""bench/blr_defaults_table.py — the table of bench/blr_defaults (docs/results-blr-defaults.md), from its runs'
metrics.json, the gold standards (runs/blr/gold-NAME.{npy,json}) and the short HMC runs (runs/blr/NAME/hmc_sS.json).
Needs NumPy (Debian's python3-numpy)."""
import argparse
import subprocess

import numpy as np

from tablelib import load

a = argparse.ArgumentParser()
for k in ("out", "tag", "seeds", "datasets", "methods", "threads", "cmdline", "flags", "compare"):
    a.add_argument("--" + k, default="")
a = a.parse_args()
seeds = a.seeds.split()
lines = []
w = lines.append
try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
except OSError:
    commit = "?"

w("# Bayesian logistic regression with the CLI's defaults: accuracy and cost (issue 22)")
w("")
w(f"Produced by `{a.cmdline}` (bench/blr_defaults, table bench/blr_defaults_table.py) at {commit}: "
  f"`nis train --target blr --data FILE --positive CLASS --method METHOD --seed S --threads {a.threads}`"
  + (f" plus `{a.flags}`" if a.flags.strip() else " and nothing else") + ".  Gold standard, metrics and the bar as in "
  "[results-blr.md](results-blr.md): 8-chain HMC; mean err = |mean − gold mean| / gold sd per coordinate "
  "(average over coordinates / worst), from the 5000 samples `nis train` evaluates; the bar: test accuracy within "
  "1 point of the gold standard's and mean err (average) at most 0.2, on every seed.")
w("")
w("Cost: train s = the whole `nis train` run's training wall time (whitening included), s / 1000 = seconds per "
  "1000 draws after training (one thread); HMC = the bench's short HMC (10 chains, 300 warm-up + 100 draws each "
  "= 1000 draws, one thread, the same machine and session).  Break-even = train s / (HMC's s per draw − the "
  "sampler's s per draw): the number of draws from which the sampler, training included, is cheaper than "
  "running HMC for them.")
w("")
for c in a.compare.split():
    try:
        cflags = open(f"{a.out}/{c}/flags.txt").read().strip()
    except OSError:
        cflags = "?"
    w(f"Rows marked [{c}]: the same command plus `{cflags}`, run in the same session, for comparison.")
    w("")
verdict = []
for d in a.datasets.split():
    g = load(f"{a.out}/gold-{d}.json")
    try:
        gold = np.load(f"{a.out}/gold-{d}.npy").astype(np.float64)
    except OSError:
        gold = None
    if g is None or gold is None:
        w(f"## {d}\n\nno gold standard in {a.out}\n")
        continue
    gold = gold.reshape(-1, gold.shape[-1])
    gm, gs = gold.mean(0), gold.std(0)
    hmc = [load(f"{a.out}/{d}/hmc_s{s}.json") for s in seeds]
    hmc = [h for h in hmc if h]
    hmc_per_draw = np.mean([h["train_s"] / 1000 for h in hmc]) if hmc else float("nan")
    w(f"## {d} (D = {gold.shape[1]}; gold accuracy {100 * g['acc']:.2f}%)")
    w("")
    w("| method | accuracy % per seed | mean err avg per seed | worst | sd err avg | updates | train s | "
      "s / 1000 | break-even draws | meets the bar |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    rows = [(m, a.tag, m.upper()) for m in a.methods.split()]
    rows += [(m, c, f"{m.upper()} [{c}]") for c in a.compare.split() for m in a.methods.split()]
    for m, tag, label in rows:
        rs = [load(f"{a.out}/{tag}/{d}/{m}_s{s}/metrics.json") for s in seeds]
        rs = [r for r in rs if r]
        if not rs:
            if tag == a.tag:
                w(f"| {label} | not run | | | | | | | | |")
            continue
        acc = [100 * r["test_accuracy"] for r in rs]
        me, mx, se = [], [], []
        for r in rs:
            e = np.abs(np.array(r["posterior_mean"]) - gm) / gs
            me.append(e.mean()), mx.append(e.max())
            se.append((np.abs(np.array(r["posterior_sd"]) / gs - 1)).mean())
        tr = [r.get("total_train_seconds", r["train_seconds"]) for r in rs]
        per = [r["seconds_per_1000_samples"] for r in rs]
        upd = [f"{r['updates']}" + (" (stopped)" if r.get("stopped_at") else "") for r in rs]
        be = [t / (hmc_per_draw - p / 1000) if hmc_per_draw > p / 1000 else float("inf") for t, p in zip(tr, per)]
        held = all(abs(x - 100 * g["acc"]) <= 1.0 for x in acc) and all(x <= 0.2 for x in me)
        ok = len(rs) == len(seeds) and held
        if tag == a.tag:
            verdict.append((d, m, ok))
        verdict_text = ("**yes**" if ok else "**no**") if tag == a.tag else \
            ("yes" if held else "no") + f" ({len(rs)} of {len(seeds)} seeds)"
        w(f"| {label} | {', '.join(f'{x:.2f}' for x in acc)} | {', '.join(f'{x:.3f}' for x in me)} | "
          f"{max(mx):.3f} | {np.mean(se):.3f} | {', '.join(upd)} | {np.mean(tr):.1f} (max {max(tr):.1f}) | "
          f"{np.mean(per):.4f} | {np.mean(be):,.0f} | {verdict_text} |")
    if hmc:
        h_acc = ", ".join("%.2f" % (100 * h["acc"]) for h in hmc)
        h_me = ", ".join("%.3f" % h["mean_err_avg"] for h in hmc)
        h_mx = max(h["mean_err_max"] for h in hmc)
        h_sd = np.mean([h["sd_err_avg"] for h in hmc])
        w(f"| HMC (short) | {h_acc} | {h_me} | {h_mx:.3f} | {h_sd:.3f} | – | – | {1000 * hmc_per_draw:.3f} | – | – |")
    w("")
ok_all = [f"{d} ({m.upper()})" for d, m, ok in verdict if ok]
bad = [f"{d} ({m.upper()})" for d, m, ok in verdict if not ok]
w(f"**The bar is met on {', '.join(ok_all) if ok_all else 'nothing'}"
  f"{'; not on ' + ', '.join(bad) if bad else ''}.**")
print("\n".join(lines))
