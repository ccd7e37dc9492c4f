/* src/metrics/classifier.c — the FID classifier: a conv net with a feature layer and a linear output, its
 * features, accuracy, save and load (its training: src/train/classifier_train.c). */
#include "nis/checkpoint.h"
#include "core/err.h"
#include "nis/fid.h"
#include "nis/io.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nis_classifier_config nis_classifier_default(void) {
    return (nis_classifier_config){.in_c = 1, .in_h = 28, .in_w = 28, .n_conv = 4,
                                   .channels = {32, 64, 64, 64}, .stride = {1, 2, 2, 2},
                                   .features = 128, .classes = 10};
}

/* NULL if cfg is usable, else what is wrong (static string). */
static const char *config_problem(const nis_classifier_config *c) {
    if (c->in_c < 1 || c->in_h < 1 || c->in_w < 1 || c->in_c > 64 || c->in_h > 4096 || c->in_w > 4096)
        return "bad input shape";
    if (c->n_conv < 1 || c->n_conv > NIS_CLASSIFIER_MAX_CONV) return "bad number of conv layers";
    for (int i = 0; i < c->n_conv; i++) {
        if (c->channels[i] < 1 || c->channels[i] > 4096) return "bad conv channel count";
        if (c->stride[i] != 1 && c->stride[i] != 2) return "conv stride must be 1 or 2";
    }
    if (c->features < 1 || c->features > 65536) return "bad feature width";
    if (c->classes < 2 || c->classes > 256) return "bad number of classes (2..256)";
    return NULL;
}

nis_status nis_classifier_new(nis_classifier *C, const nis_classifier_config *cfg, const nis_rng *rng,
                              char *err, size_t errlen) {
    memset(C, 0, sizeof *C);
    const char *why = config_problem(cfg);
    if (why) {
        nis__set_err(err, errlen, "classifier: %s", why);
        return NIS_EINVAL;
    }
    nis_classifier c = {.cfg = *cfg};
    c.P = nis_params_new();
    if (!c.P) {
        nis__set_err(err, errlen, "classifier: out of memory");
        return NIS_ENOMEM;
    }
    nis_conv_spec spec[NIS_CLASSIFIER_MAX_CONV];
    for (int i = 0; i < cfg->n_conv; i++)
        spec[i] = (nis_conv_spec){.channels = cfg->channels[i], .kernel = 3, .stride = cfg->stride[i], .pad = 1};
    nis_convnet_add(&c.body, c.P, "classifier", cfg->in_c, cfg->in_h, cfg->in_w, cfg->n_conv, spec, NIS_ACT_RELU, 0,
                    cfg->features);
    nis_linear_layer_add(&c.out, c.P, "classifier.out", cfg->features, cfg->classes, true);
    nis_status st = nis_params_finalize(c.P);
    if (st == NIS_OK) st = nis_params_init(c.P, rng);
    if (st != NIS_OK) {
        nis__set_err(err, errlen, "classifier: %s", nis_params_message(c.P));
        nis_params_free(c.P);
        return st;
    }
    *C = c;
    return NIS_OK;
}

void nis_classifier_free(nis_classifier *C) {
    if (!C) return;
    nis_params_free(C->P);
    memset(C, 0, sizeof *C);
}

nis_tensor *nis_classifier_forward(nis_ctx *ctx, const nis_classifier *C, nis_tensor *x, nis_tensor **features) {
    nis_tensor *f = nis_relu(ctx, nis_convnet_forward(ctx, &C->body, x));
    if (features) *features = f;
    return nis_linear_layer_forward(ctx, &C->out, f);
}

/* Run the classifier without gradients over n images in batches, calling back with each batch's features
 * and logits.  ctx is the caller's scratch context. */
typedef nis_status (*batch_fn)(void *ud, int64_t first, int64_t b, const nis_tensor *feat, const nis_tensor *logits);

