"""nis._lib: loads libnis.so and declares the C functions the package calls (ctypes).

The library is looked for, in order: the path in the environment variable NIS_LIBRARY; libnis.so beside this file
(an installed package); build/libnis.so of the checkout this file lies in (after `make`).
"""

import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _find_library():
    env = os.environ.get("NIS_LIBRARY")
    if env:
        if not os.path.exists(env):
            raise ImportError(f"nis: NIS_LIBRARY={env} does not exist")
        return env
    for cand in (os.path.join(_HERE, "libnis.so"), os.path.join(_HERE, "..", "..", "build", "libnis.so")):
        if os.path.exists(cand):
            return os.path.normpath(cand)
    raise ImportError("nis: libnis.so not found: run `make` in the nis checkout, or set NIS_LIBRARY to its path")


path = _find_library()
lib = ctypes.CDLL(path)
lib.nis_blas_core.restype = lib.nis_blas_better_core.restype = ctypes.c_char_p
lib.nis_blas_core.argtypes = lib.nis_blas_better_core.argtypes = []
if lib.nis_blas_better_core():   # nis/_blas.py: the kernels could not be chosen before OpenBLAS loaded
    import warnings

    _core, _better = lib.nis_blas_core().decode(), lib.nis_blas_better_core().decode()
    warnings.warn(f"nis: OpenBLAS runs its {_core} kernels on a CPU that runs {_better}'s: 2-5x slower, and other "
                  f"bits than the nis command line; set OPENBLAS_CORETYPE={_better} before Python starts (or import "
                  f"nis before numpy)", stacklevel=2)

try:   # OpenBLAS's threading: 0 none, 1 pthreads, 2 OpenMP (the build libnis links; nis/_blas.py)
    lib.openblas_get_parallel.restype = ctypes.c_int
    blas_parallel = lib.openblas_get_parallel()
except AttributeError:
    blas_parallel = -1

c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_float_p = ctypes.POINTER(ctypes.c_float)


class Rng(ctypes.Structure):
    """nis_rng (nis/rng.h)."""
    _fields_ = [("key", ctypes.c_uint32 * 2), ("ctr", ctypes.c_uint32 * 4), ("block", ctypes.c_uint32 * 4),
                ("used", ctypes.c_uint32), ("has_spare", ctypes.c_uint32), ("spare", ctypes.c_double)]


class Field(ctypes.Structure):
    """nis_field (nis/schema.h)."""
    _fields_ = [("name", ctypes.c_char_p), ("type", ctypes.c_int), ("offset", ctypes.c_size_t),
                ("default", ctypes.c_double), ("min", ctypes.c_double), ("max", ctypes.c_double),
                ("choices", ctypes.POINTER(ctypes.c_char_p)), ("help", ctypes.c_char_p), ("flag", ctypes.c_char_p),
                ("requires", ctypes.c_char_p), ("scope", ctypes.c_uint)]


class Schema(ctypes.Structure):
    """nis_schema (nis/schema.h)."""
    _fields_ = [("name", ctypes.c_char_p), ("fields", ctypes.POINTER(Field)), ("count", ctypes.c_int)]


class TrainStats(ctypes.Structure):
    """nis_train_stats (nis/train.h)."""
    _fields_ = [("iter", ctypes.c_int64), ("sampler_loss", ctypes.c_double), ("score_loss", ctypes.c_double),
                ("sigma", ctypes.c_double), ("lr", ctypes.c_double), ("target_evals", ctypes.c_int64),
                ("drift", ctypes.c_double)]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(TrainStats))


class RunOpts(ctypes.Structure):
    """nis_train_run_opts (nis/train.h)."""
    _fields_ = [("dir", ctypes.c_char_p), ("every", ctypes.c_int64), ("n_meta", ctypes.c_int),
                ("meta", ctypes.POINTER(ctypes.c_char_p)), ("progress", PROGRESS_FN), ("ud", ctypes.c_void_p)]


