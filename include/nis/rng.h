/* nis/rng.h — a counter-based random number generator: Philox4x32-10 (Salmon, Moraes, Dror, Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
 *
 * A generator is keyed by (seed, stream).  Block i of the stream is philox(counter = (i, stream), key =
 * seed), four 32-bit words; draws consume those words in order.  Two generators with different (seed, stream)
 * produce unrelated sequences, and nis_rng_split derives child streams from a parent without touching it,
 * so every part of a program (init, data order, sampler noise, MCMC chains) can own a stream and stay
 * reproducible whatever the others do.
 *
 * The state is plain data (no pointers): copy it to fork a generator, save its fields in a checkpoint.
 */
#ifndef NIS_RNG_H
#define NIS_RNG_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t key[2];    /* the seed: key[0] low word, key[1] high word */
    uint32_t ctr[4];    /* ctr[0..1]: index of the next block (64-bit); ctr[2..3]: the stream (64-bit) */
    uint32_t block[4];  /* the current block of output words */
    uint32_t used;      /* words of `block` already consumed (4: none left, the next draw makes a block) */
    uint32_t has_spare; /* 1 if `spare` holds Box-Muller's second normal */
    double spare;
} nis_rng;

/* One Philox4x32-10 block: out = philox(ctr, key).  The bare function, for known-answer tests. */
void nis_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Every stream the library and the CLI draw from, named in one place: nis_rng_init(seed, NIS_STREAM_x).
 * Bit-identical reproduction rests on these numbers; never renumber one. */
enum {
    NIS_STREAM_INIT = 0,             /* network initialisation (sampler trainer, classifier, demo) */
    NIS_STREAM_TRAIN = 1,            /* the sampler trainer's noise (z, ε); the demo's data */
    NIS_STREAM_BROAD_START = 2,      /* the sampler's broad-start fit */
    NIS_STREAM_MCMC = 3,             /* nis mcmc's chains */
    NIS_STREAM_LANGEVIN = 5,         /* nis ebm langevin's chains */
    NIS_STREAM_SAMPLE = 7,           /* draws of a trained sampler (nis train's evaluation, nis sample, grids) */
    NIS_STREAM_PILOT = 11,           /* the whitening pilot's samples; nis ebm train's short-run picture */
    NIS_STREAM_GUARD = 13,           /* the sampler trainer's divergence guard: check t uses child t */
    NIS_STREAM_MONITOR = 17,         /* the sampler trainer's convergence monitor (the same draws at every check) */
    NIS_STREAM_EBM_INIT = 0xEB,      /* a fresh energy's weights */
    NIS_STREAM_EBM_BUFFER = 0xEBB0,  /* the replay buffer's initial noise */
    NIS_STREAM_EBM_STEP = 0xEBB1,    /* energy training: iteration t uses its child t */
    NIS_STREAM_CLASSIFIER = 0xC1A5,  /* the FID classifier's training */
    NIS_STREAM_FID = 0xF1D,          /* nis fid's subsets */
    NIS_STREAM_BLR = 0x626c72,       /* "blr": minibatch draws of the logistic-regression target */
    NIS_STREAM_EVAL = 0x6576616c,    /* "eval": exact reference draws of nis_evaluate */
    NIS_STREAM_SPLIT = 0x5B117,      /* the train/test split of a data set */
    NIS_STREAM_DATA_WEIGHTS = 0,     /* a synthetic data set's true weights (its own seed) */
    NIS_STREAM_DATA_ROWS = 1,        /* its rows: row i uses child i */
};

/* A generator at the start of stream `stream` of seed `seed`. */
nis_rng nis_rng_init(uint64_t seed, uint64_t stream);
/* Child k of r: a generator with its own (seed, stream), derived by hashing (r's seed, r's stream, k) with
 * Philox.  Depends only on r's key and stream, not on how far r has been drawn; r is not modified.
 * Different k (or different parents) give independent streams. */
nis_rng nis_rng_split(const nis_rng *r, uint64_t k);

/* Uniform 32-bit / 64-bit words. */
uint32_t nis_rng_u32(nis_rng *r);
uint64_t nis_rng_u64(nis_rng *r);
/* Uniform integer in [0, n) without modulo bias (Lemire's method); n = 0 gives 0 and draws nothing. */
uint32_t nis_rng_below(nis_rng *r, uint32_t n);
/* Uniform double in [0, 1) with 53 random bits (two words). */
double nis_rng_uniform(nis_rng *r);
/* Standard normal (Box-Muller on two uniforms; the second value is cached for the next call). */
double nis_rng_normal(nis_rng *r);
/* Gamma(shape, rate 1) (Marsaglia-Tsang; a variable number of normal and uniform draws).  NaN if shape is not
 * a finite number > 0. */
double nis_rng_gamma(nis_rng *r, double shape);

/* Skip ahead without drawing: r ends where m calls of nis_rng_u32 (k of nis_rng_uniform, k of nis_rng_normal)
 * would leave it, in O(1) (one Philox block at most).  A process that fills only its share [a, b) of a draw of n
 * values skips a, fills b - a and skips n - b, and its values are those of the whole draw's rows a..b-1: how the
 * ranks of a data-parallel run split one batch (nis/dist.h). */
void nis_rng_skip_u32(nis_rng *r, uint64_t m);
void nis_rng_skip_uniforms(nis_rng *r, uint64_t k);
void nis_rng_skip_normals(nis_rng *r, uint64_t k);

/* out[0..n) ~ N(mean, std^2), drawn in order with nis_rng_normal. */
void nis_rng_fill_normal(nis_rng *r, nis_real *out, int64_t n, double mean, double std);
/* out[0..n) ~ U[lo, hi) (lo < hi), drawn in order with nis_rng_uniform; values that round to hi in
 * nis_real are moved to the largest representable value below hi. */
void nis_rng_fill_uniform(nis_rng *r, nis_real *out, int64_t n, double lo, double hi);

#ifdef __cplusplus
}
#endif
#endif
