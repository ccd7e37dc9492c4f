#!/usr/bin/env python3
"""Aggregate bench/toy2d's runs into docs/results-2d.md (markdown on stdout). Standard library only."""
import argparse
import math
import os
import statistics
import subprocess
import datetime

from tablelib import load

METHODS = [("dft", "DFT"), ("dftkl", "DFT + 1000·KL (hybrid)"), ("kl", "KL"), ("fisher", "Fisher"), ("ld10", "LD K=10"), ("ld100", "LD K=100"),
           ("ld1000", "LD K=1000"), ("mala", "MALA"), ("hmc", "HMC"), ("svgd", "SVGD")]
TRAINED = {"dft", "dftkl", "kl", "fisher"}


def run(out, t, m, s):
    """(metrics dict, cost dict) of one run, or (None, None)."""
    d = os.path.join(out, t)
    if m in TRAINED:
        r = load(os.path.join(d, f"{m}_s{s}", "metrics.json"))
        if r is None:
            return None, None
        cost = {"train_s": r.get("train_seconds"), "s_per_1k": r.get("seconds_per_1000_samples"),
                "grads_per_1k": 0, "grads_train": r.get("target_grad_evals_training")}
        return r, cost
    r = load(os.path.join(d, f"{m}_s{s}.json"))
    st = load(os.path.join(d, f"{m}_s{s}.stats"))
    if r is None and os.path.exists(os.path.join(d, f"{m}_s{s}.stats")):
        return "diverged", None        # the run stopped on a non-finite value (nis mcmc exit 1)
    if r is None or st is None:
        return None, None
    cost = {"train_s": 0, "s_per_1k": st.get("seconds_per_1000_samples"),
            "grads_per_1k": st.get("target_grad_evals_per_1000_samples"), "grads_train": 0}
    return r, cost


