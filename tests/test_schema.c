/* Configuration schemas (nis/schema.h) and the training configuration's (nis_train_schema): the defaults are the
 * documented ones; every field's text form parses back to the same value; bad text is refused with one line naming
 * the field (integers, finite reals, booleans, choices, ranges); nis_schema_check finds a value set out of range;
 * the rules between fields of nis_train_config_check; the energy trainer's schema gives its defaults. */
#include "check.h"
#include "nis/ebm_train.h"
#include "nis/train.h"

#include <math.h>
#include <string.h>

int main(void) {
    const nis_schema *s = nis_train_schema();
    char err[256], a[64], b[64];

    /* defaults: the schema's are nis_train_config_default's (DFT), which the docs state */
    nis_train_config c = nis_train_config_default(NIS_METHOD_DFT), d;
    memset(&d, 0, sizeof d);
    nis_schema_defaults(s, &d);
    CHECK(!memcmp(&c, &d, sizeof c), "schema defaults differ from nis_train_config_default");
    CHECK(c.iters == 3000 && c.batch == 256 && c.width == 64 && c.depth == 3 && c.lr == 1e-4 && c.lr_score == 1e-3 &&
              c.score_steps == 5 && c.sigma == 0.1 && c.antithetic && c.noisy_output && c.grad_clip == 10 &&
              c.init_scale == 2 && c.init_steps == 500 && c.ema == 0.999 && c.latent == 0 &&
              c.score_model == NIS_SCORE_AUTO && c.act == NIS_ACT_SILU && c.init_at_mode && !c.whiten,
          "documented defaults");
    CHECK(!nis_train_config_default(NIS_METHOD_FISHER).noisy_output, "Fisher has no noise");
    nis_train_config im = nis_train_config_image(NIS_METHOD_KL, 1, 28, 28);
    CHECK(im.net == NIS_NET_CONV && im.batch == 64 && im.latent == 64 && im.score_steps == 3 && im.init_scale == 0 &&
              im.img_h == 28 && im.sigmoid_output, "image defaults");

    /* text round trip of every field, on values away from the defaults */
    c.method = NIS_METHOD_KL, c.iters = 987654321, c.lr = 0.1 + 1e-17, c.sigma = 1.0 / 3, c.antithetic = false;
    c.act = NIS_ACT_TANH, c.score_model = NIS_SCORE_RESIDUAL, c.kl_weight = 2.5e-7, c.seed = 9000000000000000000LL;
    for (int i = 0; i < s->count; i++) {
        const nis_field *f = &s->fields[i];
        memset(&d, 0, sizeof d);
        nis_field_format(f, &c, a, sizeof a);
        CHECK(nis_field_parse(f, &d, a, err, sizeof err) == NIS_OK, "%s: '%s' does not parse: %s", f->name, a, err);
        nis_field_format(f, &d, b, sizeof b);
        CHECK(!strcmp(a, b), "%s: '%s' came back as '%s'", f->name, a, b);
    }
    CHECK(nis_schema_check(s, &c, err, sizeof err) == NIS_OK, "%s", err);

    /* bad text: one line naming the field; the value is left as it was */
    struct { const char *field, *text, *want; } bad[] = {
        {"iters", "ten", "iters: expected an integer"}, {"iters", "-1", "out of range"},
        {"lr", "nan", "lr: expected a finite number"}, {"lr", "2", "out of range"}, {"sigma", "1e-300", "out of range"},
        {"antithetic", "maybe", "expected true or false"}, {"method", "magic", "unknown method 'magic' (dft, kl, fisher)"},
        {"act", "gelu", "unknown act 'gelu'"}, {"batch", "12abc", "expected an integer"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const nis_field *f = nis_schema_find(s, bad[k].field);
        CHECK(f != NULL, "no field %s", bad[k].field);
        if (!f) continue;
        nis_train_config e = c;
        CHECK(nis_field_parse(f, &e, bad[k].text, err, sizeof err) == NIS_EINVAL && strstr(err, bad[k].want) &&
                  !strchr(err, '\n') && !memcmp(&e, &c, sizeof e),
              "%s = '%s': %s", bad[k].field, bad[k].text, err);
    }
    CHECK(nis_schema_find(s, "nope") == NULL, "an unknown field was found");

    /* nis_schema_check: a value set out of range, naming the schema and the field */
    nis_train_config e = nis_train_config_default(NIS_METHOD_DFT);
    e.batch = 1;
    CHECK(nis_schema_check(s, &e, err, sizeof err) == NIS_EINVAL && strstr(err, "train config: batch"), "%s", err);
    e = nis_train_config_default(NIS_METHOD_DFT);
    e.ema = INFINITY;
    CHECK(nis_schema_check(s, &e, err, sizeof err) == NIS_EINVAL && strstr(err, "ema"), "%s", err);

    /* the rules between fields */
    const nis_target *t = nis_target_2d("gauss");
    e = nis_train_config_default(NIS_METHOD_KL);
    e.kl_weight = 1;
    CHECK(nis_train_config_check(&e, t, err, sizeof err) == NIS_EINVAL && strstr(err, "kl_weight needs method dft"),
          "%s", err);
    e = nis_train_config_image(NIS_METHOD_FISHER, 1, 8, 8);
    CHECK(nis_train_config_check(&e, NULL, err, sizeof err) == NIS_EINVAL && strstr(err, "dft or kl"), "%s", err);
    e = nis_train_config_image(NIS_METHOD_DFT, 1, 8, 8);
    CHECK(nis_train_config_check(&e, t, err, sizeof err) == NIS_EINVAL && strstr(err, "dimension"), "%s", err);
    CHECK(nis_train_config_check(&e, NULL, err, sizeof err) == NIS_OK, "%s", err);
    e.img_w = 6;
    CHECK(nis_train_config_check(&e, NULL, err, sizeof err) == NIS_EINVAL && strstr(err, "multiples of 4"), "%s", err);
    e = nis_train_config_image(NIS_METHOD_DFT, 1, 8, 8);
    e.whiten = true;
    CHECK(nis_train_config_check(&e, NULL, err, sizeof err) == NIS_EINVAL && strstr(err, "MLP"), "%s", err);
    e = nis_train_config_default(NIS_METHOD_DFT);
    e.batch = 255;
    CHECK(nis_train_config_check(&e, t, err, sizeof err) == NIS_EINVAL && strstr(err, "even"), "%s", err);
    e.antithetic = false;
    CHECK(nis_train_config_check(&e, t, err, sizeof err) == NIS_OK, "an odd batch without antithetic noise: %s", err);

    /* the energy trainer's schema gives its documented defaults */
    nis_ebm_train_config tc = nis_ebm_train_defaults();
    CHECK(tc.batch == 64 && tc.buffer_size == 10000 && tc.langevin_steps == 40 && tc.reinit == 0.05 &&
              tc.alpha == 1 && tc.lr == 1e-4 && tc.beta1 == 0 && tc.clip == 1,
          "ebm train defaults");
    return check_done("test_schema");
}
