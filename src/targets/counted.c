/* src/targets/counted.c — a target that counts the rows it evaluates (the trainer's cost accounting), and the
 * report maps of targets whose coordinates are not the ones users read. */
#include "nis/blr.h"
#include "nis/target.h"
#include "wrap.h"

#include <string.h>

static nis_counted_target *state(const nis_target *t) { return t->data; }
static int64_t rows(const nis_tensor *x) { return x ? x->shape[0] : 0; }

/* log q, score, HVP of the inner target, each adding its batch size B to the count: x (B, dim) -> (B,), (B, dim) */
static nis_tensor *counted_lp(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    nis_counted_target *s = state(t);
    s->rows += rows(x);
    return s->inner->log_prob(c, s->inner, x);
}

static nis_tensor *counted_lp_at(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *lv) {
    nis_counted_target *s = state(t);
    s->rows += rows(x);
    return s->inner->log_prob_at(c, s->inner, x, lv);
}

static nis_tensor *counted_score(nis_ctx *c, const nis_target *t, nis_tensor *x) {
    nis_counted_target *s = state(t);
    s->rows += rows(x);
    return s->inner->score(c, s->inner, x);
}

static nis_tensor *counted_hvp(nis_ctx *c, const nis_target *t, nis_tensor *x, nis_tensor *v) {
    nis_counted_target *s = state(t);
    s->rows += rows(x);
    return s->inner->hvp(c, s->inner, x, v);
}

void nis_counted_target_init(nis_counted_target *ct, const nis_target *inner) {
    ct->inner = inner;
    ct->rows = 0;
    ct->target = nis__wrapped_target(inner, ct, counted_lp, counted_score, counted_hvp);
    ct->target.sample = inner->sample;
    ct->target.mode = inner->mode;
    ct->target.report = inner->report;
    ct->target.log_prob_at = inner->log_prob_at ? counted_lp_at : NULL;
    ct->target.level = inner->level;
}

void nis_target_report(const nis_target *t, nis_real *x, int64_t n) {
    if (t->report) t->report(t, x, n);
}

void (*nis_target_report_by_name(const char *name))(const nis_target *t, nis_real *x, int64_t n) {
    return name && !strcmp(name, "blr-nc") ? nis_blr_nc_report : NULL;
}
