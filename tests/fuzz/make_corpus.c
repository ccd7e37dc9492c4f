/* tests/fuzz/make_corpus.c — writes the seed corpora of the fuzz targets: make_corpus DIR fills DIR/<target>/ with a
 * few small valid files, the binary ones written by the library's own writers (safetensors, .npy, checkpoints,
 * samplers, energies; config.json as `nis train` builds it).  Inputs of the targets that take an option byte first
 * (csv, arff, libsvm, idx) get it here.  The committed corpus is tests/fuzz/corpus (docs/fuzzing.md). */
#include "fuzz_models.h"
#include "cli/target_open.h"
#include "cli/util.h"
#include "nis/checkpoint.h"
#include "nis/ebm_train.h"
#include "nis/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *g_out;

/* DIR/target/name (the target's directory is created). */
static const char *out_path(const char *target, const char *name) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", g_out, target);
    mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/%s/%s", g_out, target, name);
    return buf;
}

/* Stop with a message when a library call failed. */
static void ok(nis_status st, const char *what, const char *err) {
    if (st == NIS_OK) return;
    fprintf(stderr, "make_corpus: %s: %s\n", what, err);
    exit(1);
}

/* Write the option byte `opt` (or none if opt < 0) and then text. */
static void text_seed(const char *target, const char *name, int opt, const char *text) {
    FILE *f = fopen(out_path(target, name), "wb");
    if (!f) {
        perror(name);
        exit(1);
    }
    if (opt >= 0) fputc(opt, f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

/* Write n bytes, after an option byte. */
static void bytes_seed(const char *target, const char *name, int opt, const unsigned char *b, size_t n) {
    FILE *f = fopen(out_path(target, name), "wb");
    if (!f || fputc(opt, f) == EOF || fwrite(b, 1, n, f) != n || fclose(f)) {
        perror(name);
        exit(1);
    }
}

static void safetensors_seeds(void) {
    char err[256] = "";
    const float a[6] = {1, 2, 3, 4, 5, 6}, c1[1] = {0.5f};
    const double b[3] = {1e-300, -2, 3};
    const int32_t i32[2] = {7, -8};
    const int64_t i64 = 1 << 20;
    const nis_st_entry e[] = {
        {.name = "c", .dtype = NIS_DT_F32, .ndim = 1, .shape = {1}, .data = c1},
        {.name = "b", .dtype = NIS_DT_F64, .ndim = 1, .shape = {3}, .data = b},   /* misaligned in the file */
        {.name = "a", .dtype = NIS_DT_F32, .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "i", .dtype = NIS_DT_I32, .ndim = 1, .shape = {2}, .data = i32},
        {.name = "l", .dtype = NIS_DT_I64, .ndim = 0, .data = &i64},
        {.name = "empty", .dtype = NIS_DT_F32, .ndim = 2, .shape = {0, 4}, .data = a}};
    const char *kv[] = {"format", "pt", "n", "42"};
    ok(nis_st_write(out_path("safetensors", "mixed.safetensors"), 6, e, 2, kv, err, sizeof err), "st", err);
    ok(nis_st_write(out_path("safetensors", "empty.safetensors"), 0, NULL, 0, NULL, err, sizeof err), "st", err);
}

static void npy_seeds(void) {
    char err[256] = "";
    const float f[6] = {1, -2, 3.5f, 0, 1e30f, -1e-30f};
    const double d[4] = {1, 2, 3, 4};
    ok(nis_npy_write(out_path("npy", "f32_2x3.npy"), NIS_DT_F32, 2, (const int64_t[]){2, 3}, f, err, sizeof err), "npy",
       err);
    ok(nis_npy_write(out_path("npy", "f64_4.npy"), NIS_DT_F64, 1, (const int64_t[]){4}, d, err, sizeof err), "npy",
       err);
    ok(nis_npy_write(out_path("npy", "scalar.npy"), NIS_DT_F64, 0, NULL, d, err, sizeof err), "npy", err);
    ok(nis_npy_write(out_path("npy", "empty_0x2.npy"), NIS_DT_F32, 2, (const int64_t[]){0, 2}, f, err, sizeof err),
       "npy", err);
    /* format 2.0 (4-byte header length), a Python 2 long and a trailing comma, written by hand */
    static const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }      \n";
    unsigned char b[12 + sizeof hdr - 1 + 12];
    memcpy(b, "\x93NUMPY\x02\x00", 8);
    uint32_t hl = sizeof hdr - 1;
    for (int k = 0; k < 4; k++) b[8 + k] = (unsigned char)(hl >> (8 * k));
    memcpy(b + 12, hdr, hl);
    memcpy(b + 12 + hl, f, 12);
    FILE *o = fopen(out_path("npy", "v2_f4_3.npy"), "wb");
    if (!o || fwrite(b, 1, sizeof b, o) != sizeof b || fclose(o)) exit(1);
}

/* Option bytes: see fuzz_data_opts in tests/fuzz/fuzz_data.h. */
static void text_table_seeds(void) {
    text_seed("csv", "basic.csv", 0x00, "x1,x2,y\n1,2,0\n3.5,-1e-3,1\n\n0.25,4,1\n");
    text_seed("csv", "quoted.csv", 0x0b, "\"a b\",\"c\"\"d\", y\n1,2,a\n3,4,b\r\n 5 , 6 ,\"a\"\n");
    text_seed("csv", "noheader_skip.csv", 0x31, "5 3\n1,0.5,2\n0,1.5,3\n1,-7,8\n");
    text_seed("arff", "nominal.arff", 0x00,
              "% a comment\n@relation r\n@attribute x numeric\n@attribute 'c c' {a, b}\n@attribute class {a,'b'}\n"
              "@data\n1.5,b,a\n-2,a,b\n% more\n0,'b',a\n");
    text_seed("arff", "numeric_class.arff", 0x05,
              "@RELATION r\n@ATTRIBUTE y integer\n@ATTRIBUTE x real\n@ATTRIBUTE z {u,v}\n@DATA\n1,2,u\n0,3e2,v\n");
    text_seed("libsvm", "pm1.libsvm", 0x00, "+1 1:0.5 3:-1\n-1 2:1e2 qid:3 # comment\n# only a comment\n0 1:1\n");
    text_seed("libsvm", "multiclass.libsvm", 0xcc, "2 1:1\n1 4:2 10:0.5\n3 2:-1\n");
    FILE *f = fopen(out_path("mnist_json", "one_digit.json"), "wb");
    if (!f) exit(1);
    fputs("{\"data\":[", f);
    for (int i = 0; i < 784; i++) fprintf(f, i ? ",%s" : "%s", i % 29 == 0 ? "1" : i % 7 == 0 ? "0.5" : "0");
    fputs("]}\n", f);
    fclose(f);
}

static void idx_seeds(void) {
    unsigned char img[16 + 12] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
    for (int i = 0; i < 12; i++) img[16 + i] = (unsigned char)(20 * i);
    const unsigned char lab[8 + 5] = {0, 0, 8, 1, 0, 0, 0, 5, 0, 1, 2, 9, 255};
    bytes_seed("idx", "images_3x2x2.idx", 0, img, sizeof img);
    bytes_seed("idx", "labels_5.idx", 0, lab, sizeof lab);
    bytes_seed("idx", "images_3x2x2.gz.idx", 1, img, sizeof img);   /* odd option byte: gzipped by the target */
}

static void config_seeds(void) {
    char err[256] = "";
    nis_train_config c = nis_train_config_default(NIS_METHOD_DFT);
    cJSON *j = cli_config_json(nis_train_schema(), NIS_SCOPE_MLP, &c);
    cJSON_AddStringToObject(j, "target", "gauss");
    cJSON_AddNumberToObject(j, "threads", 1);
    char *s = cJSON_PrintUnformatted(j);
    text_seed("config_json", "gauss.json", -1, s);
    cJSON_free(s);
    cli_blr_flags bf;
    cli_blr_flags_default(&bf);
    bf.data = "data/d.csv", bf.label = "y", bf.prior = "hier-nc", bf.minibatch = 4;
    cJSON_ReplaceItemInObject(j, "target", cJSON_CreateString("blr"));
    cJSON_AddItemToObject(j, "data", cli_blr_flags_json(&bf));
    s = cJSON_PrintUnformatted(j);
    text_seed("config_json", "blr.json", -1, s);
    cJSON_free(s);
    cJSON_Delete(j);
    (void)err;
}

/* A trainer for gauss with the small configuration, optionally whitened, after `steps` updates. */
static nis_trainer *small_trainer(bool precond, int steps) {
    static const nis_real m[2] = {0.5f, -1}, L[4] = {2, 0, 0.5f, 1};
    nis_train_start start = {.precond_mean = m, .precond_L = L};
    nis_train_config c = fuzz_small_train(NIS_METHOD_DFT);
    char err[256] = "";
    nis_trainer *tr = nis_trainer_new(nis_target_2d("gauss"), &c, precond ? &start : NULL, err, sizeof err);
    if (!tr) ok(NIS_EINVAL, "trainer", err);
    ok(nis_trainer_train(tr, steps, NULL, NULL), "train", nis_trainer_message(tr));
    return tr;
}

static void trainer_seeds(void) {
    for (int k = 0; k < 2; k++) {
        nis_trainer *tr = small_trainer(k == 1, 2);
        ok(nis_trainer_save(tr, out_path("sampler", k ? "precond.safetensors" : "mlp.safetensors")), "save",
           nis_trainer_message(tr));
        ok(nis_trainer_checkpoint(tr, out_path("trainer", k ? "precond.safetensors" : "dft.safetensors"), 0, NULL),
           "checkpoint", nis_trainer_message(tr));
        nis_trainer_free(tr);
    }
}

/* A conv sampler (the image generator) of 1x4x4 images for the tiny energy, untrained. */
static void conv_sampler_seed(void) {
    char err[256] = "";
    nis_ebm E;
    nis_ebm_config ec = fuzz_small_ebm();
    ok(nis_ebm_init(&E, &ec, 3, err, sizeof err), "ebm", err);
    nis_train_config c = nis_train_config_image(NIS_METHOD_DFT, 1, 4, 4);
    c.latent = 2, c.gen_channels = 2, c.score_channels = 1, c.batch = 2;
    nis_trainer *tr = nis_trainer_new(nis_ebm_target(&E), &c, NULL, err, sizeof err);
    if (!tr) ok(NIS_EINVAL, "conv trainer", err);
    ok(nis_trainer_save(tr, out_path("sampler", "conv.safetensors")), "save", nis_trainer_message(tr));
    nis_trainer_free(tr);
    nis_ebm_free(&E);
}

static void checkpoint_seeds(void) {
    char err[256] = "";
    nis_params *P = fuzz_small_mlp();
    nis_adam opt = nis_adam_default(1e-3);
    const char *kv[] = {"model", "mlp 2-4-3"};
    if (!P) exit(1);
    ok(nis_checkpoint_save(out_path("checkpoint", "plain.safetensors"), P, NULL, 1, kv, err, sizeof err), "ckpt", err);
    ok(nis_params_alloc_moments(P, true), "moments", "");
    for (int64_t i = 0; i < P->n; i++) P->m[i] = 0.01f * (nis_real)i, P->v[i] = 1e-4f;
    opt.step = 3;
    ok(nis_checkpoint_save(out_path("checkpoint", "adam.safetensors"), P, &opt, 1, kv, err, sizeof err), "ckpt", err);
    nis_params_free(P);
}

static void ebm_seeds(void) {
    char err[256] = "";
    nis_ebm E;
    nis_ebm_config c = fuzz_small_ebm();
    ok(nis_ebm_init(&E, &c, 3, err, sizeof err), "ebm", err);
    ok(nis_ebm_save(out_path("ebm", "energy.safetensors"), &E, 0, NULL, err, sizeof err), "ebm save", err);
    nis_ebm_train_config tc = nis_ebm_train_defaults();
    tc.batch = 2, tc.buffer_size = 3;
    nis_ebm_trainer T;
    ok(nis_ebm_trainer_init(&T, &E, &tc, 5, err, sizeof err), "ebm trainer", err);
    ok(nis_ebm_trainer_save(&T, out_path("ebm", "train_ckpt.safetensors"), err, sizeof err), "ebm ckpt", err);
    nis_ebm_trainer_free(&T);
    nis_ebm_free(&E);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    g_out = argv[1];
    mkdir(g_out, 0755);
    nis_set_threads(1);
    cli_init_json();
    safetensors_seeds();
    npy_seeds();
    text_table_seeds();
    idx_seeds();
    config_seeds();
    trainer_seeds();
    conv_sampler_seed();
    checkpoint_seeds();
    ebm_seeds();
    return 0;
}
