/* src/train/config.c — the training configuration, spelled once: its schema (names, types, defaults, ranges,
 * help), the defaults of each kind of sampler, the rules between fields, and how automatic values resolve. */
#include "internal.h"
#include "nis/ebm.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const methods[] = {"dft", "kl", "fisher", NULL};
static const char *const nets[] = {"mlp", "conv", NULL};
static const char *const score_models[] = {"auto", "plain", "residual", NULL};
static const char *const whiteners[] = {"laplace", "pilot", "hmc", NULL};
static const char *const score_nets[] = {"strided", "pooled", NULL};

const char *nis_method_name(nis_method m) { return (int)m >= 0 && (int)m < 3 ? methods[m] : "?"; }

bool nis_method_parse(const char *name, nis_method *out) {
    for (int m = 0; methods[m]; m++)
        if (!strcmp(name, methods[m])) {
            *out = (nis_method)m;
            return true;
        }
    return false;
}

#define ALL (NIS_SCOPE_MLP | NIS_SCOPE_CONV)
#define MLP NIS_SCOPE_MLP
#define CONV NIS_SCOPE_CONV
#define AT(m) offsetof(nis_train_config, m)
#define INT(m, def, lo, hi, scope, help) {#m, NIS_FIELD_INT, AT(m), def, lo, hi, NULL, help, NULL, NULL, scope}
#define REAL(m, def, lo, hi, scope, help) {#m, NIS_FIELD_REAL, AT(m), def, lo, hi, NULL, help, NULL, NULL, scope}

