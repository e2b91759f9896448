/*
 * The C ABI's live streams (voxenc_stream_*) as a C program uses them: the speech fixture pushed in pseudo-random
 * pieces through a Voxtral Realtime model, every row pulled as it comes (some by flush), equal bit for bit to the CLI's `voxenc embed`
 * of the same file; two streams on two threads at once; and every error path. Built and run by Tests/bindings/run.sh,
 * which passes: argv[1] the repository root, argv[2] the CLI's output for the speech fixture with the Realtime model.
 */
#include <pthread.h>
#include <sndfile.h>

#include "voxenc.h"
#include "test_support.h"

/* Streams `samples` in pieces of 1 … 5000 samples (seeded), pulling after each; returns the rows (caller frees). */
static float *stream_all(voxenc_model *model, const float *samples, long count, unsigned seed, int step_ms,
                         long *rows, long *width, long *leading) {
    voxenc_error *error = NULL;
    voxenc_stream *stream = voxenc_stream_open(model, step_ms, &error);
    if (!stream) {
        check(0, "voxenc_stream_open", voxenc_error_message(error));
        voxenc_error_free(error);
        return NULL;
    }
    const char *described = voxenc_stream_describe(stream);
    if (leading && sscanf(strstr(described, "\"leading_pad_rows\":"), "\"leading_pad_rows\":%ld", leading) != 1) *leading = -1;
    float *out = NULL;
    *rows = 0;
    *width = 0;
    long position = 0;
    int in_order = 1;
    for (int last = 0; !last;) {
        voxenc_result *r;
        if (position < count) {
            seed = seed * 1103515245u + 12345u;
            long size = 1 + (long)((seed >> 8) % 5000);
            if (size > count - position) size = count - position;
            if (voxenc_stream_push(stream, samples + position, (size_t)size, 16000, &error) != VOXENC_OK) {
                check(0, "voxenc_stream_push", voxenc_error_message(error));
                voxenc_error_free(error);
                break;
            }
            position += size;
            /* Every seventh piece a flush (rows without waiting for the step): the bits do not change. */
            r = (seed >> 4) % 7 == 0 ? voxenc_stream_flush(stream, &error) : voxenc_stream_pull(stream, &error);
        } else {
            r = voxenc_stream_finish(stream, &error);
            last = 1;
        }
        if (!r) {
            check(0, "pull/finish", voxenc_error_message(error));
            voxenc_error_free(error);
            break;
        }
        in_order &= r->chunks == *rows;  /* `chunks` holds the first row's index in the stream */
        if (r->rows > 0) {
            *width = r->width;
            out = realloc(out, (size_t)(*rows + r->rows) * r->width * sizeof(float));
            memcpy(out + *rows * r->width, r->data, (size_t)(r->rows * r->width) * sizeof(float));
            *rows += r->rows;
        }
        voxenc_result_free(r);
    }
    if (!in_order) check(0, "each result's first-row index follows the rows before it", NULL);
    voxenc_stream_free(stream);
    return out;
}

struct worker {
    voxenc_model *model;
    const float *samples, *expected;
    long count, rows, width;
    unsigned seed;
    int identical;
};