class RunResult(ctypes.Structure):
    """nis_train_run_result (nis/train.h)."""
    _fields_ = [("stats", TrainStats), ("last_saved", ctypes.c_int64), ("seconds", ctypes.c_double),
                ("cpu_seconds", ctypes.c_double)]


class McmcStats(ctypes.Structure):
    """nis_mcmc_stats (nis/mcmc.h)."""
    _fields_ = [("accept_rate", ctypes.c_double), ("accept_rate_warmup", ctypes.c_double),
                ("step_size", ctypes.c_double), ("step_size_min", ctypes.c_double), ("step_size_max", ctypes.c_double),
                ("bandwidth", ctypes.c_double), ("grad_evals", ctypes.c_int64), ("logq_evals", ctypes.c_int64),
                ("divergences", ctypes.c_int64), ("steps", ctypes.c_int64), ("seconds", ctypes.c_double)]


class UlaConfig(ctypes.Structure):
    """nis_ula_config (nis/mcmc.h)."""
    _fields_ = [("steps", ctypes.c_int64), ("step_size", ctypes.c_double), ("noise", ctypes.c_double)]


class MalaConfig(ctypes.Structure):
    """nis_mala_config (nis/mcmc.h)."""
    _fields_ = [("steps", ctypes.c_int64), ("warmup", ctypes.c_int64), ("step_size", ctypes.c_double),
                ("target_accept", ctypes.c_double), ("adapt", ctypes.c_int), ("thin", ctypes.c_int64),
                ("reject_nonfinite", ctypes.c_bool)]


class HmcConfig(ctypes.Structure):
    """nis_hmc_config (nis/mcmc.h)."""
    _fields_ = [("steps", ctypes.c_int64), ("warmup", ctypes.c_int64), ("n_leapfrog", ctypes.c_int),
                ("step_size", ctypes.c_double), ("target_accept", ctypes.c_double), ("adapt", ctypes.c_int),
                ("jitter", ctypes.c_double), ("thin", ctypes.c_int64), ("divergence", ctypes.c_double),
                ("reject_nonfinite", ctypes.c_bool)]


class SvgdConfig(ctypes.Structure):
    """nis_svgd_config (nis/mcmc.h)."""
    _fields_ = [("steps", ctypes.c_int64), ("step_size", ctypes.c_double), ("update", ctypes.c_int),
                ("alpha", ctypes.c_double), ("bandwidth", ctypes.c_double)]


class EvalResult(ctypes.Structure):
    """nis_eval_result (nis/metrics.h)."""
    _fields_ = [("n", ctypes.c_int64), ("has_exact", ctypes.c_bool), ("ed", ctypes.c_double),
                ("ed_floor", ctypes.c_double), ("mmd", ctypes.c_double), ("mmd_floor", ctypes.c_double),
                ("ksd", ctypes.c_double), ("ksd_floor", ctypes.c_double), ("mean_err", ctypes.c_double),
                ("cov_err", ctypes.c_double), ("frac_pos", ctypes.c_double), ("ed_core", ctypes.c_double),
                ("nonfinite", ctypes.c_int64)]


class Dataset(ctypes.Structure):
    """nis_dataset (nis/data.h)."""
    _fields_ = [("n", ctypes.c_int64), ("d", ctypes.c_int64), ("X", c_float_p), ("y", c_float_p),
                ("names", ctypes.POINTER(ctypes.c_char_p)), ("intercept", ctypes.c_bool)]


class DataOpts(ctypes.Structure):
    """nis_data_opts (nis/data.h)."""
    _fields_ = [("label", ctypes.c_char_p), ("positive", ctypes.c_char_p), ("skip_lines", ctypes.c_int),
                ("no_header", ctypes.c_bool), ("n_features", ctypes.c_int64)]


class BlrOpts(ctypes.Structure):
    """nis_blr_opts (nis/blr.h)."""
    _fields_ = [("prior", ctypes.c_int), ("minibatch", ctypes.c_int64), ("gamma_shape", ctypes.c_double),
                ("gamma_rate", ctypes.c_double), ("seed", ctypes.c_uint64), ("dist", ctypes.c_void_p)]