/* The order is the order of --help and config.json. */
static nis_field fields[] = {
    {"method", NIS_FIELD_ENUM, AT(method), NIS_METHOD_DFT, 0, 0, methods, "dft|kl|fisher", NULL, NULL, ALL},
    REAL(kl_weight, 0, 0, 1e9, ALL,
         "DFT: add this times the KL training loss to the sampler loss (a hybrid, not DFT; 0: off; docs/dft.md)"),
    INT(iters, 3000, 0, 1e9, ALL, "sampler updates"),
    INT(batch, 256, 2, 1e7, ALL, "samples per update (even with antithetic noise)"),
    INT(seed, 0, 0, 9e18, ALL, "random seed"),
    {"net", NIS_FIELD_ENUM, AT(net), NIS_NET_MLP, 0, 0, nets, "sampler network: mlp|conv", NULL, NULL, 0},
    INT(latent, 0, 0, 65536, ALL, "latent dimension (0: the target's dimension)"),
    INT(width, 64, 1, 65536, MLP, "sampler hidden width"),
    INT(depth, 3, 0, NIS_MLP_MAX_LAYERS - 1, MLP, "sampler hidden layers"),
    INT(score_width, 64, 1, 65536, MLP, "score-network hidden width"),
    INT(score_depth, 3, 0, NIS_MLP_MAX_LAYERS - 1, MLP, "score-network hidden layers"),
    INT(img_c, 0, 0, 4096, 0, "image channels"),
    INT(img_h, 0, 0, 4096, 0, "image height"),
    INT(img_w, 0, 0, 4096, 0, "image width"),
    INT(gen_channels, 64, 2, 4096, CONV, "generator stem channels"),
    INT(score_channels, 16, 1, 4096, CONV, "score-network channels"),
    {"score_net", NIS_FIELD_ENUM, AT(score_net), NIS_SCORE_NET_STRIDED, 0, 0, score_nets,
     "strided|pooled: the score U-Net's down- and upsampling, 4x4 strided and transposed convs or 2x2 average pooling "
     "and nearest upsampling each before a 3x3 conv (no stride's grid in its input-gradient; bench/ebm_dsm_notes.md)",
     NULL, NULL, CONV},
    {"sigmoid_output", NIS_FIELD_BOOL, AT(sigmoid_output), 1, 0, 0, NULL,
     "no sigmoid on the generator's output (pixels unbounded)", "linear-output", NULL, CONV},
    {"act", NIS_FIELD_ENUM, AT(act), NIS_ACT_SILU, 0, 0, NULL, "hidden activation of both networks: none|relu|silu|tanh|softplus|elu|leaky_relu", NULL, NULL,
     ALL},
    {"score_model", NIS_FIELD_ENUM, AT(score_model), NIS_SCORE_AUTO, 0, 0, score_models,
     "auto|plain|residual: s = net, or s = s_q + net (auto: residual for DFT on targets of dimension <= 2)", NULL,
     NULL, ALL},
    REAL(lr, 1e-4, 1e-12, 1, ALL, "sampler learning rate (Adam)"),
    REAL(lr_final, 0, 0, 1, ALL, "sampler lr at the end of a cosine decay over the updates (0: constant lr)"),
    REAL(lr_score, 1e-3, 1e-12, 1, ALL, "score-network learning rate (Adam)"),
    INT(score_steps, 5, 1, 1000, ALL, "score-network updates per sampler update"),
    INT(score_warmup, -1, -1, 1e9, ALL,
        "score-network updates before the first sampler update (-1: 1000 for the main run of --whiten, else 0)"),
    REAL(sigma, 0.1, 1e-6, 100, ALL, "noise level sigma (DFT, KL)"),
    REAL(sigma_start, 0, 0, 100, ALL, "anneal sigma geometrically from this value (0: off)"),
    INT(anneal_iters, 0, 0, 1e9, ALL, "updates over which sigma is annealed"),
    REAL(sigma_max, 0, 0, 1e4, ALL,
         "> sigma: each draw has its own noise level, log-uniform in [sigma, sigma-max], against the target at that "
         "level (a noise-conditional energy; docs/dft.md); 0: off"),
    {"antithetic", NIS_FIELD_BOOL, AT(antithetic), 1, 0, 0, NULL, "independent noise instead of (eps, -eps) pairs",
     "no-antithetic", NULL, ALL},
    {"noisy_output", NIS_FIELD_BOOL, AT(noisy_output), 1, 0, 0, NULL, "samples are g(z) instead of g(z) + sigma eps",
     "clean-output", NULL, ALL},
    REAL(grad_clip, 10, 0, 1e9, ALL, "max gradient norm per network (0: off)"),
    REAL(ema, 0.999, 0, 0.999999, ALL,
         "decay of an EMA of the sampler's weights, used for samples (0: off: the last iterate)"),
    REAL(init_scale, 2, 0, 1e6, MLP, "start from g(z) = m + s z fitted first (0: random init)"),
    INT(init_steps, 500, 0, 1e9, MLP, "steps of that initial fit"),
    {"init_at_mode", NIS_FIELD_BOOL, AT(init_at_mode), 1, 0, 0, NULL,
     "start around 0 instead of the target's mode (blr: the posterior mode)", "no-init-mode", NULL, MLP},
    {"whiten", NIS_FIELD_BOOL, AT(whiten), 0, 0, 0, NULL,
     "train on the target whitened by a Gaussian fit N(m, L Lt) (--whiten-by), x = m + L u, from u ~ N(0, I), with "
     "--white-lr (docs/dft.md; on for --target blr, --whiten=false turns it off)",
     NULL, NULL, MLP},
    {"whiten_by", NIS_FIELD_ENUM, AT(whiten_by), NIS_WHITEN_PILOT, 0, 0, whiteners,
     "with --whiten: pilot (a first run with these settings and --lr, then its samples' mean and covariance: two "
     "runs' cost; any target) | laplace (Newton to the mode, the Hessian there: seconds; for a target near Gaussian "
     "around one mode) | hmc (short HMC chains in the Laplace coordinates: the bulk's mean and covariance in about "
     "a second; the default for --target blr)", NULL, "whiten", MLP},
    {"white_lr", NIS_FIELD_REAL, AT(white_lr), 1e-3, 1e-12, 1, NULL,
     "with --whiten: the whitened run's sampler lr (--lr is the pilot's)", NULL, "whiten", MLP},
    {"white_lr_final", NIS_FIELD_REAL, AT(white_lr_final), 3e-5, 0, 1, NULL,
     "with --whiten: the whitened run's lr at the end of its cosine decay (0: constant)", NULL, "whiten", MLP},
    INT(monitor_every, 100, 0, 1e9, ALL,
        "every this many updates, the drift of the sampler's output for fixed latent draws (nis_train_stats.drift; "
        "0: off)"),
    REAL(stop_drift, 0, 0, 1e9, ALL,
         "stop when the drift (in the samples' own sds per check) stays below this at two checks in a row (0: off; "
         "docs/dft.md)"),
};

