/* Checkpoints: parameters and Adam state round-trip bit-exactly; damaged or mismatched files are rejected
 * with a message and leave the model untouched; hostile bytes from a file (a tensor name, adam.step, the format
 * of a sampler or a training checkpoint) are quoted in one printable line. */
#include "check.h"
#include "nis/checkpoint.h"
#include "nis/train.h"

#include <string.h>
#include <unistd.h>

static nis_params *model(nis_mlp *m, int64_t hidden) {
    nis_params *P = nis_params_new();
    nis_mlp_add(m, P, "net", 3, (int64_t[]){2, hidden, 2}, NIS_ACT_SILU);
    nis_rng r = nis_rng_init(5, 0);
    if (nis_params_finalize(P) != NIS_OK || nis_params_init(P, &r) != NIS_OK) return NULL;
    return P;
}

int main(void) {
    char dir[] = "/tmp/nis-ckpt-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256], bad[256], err[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);

    /* a model after two Adam steps */
    nis_mlp m;
    nis_params *P = model(&m, 8);
    CHECK(P != NULL, "model");
    nis_adam opt = nis_adam_default(1e-2);
    for (int s = 0; s < 2; s++) {
        for (int64_t i = 0; i < P->n; i++) P->grad[i] = (nis_real)(0.01 * (i % 7) - 0.03);
        nis_adam_step(&opt, P);
    }
    const char *kv[] = {"target", "gauss", "note", "unit test"};
    CHECK(nis_checkpoint_save(path, P, &opt, 2, kv, err, sizeof err) == NIS_OK, "%s", err);

    /* round trip into a fresh model: values, moments and step identical to the bit */
    nis_mlp m2;
    nis_params *Q = model(&m2, 8);
    nis_adam opt2 = nis_adam_default(1e-2);
    CHECK(nis_checkpoint_load(path, Q, &opt2, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(memcmp(P->data, Q->data, (size_t)P->n * sizeof(nis_real)) == 0, "values differ");
    CHECK(Q->m && memcmp(P->m, Q->m, (size_t)P->n * sizeof(nis_real)) == 0, "first moments differ");
    CHECK(Q->v && memcmp(P->v, Q->v, (size_t)P->n * sizeof(nis_real)) == 0, "second moments differ");
    CHECK(opt2.step == 2, "step %lld", (long long)opt2.step);
    nis_st_file *f;
    CHECK(nis_st_read(path, &f, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(f && nis_st_meta(f, "target") && !strcmp(nis_st_meta(f, "target"), "gauss"), "metadata");
    nis_st_close(f);

    /* a model of another shape: rejected, naming the tensor; Q unchanged */
    nis_mlp m3;
    nis_params *R = model(&m3, 9);
    nis_real before = R->data[0];
    CHECK(nis_checkpoint_load(path, R, NULL, err, sizeof err) == NIS_ESHAPE, "shape mismatch accepted");
    CHECK(strstr(err, "net.fc1") != NULL, "message: %s", err);
    CHECK(R->data[0] == before, "a failed load changed the model");

    /* truncated file: rejected, model unchanged */
    FILE *in = fopen(path, "rb");
    char buf[1 << 16];
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (in) fclose(in);
    FILE *out = fopen(bad, "wb");
    if (out) {
        fwrite(buf, 1, n - 10, out);
        fclose(out);
    }
    memcpy(Q->data, P->data, (size_t)P->n * sizeof(nis_real));
    Q->data[3] += 1;
    nis_real keep = Q->data[3];
    CHECK(nis_checkpoint_load(bad, Q, NULL, err, sizeof err) == NIS_EFORMAT, "truncated file accepted");
    CHECK(strstr(err, bad) != NULL, "message names the file: %s", err);
    CHECK(Q->data[3] == keep, "a failed load changed the model");

    /* missing file */
    CHECK(nis_checkpoint_load("/nonexistent/x.safetensors", Q, NULL, err, sizeof err) == NIS_EIO, "missing file");

    /* hostile bytes: the saved tensors plus one named "\n ESC [31m", then adam.step "ESC [2J \r" */
    nis_st_file *g = NULL;
    CHECK(nis_st_read(path, &g, err, sizeof err) == NIS_OK, "%s", err);
    int ng = g ? nis_st_count(g) : 0;
    nis_st_entry es[16];
    CHECK(ng > 0 && ng < 16, "%d tensors", ng);
    for (int i = 0; i < ng && i < 15; i++) es[i] = *nis_st_get(g, i);
    float one = 1;
    es[ng] = (nis_st_entry){"\n\x1b[31m", NIS_DT_F32, 0, {0}, &one};
    CHECK(nis_st_write(bad, ng + 1, es, 0, NULL, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_checkpoint_load(bad, Q, NULL, err, sizeof err) == NIS_EFORMAT &&
              strstr(err, "unexpected tensor '\\x0a\\x1b[31m' (not a parameter") && check_clean_line(err),
          "hostile tensor name: %s", err);
    const char *step[] = {"adam.step", "\x1b[2J\r"};
    CHECK(nis_st_write(bad, ng, es, 1, step, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_checkpoint_load(bad, Q, &opt2, err, sizeof err) == NIS_EFORMAT &&
              strstr(err, "bad adam.step '\\x1b[2J\\x0d'") && check_clean_line(err), "hostile adam.step: %s", err);
    nis_st_close(g);
    /* a sampler's and a training checkpoint's format (the first metadata they check) */
    const char *fmt[] = {"format", "\x1b]0;pwned\x07\n\xc2\x9b"};
    CHECK(nis_st_write(bad, 0, NULL, 1, fmt, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_sampler_load(bad, err, sizeof err) == NULL &&
              strstr(err, "not a nis sampler (metadata 'format' is \\x1b]0;pwned\\x07\\x0a\\xc2\\x9b)") &&
              check_clean_line(err), "hostile sampler format: %s", err);
    CHECK(nis_trainer_resume(NULL, bad, err, sizeof err) == NULL &&
              strstr(err, "not a nis training checkpoint (metadata 'format' is \\x1b]0;pwned\\x07\\x0a\\xc2\\x9b)") &&
              check_clean_line(err), "hostile checkpoint format: %s", err);
    const char *net[] = {"format", "nis-sampler-1", "net", "\r\x7f"};
    CHECK(nis_st_write(bad, 0, NULL, 2, net, err, sizeof err) == NIS_OK, "%s", err);
    CHECK(nis_sampler_load(bad, err, sizeof err) == NULL && strstr(err, "metadata 'net' is '\\x0d\\x7f', not conv") &&
              check_clean_line(err), "hostile sampler net: %s", err);

    unlink(path);
    unlink(bad);
    rmdir(dir);
    nis_params_free(P);
    nis_params_free(Q);
    nis_params_free(R);
    return check_done("test_checkpoint");
}