ARRAY_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, c_float_p, ctypes.c_int64, c_float_p)
HVP_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, c_float_p, c_float_p, ctypes.c_int64, c_float_p)

STREAM_SAMPLE = 7  # NIS_STREAM_SAMPLE (nis/rng.h): draws of a trained sampler, as `nis sample` and `nis train` use
STREAM_MCMC = 3  # NIS_STREAM_MCMC: `nis mcmc`'s chains

FIELD_INT, FIELD_REAL, FIELD_BOOL, FIELD_ENUM = range(4)


def _declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


vp, cp, sz, i64, ci, cb = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64, ctypes.c_int, ctypes.c_bool

status_name = _declare("nis_status_name", cp, ci)
set_threads = _declare("nis_set_threads", None, ci)
threads = _declare("nis_threads", ci)
free = _declare("nis_free", None, vp)
rng_init = _declare("nis_rng_init", Rng, ctypes.c_uint64, ctypes.c_uint64)

target_2d = _declare("nis_target_2d", vp, cp)
target_2d_names = _declare("nis_target_2d_names", ctypes.POINTER(cp))

foreign_target_new = _declare("nis_foreign_target_new", vp, cp, ci, ARRAY_FN, HVP_FN, ARRAY_FN, vp)
foreign_target_free = _declare("nis_foreign_target_free", None, vp)

train_schema = _declare("nis_train_schema", ctypes.POINTER(Schema))
train_config_new = _declare("nis_train_config_new", vp, ci)
train_config_set = _declare("nis_train_config_set", ci, vp, cp, cp, cp, sz)
train_config_get = _declare("nis_train_config_get", cb, vp, cp, cp, sz)
train_config_check = _declare("nis_train_config_check", ci, vp, vp, cp, sz)

trainer_new = _declare("nis_trainer_new", vp, vp, vp, vp, cp, sz)
trainer_free = _declare("nis_trainer_free", None, vp)
trainer_prepare = _declare("nis_trainer_prepare", vp, vp, vp, PROGRESS_FN, vp, cp, sz)
trainer_run = _declare("nis_trainer_run", ci, vp, i64, ctypes.POINTER(RunOpts), ctypes.POINTER(RunResult))
trainer_message = _declare("nis_trainer_message", cp, vp)
trainer_iter = _declare("nis_trainer_iter", i64, vp)
trainer_stopped = _declare("nis_trainer_stopped", i64, vp)
trainer_sample = _declare("nis_trainer_sample", ci, vp, ctypes.POINTER(Rng), i64, cb, c_float_p)
trainer_save = _declare("nis_trainer_save", ci, vp, cp)
trainer_checkpoint = _declare("nis_trainer_checkpoint", ci, vp, cp, ci, ctypes.POINTER(cp))
trainer_config = _declare("nis_trainer_config", vp, vp)

sampler_load = _declare("nis_sampler_load", vp, cp, cp, sz)
sampler_free = _declare("nis_sampler_free", None, vp)
sampler_dim = _declare("nis_sampler_dim", ci, vp)
sampler_target = _declare("nis_sampler_target", cp, vp)
sampler_generate = _declare("nis_sampler_generate", ci, vp, ctypes.POINTER(Rng), i64, ci, c_float_p, cp, sz)
sampler_report = _declare("nis_sampler_report", None, vp, c_float_p, i64)

mcmc_init_normal = _declare("nis_mcmc_init_normal", None, ctypes.POINTER(Rng), c_float_p, i64, ci, ctypes.c_double,
                            ctypes.c_double)