const nis_schema *nis_train_schema(void) {
    static nis_schema s = {"train config", fields, (int)(sizeof fields / sizeof fields[0])};
    for (int i = 0; i < s.count; i++)   /* the activations' names live with the activations (nis/nn.h) */
        if (fields[i].offset == AT(act)) fields[i].choices = nis_act_names();
    return &s;
}

nis_train_config nis_train_config_default(nis_method method) {
    nis_train_config c;
    memset(&c, 0, sizeof c);
    nis_schema_defaults(nis_train_schema(), &c);
    c.method = method;
    c.noisy_output = method != NIS_METHOD_FISHER;
    return c;
}

nis_train_config nis_train_config_posterior(nis_method method) {
    nis_train_config c = nis_train_config_default(method);
    /* chosen by measurement on the four UCI posteriors, 3 seeds each (bench/blr_defaults, docs/results-blr-defaults.md):
     * the HMC fit of the bulk (the Laplace mode of the non-centred posterior lies up to 14 of its sds away from the
     * bulk, and DFT started there stays near it: mean err 1.03 on ionosphere); networks of 128 and batch 512 for
     * 1500 updates left mean errors of 0.17-0.28 and one test point off (bench/blr_notes.md, issue 22) */
    c.whiten = true, c.whiten_by = NIS_WHITEN_HMC;
    c.width = c.score_width = 256;
    c.batch = 1024, c.iters = 1000, c.score_warmup = 500;
    c.sigma = 0.05, c.ema = 0;
    c.white_lr = 1e-3, c.white_lr_final = 3e-5;
    return c;
}

void nis_train_config_for_posterior(nis_train_config *cfg, const nis_target *t, bool whiten_given) {
    /* a minibatch likelihood has no exact mode, Hessian or HMC: the preset's whitening is dropped unless asked for */
    if (t && t->stochastic && !whiten_given && cfg->whiten_by != NIS_WHITEN_PILOT) cfg->whiten = false;
}

nis_train_config nis_train_config_image(nis_method method, int ch, int h, int w) {
    nis_train_config c = nis_train_config_default(method);
    c.net = NIS_NET_CONV;
    c.img_c = ch, c.img_h = h, c.img_w = w;
    c.iters = 2000, c.batch = 64, c.latent = 64, c.score_steps = 3;
    c.init_scale = 0, c.init_at_mode = false;
    return c;
}

