/* src/core/rng.c — Philox4x32-10 and the distributions drawn from it.
 *
 * Philox4x32 (Salmon et al. 2011, section 3.2): a round multiplies words 0 and 2 of the counter by the
 * constants M0, M1 into 64-bit products, and permutes/XORs the high and low halves with words 1, 3 and the
 * round key; the round key is bumped by the Weyl constants W0, W1 between rounds.  Ten rounds.
 */
#include "nis/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

/* Key tweak that separates nis_rng_split's hashing from the seed's own output blocks. */
#define SPLIT_TAG0 0x5EED5EEDu
#define SPLIT_TAG1 0x0C0FFEE0u

void nis_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * x0, p1 = (uint64_t)PHILOX_M1 * x2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        x0 = hi1 ^ x1 ^ k0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ k1;
        x3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

nis_rng nis_rng_init(uint64_t seed, uint64_t stream) {
    nis_rng r = {0};
    r.key[0] = (uint32_t)seed;
    r.key[1] = (uint32_t)(seed >> 32);
    r.ctr[2] = (uint32_t)stream;
    r.ctr[3] = (uint32_t)(stream >> 32);
    r.used = 4;
    return r;
}

nis_rng nis_rng_split(const nis_rng *r, uint64_t k) {
    const uint32_t ctr[4] = {(uint32_t)k, (uint32_t)(k >> 32), r->ctr[2], r->ctr[3]};
    const uint32_t key[2] = {r->key[0] ^ SPLIT_TAG0, r->key[1] ^ SPLIT_TAG1};
    uint32_t h[4];
    nis_philox4x32_10(ctr, key, h);
    return nis_rng_init((uint64_t)h[1] << 32 | h[0], (uint64_t)h[3] << 32 | h[2]);
}

uint32_t nis_rng_u32(nis_rng *r) {
    if (r->used == 4) {
        nis_philox4x32_10(r->ctr, r->key, r->block);
        if (++r->ctr[0] == 0) ++r->ctr[1]; /* 64-bit block index */
        r->used = 0;
    }
    return r->block[r->used++];
}

uint64_t nis_rng_u64(nis_rng *r) {
    uint64_t hi = nis_rng_u32(r);
    return hi << 32 | nis_rng_u32(r);
}

uint32_t nis_rng_below(nis_rng *r, uint32_t n) {
    /* Lemire (2019): the high word of x * n is uniform in [0, n) once the few low words < 2^32 mod n that
     * would bias it are rejected */
    if (n == 0) return 0;
    uint64_t m = (uint64_t)nis_rng_u32(r) * n;
    if ((uint32_t)m < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while ((uint32_t)m < t) m = (uint64_t)nis_rng_u32(r) * n;
    }
    return (uint32_t)(m >> 32);
}

double nis_rng_uniform(nis_rng *r) { return (double)(nis_rng_u64(r) >> 11) * 0x1.0p-53; }

double nis_rng_normal(nis_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = 1.0 - nis_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = nis_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

/* Marsaglia & Tsang (2000) for shape >= 1; shape < 1 via Gamma(shape + 1) U^(1/shape). */
double nis_rng_gamma(nis_rng *r, double shape) {
    if (!(shape > 0) || !isfinite(shape)) return NAN;
    if (shape < 1) {
        double u = nis_rng_uniform(r);
        return nis_rng_gamma(r, shape + 1) * pow(u > 0 ? u : 0x1p-53, 1 / shape);
    }
    const double d = shape - 1.0 / 3.0, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = nis_rng_normal(r), v = 1 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double u = nis_rng_uniform(r);
        if (u < 1 - 0.0331 * x * x * x * x) return d * v;
        if (u > 0 && log(u) < 0.5 * x * x + d * (1 - v + log(v))) return d * v;
    }
}

void nis_rng_skip_u32(nis_rng *r, uint64_t m) {
    if (m == 0) return;
    /* position of the next word in the stream: block ctr - 1 is the current one, `used` of its words gone */
    uint64_t next = (uint64_t)r->ctr[1] << 32 | r->ctr[0];
    uint64_t pos = next * 4 - 4 + r->used + m, blk = pos / 4;
    uint32_t off = (uint32_t)(pos % 4);
    r->ctr[0] = (uint32_t)blk, r->ctr[1] = (uint32_t)(blk >> 32);
    r->used = 4;
    if (off == 0) return;   /* at a block boundary: the next draw makes the block */
    nis_philox4x32_10(r->ctr, r->key, r->block);
    if (++r->ctr[0] == 0) ++r->ctr[1];
    r->used = off;
}

void nis_rng_skip_uniforms(nis_rng *r, uint64_t k) { nis_rng_skip_u32(r, 2 * k); }

void nis_rng_skip_normals(nis_rng *r, uint64_t k) {
    if (k > 0 && r->has_spare) r->has_spare = 0, k--;
    nis_rng_skip_uniforms(r, 2 * (k / 2));   /* whole Box-Muller pairs: two uniforms each */
    if (k % 2) (void)nis_rng_normal(r);      /* half a pair: draw it, its second value becomes the spare */
}

/* out: (n,) */
void nis_rng_fill_normal(nis_rng *r, nis_real *out, int64_t n, double mean, double std) {
    for (int64_t i = 0; i < n; i++) out[i] = (nis_real)(mean + std * nis_rng_normal(r));
}

/* out: (n,) */
void nis_rng_fill_uniform(nis_rng *r, nis_real *out, int64_t n, double lo, double hi) {
#ifdef NIS_REAL_DOUBLE
    const nis_real below_hi = nextafter((double)hi, -INFINITY);
#else
    const nis_real below_hi = nextafterf((float)hi, -INFINITY);
#endif
    for (int64_t i = 0; i < n; i++) {
        nis_real v = (nis_real)(lo + (hi - lo) * nis_rng_uniform(r));
        out[i] = v < (nis_real)hi ? v : below_hi;
    }
}