static nis_status run_batches(const nis_classifier *C, const float *x, int64_t n, int64_t batch, batch_fn fn,
                              void *ud, char *err, size_t errlen) {
    if (batch <= 0) batch = 256;
    nis_ctx *ctx = nis_ctx_new(0);
    if (!ctx) {
        nis__set_err(err, errlen, "classifier: out of memory");
        return NIS_ENOMEM;
    }
    nis_ctx_set_grad(ctx, false);
    int64_t D = (int64_t)C->cfg.in_c * C->cfg.in_h * C->cfg.in_w;
    nis_status st = NIS_OK;
    for (int64_t i = 0; i < n && st == NIS_OK; i += batch) {
        int64_t b = n - i < batch ? n - i : batch;
        nis_ctx_reset(ctx);
        nis_tensor *xt = nis_new4(ctx, b, C->cfg.in_c, C->cfg.in_h, C->cfg.in_w);
        if (xt)
            for (int64_t k = 0; k < b * D; k++) xt->data[k] = (nis_real)x[i * D + k];
        nis_tensor *feat = NULL;
        nis_tensor *logits = nis_classifier_forward(ctx, C, xt, &feat);
        if (!logits) {
            st = nis_ctx_status(ctx);
            nis__set_err(err, errlen, "classifier: %s", nis_ctx_message(ctx));
        } else {
            st = fn(ud, i, b, feat, logits);
            if (st != NIS_OK) nis__set_err(err, errlen, "classifier: non-finite features (image %" PRId64 "..)", i);
        }
    }
    nis_ctx_free(ctx);
    return st;
}

typedef struct { double *feat; int64_t d; } feat_out;

static nis_status copy_features(void *ud, int64_t first, int64_t b, const nis_tensor *feat, const nis_tensor *logits) {
    feat_out *o = ud;
    for (int64_t k = 0; k < b * o->d; k++) {
        if (!isfinite(feat->data[k])) return NIS_ENUMERIC;
        o->feat[first * o->d + k] = feat->data[k];
    }
    return NIS_OK;
}

nis_status nis_classifier_features(const nis_classifier *C, const float *x, int64_t n, int64_t batch,
                                   double *feat, char *err, size_t errlen) {
    feat_out o = {feat, C->cfg.features};
    return run_batches(C, x, n, batch, copy_features, &o, err, errlen);
}

typedef struct { double *probs; int classes; } prob_out;

/* softmax of each row of logits into probs (in double, stable) */
static nis_status copy_probs(void *ud, int64_t first, int64_t b, const nis_tensor *feat, const nis_tensor *logits) {
    prob_out *o = ud;
    for (int64_t i = 0; i < b; i++) {
        const nis_real *l = logits->data + i * o->classes;
        double *p = o->probs + (first + i) * o->classes, m = l[0], z = 0;
        for (int c = 1; c < o->classes; c++) m = l[c] > m ? l[c] : m;
        if (!isfinite(m)) return NIS_ENUMERIC;
        for (int c = 0; c < o->classes; c++) z += p[c] = exp((double)l[c] - m);
        for (int c = 0; c < o->classes; c++) p[c] /= z;
    }
    return NIS_OK;
}

nis_status nis_classifier_probs(const nis_classifier *C, const float *x, int64_t n, int64_t batch, double *probs,
                                char *err, size_t errlen) {
    prob_out o = {probs, C->cfg.classes};
    return run_batches(C, x, n, batch, copy_probs, &o, err, errlen);
}

typedef struct { const uint8_t *label; int64_t correct; int classes; } acc_out;

static nis_status count_correct(void *ud, int64_t first, int64_t b, const nis_tensor *feat, const nis_tensor *logits) {
    acc_out *o = ud;
    for (int64_t i = 0; i < b; i++) {
        const nis_real *l = logits->data + i * o->classes;
        int best = 0;
        for (int c = 1; c < o->classes; c++)
            if (l[c] > l[best]) best = c;
        o->correct += best == o->label[first + i];
    }
    return NIS_OK;
}

nis_status nis_classifier_check_images(const nis_classifier *C, const nis_images *im, const char *what,
                                        char *err, size_t errlen) {
    if (!im || im->n < 1 || !im->x || !im->label) {
        nis__set_err(err, errlen, "classifier: %s set is empty", what);
        return NIS_EINVAL;
    }
    if (im->c != C->cfg.in_c || im->h != C->cfg.in_h || im->w != C->cfg.in_w) {
        nis__set_err(err, errlen, "classifier: %s images are %dx%dx%d, the classifier takes %dx%dx%d", what, im->c, im->h,
                im->w, C->cfg.in_c, C->cfg.in_h, C->cfg.in_w);
        return NIS_ESHAPE;
    }
    for (int64_t i = 0; i < im->n; i++)
        if (im->label[i] >= C->cfg.classes) {
            nis__set_err(err, errlen, "classifier: %s label %" PRId64 " is %d (>= %d classes)", what, i, im->label[i],
                    C->cfg.classes);
            return NIS_EINVAL;
        }
    return NIS_OK;
}

nis_status nis_classifier_accuracy(const nis_classifier *C, const nis_images *im, double *accuracy, char *err,
                                   size_t errlen) {
    *accuracy = NAN;
    nis_status st = nis_classifier_check_images(C, im, "evaluation", err, errlen);
    if (st != NIS_OK) return st;
    acc_out o = {im->label, 0, C->cfg.classes};
    st = run_batches(C, im->x, im->n, 0, count_correct, &o, err, errlen);
    if (st == NIS_OK) *accuracy = (double)o.correct / (double)im->n;
    return st;
}