static void *work(void *argument) {
    struct worker *w = argument;
    long rows = 0, width = 0;
    float *got = stream_all(w->model, w->samples, w->count, w->seed, 160, &rows, &width, NULL);
    w->identical = got && rows == w->rows && width == w->width &&
                   memcmp(got, w->expected, (size_t)(rows * width) * sizeof(float)) == 0;
    free(got);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s REPO CLI_REALTIME.npy\n", argv[0]);
        return 2;
    }
    const char *repo = argv[1];
    char *realtime = join(repo, "Tests/Fixtures/realtime/realtime-tiny-hf");
    char *voxtral = join(repo, "Tests/Fixtures/encoder/voxtral-tiny-hf");
    char *speech = join(repo, "Tests/Fixtures/audio/speech-16k.wav");
    long cli_rows = 0, cli_width = 0;
    float *cli = read_npy(argv[2], &cli_rows, &cli_width);
    check(cli != NULL, "reads the CLI's output", NULL);
    if (!cli) return 1;

    voxenc_options options;
    voxenc_options_init(&options);
    options.threads = 2;
    voxenc_error *error = NULL;
    voxenc_model *model = voxenc_model_load(realtime, &options, &error);
    check(model != NULL, "loads the tiny Voxtral Realtime fixture", error ? voxenc_error_message(error) : NULL);
    if (!model) return 1;

    SF_INFO info = {0};
    SNDFILE *sound = sf_open(speech, SFM_READ, &info);
    float *samples = malloc((size_t)info.frames * sizeof(float));
    long count = (long)sf_readf_float(sound, samples, info.frames);
    sf_close(sound);

    /* Streamed in random pieces, at three steps: the CLI's rows, bit for bit */
    int steps[3] = {80, 480, 0};
    for (int i = 0; i < 3; i++) {
        long rows = 0, width = 0, leading = 0;
        float *got = stream_all(model, samples, count, 7u + (unsigned)i, steps[i], &rows, &width, &leading);
        char detail[128];
        snprintf(detail, sizeof detail, "step %d ms: [%ld, %ld], CLI [%ld, %ld], leading pad rows %ld", steps[i], rows,
                 width, cli_rows, cli_width, leading);
        check(got && rows == cli_rows && width == cli_width && leading == 32 &&
                  memcmp(got, cli, (size_t)(rows * width) * sizeof(float)) == 0,
              "pushed in random pieces and pulled as it came: bit for bit the CLI's voxenc embed", detail);
        free(got);
    }
    /* The whole file through voxenc_embed_samples: the same rows */
    voxenc_result *whole = voxenc_embed_samples(model, samples, (size_t)count, 16000, &error);
    check(same_bits(whole, cli, cli_rows, cli_width) && whole->chunks == cli_rows && whole->valid_rows == 73,
          "voxenc_embed_samples on a causal model: the same rows; 73 of them cover the audio", NULL);
    voxenc_result_free(whole);

    /* Two streams on two threads at once */
    pthread_t threads[2];
    struct worker workers[2];
    for (int i = 0; i < 2; i++) {
        workers[i] = (struct worker){model, samples, cli, count, cli_rows, cli_width, 100u + (unsigned)i, 0};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    check(workers[0].identical && workers[1].identical, "two streams on two threads: each the CLI's rows", NULL);

    /* Errors: typed codes, messages that name the problem; the stream is unchanged after a refused push */
    voxenc_stream *stream = voxenc_stream_open(model, 100, &error);
    check(!stream && error && voxenc_error_code(error) == VOXENC_ERROR_USAGE && strstr(voxenc_error_message(error), "80"),
          "a step that is not whole tokens → 64", error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;
    voxenc_model *offline = voxenc_model_load(voxtral, &options, &error);
    stream = offline ? voxenc_stream_open(offline, 0, &error) : NULL;
    check(!stream && error && voxenc_error_code(error) == VOXENC_ERROR_USAGE && strstr(voxenc_error_message(error), "whole recordings"),
          "a model that is not causal → 64", error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;
    voxenc_model_free(offline);
    voxenc_result *stage = voxenc_encode(model, samples, 1, &error);
    check(!stage && error && voxenc_error_code(error) == VOXENC_ERROR_USAGE && strstr(voxenc_error_message(error), "stream"),
          "voxenc_encode on a causal model → 64", error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;

    stream = voxenc_stream_open(model, 0, &error);
    float bad[3] = {0.0f, NAN, 0.0f};
    voxenc_status status = voxenc_stream_push(stream, bad, 3, 16000, &error);
    check(status == VOXENC_ERROR_DATA && error && strstr(voxenc_error_message(error), "sample 1"), "NaN → 65, names the sample",
          error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;
    status = voxenc_stream_push(stream, samples, 100, 16000, &error);
    check(status == VOXENC_OK, "the stream takes audio after a refused push", NULL);
    status = voxenc_stream_push(stream, samples, 100, 44100, &error);
    check(status == VOXENC_ERROR_DATA && error && strstr(voxenc_error_message(error), "changed"), "a changed rate → 65",
          error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;
    status = voxenc_stream_push(stream, NULL, 5, 16000, &error);
    check(status == VOXENC_ERROR_USAGE, "NULL samples → 64", NULL);
    voxenc_error_free(error);
    error = NULL;
    voxenc_result_free(voxenc_stream_finish(stream, &error));
    status = voxenc_stream_push(stream, samples, 10, 16000, &error);
    check(status == VOXENC_ERROR_USAGE && error && strstr(voxenc_error_message(error), "finished"), "push after finish → 64",
          error ? voxenc_error_message(error) : NULL);
    voxenc_error_free(error);
    error = NULL;
    voxenc_result *again = voxenc_stream_finish(stream, &error);
    check(!again && error && voxenc_error_code(error) == VOXENC_ERROR_USAGE, "finish twice → 64", NULL);
    voxenc_error_free(error);
    voxenc_stream_free(stream);
    voxenc_stream_free(NULL);
    check(voxenc_stream_pull(NULL, NULL) == NULL && voxenc_stream_flush(NULL, NULL) == NULL && voxenc_stream_describe(NULL) == NULL,
          "NULL stream: NULL, no crash", NULL);

    voxenc_model_free(model);
    free(samples);
    free(cli);
    printf("%d of %d stream checks passed\n", checks - failures, checks);
    return failures ? 1 : 0;
}
