/* Configuration schemas (nis/schema.h) and the training configuration's (nis_train_schema): the defaults are the
 * documented ones; every field's text form parses back to the same value; bad text is refused with one line naming
 * the field (integers, finite reals, booleans, choices, ranges), its bytes quoted by nis__quote (src/core/err.h:
 * control bytes and bad UTF-8 as \xNN, cut with "..."); nis_schema_check finds a value set out of range; the rules
 * between fields of nis_train_config_check; the energy trainer's schema gives its defaults. */
#include "check.h"
#include "core/err.h"
#include "nis/ebm_train.h"
#include "nis/train.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* nis__quote's escapes undone: "\\" -> '\\', "\xNN" -> the byte; the length into *n. */
static void unquote(const char *q, char *out, size_t *n) {
    size_t k = 0;
    while (*q) {
        unsigned v;
        if (q[0] == '\\' && q[1] == '\\') out[k++] = '\\', q += 2;
        else if (q[0] == '\\' && q[1] == 'x' && sscanf(q + 2, "%2x", &v) == 1) out[k++] = (char)v, q += 4;
        else out[k++] = *q++;
    }
    *n = k;
}

/* nis__quote: fixed cases, then random bytes (a round trip through unquote, a clean line, the size kept). */
static void test_quote(void) {
    char b[64];
    struct { const char *s; size_t n; const char *want; } cases[] = {
        {"abc", 3, "abc"},
        {"a\nb\tc\0d", 7, "a\\x0ab\\x09c\\x00d"},               /* controls, NUL included (n, not strlen) */
        {"x\r", 2, "x\\x0d"},                                         /* CR */
        {"\n\x1b[31m", 6, "\\x0a\\x1b[31m"},                          /* newline, ESC */
        {"\x7f", 1, "\\x7f"},                                          /* DEL */
        {"\xff", 1, "\\xff"},                                          /* never in UTF-8 */
        {"\x80z", 2, "\\x80z"},                                        /* a stray continuation byte */
        {"\xc0\xaf", 2, "\\xc0\\xaf"},                                 /* overlong '/' */
        {"\xe2\x82", 2, "\\xe2\\x82"},                                 /* a sequence cut short */
        {"\xed\xa0\x80", 3, "\\xed\\xa0\\x80"},                        /* a surrogate */
        {"\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80"},               /* above U+10FFFF */
        {"\xc2\x9b", 2, "\\xc2\\x9b"},                                 /* U+009B, a C1 control (CSI) */
        {"\xcf\x83 \xe2\x82\xac \xf0\x9f\x98\x80", 11, "\xcf\x83 \xe2\x82\xac \xf0\x9f\x98\x80"},   /* σ € 😀 */
        {"a\\b", 3, "a\\\\b"},                                        /* a backslash is doubled */
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *q = nis__quote(b, sizeof b, cases[i].s, cases[i].n);
        CHECK(q == b && !strcmp(q, cases[i].want) && check_clean_line(q), "case %zu: got '%s', want '%s'", i, q,
              cases[i].want);
    }
    CHECK(!strcmp(nis__quote(b, sizeof b, NULL, 0), ""), "NULL, 0");

    /* cut: at most cap - 1 bytes, whole characters and escapes, then "..." */
    struct { const char *s; size_t cap; const char *want; } cut[] = {
        {"abcdefg", 8, "abcdefg"},                  /* 7 bytes fit in 8 */
        {"abcdefgh", 8, "abcd..."},
        {"\xcf\x83\xcf\x83\xcf\x83\xcf\x83\xcf\x83", 8, "\xcf\x83\xcf\x83..."},    /* σσ..., not half a σ */
        {"\x01\x02\x03", 10, "\\x01..."},          /* never half an escape */
        {"\x01\x02", 9, "\\x01\\x02"},
        {"a\\b\\c", 6, "a..."},                    /* nor half a doubled backslash */
        {"abcdef", 3, ".."},
        {"abcdef", 1, ""},
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        const char *q = nis__quote(b, cut[i].cap, cut[i].s, strlen(cut[i].s));
        CHECK(!strcmp(q, cut[i].want) && strlen(q) < cut[i].cap, "cut %zu: got '%s', want '%s'", i, q, cut[i].want);
    }
    CHECK(!strcmp(nis__quote(b, 0, "abc", 3), "") && !strcmp(nis__quote(NULL, 8, "abc", 3), ""), "cap 0, NULL buf");

    /* random bytes (biased to controls, backslashes, UTF-8 lead bytes); capacities 4..65 (smaller: the cuts above) */
    static const unsigned char pick[] = {0, '\n', '\r', 0x1b, 0x7f, '\\', 'a', ' ', 0x80, 0xbf, 0xc2, 0xcf,
                                         0xe2, 0xed, 0xf0, 0xf4, 0xff, 0x83, 0x9b, 0xa0};
    char in[16], out[16 * 4 + 1], back[sizeof out];
    int bad = 0;
    test_seed(19);
    for (int it = 0; it < 20000; it++) {
        size_t n = (size_t)(test_uniform() * 16), cap = 4 + (size_t)(test_uniform() * (sizeof out - 3)), m;
        for (size_t i = 0; i < n; i++) in[i] = (char)pick[(size_t)(test_uniform() * sizeof pick)];
        const char *q = nis__quote(out, cap, in, n);
        size_t len = strlen(q), dots = 0;
        while (dots < len && q[len - 1 - dots] == '.') dots++;     /* pick holds no '.': dots mean a cut */
        bool ok = len < cap && check_clean_line(q) && (dots == 0 || dots == 3);
        memcpy(back, q, len - dots);
        back[len - dots] = '\0';
        unquote(back, back, &m);
        ok = ok && m <= n && !memcmp(back, in, m) && (dots ? cap < 4 * n + 1 : m == n);   /* cut only if short */
        if (!ok && bad++ < 5) fprintf(stderr, "random case %d: cap %zu, got '%s'\n", it, cap, q);
    }
    CHECK(bad == 0, "%d random cases failed", bad);
}

int main(void) {
    test_quote();
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
        {"sigma", "1e-400", "sigma: '1e-400' is outside a double's normal range"},   /* underflow: not "not finite" */
        {"lr", "1e400", "lr: '1e400' is outside a double's normal range"},
        {"antithetic", "maybe", "expected true or false"}, {"method", "magic", "unknown method 'magic' (dft, kl, fisher)"},
        {"act", "gelu", "unknown act 'gelu'"}, {"batch", "12abc", "expected an integer"},
        /* text read from a file (state_io.c's metadata) is quoted: one printable line */
        {"iters", "\x1b[31m\r\n", "iters: expected an integer, got '\\x1b[31m\\x0d\\x0a'"},
        {"iters", "\r\n-1", "iters: \\x0d\\x0a-1 is out of range"},      /* strtoll skips leading white space */
        {"lr", "0.1\xff", "got '0.1\\xff'"}, {"antithetic", "\x7f", "got '\\x7f'"},
        {"method", "\xc0\xaf\x1b", "unknown method '\\xc0\\xaf\\x1b' (dft, kl, fisher)"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const nis_field *f = nis_schema_find(s, bad[k].field);
        CHECK(f != NULL, "no field %s", bad[k].field);
        if (!f) continue;
        nis_train_config e = c;
        CHECK(nis_field_parse(f, &e, bad[k].text, err, sizeof err) == NIS_EINVAL && strstr(err, bad[k].want) &&
                  check_clean_line(err) && !memcmp(&e, &c, sizeof e),
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