nis_status nis_train_config_check(const nis_train_config *c, const nis_target *t, char *err, size_t errlen) {
    if (nis_schema_check(nis_train_schema(), c, err, errlen) != NIS_OK) return NIS_EINVAL;
    const char *bad = NULL;
    int64_t dim = t ? t->dim : -1;
    if (t && dim < 1) bad = "the target's dimension must be >= 1";
    else if (c->antithetic && c->batch % 2) bad = "batch must be even with antithetic noise";
    else if (c->kl_weight > 0 && c->method != NIS_METHOD_DFT) bad = "kl_weight needs method dft";
    else if (c->net == NIS_NET_CONV && c->method == NIS_METHOD_FISHER) bad = "a conv sampler trains by dft or kl";
    else if (c->net == NIS_NET_CONV && (c->img_c < 1 || c->img_h < 4 || c->img_w < 4 || c->img_h % 4 || c->img_w % 4))
        bad = "image shape: img_c >= 1 and img_h, img_w multiples of 4";
    else if (c->net == NIS_NET_CONV && dim >= 0 && c->img_c * c->img_h * c->img_w != dim)
        bad = "image shape img_c*img_h*img_w differs from the target's dimension";
    else if (c->net == NIS_NET_CONV && (c->whiten || c->init_scale > 0))
        bad = "whiten and init_scale need an MLP sampler";
    else if (c->sigma_max > 0 && !(c->sigma_max > c->sigma)) bad = "sigma_max must exceed sigma";
    else if (c->sigma_max > 0 && (c->method == NIS_METHOD_FISHER || c->sigma_start > 0 || c->whiten))
        bad = "sigma_max does not combine with method fisher, sigma_start or whiten";
    else if (c->whiten && c->whiten_by != NIS_WHITEN_PILOT && t && t->stochastic)
        bad = "whiten_by laplace and hmc need the exact log q, not a minibatch estimate (whiten_by pilot works with one)";
    else if (c->sigma_max > 0 && t && !t->log_prob_at)
        bad = "sigma_max needs a target with noise levels (a noise-conditional energy)";
    if (bad) snprintf(err, errlen, "train config: %s", bad);
    return bad ? NIS_EINVAL : NIS_OK;
}

nis_train_config nis__config_resolve(const nis_train_config *cfg, const nis_target *t) {
    nis_train_config c = *cfg;
    if (c.latent == 0) c.latent = c.net == NIS_NET_CONV ? 64 : t->dim;
    if (c.score_model == NIS_SCORE_AUTO)
        c.score_model = c.method == NIS_METHOD_DFT && c.net == NIS_NET_MLP && t->dim <= 2 ? NIS_SCORE_RESIDUAL
                                                                                         : NIS_SCORE_PLAIN;
    if (c.method == NIS_METHOD_FISHER) c.noisy_output = false;   /* no noise in Fisher training */
    return c;
}

nis_train_config *nis_train_config_new(nis_method method) {
    nis_train_config *c = nis_malloc(sizeof *c);
    if (c) *c = nis_train_config_default(method);
    return c;
}

nis_status nis_train_config_set(nis_train_config *cfg, const char *name, const char *text, char *err, size_t errlen) {
    const nis_field *f = name ? nis_schema_find(nis_train_schema(), name) : NULL;
    if (!f || !cfg || !text) {
        if (err && errlen) snprintf(err, errlen, "train config: no field \"%s\"", name ? name : "(null)");
        return NIS_EINVAL;
    }
    return nis_field_parse(f, cfg, text, err, errlen);
}

bool nis_train_config_get(const nis_train_config *cfg, const char *name, char *buf, size_t size) {
    const nis_field *f = name ? nis_schema_find(nis_train_schema(), name) : NULL;
    if (!f || !cfg || !buf || !size) return false;
    nis_field_format(f, cfg, buf, size);
    return true;
}

nis_train_config *nis_train_config_new_posterior(nis_method method) {
    nis_train_config *c = nis_malloc(sizeof *c);
    if (c) *c = nis_train_config_posterior(method);
    return c;
}

nis_train_config *nis_train_config_new_image(nis_method method, int c, int h, int w) {
    nis_train_config *cfg = nis_malloc(sizeof *cfg);
    if (cfg) *cfg = nis_train_config_image(method, c, h, w);
    return cfg;
}

void nis_train_config_for_energy(nis_train_config *c, const nis_ebm *E, bool sigma_given, bool levels_given) {
    if (E->cfg.noise > 0 && !sigma_given) c->sigma = E->cfg.noise;
    if (nis_ebm_is_conditional(E) && !levels_given && c->sigma < E->cfg.noise_max) c->sigma_max = E->cfg.noise_max;
}
