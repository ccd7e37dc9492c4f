"""The Python package (python/nis) against this build's libnis.so and `nis` (tests/python_test.sh sets NIS_LIBRARY
and NIS_CLI): trained samplers bit for bit the CLI's, samples bit for bit `nis sample`'s, and the error paths."""

import os
import subprocess
import sys
import threading
import time

import nis  # before numpy: nis chooses OpenBLAS's kernels as the CLI does before any OpenBLAS loads (nis/_blas.py)
import numpy as np
import pytest

CLI = os.environ.get("NIS_CLI", "build/nis")
SMALL = dict(iters=60, batch=32, width=16, score_width=16, init_steps=20)


def cli(*args):
    subprocess.run([CLI, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _avx2():
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and " avx2" in line and " fma" in line for line in f)


@pytest.mark.skipif(not _avx2(), reason="the warning is for CPUs that run AVX2 kernels")
def test_generic_kernels_warn_once():
    env = dict(os.environ, OPENBLAS_CORETYPE="Prescott")   # generic kernels on a CPU that runs better ones
    r = subprocess.run([sys.executable, "-c", "import nis, nis._core"], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.count("nis: OpenBLAS runs its Prescott kernels") == 1, r.stderr
    assert "OPENBLAS_CORETYPE=" in r.stderr


@pytest.mark.skipif(not os.path.exists("/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0"),
                    reason="Debian's OpenMP build of OpenBLAS is not installed")
def test_openmp_openblas_before_numpy():
    """`import nis` loads the OpenMP OpenBLAS libnis links before NumPy loads the pthread one under the same soname
    (whose threads would compete with nis's OpenMP threads); with NumPy imported first, set_threads(2) warns once."""
    code = "import nis, numpy; from nis import _lib; print(_lib.blas_parallel); nis.set_threads(2)"
    r = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == ["2"] and "pthread" not in r.stderr, r.stdout + r.stderr
    code = "import numpy, nis; nis.set_threads(2); nis.set_threads(2); nis.set_threads(1)"
    r = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.count("NumPy's pthread build of OpenBLAS") == 1, r.stderr


def test_ctypes_mirrors_have_the_c_sizes(tmp_path):
    """Every struct nis/_lib.py mirrors has its C struct's size (a field added in C and not in Python made the
    library read past the ctypes struct once: nis_blr_opts.dist).  Compiled here with the public headers."""
    import ctypes
    import shutil
    from nis import _lib
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    mirrors = {}
    for name in dir(_lib):
        cls = getattr(_lib, name)
        if isinstance(cls, type) and issubclass(cls, ctypes.Structure) and (cls.__doc__ or "").startswith("nis_"):
            mirrors[name] = cls.__doc__.split()[0]
    assert "BlrOpts" in mirrors and len(mirrors) >= 10, mirrors
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = tmp_path / "sizes.c"
    src.write_text('#include "nis/nis.h"\n#include <stdio.h>\nint main(void) {\n' +
                   "".join(f'    printf("{py} %zu\\n", sizeof({c}));\n' for py, c in mirrors.items()) + "}\n")
    exe = tmp_path / "sizes"
    subprocess.run([cc, "-std=c17", "-I", os.path.join(root, "include"), str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    for py, size in zip(out[0::2], out[1::2]):
        got = ctypes.sizeof(getattr(_lib, py))
        assert got == int(size), f"{py} ({mirrors[py]}): ctypes {got} bytes, C {size}"


def test_targets():
    assert {"donut", "funnel", "mog2"} <= set(nis.targets())


def test_config_fields_are_the_cli_settings():
    f = nis.config_fields()
    assert f["iters"][0] == "3000" and f["batch"][0] == "256" and f["method"][0] == "dft"
    assert all(isinstance(h, str) for _, h in f.values())


@pytest.mark.parametrize("method", ["dft", "kl", "fisher"])
def test_train_is_the_cli_bit_for_bit(tmp_path, method):
    s = nis.train("donut", method=method, seed=3, out=str(tmp_path / "py"), **SMALL)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    cli("train", "--target", "donut", "--method", method, "--seed", "3", "--out", str(tmp_path / "cli"), "--quiet",
        "--eval-n", "10", *flags)
    for f in ("sampler.safetensors", "checkpoint.safetensors"):
        assert (tmp_path / "py" / f).read_bytes() == (tmp_path / "cli" / f).read_bytes(), f
    x = s.sample(100, seed=5)
    assert x.shape == (100, 2) and x.dtype == np.float32
    cli("sample", "--model", str(tmp_path / "cli"), "--n", "100", "--seed", "5", "--out", str(tmp_path / "s.npy"))
    assert np.array_equal(x, np.load(tmp_path / "s.npy"))
    loaded = nis.load(str(tmp_path / "py" / "sampler.safetensors"))
    assert loaded.dim == 2 and loaded.target == "donut"
    assert np.array_equal(loaded.sample(100, seed=5), x)
    assert np.array_equal(nis.load(str(tmp_path / "cli")).sample(100, seed=5), x)   # a CLI run directory
    cli("sample", "--model", str(tmp_path / "py"), "--n", "100", "--seed", "5", "--out", str(tmp_path / "p.npy"))
    assert np.array_equal(x, np.load(tmp_path / "p.npy"))   # the CLI reads Python's run directory


def test_save_and_clean_samples(tmp_path):
    s = nis.train("mog2", **SMALL)
    s.save(str(tmp_path / "m.safetensors"))
    m = nis.load(str(tmp_path / "m.safetensors"))
    assert np.array_equal(m.sample(50, seed=1, noisy=False), s.sample(50, seed=1, noisy=False))
    assert not np.array_equal(s.sample(50, seed=1, noisy=True), s.sample(50, seed=1, noisy=False))


def test_progress_sees_every_update_and_can_stop():
    seen = []
    nis.train("donut", progress=lambda st: seen.append(st["iter"]) or st["iter"] < 7, **SMALL)
    assert seen == list(range(1, 8))
    phases = []
    nis.train("donut", whiten=True, progress=lambda st: phases.append(st["phase"]), **SMALL)
    assert phases == ["pilot"] * SMALL["iters"] + ["main"] * SMALL["iters"]


def test_an_exception_in_progress_stops_training_and_is_raised():
    class Boom(Exception):
        pass

    def progress(st):
        if st["iter"] == 3:
            raise Boom("at 3")
        return True

    with pytest.raises(Boom, match="at 3"):
        nis.train("donut", progress=progress, **SMALL)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(target="nowhere"), ValueError, "unknown target 'nowhere'"),
    (dict(target=3), TypeError, "target must be a name"),
    (dict(target="donut", method="mcmc"), ValueError, "method"),
    (dict(target="donut", no_such_setting=1), ValueError, "no field \"no_such_setting\""),
    (dict(target="donut", batch=-2), ValueError, "batch"),
    (dict(target="donut", batch=33), ValueError, "batch must be even"),
    (dict(target="donut", lr=[1]), TypeError, "lr: list"),
    (dict(target="donut", threads=0), ValueError, "threads"),
    (dict(target="donut", progress=5), TypeError, "progress must be callable"),
])
def test_bad_arguments_raise_before_training(kwargs, error, match):
    target = kwargs.pop("target")
    with pytest.raises(error, match=match):
        nis.train(target, **{**SMALL, **kwargs})


def test_bad_sample_arguments_and_files(tmp_path):
    s = nis.train("donut", **SMALL)
    with pytest.raises(ValueError, match="n must be"):
        s.sample(0)
    with pytest.raises(ValueError, match="noisy"):
        s.sample(3, noisy="yes")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(nis.NisError, match="junk.safetensors"):
        nis.load(str(junk))
    with pytest.raises(nis.NisError):
        nis.load(str(tmp_path / "missing.safetensors"))


# ---- densities written in Python (nis.Density: callbacks from the C trainer) ----
M = np.array([1.0, -2.0], np.float32)
P = np.array([[2, 0.5], [0.5, 1]], np.float32)  # the precision of q = N(M, P^-1)


def gauss(**kw):
    return nis.Density(2, score=lambda x: -(x - M) @ P, hvp=lambda x, v: -v @ P,
                       log_prob=lambda x: -0.5 * np.einsum("ij,jk,ik->i", x - M, P, x - M), name="gauss2", **kw)


@pytest.mark.parametrize("method", ["dft", "kl"])
def test_a_python_density_is_learned(method):
    s = nis.train(gauss(), method=method, iters=800, seed=0)
    x = s.sample(20000, seed=1, noisy=False)
    assert np.abs(x.mean(0) - M).max() < 0.1
    assert np.abs(np.cov(x.T) - np.linalg.inv(P)).max() < 0.1
    assert s.target == "gauss2"


def test_errors_in_a_python_density_are_raised_with_their_traceback():
    def bad_score(x):
        raise KeyError("inside score")

    with pytest.raises(KeyError, match="inside score") as info:
        nis.train(nis.Density(2, bad_score), method="kl", iters=5)
    assert any(f.name == "bad_score" for f in info.traceback)
    with pytest.raises(ValueError, match=r"score returned shape \(.*, 3\), expected"):
        nis.train(nis.Density(2, lambda x: np.zeros((len(x), 3))), method="kl", iters=5)
    with pytest.raises(nis.NisError, match="gauss2: Hessian-vector products are needed"):
        nis.train(nis.Density(2, lambda x: -x, name="gauss2"), method="dft", iters=5)
    with pytest.raises(TypeError, match="score is required"):
        nis.Density(2, None)
    with pytest.raises(ValueError, match="dim"):
        nis.Density(0, lambda x: x)


def test_a_pytorch_density_matches_the_numpy_one():
    torch = pytest.importorskip("torch")
    mt, pt = torch.from_numpy(M), torch.from_numpy(P)
    td = nis.torch_density(lambda x: -0.5 * (((x - mt) @ pt) * (x - mt)).sum(1), 2)
    a = nis.train(td, method="dft", iters=100, seed=0).sample(500, seed=2)
    b = nis.train(gauss(), method="dft", iters=100, seed=0).sample(500, seed=2)
    assert np.abs(a - b).max() < 1e-4


# ---- MCMC, evaluation, convergence ----
@pytest.mark.parametrize("method, extra", [("ula", []), ("mala", ["--warmup", "20"]), ("hmc", ["--warmup", "20"]),
                                           ("svgd", [])])
def test_mcmc_is_the_cli_bit_for_bit(tmp_path, method, extra):
    kw = {"warmup": 20} if extra else {}
    r = nis.mcmc("donut", method, n=50, steps=60, seed=4, **kw)
    cli("mcmc", "--target", "donut", "--method", method, "--n", "50", "--steps", "60", "--seed", "4", *extra,
        "--out", str(tmp_path / "c.npy"))
    assert r.x.shape == (50, 2) and np.array_equal(r.x, np.load(tmp_path / "c.npy"))
    assert r.stats["grad_evals"] > 0


def test_mcmc_draws_and_convergence():
    r = nis.mcmc("gauss", "hmc", n=4, steps=400, warmup=100, draws=True, thin=2, seed=1)
    assert r.draws.shape == (200, 4, 2)
    rhat, ess = nis.convergence(r.draws.transpose(1, 0, 2))
    assert rhat.shape == (2,) and np.all(rhat < 1.1) and np.all(ess > 50)
    with pytest.raises(ValueError, match="draws=True needs"):
        nis.mcmc("gauss", "ula", draws=True)
    with pytest.raises(ValueError, match="method must be one of"):
        nis.mcmc("gauss", "nuts")
    with pytest.raises(ValueError, match="chains must be"):
        nis.convergence(np.zeros((2, 4, 1)))


def test_mcmc_on_a_python_density():
    r = nis.mcmc(gauss(), "hmc", n=200, steps=300, seed=0)
    assert np.abs(r.x.mean(0) - M).max() < 0.2


def test_evaluate_is_nis_eval(tmp_path):
    x = nis.train("donut", **SMALL).sample(300, seed=0)
    np.save(tmp_path / "x.npy", x)
    out = subprocess.run([CLI, "eval", "--target", "donut", "--samples", str(tmp_path / "x.npy")], check=True,
                         capture_output=True, text=True).stdout
    import json
    want = json.loads(out.strip().splitlines()[-1])
    got = nis.evaluate("donut", x)
    for k in ("ksd", "energy_distance", "mmd", "mean_error", "cov_error"):
        # cJSON prints 15 significant digits when they read back to within a ulp, so the CLI's text may lose one
        assert got[k] == pytest.approx(want[k], rel=4e-16, abs=0), k
    with pytest.raises(ValueError, match="samples of the target"):
        nis.evaluate("donut", np.zeros((10, 3)))


# ---- Bayesian logistic regression ----
def blr_data(tmp_path):
    rng = np.random.default_rng(0)
    X = (rng.integers(-40, 40, size=(60, 3)) / 8).astype(np.float32)   # exact in float32 and in text
    y = (X @ np.array([1.0, -1.0, 0.5]) + rng.normal(size=60) > 0).astype(np.float32)
    path = tmp_path / "d.csv"
    with open(path, "w") as f:
        f.write("a,b,c,y\n")
        for row, label in zip(X, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")
    return X, y, path


def test_blr_from_a_file_and_from_arrays_is_the_cli_bit_for_bit(tmp_path):
    X, y, path = blr_data(tmp_path)
    b_file, b_arr = nis.BLR(path=str(path), seed=3), nis.BLR(X, y, seed=3)
    assert b_file.n_train == 48 and b_file.n_test == 12 and b_file.d == 4   # 3 features + the intercept
    s = nis.train(b_file, method="dft", seed=3, out=str(tmp_path / "py"), **SMALL)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    cli("train", "--target", "blr", "--data", str(path), "--method", "dft", "--seed", "3", "--out",
        str(tmp_path / "cli"), "--quiet", "--eval-n", "10", *flags)
    assert (tmp_path / "py" / "sampler.safetensors").read_bytes() == (tmp_path / "cli" / "sampler.safetensors").read_bytes()
    x = s.sample(400, seed=1)
    assert x.shape == (400, 5)   # θ = [w (4), log α]
    assert np.array_equal(nis.train(b_arr, method="dft", seed=3, **SMALL).sample(400, seed=1), x)
    acc, ll = b_file.predict(x)
    assert 0.5 <= acc <= 1 and ll < 0
    r = nis.mcmc(b_file, "hmc", n=20, steps=50, seed=0)
    assert r.x.shape == (20, 5)


def test_whitened_blr_is_the_cli_bit_for_bit(tmp_path):
    X, y, path = blr_data(tmp_path)
    nis.train(nis.BLR(path=str(path), prior="hier-nc", seed=1), whiten=True, seed=1, out=str(tmp_path / "py"), **SMALL)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    cli("train", "--target", "blr", "--data", str(path), "--prior", "hier-nc", "--whiten", "--seed", "1", "--out",
        str(tmp_path / "cli"), "--quiet", "--eval-n", "10", *flags)
    assert (tmp_path / "py" / "sampler.safetensors").read_bytes() == (tmp_path / "cli" / "sampler.safetensors").read_bytes()


def test_blr_bad_inputs(tmp_path):
    X, y, path = blr_data(tmp_path)
    with pytest.raises(ValueError, match="one of the two"):
        nis.BLR()
    with pytest.raises(ValueError, match="labels 0 and 1"):
        nis.BLR(X, y + 2)
    with pytest.raises(ValueError, match="prior must be"):
        nis.BLR(X, y, prior="flat")
    with pytest.raises(ValueError, match="X must be"):
        nis.BLR(X[:, 0], y)
    with pytest.raises(nis.NisError, match="missing.csv"):
        nis.BLR(path=str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,y\n1,0\n2\n")
    with pytest.raises(nis.NisError, match="bad.csv:3"):
        nis.BLR(path=str(bad))
    with pytest.raises(ValueError, match="format"):
        nis.BLR(path=str(tmp_path / "d.txt"))


def test_ctrl_c_stops_training_cleanly(tmp_path):
    code = """
import os, signal, sys, threading, time
import nis
saved = threading.Event()   # after the first save (update 100), Ctrl-C 0.2 s later, while C computes
threading.Thread(target=lambda: saved.wait() and (time.sleep(0.2), os.kill(os.getpid(), signal.SIGINT))).start()
t = time.time()
try:
    nis.train("donut", iters=1000000, out=sys.argv[1], checkpoint_every=100,
              progress=lambda st: st["iter"] > 100 and saved.set() or True)
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted after %.1f s" % (time.time() - t))
"""
    r = subprocess.run(["/usr/bin/python3", "-c", code, str(tmp_path / "run")], capture_output=True, text=True,
                       timeout=60, env=os.environ)
    assert r.stdout.startswith("interrupted after"), r.stdout + r.stderr
    assert float(r.stdout.split()[2]) < 10
    assert nis.load(str(tmp_path / "run" / "sampler.safetensors")).dim == 2   # the last save stands


def test_the_gil_is_released_while_c_trains():
    ticks, done = [], threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    th = threading.Thread(target=count)
    th.start()
    nis.train("donut", iters=1500, seed=0)
    done.set()
    th.join()
    assert len(ticks) > 50   # the other thread ran while C trained (a held GIL would give ~1)


def test_pip_installs_it_offline_and_it_wins_over_the_stdlib_nis(tmp_path):
    import shutil
    if subprocess.run(["/usr/bin/python3", "-c", "import venv, ensurepip, setuptools"], capture_output=True).returncode:
        pytest.skip("python3-venv / python3-setuptools missing (scripts/setup.sh installs them)")
    src = tmp_path / "src"
    shutil.copytree(os.path.join(os.path.dirname(nis.__file__), ".."), src,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-build-isolation", "--no-index", str(src)],
                   check=True, env=env, cwd=tmp_path)
    env.pop("NIS_LIBRARY", None)
    r = subprocess.run([str(venv / "bin" / "python"), "-c",
                        "import nis, nis._lib as L; print(L.path); print(nis.train('gauss', iters=20).sample(3).shape)"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "nis_first/nis/libnis.so" in r.stdout and "(3, 2)" in r.stdout


# ---- image energies ----
MODELS = os.path.join(os.path.dirname(nis.__file__), "..", "..", "models")
NCSN = os.path.join(MODELS, "ebm-mnist-ncsn", "energy.safetensors")
ML = os.path.join(MODELS, "ebm-mnist", "energy.safetensors")


def test_an_energy_walks_and_trains_as_the_cli_does(tmp_path):
    e = nis.Energy(NCSN)
    assert e.shape == (1, 28, 28) and e.noise == pytest.approx(0.1) and e.noise_max == pytest.approx(1)
    x = e.langevin(n=5, steps=10, jump=True, seed=2)
    cli("ebm", "langevin", "--energy", NCSN, "--steps", "10", "--n", "5", "--jump", "--seed", "2", "--out",
        str(tmp_path / "ld.npy"))
    assert x.shape == (5, 1, 28, 28) and np.array_equal(x, np.load(tmp_path / "ld.npy"))
    small = dict(iters=2, batch=4, gen_channels=4, score_channels=2, latent=4, seed=0)
    s = nis.train(e, method="kl", out=str(tmp_path / "py"), **small)
    cli("ebm", "sampler", "--energy", NCSN, "--method", "kl", "--out", str(tmp_path / "cli"), "--quiet", "--eval-n", "4",
        *[f"--{k.replace('_', '-')}={v}" for k, v in small.items()])
    assert (tmp_path / "py" / "sampler.safetensors").read_bytes() == (tmp_path / "cli" / "sampler.safetensors").read_bytes()
    assert s.sample(3).shape == (3, 1, 28, 28)
    assert nis.load(str(tmp_path / "py" / "sampler.safetensors")).sample(3).shape == (3, 1, 28, 28)
    d = e.denoise(x)
    assert d.shape == x.shape and not np.array_equal(d, x)


def test_energy_bad_inputs(tmp_path):
    with pytest.raises(nis.NisError, match="nothing.safetensors"):
        nis.Energy(str(tmp_path / "nothing.safetensors"))
    ml = nis.Energy(ML)
    with pytest.raises(ValueError, match="jump needs a DSM energy"):
        ml.langevin(n=2, steps=2, jump=True)
    with pytest.raises(ValueError, match="needs a noise-conditional energy"):
        ml.langevin(n=2, steps=4, levels=2)
    with pytest.raises(ValueError, match="must be at least levels"):
        nis.Energy(NCSN).langevin(n=2, steps=3, levels=5)
    with pytest.raises(ValueError, match="x must be"):
        nis.Energy(NCSN).denoise(np.zeros((2, 5)))