ula_defaults = _declare("nis_ula_defaults", UlaConfig)
mala_defaults = _declare("nis_mala_defaults", MalaConfig)
hmc_defaults = _declare("nis_hmc_defaults", HmcConfig)
svgd_defaults = _declare("nis_svgd_defaults", SvgdConfig)
ula_run = _declare("nis_ula_run", ci, vp, ctypes.POINTER(UlaConfig), ctypes.POINTER(Rng), c_float_p, i64,
                   ctypes.POINTER(McmcStats), cp, sz)
mala_run = _declare("nis_mala_run", ci, vp, ctypes.POINTER(MalaConfig), ctypes.POINTER(Rng), c_float_p, i64, c_float_p,
                    ctypes.POINTER(McmcStats), cp, sz)
hmc_run = _declare("nis_hmc_run", ci, vp, ctypes.POINTER(HmcConfig), ctypes.POINTER(Rng), c_float_p, i64, c_float_p,
                   ctypes.POINTER(McmcStats), cp, sz)
svgd_run = _declare("nis_svgd_run", ci, vp, ctypes.POINTER(SvgdConfig), c_float_p, i64, ctypes.POINTER(McmcStats),
                    cp, sz)
target_report = _declare("nis_target_report", None, vp, c_float_p, i64)

evaluate = _declare("nis_evaluate", ci, vp, c_float_p, i64, ctypes.c_uint64, ctypes.POINTER(EvalResult), cp, sz)
convergence = _declare("nis_convergence", ci, c_float_p, ci, i64, ci, cb, ctypes.POINTER(ctypes.c_double),
                       ctypes.POINTER(ctypes.c_double))

DS = ctypes.POINTER(Dataset)
data_format_parse = _declare("nis_data_format_parse", ci, cp)
data_load = _declare("nis_data_load", ci, cp, ci, ctypes.POINTER(DataOpts), DS, cp, sz)
dataset_alloc = _declare("nis_dataset_alloc", ci, DS, i64, i64)
dataset_free = _declare("nis_dataset_free", None, DS)
data_prepare = _declare("nis_data_prepare", ci, DS, ctypes.c_double, ctypes.c_uint64, DS, DS, cp, sz)
blr_defaults = _declare("nis_blr_defaults", BlrOpts)
blr_target_new = _declare("nis_blr_target_new", vp, DS, ctypes.POINTER(BlrOpts), cp, sz)
blr_target_free = _declare("nis_blr_target_free", None, vp)
blr_predict = _declare("nis_blr_predict", ci, DS, c_float_p, i64, ci, ctypes.POINTER(ctypes.c_double),
                       ctypes.POINTER(ctypes.c_double))

ebm_open = _declare("nis_ebm_open", vp, cp, cp, sz)
ebm_close = _declare("nis_ebm_close", None, vp)
ebm_info = _declare("nis_ebm_info", None, vp, ctypes.POINTER(ci), ctypes.POINTER(ci), ctypes.POINTER(ci),
                    ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double))
ebm_target = _declare("nis_ebm_target", vp, vp)
ebm_langevin = _declare("nis_ebm_langevin", ci, vp, i64, ctypes.c_double, ci, ctypes.c_double, ctypes.POINTER(Rng), c_float_p, i64,
                        c_int64_p, cp, sz)
ebm_denoise = _declare("nis_ebm_denoise", ci, vp, c_float_p, i64, cp, sz)
train_config_new_image = _declare("nis_train_config_new_image", vp, ci, ci, ci, ci)
train_config_new_posterior = _declare("nis_train_config_new_posterior", vp, ci)
train_config_for_posterior = _declare("nis_train_config_for_posterior", None, vp, vp, cb)
blr_prior_for_sampler = _declare("nis_blr_prior_for_sampler", ci, ci)
train_config_for_energy = _declare("nis_train_config_for_energy", None, vp, vp, cb, cb)
sampler_image_shape = _declare("nis_sampler_image_shape", cb, vp, ctypes.POINTER(ci), ctypes.POINTER(ci),
                               ctypes.POINTER(ci))
STREAM_LANGEVIN = 5  # NIS_STREAM_LANGEVIN: `nis ebm langevin`'s chains
