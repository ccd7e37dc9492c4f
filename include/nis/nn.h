/* nis/nn.h — parameters, layers, model builders, optimisers.
 *
 * Parameters.  A nis_params holds every parameter of a model in ONE flat buffer `data`, its gradient in one
 * flat `grad`, and the optimiser's moments in flat `m`, `v`, all 64-byte aligned.  Each named parameter is
 * a persistent leaf nis_tensor (a "view": requires_grad, data/grad pointing into the flat buffers, name
 * like "sampler.fc1.weight") that ops in any context can take as an input; nis_backward() accumulates into
 * its grad.  Life cycle: nis_params_new, declare every tensor (nis_params_add, or a layer / builder
 * function), nis_params_finalize (allocates and points the views), nis_params_init (draws the initial
 * values), then train; nis_params_free.
 *
 * Errors are sticky, as in a nis_ctx: a failing call sets the status and message of the nis_params; later
 * calls that can fail return that status at once, so a block of declarations is checked once (usually by
 * the return of nis_params_finalize).  nis_params_clear_error forgets the error.
 *
 * Checkpoints: a model is (names, shapes, data) from nis_params_at; optimiser state is P->m, P->v (n values
 * each, NULL before the first step) and the optimiser struct's `step`; an EMA is its `shadow` buffer.
 */
#ifndef NIS_NN_H
#define NIS_NN_H

#include "nis/core.h"
#include "nis/ops.h"
#include "nis/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Parameters
 */

/* How nis_params_init fills a parameter. */
typedef enum {
    NIS_INIT_ZERO = 0, /* 0 */
    NIS_INIT_CONST,    /* a */
    NIS_INIT_UNIFORM,  /* U[a, b) */
    NIS_INIT_NORMAL,   /* N(a, b^2) */
} nis_init_kind;

typedef struct {
    nis_init_kind kind;
    double a, b;
} nis_init;

/* One named parameter: its view, its offset in the flat buffers, its initialiser. */
typedef struct {
    nis_tensor t;   /* the persistent leaf; t.name is owned by the nis_params */
    int64_t offset; /* t.data == P->data + offset (after finalize) */
    nis_init init;
} nis_param;

/* Fields are read-only for users (write through data / views, never the pointers). */
typedef struct nis_params {
    nis_param *p;    /* count entries, in declaration order */
    int count, cap;  /* entries declared / allocated */
    int64_t n;       /* total number of scalars */
    nis_real *data;  /* (n,) values; NULL before finalize */
    nis_real *grad;  /* (n,) gradients, zeroed at finalize */
    nis_real *m, *v; /* (n,) optimiser moments (Adam: first/second, SGD: momentum in m); NULL until used */
    bool finalized;
    nis_status status;
    char msg[256];
    void *raw_data, *raw_m, *raw_v; /* the allocations behind the aligned pointers */
} nis_params;

/* A new empty set (NULL if out of memory).  Free with nis_params_free. */
nis_params *nis_params_new(void);
/* Free P, its buffers and names.  NULL is a no-op.  Tensors of P must no longer be used by any context. */
void nis_params_free(nis_params *P);

/* Declare a tensor of the given shape (ndim 0..NIS_MAX_DIMS) named `name` (copied; unique in P), before
 * finalize.  Its initialiser is zero until nis_params_set_init.  Returns its index, or -1 on error (status
 * set: duplicate name, bad shape, already finalized, out of memory, or P already in error). */
int nis_params_add(nis_params *P, const char *name, int ndim, const int64_t *shape);
/* Set the initialiser of parameter i (before or after finalize). */
nis_status nis_params_set_init(nis_params *P, int i, nis_init init);
/* Allocate data and grad (zeroed, 64-byte aligned; a set with no parameters is allowed) and point the
 * views at them.  No more nis_params_add afterwards.  Returns the status (sticky errors included). */
nis_status nis_params_finalize(nis_params *P);
/* Allocate the optimiser moments m (and v if `both`), zeroed; no-op if present.  Optimisers call this. */
nis_status nis_params_alloc_moments(nis_params *P, bool both);