/* "a,b,c" of n ints into buf. */
static void ints_str(char *buf, size_t size, const int *v, int n) {
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at < size; i++) at += (size_t)snprintf(buf + at, size - at, i ? ",%d" : "%d", v[i]);
}

nis_status nis_classifier_save(const char *path, const nis_classifier *C, int n_meta, const char *const *meta_kv,
                               char *err, size_t errlen) {
    const nis_classifier_config *c = &C->cfg;
    char shape[64], ch[128], sd[128], feat[32], cls[32];
    snprintf(shape, sizeof shape, "%d,%d,%d", c->in_c, c->in_h, c->in_w);
    ints_str(ch, sizeof ch, c->channels, c->n_conv);
    ints_str(sd, sizeof sd, c->stride, c->n_conv);
    snprintf(feat, sizeof feat, "%d", c->features);
    snprintf(cls, sizeof cls, "%d", c->classes);
    const char *own[] = {"nis.model", "classifier", "classifier.input", shape, "classifier.channels", ch,
                         "classifier.strides", sd, "classifier.features", feat, "classifier.classes", cls};
    int n_own = (int)(sizeof own / sizeof own[0]) / 2;
    const char **kv = nis_calloc((size_t)(2 * (n_own + n_meta)), sizeof *kv);
    if (!kv) {
        nis__set_err(err, errlen, "%s: out of memory", path);
        return NIS_ENOMEM;
    }
    memcpy(kv, own, sizeof own);
    for (int i = 0; i < 2 * n_meta; i++) kv[2 * n_own + i] = meta_kv[i];
    nis_status st = nis_checkpoint_save(path, C->P, NULL, n_own + n_meta, kv, err, errlen);
    nis_free(kv);
    return st;
}

/* Parse "a,b,c" into at most max ints; count in *n.  false on anything else. */
static bool parse_ints(const char *s, int *v, int max, int *n) {
    *n = 0;
    if (!s || !*s) return false;
    for (;;) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s || x < -1000000 || x > 1000000 || *n >= max) return false;
        v[(*n)++] = (int)x;
        if (*end == 0) return true;
        if (*end != ',') return false;
        s = end + 1;
    }
}

nis_status nis_classifier_load(const char *path, nis_classifier *C, char *err, size_t errlen) {
    memset(C, 0, sizeof *C);
    nis_st_file *f = NULL;
    nis_status st = nis_st_read(path, &f, err, errlen);
    if (st != NIS_OK) return st;
    nis_classifier_config cfg = {0};
    int in[3], n_in = 0, n_st = 0, one = 0;
    const char *model = nis_st_meta(f, "nis.model");
    bool ok = model && !strcmp(model, "classifier");
    ok = ok && parse_ints(nis_st_meta(f, "classifier.input"), in, 3, &n_in) && n_in == 3;
    ok = ok && parse_ints(nis_st_meta(f, "classifier.channels"), cfg.channels, NIS_CLASSIFIER_MAX_CONV, &cfg.n_conv);
    ok = ok && parse_ints(nis_st_meta(f, "classifier.strides"), cfg.stride, NIS_CLASSIFIER_MAX_CONV, &n_st) &&
         n_st == cfg.n_conv;
    ok = ok && parse_ints(nis_st_meta(f, "classifier.features"), &cfg.features, 1, &one);
    ok = ok && parse_ints(nis_st_meta(f, "classifier.classes"), &cfg.classes, 1, &one);
    nis_st_close(f);
    if (!ok) {
        nis__set_err(err, errlen, "%s: not a classifier file (missing or bad classifier.* metadata)", path);
        return NIS_EFORMAT;
    }
    cfg.in_c = in[0], cfg.in_h = in[1], cfg.in_w = in[2];
    const char *why = config_problem(&cfg);
    if (why) {
        nis__set_err(err, errlen, "%s: bad classifier configuration: %s", path, why);
        return NIS_EFORMAT;
    }
    nis_rng rng = nis_rng_init(0, NIS_STREAM_INIT);
    nis_classifier c;
    st = nis_classifier_new(&c, &cfg, &rng, err, errlen);
    if (st != NIS_OK) return st;
    st = nis_checkpoint_load(path, c.P, NULL, err, errlen);
    if (st != NIS_OK) {
        nis_classifier_free(&c);
        return st;
    }
    *C = c;
    return NIS_OK;
}