def agg(vals):
    vals = [v for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return None, None, 0
    m = statistics.fmean(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return m, sd, len(vals)


def fmt(m, sd, digits=4):
    if m is None:
        return "—"
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def fmt_g(v):
    if v is None:
        return "—"
    if v == 0:
        return "0"
    return f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--command", default="bench/toy2d")
    ap.add_argument("--train-flags", default="")
    a = ap.parse_args()
    targets, seeds = a.targets.split(), a.seeds.split()
    lines = []
    p = lines.append
    p("# Results on the six 2-D targets")
    p("")
    p(f"Produced by `{a.command}` on {datetime.date.today().isoformat()} "
      f"({os.cpu_count()} cores; `git rev-parse --short HEAD` = "
      f"{subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}).")
    p("Samplers: `nis train` with the CLI defaults" + (f" plus `{a.train_flags}`" if a.train_flags.strip() else "") +
      " (same networks and iterations for DFT, the DFT + KL hybrid, KL and Fisher; DFT's and the hybrid's score model is the residual one, s_φ = s_q + MLP, "
      "KL's and Fisher's the plain MLP, each the better one for its method on these targets: docs/dft.md; all four "
      "sample from an EMA of the sampler's weights, decay 0.999); DFT/KL samples are g(z) + σε. The hybrid row trains "
      "with `--kl-weight 1000`: the sampler loss is DFT's plus 1000 times KL's on a second draw (not DFT; "
      "docs/dft-experiments.md, Session 10). "
      "LD: unadjusted Langevin, step 0.01 (rosenbrock: 0.001), 5000 chains from N(0, I); MALA and HMC: 500 warm-up steps adapting "
      "the step size, then 1000 steps, 5000 chains; SVGD: 1000 particles, 1000 steps. "
      f"Each cell: mean ± standard deviation over seeds {', '.join(seeds)}.")
    p("")
    p("Metrics (docs/dft.md, targets-2d note): energy distance (ED) to 5000 exact samples, with the floor (ED between "
      "two exact sets of the same size); IMQ kernel Stein discrepancy (KSD) on 1000 samples, with the exact-sample "
      "floor; for mog2 the fraction of samples with x0 > 0 (ideal 0.5); for funnel also ED on |x0| ≤ 3. Cost: "
      "training seconds, seconds per 1000 samples after training, and target-gradient evaluations per 1000 samples "
      "(samplers need none after training; the evaluations their training used are in each run's metrics.json: "
      "iterations × batch for KL, × (1 + score steps) for DFT, whose residual score model evaluates s_q in every "
      "score step).")
    p("")
    verdict = []
    for t in targets:
        p(f"## {t}")
        p("")
        floors_ed, floors_ksd = [], []
        extra = "mode balance" if t == "mog2" else ("ED on |x0|≤3" if t == "funnel" else None)
        hdr = "| method | energy distance | KSD |" + (f" {extra} |" if extra else "") + \
              " train s | s / 1000 samples | grad evals / 1000 samples |"
        p(hdr)
        p("|" + "---|" * (hdr.count("|") - 1))
        summary = {}
        for m, name in METHODS:
            rs, cs, failed = [], [], 0
            for s in seeds:
                r, c = run(a.out, t, m, s)
                if r == "diverged":
                    failed += 1
                elif r is not None:
                    rs.append(r)
                    cs.append(c)
                    floors_ed.append(r.get("energy_distance_floor"))
                    floors_ksd.append(r.get("ksd_floor"))
            ed = agg([r.get("energy_distance") for r in rs])
            ksd = agg([r.get("ksd") for r in rs])
            summary[m] = (ed, ksd, len(rs))
            note = f" ({failed} of {len(seeds)} runs diverged)" if failed else ""
            row = f"| {name}{note} | {fmt(ed[0], ed[1])} | {fmt(ksd[0], ksd[1], 3)} |"
            if t == "mog2":
                fr = agg([r.get("frac_x0_positive") for r in rs])
                row += f" {fmt(fr[0], fr[1], 2)} |"
            elif t == "funnel":
                ec = agg([r.get("energy_distance_core") for r in rs])
                row += f" {fmt(ec[0], ec[1])} |"
            tr = agg([c["train_s"] for c in cs])
            sp = agg([c["s_per_1k"] for c in cs])
            gr = agg([c["grads_per_1k"] for c in cs])
            row += f" {fmt_g(tr[0])} | {fmt_g(sp[0])} | {fmt_g(gr[0])} |"
            p(row)
        fe = agg(floors_ed)
        fk = agg(floors_ksd)
        p("")
        p(f"Floors: ED {fmt(fe[0], fe[1])}, KSD {fmt(fk[0], fk[1], 3)}.")
        p("")
        verdict.append((t, summary, fe[1] or 0, fk[1] or 0))
    wins = against_kl(p, verdict, "dft", "DFT", "DFT")
    p(f"DFT matches or beats KL on both metrics on **{wins} of {len(verdict)}** targets "
      f"(the bar of the 2-D issue is 4 of 6). Why the rest fail (mode weights on mog2, tails on rosenbrock and "
      f"funnel, angular mass on donut): docs/dft-blindness.md. DFT's objective, computed without networks, charges "
      f"these mass errors 50-2200 times less than shape errors that KL charges alike, and DFT started at KL's "
      f"solution lowers it while its ED grows 3.7-55 times on rosenbrock, donut and funnel.")
    p("")
    wins = against_kl(p, verdict, "dftkl", "The DFT + 1000·KL hybrid", "hybrid")
    p(f"The hybrid (`nis train --method dft --kl-weight 1000`: the DFT loss plus 1000 times the KL loss, same score "
      f"network) matches or beats KL on both metrics on **{wins} of {len(verdict)}** targets. It is not DFT: the KL "
      f"term's gradient is typically several times the DFT term's (docs/dft-experiments.md, Session 10), so it does "
      f"not count towards the bar above.")
    print("\n".join(lines))


def against_kl(p, verdict, m, name, short):
    """Write the table of method m against KL training; return on how many targets it matches or beats KL on both
    metrics.  "Matches": its mean is at most KL's, or the two differ by less than twice the spread of the metric
    itself between exact sample sets (the floor's standard deviation over seeds)."""
    def cmp(dm, km, floor_sd):
        if dm[0] is None or km[0] is None:
            return None
        return dm[0] <= km[0] or abs(dm[0] - km[0]) <= 2 * floor_sd
    p(f"## {name} against KL training")
    p("")
    p(f"{name} *matches or beats* KL on a metric when its mean over seeds is at most KL's, or when the two means "
      "differ by less than twice the standard deviation of the metric's floor (the metric's own noise between "
      "exact sample sets).")
    p("")
    p(f"| target | ED: {short} | ED: KL | KSD: {short} | KSD: KL | on ED | on KSD | on both |")
    p("|---|---|---|---|---|---|---|---|")
    wins, count = 0, 0
    yn = lambda b: "yes" if b else "no"
    for t, summary, fe_sd, fk_sd in verdict:
        (d_ed, d_ksd, nd), (k_ed, k_ksd, nk) = summary[m], summary["kl"]
        if not (nd and nk):
            continue
        ok_ed, ok_ksd = cmp(d_ed, k_ed, fe_sd), cmp(d_ksd, k_ksd, fk_sd)
        both = bool(ok_ed and ok_ksd)
        wins += both
        p(f"| {t} | {d_ed[0]:.4f} | {k_ed[0]:.4f} | {d_ksd[0]:.3f} | {k_ksd[0]:.3f} | {yn(ok_ed)} | {yn(ok_ksd)} | "
          f"{yn(both)} |")
    p("")
    return wins


if __name__ == "__main__":
    main()