/* Draw every parameter from its initialiser, in declaration order; parameter i uses the child stream
 * nis_rng_split(rng, FNV-1a hash of its name), so its values depend only on (rng's seed and stream, its
 * name, its shape, its initialiser), not on the other parameters.  rng is not advanced.  After finalize. */
nis_status nis_params_init(nis_params *P, const nis_rng *rng);

/* The view named `name` / with index i, or NULL (unknown name, bad index, or not finalized). */
nis_tensor *nis_params_get(const nis_params *P, const char *name);
nis_tensor *nis_params_at(const nis_params *P, int i);
/* Index of `name`, or -1. */
int nis_params_find(const nis_params *P, const char *name);
/* Number of named tensors / of scalars. */
int nis_params_count(const nis_params *P);
int64_t nis_params_numel(const nis_params *P);

/* grad := 0 (all n values). */
void nis_params_zero_grad(nis_params *P);
/* Set requires_grad of every view (false freezes the model: gradients stop flowing into its grad). */
void nis_params_set_requires_grad(nis_params *P, bool on);
/* Copy the values (not grads or moments) of src into P; same names and shapes in the same order. */
nis_status nis_params_copy_data(nis_params *P, const nis_params *src);

/* Status and message of the last error (NIS_OK and "" if none). */
nis_status nis_params_status(const nis_params *P);
const char *nis_params_message(const nis_params *P);
/* Set the sticky error (keeps the first one); returns s.  For library code working on P. */
nis_status nis_params_fail(nis_params *P, nis_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nis_params_clear_error(nis_params *P);

/* ---------------------------------------------------------------------------------------------------------
 * Layers.  Each is a small struct holding its parameters' indices in P and its hyper-parameters.  The
 * _add functions declare the parameters "<prefix>.weight" and "<prefix>.bias" into P (before finalize) with
 * PyTorch's default initialisers: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform
 * with a = sqrt(5) gives the same bound for the weight).  The _forward functions run after finalize and
 * return NULL with the context's error set on a shape mismatch.
 */

typedef struct {
    nis_params *P;
    int w, b; /* indices of weight (out, in) and bias (out,) (b = -1: no bias) */
    int64_t in, out;
} nis_linear_layer;

typedef struct {
    nis_params *P;
    int w, b; /* weight (cout, cin, k, k), bias (cout,) or -1 */
    int64_t cin, cout;
    int k, stride, pad;
} nis_conv2d_layer;

typedef struct {
    nis_params *P;
    int w, b; /* weight (cin, cout, k, k) (PyTorch's layout), bias (cout,) or -1 */
    int64_t cin, cout;
    int k, stride, pad, out_pad;
} nis_convt2d_layer;

/* Linear: fan_in = in.  forward x: (B, in) -> (B, out). */
nis_status nis_linear_layer_add(nis_linear_layer *L, nis_params *P, const char *prefix, int64_t in,
                                int64_t out, bool bias);
nis_tensor *nis_linear_layer_forward(nis_ctx *ctx, const nis_linear_layer *L, nis_tensor *x);

/* Conv2d: fan_in = cin k k.  forward x: (N, cin, H, W) -> (N, cout, (H + 2 pad - k) / stride + 1, ...). */
nis_status nis_conv2d_layer_add(nis_conv2d_layer *L, nis_params *P, const char *prefix, int64_t cin,
                                int64_t cout, int k, int stride, int pad, bool bias);
nis_tensor *nis_conv2d_layer_forward(nis_ctx *ctx, const nis_conv2d_layer *L, nis_tensor *x);

/* ConvTranspose2d: fan_in = cout k k (PyTorch computes it from weight.size(1)).
 * forward x: (N, cin, H, W) -> (N, cout, (H - 1) stride - 2 pad + k + out_pad, ...). */
nis_status nis_convt2d_layer_add(nis_convt2d_layer *L, nis_params *P, const char *prefix, int64_t cin,
                                 int64_t cout, int k, int stride, int pad, int out_pad, bool bias);
nis_tensor *nis_convt2d_layer_forward(nis_ctx *ctx, const nis_convt2d_layer *L, nis_tensor *x);

/* PyTorch's default bound 1/sqrt(fan_in) (0 if fan_in is 0). */
double nis_default_init_bound(int64_t fan_in);

/* ---------------------------------------------------------------------------------------------------------
 * Activations and builders
 */

typedef enum {
    NIS_ACT_NONE = 0,
    NIS_ACT_RELU,
    NIS_ACT_SILU,
    NIS_ACT_TANH,
    NIS_ACT_SOFTPLUS,
    NIS_ACT_ELU,        /* alpha = 1 (PyTorch's default) */
    NIS_ACT_LEAKY_RELU, /* slope = 0.01 (PyTorch's default) */
} nis_act;

/* act(x), shape preserved; NIS_ACT_NONE returns x itself. */
nis_tensor *nis_activation(nis_ctx *ctx, nis_act act, nis_tensor *x);
/* "none", "relu", "silu", "tanh", "softplus", "elu", "leaky_relu". */
const char *nis_act_name(nis_act act);
/* Parse one of the names above; false if unknown. */
bool nis_act_parse(const char *name, nis_act *out);
/* The names above in enum order, NULL-terminated (static). */
const char *const *nis_act_names(void);

#define NIS_MLP_MAX_LAYERS 16

/* Linear, act, Linear, act, ..., Linear (no activation after the last). */
typedef struct {
    int n_layers;
    nis_act act;
    nis_linear_layer layer[NIS_MLP_MAX_LAYERS];
} nis_mlp;

/* Declare an MLP with n_widths widths (2 .. NIS_MLP_MAX_LAYERS + 1), e.g. {2, 256, 256, 2}: layers
 * "<prefix>.fc1" ... "<prefix>.fc<n_widths-1>", each with a bias. */
nis_status nis_mlp_add(nis_mlp *M, nis_params *P, const char *prefix, int n_widths, const int64_t *widths,
                       nis_act act);
/* x: (B, widths[0]) -> (B, widths[n_widths-1]). */
nis_tensor *nis_mlp_forward(nis_ctx *ctx, const nis_mlp *M, nis_tensor *x);

#define NIS_CONVNET_MAX_LAYERS 8

/* One layer of a conv net: output channels, square kernel, stride, padding; out_pad: transposed only. */
typedef struct {
    int channels, kernel, stride, pad, out_pad;
} nis_conv_spec;

/* conv, act, conv, act, ..., flatten, [Linear hidden, act,] Linear head.  E.g. an MNIST energy / classifier:
 * 1x28x28 -> conv 32 3x3 s1 p1 -> act -> conv 64 3x3 s2 p1 -> act -> conv 64 3x3 s2 p1 -> act -> flatten
 * -> linear out. */
typedef struct {
    int n_conv;
    nis_act act;
    nis_conv2d_layer conv[NIS_CONVNET_MAX_LAYERS];
    nis_linear_layer hidden;     /* with hidden_units > 0: flattened features -> hidden_units, then act */
    nis_linear_layer head;
    nis_linear_layer cond[NIS_CONVNET_MAX_LAYERS + 1]; /* with conditioning: cond (B, k) -> a shift per channel
                                                          (and one for the hidden layer) */
    int64_t hidden_units;        /* 0: the head reads the flattened features directly */
    int64_t cond_features;       /* k (0: no conditioning input) */
    int64_t in_c, in_h, in_w;    /* input image shape */
    int64_t out_c, out_h, out_w; /* shape after the last conv (flattened into the head) */
} nis_convnet;

/* Declare a conv net on (in_c, in_h, in_w) images: "<prefix>.conv1" ... "<prefix>.conv<n_conv>" (with
 * biases), with hidden > 0 "<prefix>.hidden" (Linear out_c*out_h*out_w -> hidden, then the activation: a
 * nonlinear head, whose units combine features from every position) and "<prefix>.head" (Linear to
 * out_features from the hidden units, or from the flattened features when hidden is 0).  n_conv in 0..8,
 * hidden in 0..65536. */
nis_status nis_convnet_add(nis_convnet *N, nis_params *P, const char *prefix, int64_t in_c, int64_t in_h,
                           int64_t in_w, int n_conv, const nis_conv_spec *convs, nis_act act, int64_t hidden,
                           int64_t out_features);
/* x: (B, in_c, in_h, in_w) or (B, in_c*in_h*in_w) -> (B, out_features).  ESHAPE for a conditioned net. */
nis_tensor *nis_convnet_forward(nis_ctx *ctx, const nis_convnet *N, nis_tensor *x);
/* Give N a conditioning input of k features (after nis_convnet_add, before finalizing P): "<prefix>.cond1" ...
 * "<prefix>.cond<n_conv>", Linear k -> that conv's channels without bias, whose output is added to the conv's
 * output per image and channel before the activation (a FiLM shift; Perez et al. 2018), and with a hidden layer
 * "<prefix>.cond<n_conv+1>", the same for its units.  k in 1..1024. */
nis_status nis_convnet_add_cond(nis_convnet *N, nis_params *P, const char *prefix, int64_t k);
/* x as in nis_convnet_forward, cond (B, k) the conditioning features (constants: no gradient flows to them)
 * -> (B, out_features).  cond must be NULL exactly when N has no conditioning input (ESHAPE otherwise). */
nis_tensor *nis_convnet_forward_cond(nis_ctx *ctx, const nis_convnet *N, nis_tensor *x, nis_tensor *cond);

/* A generator: Linear z -> (c0, h0, w0), act, convT, act, ..., convT (no activation after the last, so
 * the caller chooses the output map, e.g. sigmoid).  E.g. z(32) -> 64x7x7 -> convT 32 4x4 s2 p1 (14x14)
 * -> act -> convT 1 4x4 s2 p1 (28x28). */
typedef struct {
    int n_convt;
    nis_act act;
    nis_linear_layer stem;
    nis_convt2d_layer convt[NIS_CONVNET_MAX_LAYERS];
    int64_t c0, h0, w0;
    int64_t out_c, out_h, out_w;
} nis_deconvnet;

/* Declare "<prefix>.stem" (Linear in_features -> c0*h0*w0) and "<prefix>.convt1" ... (with biases). */
nis_status nis_deconvnet_add(nis_deconvnet *G, nis_params *P, const char *prefix, int64_t in_features,
                             int64_t c0, int64_t h0, int64_t w0, int n_convt, const nis_conv_spec *convts,
                             nis_act act);
/* z: (B, in_features) -> (B, out_c, out_h, out_w). */
nis_tensor *nis_deconvnet_forward(nis_ctx *ctx, const nis_deconvnet *G, nis_tensor *z);

/* The image generator of the one-step samplers: z (B, L) -> Linear -> (C, H/4, W/4) -> act -> convT C/2 4x4 s2
 * p1 -> act -> convT c 4x4 s2 p1, then with `sigmoid` a sigmoid (pixels in (0, 1), the support image energies are
 * trained on; with a linear output a KL sampler escaped to values in [-8, 5] where an MNIST energy is lower than on
 * any digit).  H and W divisible by 4; C = ch >= 2.  Parameters "<prefix>.stem", "<prefix>.convt1",
 * "<prefix>.convt2". */
typedef struct {
    nis_deconvnet net;
    bool sigmoid;
} nis_imggen;
nis_status nis_imggen_add(nis_imggen *G, nis_params *P, const char *prefix, int latent, int ch, int c, int h, int w,
                          nis_act act, bool sigmoid);
/* z (B, L) -> x (B, c*h*w), flattened. */
nis_tensor *nis_imggen_forward(nis_ctx *ctx, const nis_imggen *G, nis_tensor *z);

/* A U-Net-lite for images (c, h, w), h and w divisible by 4, S channels at full resolution:
 *   x -> conv S 3x3 -> act (h1) -> conv 2S 4x4 s2 -> act (h2, /2) -> conv 2S 4x4 s2 -> act (/4)
 *     -> convT 2S 4x4 s2, + h2, act -> convT S 4x4 s2, + h1, act -> conv c 3x3;
 * the additive skips keep the full-resolution detail that predicting noise needs.  `pooled` resamples without
 * strides: each down is 2x2 average pooling then a 3x3 conv, each up nearest-neighbour upsampling by 2 then a 3x3
 * conv, so neither the map nor its input-gradient has a stride's period-2 pattern built in (a strided conv's
 * adjoint, a transposed conv, paints every other pixel with other weights).  Parameters "<prefix>.in", ".down1",
 * ".down2", ".up1", ".up2", ".out". */
typedef struct {
    nis_act act;
    int64_t c, h, w;
    bool pooled;
    nis_conv2d_layer in, down1, down2, out;
    nis_convt2d_layer up1, up2;                   /* strided */
    nis_conv2d_layer up1c, up2c;                  /* pooled */
} nis_unet;
nis_status nis_unet_add(nis_unet *U, nis_params *P, const char *prefix, int S, int c, int h, int w, nis_act act,
                        bool pooled);
/* x (B, c*h*w) -> (B, c*h*w). */
nis_tensor *nis_unet_forward(nis_ctx *ctx, const nis_unet *U, nis_tensor *x);

/* ---------------------------------------------------------------------------------------------------------
 * Optimisers.  Each is a plain struct (hyper-parameters + step count) working on a whole nis_params with
 * one loop over the flat buffers; the moments live in P->m, P->v (allocated at the first step, which is
 * the only step that allocates).  Step functions return the status (also recorded in P).
 */

/* torch.optim.Adam (amsgrad off):  g = grad + weight_decay p;  m = b1 m + (1 - b1) g;
 * v = b2 v + (1 - b2) g^2;  p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * With decoupled set it is torch.optim.AdamW instead: p *= 1 - lr weight_decay, and g = grad. */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    bool decoupled;
    int64_t step; /* steps taken (t of the last step) */
} nis_adam;

/* PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
nis_adam nis_adam_default(double lr);
nis_status nis_adam_step(nis_adam *opt, nis_params *P);

/* torch.optim.SGD:  g = grad + weight_decay p;  with momentum: buf = g at the first step, else
 * buf = momentum buf + (1 - dampening) g, and g = nesterov ? g + momentum buf : buf;  p -= lr g.
 * Nesterov needs momentum > 0 and dampening = 0 (EINVAL otherwise). */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
    int64_t step;
} nis_sgd;

nis_sgd nis_sgd_default(double lr); /* plain SGD: no momentum, dampening, weight decay */
nis_status nis_sgd_step(nis_sgd *opt, nis_params *P);

/* torch.nn.utils.clip_grad_norm_: the 2-norm of all of P's gradients (summed in double, in a fixed order
 * whatever the thread count); grads *= c where c = max_norm / (norm + 1e-6) < 1, else unchanged.  Returns
 * the norm before clipping.  A non-finite norm leaves the grads unchanged (the caller may skip the step). */
double nis_clip_grad_norm(nis_params *P, double max_norm);
/* The 2-norm of all gradients (no clipping). */
double nis_grad_norm(const nis_params *P);

/* Exponential moving average of a parameter set: shadow = decay shadow + (1 - decay) p. */
typedef struct {
    nis_real *shadow; /* (n,) the averaged values, 64-byte aligned */
    int64_t n;
    double decay;
    int64_t updates;
    void *raw;
} nis_ema;

/* shadow := a copy of P's values.  Returns the status (error recorded in P). */
nis_status nis_ema_init(nis_ema *E, nis_params *P, double decay);
void nis_ema_free(nis_ema *E);
/* shadow = decay shadow + (1 - decay) P->data. */
nis_status nis_ema_update(nis_ema *E, nis_params *P);
/* P->data := shadow (evaluate with the averaged weights; P's own values are lost). */
nis_status nis_ema_copy_to(const nis_ema *E, nis_params *P);
/* Exchange shadow and P->data: swap, evaluate, swap back. */
nis_status nis_ema_swap(nis_ema *E, nis_params *P);
/* nis_ema_update with the decay warmed up as min(decay, (1 + t) / (10 + t)), t = E->updates (TensorFlow's
 * num_updates rule), so that the first iterates (a random or broad start) fade out early.  Sets E->decay. */
nis_status nis_ema_update_warm(nis_ema *E, nis_params *P, double decay);

#ifdef __cplusplus
}
#endif
#endif
