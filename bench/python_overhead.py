# bench/python_overhead.py — the cost of Python: `nis train` against nis.train for the same run (3 alternating rounds,
# train_seconds of each), and a density written in Python (7 callbacks per DFT update) against the built-in
# standard normal it equals.  Run from anywhere with Debian's python3 after `make`: /usr/bin/python3 bench/python_overhead.py
import subprocess, time, json, os, sys, numpy as np
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "python"))
import nis  # noqa: E402
cli = os.path.join(here, "..", "build", "nis")
res = {"cli": [], "py": []}
for r in range(3):
    for who in (["cli", "py"] if r % 2 == 0 else ["py", "cli"]):
        if who == "cli":
            t = time.time(); subprocess.run([cli, "train", "--target", "donut", "--iters", "3000", "--seed", "0", "--threads", "1", "--out", "/tmp/ovh-cli", "--quiet", "--eval-n", "2", "--checkpoint-every", "3000"], check=True, stdout=subprocess.DEVNULL)
            wall = time.time() - t; ts = json.load(open("/tmp/ovh-cli/metrics.json"))["train_seconds"]
            res["cli"].append(ts)
        else:
            s = nis.train("donut", iters=3000, seed=0, threads=1, out="/tmp/ovh-py", checkpoint_every=3000)
            res["py"].append(s.train_seconds)
print({k: [round(v, 3) for v in vs] for k, vs in res.items()}, "median ratio py/cli", np.median(res["py"]) / np.median(res["cli"]))
# a Python density's callback cost: the same Gaussian as C (mog2? no): time per callback
m = np.zeros(2, np.float32)
calls = [0]
def sc(x): calls[0] += 1; return -x
def hv(x, v): calls[0] += 1; return -v
d = nis.Density(2, sc, hv)
t = time.time(); s = nis.train(d, iters=1000, seed=0); wall = time.time() - t
print("density: %d callbacks in 1000 updates, train_seconds %.3f" % (calls[0], s.train_seconds))
t = time.time(); s = nis.train("gauss", iters=1000, seed=0); print("built-in gauss: train_seconds %.3f" % s.train_seconds)
