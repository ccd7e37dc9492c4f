/* src/targets/tempered.c — a tempered target q_β ∝ q^β N(0, I)^(1-β): a path from a standard normal (β = 0)
 * to q (β = 1), with the optional score and HVP present exactly when q's are. */
#include "nis/ops.h"
#include "nis/target.h"
#include "wrap.h"

static const nis_tempered_target *state(const nis_target *t) { return t->data; }

/* β log q(x) - (1 - β) |x|²/2: x (B, dim) -> (B,) */
static nis_tensor *tempered_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    const nis_tempered_target *s = state(t);
    nis_tensor *lp = s->inner->log_prob(c, s->inner, x);
    if (s->beta == 1) return lp;
    return nis_add(c, nis_mul_scalar(c, lp, s->beta),
                   nis_mul_scalar(c, nis_sum_axis(c, nis_square(c, x), 1, false), -0.5 * (1 - s->beta)));
}

/* β s_q(x) - (1 - β) x: x (B, dim) -> (B, dim) (only installed when q has a hand-written score) */
static nis_tensor *tempered_score(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    const nis_tempered_target *s = state(t);
    nis_tensor *g = s->inner->score(c, s->inner, x);
    if (s->beta == 1) return g;
    return nis_sub(c, nis_mul_scalar(c, g, s->beta), nis_mul_scalar(c, x, 1 - s->beta));
}

/* β H_q(x) v - (1 - β) v: x, v (B, dim) -> (B, dim) (only installed when q has a hand-written HVP) */
static nis_tensor *tempered_hvp(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    const nis_tempered_target *s = state(t);
    nis_tensor *h = s->inner->hvp(c, s->inner, x, v);
    if (s->beta == 1) return h;
    return nis_sub(c, nis_mul_scalar(c, h, s->beta), nis_mul_scalar(c, v, 1 - s->beta));
}

void nis_tempered_target_init(nis_tempered_target *tt, const nis_target *inner, double beta) {
    tt->inner = inner;
    tt->beta = beta;
    tt->target = nis__wrapped_target(inner, tt, tempered_lp, tempered_score, tempered_hvp);
}
