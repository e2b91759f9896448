/*
 * The C ABI (voxenc.h) as a C program uses it: against the reference's output, bit for bit against the CLI, on every
 * error path, and from 4 threads on one model handle. Built and run by Tests/bindings/run.sh (CI), which passes:
 *   argv[1] the repository root, argv[2] the CLI's output for the speech fixture (`voxenc embed … -o X.npy`),
 *   argv[3] the CLI's encoder-only output for the same file, argv[4] a scratch directory.
 * Prints one line per check and a closing count; exits 1 if any check failed.
 */
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxenc.h"
#include "test_support.h"

/* End to end from a file against transformers' get_audio_features: the bound of the Swift CLI tests
 * (EmbedCommandTests.endToEndRelativeL2: float32 front end and encoder, measured ≈ 1e-6). */
static const double END_TO_END_RELATIVE_L2 = 1e-4;

/* ---- 4 threads on one handle ---- */

struct worker {
    voxenc_model *model;
    const char *path;
    const float *expected;
    long rows, width;
    int identical;
};

static void *work(void *argument) {
    struct worker *w = argument;
    w->identical = 1;
    for (int i = 0; i < 3; i++) {
        voxenc_error *error = NULL;
        voxenc_result *r = voxenc_embed_file(w->model, w->path, &error);
        w->identical &= same_bits(r, w->expected, w->rows, w->width);
        voxenc_result_free(r);
        voxenc_error_free(error);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s REPO CLI_ADAPTER.npy CLI_ENCODER.npy SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    const char *repo = argv[1], *scratch = argv[4];
    char *voxtral = join(repo, "Tests/Fixtures/encoder/voxtral-tiny-hf");
    char *whisper = join(repo, "Tests/Fixtures/encoder/whisper-tiny-hf");
    char *speech = join(repo, "Tests/Fixtures/audio/speech-16k.wav");
    char *reference_path = join(repo, "Tests/Fixtures/encoder/reference-voxtral-speech.safetensors");

    /* Library */
    printf("voxenc %s, build: %s\n", voxenc_version(), voxenc_build_info());
    check(strstr(voxenc_build_info(), "\"abi\":2") != NULL && strstr(voxenc_build_info(), "\"f32\"") != NULL,
          "build info names the ABI version and the f32 precision", NULL);

    voxenc_options options;
    voxenc_options_init(&options);
    options.threads = 2;
    voxenc_error *error = NULL;
    voxenc_model *model = voxenc_model_load(voxtral, &options, &error);
    check(model != NULL, "loads the tiny Voxtral fixture", error ? voxenc_error_message(error) : NULL);
    if (!model) return 1;
    printf("model: %s\n", voxenc_model_describe(model));

    /* From a file: the reference's values, and the CLI's bits */
    long ref_count = 0, cli_rows = 0, cli_width = 0, enc_rows = 0, enc_width = 0;
    float *reference = read_tensor(reference_path, "speech.adapter", &ref_count);
    float *cli = read_npy(argv[2], &cli_rows, &cli_width);
    float *cli_encoder = read_npy(argv[3], &enc_rows, &enc_width);
    check(reference && cli && cli_encoder, "reads the reference fixture and the CLI's outputs", NULL);
    if (!reference || !cli || !cli_encoder) return 1;
    voxenc_result *file = voxenc_embed_file(model, speech, &error);
    check(file != NULL, "voxenc_embed_file", error ? voxenc_error_message(error) : NULL);
    if (!file) return 1;
    char detail[256];
    snprintf(detail, sizeof detail, "[%lld, %lld] %s at %.2f Hz, %lld valid rows, %lld chunk(s), %.4f s, %s",
             (long long)file->rows, (long long)file->width, file->kind, file->frame_rate, (long long)file->valid_rows,
             (long long)file->chunks, file->duration_s, file->precision);
    check(file->rows == 375 && file->width == 96 && file->frame_rate == 12.5 && file->chunks == 1 &&
          strcmp(file->kind, "adapter") == 0 && strcmp(file->precision, "f32") == 0 &&
          file->valid_rows == (long long)ceil(93388.0 / 16000 * 12.5) && fabs(file->duration_s - 93388.0 / 16000) < 1e-9,
          "shape and metadata (375 × 96 at 12.5 Hz, valid rows from the duration 93388 / 16000 s)", detail);
    double error_l2 = ref_count == file->rows * file->width ? relative_l2(file->data, reference, ref_count) : INFINITY;
    snprintf(detail, sizeof detail, "relative L2 %.3g (bound %.0e)", error_l2, END_TO_END_RELATIVE_L2);
    check(error_l2 <= END_TO_END_RELATIVE_L2, "matches transformers' get_audio_features on the speech fixture", detail);
    check(same_bits(file, cli, cli_rows, cli_width), "bit for bit the CLI's .npy (voxenc embed -o)", NULL);

    /* From bytes in memory */
    size_t size;
    unsigned char *bytes = read_file(speech, &size);
    voxenc_result *from_bytes = voxenc_embed_bytes(model, bytes, size, "speech-16k.wav", &error);
    check(same_bits(from_bytes, cli, cli_rows, cli_width), "voxenc_embed_bytes: bit for bit the CLI's", NULL);
    voxenc_result_free(from_bytes);

    /* From samples (libsndfile's float read, what voxenc decodes: 16 kHz mono) */
    SF_INFO info = {0};
    SNDFILE *sound = sf_open(speech, SFM_READ, &info);
    float *samples = malloc(info.frames * sizeof(float));
    sf_count_t frames = sf_readf_float(sound, samples, info.frames);
    sf_close(sound);
    voxenc_result *from_samples = voxenc_embed_samples(model, samples, frames, info.samplerate, &error);
    check(same_bits(from_samples, cli, cli_rows, cli_width), "voxenc_embed_samples: bit for bit the CLI's", NULL);
    voxenc_result_free(from_samples);

    /* options.dtype "float16": the CLI's float32 rows converted by the C compiler's own float → _Float16 (IEEE
       round to nearest even), bit for bit; `data` is NULL and `values` holds the halves. An unknown dtype: 64. */
    voxenc_options half_options = options;
    half_options.dtype = "float16";
    voxenc_model *half_model = voxenc_model_load(voxtral, &half_options, &error);
    voxenc_result *half = half_model ? voxenc_embed_file(half_model, speech, &error) : NULL;
    int half_same = half && half->data == NULL && strcmp(half->dtype, "float16") == 0 && half->rows == cli_rows &&
                    half->width == cli_width;
    for (long i = 0; half_same && i < cli_rows * cli_width; i++) {
        _Float16 expected = (_Float16)cli[i];
        half_same = memcmp((const uint16_t *)half->values + i, &expected, 2) == 0;
    }
    check(half_same, "options.dtype float16: the compiler's float → _Float16 of the CLI's rows, bit for bit", NULL);
    voxenc_result_free(half);
    voxenc_model_free(half_model);
    half_options.dtype = "float8";
    voxenc_error *dtype_error = NULL;
    check(voxenc_model_load(voxtral, &half_options, &dtype_error) == NULL && voxenc_error_code(dtype_error) == VOXENC_ERROR_USAGE,
          "an unknown options.dtype is a usage error (64)", dtype_error ? voxenc_error_message(dtype_error) : NULL);
    voxenc_error_free(dtype_error);

    /* Stages: mel → encoder → adapter gives the same bits; the encoder states are the CLI's --encoder-only */
    voxenc_result *mel = voxenc_mel(model, samples, frames, info.samplerate, &error);
    check(mel && mel->rows == 128 && mel->width == 3000 && mel->chunks == 1 && strcmp(mel->kind, "mel") == 0,
          "voxenc_mel: [128, 3000], 1 chunk", NULL);
    voxenc_result *states = mel ? voxenc_encode(model, mel->data, mel->chunks, &error) : NULL;
    check(same_bits(states, cli_encoder, enc_rows, enc_width), "voxenc_encode: bit for bit the CLI's --encoder-only", NULL);
    voxenc_result *adapted = states ? voxenc_adapt(model, states->data, states->rows, &error) : NULL;
    check(same_bits(adapted, cli, cli_rows, cli_width), "voxenc_adapt: bit for bit the CLI's", NULL);
    voxenc_result_free(adapted);
    voxenc_result_free(mel);

    /* Error paths: a typed code and a message naming the file; the process goes on */
    char *missing = join(scratch, "missing.wav");
    EXPECT_ERROR("missing file → 66, names it", voxenc_embed_file(model, missing, &error), VOXENC_ERROR_NO_INPUT,
                 missing);
    char *garbage = join(scratch, "garbage.wav");
    FILE *g = fopen(garbage, "wb");
    for (int i = 0; i < 4096; i++) fputc((i * 7919 + 13) & 0xFF, g);
    fclose(g);
    EXPECT_ERROR("undecodable file → 65, names it", voxenc_embed_file(model, garbage, &error), VOXENC_ERROR_DATA,
                 garbage);
    EXPECT_ERROR("undecodable bytes → 65, names them",
                 voxenc_embed_bytes(model, "not audio at all", 16, "upload.bin", &error), VOXENC_ERROR_DATA,
                 "upload.bin");
    EXPECT_ERROR("empty bytes → 65", voxenc_embed_bytes(model, "", 0, "empty.wav", &error), VOXENC_ERROR_DATA,
                 "empty.wav");
    EXPECT_ERROR("sample rate 0 → 65", voxenc_embed_samples(model, samples, frames, 0, &error), VOXENC_ERROR_DATA,
                 "sample rate");
    float bad[4] = {0, NAN, 0, 0};
    EXPECT_ERROR("a NaN sample → 65", voxenc_embed_samples(model, bad, 4, 16000, &error), VOXENC_ERROR_DATA,
                 "<memory>");
    char *no_model = join(scratch, "no-such-model");
    error = NULL;
    voxenc_model *none = voxenc_model_load(no_model, NULL, &error);
    check(!none && error && voxenc_error_code(error) == VOXENC_ERROR_NO_INPUT &&
          strstr(voxenc_error_message(error), no_model), "missing model directory → 66, names it",
          error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;
    none = voxenc_model_load(scratch, NULL, &error);
    /* The directory is there but holds no layout voxenc knows: bad data (65), as the CLI's exit code. */
    check(!none && error && voxenc_error_code(error) == VOXENC_ERROR_DATA && strstr(voxenc_error_message(error), scratch),
          "a directory with no model → 65, names it", error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    voxenc_options bad_options;
    voxenc_options_init(&bad_options);
    bad_options.precision = "fp8";
    error = NULL;
    none = voxenc_model_load(voxtral, &bad_options, &error);
    check(!none && error && voxenc_error_code(error) == VOXENC_ERROR_USAGE && strstr(voxenc_error_message(error), "fp8"),
          "unknown precision → 64", error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);

    /* NULL arguments: 64 each, and no crash (also with a NULL error pointer) */
    error = NULL;
    check(!voxenc_model_load(NULL, NULL, &error) && voxenc_error_code(error) == VOXENC_ERROR_USAGE,
          "NULL directory → 64", NULL);
    voxenc_error_free(error);
    EXPECT_ERROR("NULL model → 64", voxenc_embed_file(NULL, speech, &error), VOXENC_ERROR_USAGE, "NULL");
    EXPECT_ERROR("NULL path → 64", voxenc_embed_file(model, NULL, &error), VOXENC_ERROR_USAGE, "NULL");
    EXPECT_ERROR("NULL bytes → 64", voxenc_embed_bytes(model, NULL, 10, NULL, &error), VOXENC_ERROR_USAGE, "NULL");
    EXPECT_ERROR("NULL samples → 64", voxenc_embed_samples(model, NULL, 10, 16000, &error), VOXENC_ERROR_USAGE,
                 "NULL");
    EXPECT_ERROR("no samples → 64", voxenc_embed_samples(model, samples, 0, 16000, &error), VOXENC_ERROR_USAGE,
                 "no samples");
    EXPECT_ERROR("NULL mel → 64", voxenc_encode(model, NULL, 1, &error), VOXENC_ERROR_USAGE, "NULL");
    EXPECT_ERROR("0 chunks → 64", voxenc_encode(model, samples, 0, &error), VOXENC_ERROR_USAGE, "chunks");
    EXPECT_ERROR("adapter rows not whole chunks → 64", voxenc_adapt(model, states->data, 1499, &error),
                 VOXENC_ERROR_USAGE, "1499");
    check(!voxenc_embed_file(model, missing, NULL), "a NULL error pointer is allowed", NULL);
    voxenc_model_free(NULL);
    voxenc_result_free(NULL);
    voxenc_error_free(NULL);
    check(voxenc_error_code(NULL) == VOXENC_OK && voxenc_error_message(NULL) == NULL, "NULL handles are ignored", NULL);

    /* A Whisper model: encoder states; it has no adapter */
    error = NULL;
    voxenc_model *whisper_model = voxenc_model_load(whisper, &options, &error);
    check(whisper_model != NULL, "loads the tiny Whisper fixture", error ? voxenc_error_message(error) : NULL);
    if (whisper_model) {
        voxenc_result *w = voxenc_embed_file(whisper_model, speech, &error);
        check(w && w->rows == 1500 && w->width == 64 && strcmp(w->kind, "encoder") == 0 && w->frame_rate == 50,
              "Whisper: encoder states [1500, 64] at 50 Hz", NULL);
        EXPECT_ERROR("Whisper has no adapter → 64", voxenc_adapt(whisper_model, w ? w->data : states->data, 1500, &error),
                     VOXENC_ERROR_USAGE, "no adapter");
        voxenc_result_free(w);
        voxenc_model_free(whisper_model);
    }
    voxenc_result_free(states);

    /* 4 threads on one handle: every result identical to the single call's */
    struct worker workers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (struct worker){model, speech, file->data, file->rows, file->width, 0};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    int identical = 1;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        identical &= workers[i].identical;
    }
    check(identical, "4 threads × 3 calls on one handle: every result bit for bit the same", NULL);

    voxenc_result_free(file);
    voxenc_model_free(model);
    printf("C ABI: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
